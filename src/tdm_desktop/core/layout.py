"""Where each catalog document lives inside a data dir (a folder or an S3 prefix alike).

::

    actor_manifests/{actor_id}_manifest.json
    actors/{actor_name}/prompt_metadata.json
    actors/{actor_name}/base_image/{actor_name}_base.png

Every function checks the names it puts into a document name with the allow-list of
``core.names``, so a name never reaches outside the catalog.
"""

from __future__ import annotations

import re

from tdm_desktop.core.names import check_actor_name, normalize_actor_id

MANIFESTS_DIR = "actor_manifests"
ACTORS_DIR = "actors"
MANIFEST_SUFFIX = "_manifest.json"
PROMPT_METADATA_FILE = "prompt_metadata.json"
BASE_IMAGE_DIR = "base_image"

_MANIFEST_NAME = re.compile(rf"{MANIFESTS_DIR}/([0-9]{{1,9}}){re.escape(MANIFEST_SUFFIX)}")


def manifest_name(actor_id: str | int) -> str:
    """``actor_manifests/0042_manifest.json`` for ``42`` or ``"0042"``."""
    return f"{MANIFESTS_DIR}/{normalize_actor_id(actor_id)}{MANIFEST_SUFFIX}"


def actor_dir_name(actor_name: str) -> str:
    return f"{ACTORS_DIR}/{check_actor_name(actor_name)}"


def prompt_metadata_name(actor_name: str) -> str:
    """``actors/{actor_name}/prompt_metadata.json``."""
    return f"{actor_dir_name(actor_name)}/{PROMPT_METADATA_FILE}"


def base_image_name(actor_name: str) -> str:
    """``actors/{actor_name}/base_image/{actor_name}_base.png``."""
    return f"{actor_dir_name(actor_name)}/{BASE_IMAGE_DIR}/{actor_name}_base.png"


def actor_id_of(name: str) -> str | None:
    """The actor ID of a manifest's document name, when it is one in the canonical form
    (``actor_manifests/0042_manifest.json`` → ``"0042"``; ``.../42_manifest.json`` → None)."""
    match = _MANIFEST_NAME.fullmatch(name)
    if match is None:
        return None
    actor_id = normalize_actor_id(match.group(1))
    return actor_id if actor_id == match.group(1) else None


def is_catalog_document(name: str) -> bool:
    """Whether ``name`` belongs to the catalog's layout: anything under ``actor_manifests/``, an
    actor's ``prompt_metadata.json`` and what is under its ``base_image/``."""
    parts = name.split("/")
    if parts[0] == MANIFESTS_DIR:
        return len(parts) >= 2
    if parts[0] != ACTORS_DIR or len(parts) < 3:
        return False
    return parts[2:] == [PROMPT_METADATA_FILE] or (parts[2] == BASE_IMAGE_DIR and len(parts) >= 4)
