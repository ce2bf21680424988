"""The values Settings… edits and where they are kept: generator, AUTOMATIC1111 URL/steps/
denoising, the thumbnail cache budget, thumbnail GETs in flight, the undo memory, the review's
near-duplicate threshold and training resolution, and the catalog: the data dir (a folder or
``s3://bucket/prefix``), the curator's name and how often an S3 catalog is checked for others'
changes, in the injected ``QSettings``.

The data dir in effect is ``--data-dir``, else ``TDM_DATA_DIR``, else the one set here, else
``./data`` (``core.data_dirs.choose_data_dir``); the curator is ``TDM_CURATOR``, else the name set here, else the
OS user name (``core.curators.choose_curator``).

With nothing saved, ``TDM_GENERATOR`` picks the generator and ``TDM_A1111_URL`` /
``TDM_A1111_STEPS`` give the A1111 defaults. A password is never stored: basic auth comes only from
``TDM_A1111_USER`` / ``TDM_A1111_PASSWORD``, and a URL carrying ``user:password@`` is refused.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings

from tdm_desktop.core.data_dirs import data_dir_problem
from tdm_desktop.core.errors import InvalidNameError
from tdm_desktop.core.generator import DEFAULT_DENOISING
from tdm_desktop.core.names import check_curator
from tdm_desktop.core.near_duplicates import DEFAULT_THRESHOLD, HASH_BITS
from tdm_desktop.core.quality import DEFAULT_TRAINING_RESOLUTION
from tdm_desktop.generators.a1111 import DEFAULT_STEPS, DEFAULT_URL
from tdm_desktop.generators.base import DEFAULT_GENERATOR, GENERATOR_ENV, available_generators
from tdm_desktop.ui.thumbnails.loader import DEFAULT_PIXMAP_BUDGET_MIB, DEFAULT_REQUESTS

log = logging.getLogger(__name__)

MIN_BUDGET_MIB, MAX_BUDGET_MIB = 16, 16 * 1024
MIN_STEPS, MAX_STEPS = 1, 150
MIN_RESOLUTION, MAX_RESOLUTION = 64, 8192
MAX_DUPLICATE_THRESHOLD = HASH_BITS // 2  # beyond half the bits, "alike" means little
MIN_REQUESTS, MAX_REQUESTS = 1, 64
MIN_UNDO_MIB, MAX_UNDO_MIB = 0, 16 * 1024
DEFAULT_UNDO_MEMORY_MIB = 256  # copies of deleted images kept for undo (~850 of 300 KB)

KEY_GENERATOR = "generation/generator"
KEY_A1111_URL = "generation/a1111Url"
KEY_STEPS = "generation/a1111Steps"
KEY_DENOISING = "generation/denoisingStrength"
KEY_BUDGET = "thumbnails/pixmapBudgetMiB"
KEY_DUPLICATE_THRESHOLD = "review/duplicateThresholdBits"
KEY_RESOLUTION = "review/trainingResolution"
KEY_REQUESTS = "thumbnails/requestsInFlight"
KEY_UNDO_MEMORY = "curation/undoMemoryMiB"
KEY_DATA_DIR = "catalog/dataDir"
KEY_CURATOR = "catalog/curator"
KEY_POLL_SECONDS = "catalog/pollSeconds"

MIN_POLL_S, MAX_POLL_S, DEFAULT_POLL_S = 1, 300, 5

_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class AppSettings:
    """What the Settings dialog edits."""

    generator: str = DEFAULT_GENERATOR
    a1111_url: str = DEFAULT_URL
    steps: int = DEFAULT_STEPS
    denoising_strength: float = DEFAULT_DENOISING
    thumbnail_budget_mib: int = DEFAULT_PIXMAP_BUDGET_MIB
    duplicate_threshold: int = DEFAULT_THRESHOLD  # hash bits two near-duplicates may differ in
    training_resolution: int = DEFAULT_TRAINING_RESOLUTION  # "too small" below this short side
    thumbnail_requests: int = DEFAULT_REQUESTS
    """Thumbnail GETs in flight at most (the loader keeps fewer while the link is slow)."""
    undo_memory_mib: int = DEFAULT_UNDO_MEMORY_MIB
    """Copies of deleted images kept for undo, at most (0: a delete cannot be undone)."""
    data_dir: str = ""
    """A folder or ``s3://bucket/prefix``; "" for none (then ``./data``)."""
    curator: str = ""
    """The curator's name; "" for none (then the OS user name)."""
    poll_seconds: int = DEFAULT_POLL_S
    """How often an open actor of an S3 catalog is checked for others' changes."""


def curator_problem(text: str) -> str | None:
    """Why ``text`` cannot name the curator (one line), or None ("" means none set)."""
    if not text.strip():
        return None
    try:
        check_curator(text.strip())
    except InvalidNameError as err:
        return str(err).split(" (set ", 1)[0]
    return None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the A1111 URL (one line), or None when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"AUTOMATIC1111 URL {url.strip()!r} is not valid: expected e.g. {DEFAULT_URL}"
    if "@" in parts.netloc:
        return (
            "AUTOMATIC1111 URL: leave user and password out of it "
            "(set TDM_A1111_USER and TDM_A1111_PASSWORD in the environment)"
        )
    return None


def load_settings(settings: QSettings, env: Mapping[str, str] = os.environ) -> AppSettings:
    """The saved values; what is not saved comes from the environment, then the defaults."""
    known = available_generators()
    generator = str(settings.value(KEY_GENERATOR, "") or "").strip().lower()
    if generator not in known:
        generator = env.get(GENERATOR_ENV, "").strip().lower() or DEFAULT_GENERATOR
    if generator not in known:
        log.warning("%s=%r is unknown; using %s", GENERATOR_ENV, generator, DEFAULT_GENERATOR)
        generator = DEFAULT_GENERATOR
    url = str(settings.value(KEY_A1111_URL, "") or "").strip()
    if not url or url_problem(url):
        url = env.get("TDM_A1111_URL", "").strip() or DEFAULT_URL
    if url_problem(url):
        url = DEFAULT_URL
    steps = read_number(settings, KEY_STEPS, _as_number(env.get("TDM_A1111_STEPS"), int, 0))
    denoising = read_number(settings, KEY_DENOISING, DEFAULT_DENOISING)
    budget = read_number(settings, KEY_BUDGET, DEFAULT_PIXMAP_BUDGET_MIB)
    bits = read_number(settings, KEY_DUPLICATE_THRESHOLD, DEFAULT_THRESHOLD)
    resolution = read_number(settings, KEY_RESOLUTION, DEFAULT_TRAINING_RESOLUTION)
    requests = read_number(settings, KEY_REQUESTS, DEFAULT_REQUESTS)
    undo_memory = read_number(settings, KEY_UNDO_MEMORY, DEFAULT_UNDO_MEMORY_MIB)
    data_dir = str(settings.value(KEY_DATA_DIR, "") or "").strip()
    curator = str(settings.value(KEY_CURATOR, "") or "").strip()
    poll = read_number(settings, KEY_POLL_SECONDS, DEFAULT_POLL_S)
    return AppSettings(
        generator=generator,
        a1111_url=url,
        steps=steps if MIN_STEPS <= steps <= MAX_STEPS else DEFAULT_STEPS,
        denoising_strength=denoising if 0.0 <= denoising <= 1.0 else DEFAULT_DENOISING,
        thumbnail_budget_mib=max(MIN_BUDGET_MIB, min(MAX_BUDGET_MIB, budget)),
        duplicate_threshold=bits if 0 <= bits <= MAX_DUPLICATE_THRESHOLD else DEFAULT_THRESHOLD,
        training_resolution=(
            resolution
            if MIN_RESOLUTION <= resolution <= MAX_RESOLUTION
            else DEFAULT_TRAINING_RESOLUTION
        ),
        thumbnail_requests=max(MIN_REQUESTS, min(MAX_REQUESTS, requests)),
        undo_memory_mib=max(MIN_UNDO_MIB, min(MAX_UNDO_MIB, undo_memory)),
        data_dir="" if data_dir_problem(data_dir) else data_dir,
        curator="" if curator_problem(curator) else curator,
        poll_seconds=max(MIN_POLL_S, min(MAX_POLL_S, poll)),
    )


def save_settings(settings: QSettings, values: AppSettings) -> None:
    """Store ``values``; refuses a URL with credentials in it (never stored), a data dir or a
    curator name that is not valid."""
    for problem in (
        url_problem(values.a1111_url),
        data_dir_problem(values.data_dir),
        curator_problem(values.curator),
    ):
        if problem:
            raise ValueError(problem)
    settings.setValue(KEY_GENERATOR, values.generator)
    settings.setValue(KEY_A1111_URL, values.a1111_url.strip())
    settings.setValue(KEY_STEPS, values.steps)
    settings.setValue(KEY_DENOISING, values.denoising_strength)
    settings.setValue(KEY_BUDGET, values.thumbnail_budget_mib)
    settings.setValue(KEY_DUPLICATE_THRESHOLD, values.duplicate_threshold)
    settings.setValue(KEY_RESOLUTION, values.training_resolution)
    settings.setValue(KEY_REQUESTS, values.thumbnail_requests)
    settings.setValue(KEY_UNDO_MEMORY, values.undo_memory_mib)
    settings.setValue(KEY_DATA_DIR, values.data_dir.strip())
    settings.setValue(KEY_CURATOR, values.curator.strip())
    settings.setValue(KEY_POLL_SECONDS, values.poll_seconds)
    settings.sync()


def read_number(settings: QSettings, key: str, default: _N) -> _N:
    """The number saved under ``key``, of ``default``'s type; ``default`` when nothing, or
    something that is not such a number, is saved.

    Not ``QSettings.value(key, default, type=...)``: in PySide6 a saved value that does not
    convert comes back as 0 rather than the default, and ``type=float`` reads "0.3" from an INI
    file as 0.30000001192092896.
    """
    return _as_number(settings.value(key), type(default), default)


def _as_number(value: object, kind: type[_N], default: _N) -> _N:
    try:
        return kind(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
