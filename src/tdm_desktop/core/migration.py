"""Migration of sync-era manifests (written before the S3-only change) to the design's structure.

``migrate_document(raw, ...)`` is pure: it drops the sync-era keys (``core/sync_era.py``, listed
in docs/MIGRATION.md), keeps every entry whose object is in S3 (an entry without an ``s3_url``
whose object is at the actor's key gets the production-style URL), drops the entries whose object
is not (their local files were deleted with the S3-only change), keeps every other key, and
recomputes ``statistics`` and ``training_data_updated``. Entries whose URL is foreign are kept
as they are (never checked with credentials) and reported.

``MigrationService.migrate(actor_id, dry_run)`` does the I/O, in a folder or an S3 data dir alike
(``core.documents``): one listing of the actor's prefix, the original bytes kept beside the
manifest as ``{id}_manifest.json.sync-era`` (created before the new manifest is written,
create-only, never overwritten nor deleted), the new manifest written in one piece only if it is
still the version read (compare-and-swap: the lock and an atomic replace in a folder, ``If-Match``
in S3). A manifest that is not
sync-era is left alone, so a second run changes nothing. A sync-era manifest that is invalid in
another way raises the validation error and nothing is written.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.audit import ShouldStop, list_prefix
from tdm_desktop.core.documents import DocumentRef, unreadable_as
from tdm_desktop.core.errors import (
    ActorNotFoundError,
    DocumentConflictError,
    DocumentExistsError,
    ForeignImageError,
    InvalidNameError,
    ManifestError,
    S3Error,
    TdmError,
)
from tdm_desktop.core.interrupted import object_date
from tdm_desktop.core.jsonfile import dump_json, parse_json_object
from tdm_desktop.core.layout import manifest_name
from tdm_desktop.core.manifest import check_manifest_document, size_mb
from tdm_desktop.core.names import check_actor_name, check_filename, normalize_actor_id
from tdm_desktop.core.s3_store import ObjectInfo, S3Store
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.sync_era import ENTRY_KEYS, STATISTICS_KEYS, TOP_LEVEL_KEYS, sync_era_keys
from tdm_desktop.core.timestamps import Clock, manifest_now

log = logging.getLogger(__name__)

SYNC_ERA_SUFFIX = ".sync-era"


@dataclass(frozen=True)
class Migration:
    """The migrated document and what happened to each entry, by filename."""

    document: dict[str, Any]
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # no object in S3
    given_url: list[str] = field(default_factory=list)  # had no s3_url; their object exists
    foreign: list[str] = field(default_factory=list)  # kept unchecked: a URL the app refuses
    sync_keys: list[str] = field(default_factory=list)  # the sync-era keys it had


def migrate_document(
    url: str,
    name: str,
    raw: Mapping[str, Any],
    locate: Callable[[str], S3Location],
    key_for: Callable[[str], str],
    url_for: Callable[[str], str],
    objects: Mapping[str, ObjectInfo],
    clock: Clock | None = None,
) -> Migration:
    """``raw`` (a parsed sync-era manifest, document ``name`` at ``url``) in the design's
    structure.

    ``locate(url)`` gives an entry's location or raises ``ForeignImageError``; ``key_for(name)``
    the actor's key for a filename; ``url_for(key)`` the URL to record for an entry that had
    none; ``objects`` the listing of the actor's prefix by key.

    Every entry is checked before any is dropped (a manifest invalid in another way than its
    sync-era keys raises ``ManifestError`` naming the field as the file numbers it).
    """
    document = copy.deepcopy(dict(raw))
    found = sorted(sync_era_keys(document))
    for key in TOP_LEVEL_KEYS:
        document.pop(key, None)
    statistics = document.get("statistics")
    if isinstance(statistics, dict):
        for key in STATISTICS_KEYS:
            statistics.pop(key, None)
    elif "statistics" not in document:
        document["statistics"] = {}
    items = document.get("training_data")
    in_s3: list[bool] = []
    kept, dropped, given_url, foreign = [], [], [], []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            in_s3.append(True)  # the validation names it
            continue
        for key in ENTRY_KEYS:
            item.pop(key, None)
        status = _entry_in_s3(item, locate, key_for, url_for, objects)
        in_s3.append(status != "missing")
        name = str(item.get("filename"))
        if status == "missing":
            dropped.append(name)
            continue
        kept.append(name)
        if status == "given-url":
            given_url.append(name)
        elif status == "foreign":
            foreign.append(name)
    document["training_data_updated"] = manifest_now(clock)
    _refresh_statistics(document)
    check_manifest_document(url, name, document)  # every entry, numbered as in the file
    document["training_data"] = [item for item, keep in zip(items, in_s3, strict=True) if keep]
    _refresh_statistics(document)
    document = _in_seed_order(document)
    check_manifest_document(url, name, document)
    return Migration(document, kept, dropped, given_url, foreign, found)


def _entry_in_s3(
    item: dict[str, Any],
    locate: Callable[[str], S3Location],
    key_for: Callable[[str], str],
    url_for: Callable[[str], str],
    objects: Mapping[str, ObjectInfo],
) -> str:
    """Whether the entry's object is in S3: "kept", "given-url", "foreign" or "missing". Fills
    what the entry lacks: its URL (from the actor's key), size and date (from the object; an
    entry about to be dropped gets stand-ins, so only its own fields are checked)."""
    filename = item.get("filename")
    try:
        check_filename(filename)
    except InvalidNameError:
        return "kept"  # the validation names it
    url = item.get("s3_url")
    status = "kept"
    keys_before = list(item)
    if url is None or (isinstance(url, str) and not url.strip()):
        key = key_for(filename)
        item["s3_url"] = url_for(key)
        status = "given-url"
    elif isinstance(url, str):
        try:
            key = locate(url).key
        except ForeignImageError:
            return "foreign"
    else:
        return "kept"  # not a string: the validation names it
    obj = objects.get(key)
    if obj is None:
        item.setdefault("size_mb", 0.0)
        item.setdefault("modified_date", manifest_now())
        return "missing"
    item.setdefault("size_mb", size_mb(obj.size))
    item.setdefault("modified_date", object_date(obj))
    if list(item) != keys_before:  # filled in: the seed's keys first, as the app writes them
        ordered = _seed_order(item)
        item.clear()
        item.update(ordered)
    return status


def _refresh_statistics(document: dict[str, Any]) -> None:
    items = document.get("training_data")
    statistics = document.get("statistics")
    if not isinstance(items, list) or not isinstance(statistics, dict):
        return
    sizes = [item.get("size_mb") if isinstance(item, dict) else None for item in items]
    statistics["training_images_count"] = len(items)
    if all(isinstance(s, int | float) and not isinstance(s, bool) for s in sizes):
        statistics["training_data_size_mb"] = round(float(sum(sizes)), 2)


_SEED_TOP = ("character_id", "character_name", "training_data", "training_data_updated")
_SEED_ENTRY = ("filename", "s3_url", "size_mb", "modified_date")


def _seed_order(item: dict[str, Any]) -> dict[str, Any]:
    known = {key: item[key] for key in _SEED_ENTRY if key in item}
    return known | {key: value for key, value in item.items() if key not in known}


def _in_seed_order(document: dict[str, Any]) -> dict[str, Any]:
    """The seed's keys in the seed's order (``statistics`` after ``training_data_updated``),
    every other key after them in its own order."""
    order = [*_SEED_TOP, "statistics"]
    known = {key: document[key] for key in order if key in document}
    statistics = known.get("statistics")
    if isinstance(statistics, dict):
        first = ("training_images_count", "training_data_size_mb")
        known["statistics"] = {k: statistics[k] for k in first if k in statistics} | {
            k: v for k, v in statistics.items() if k not in first
        }
    return known | {key: value for key, value in document.items() if key not in known}


@dataclass(frozen=True)
class MigrationOutcome:
    """``migration`` is None when the manifest was not sync-era (nothing to do). ``url`` is the
    manifest's path or ``s3://`` URL; ``copy_url`` the kept original's."""

    actor_id: str
    url: str
    migration: Migration | None
    written: bool
    copy_url: str | None = None


class MigrationService:
    def __init__(self, catalog: ActorCatalog, store: S3Store, clock: Clock | None = None) -> None:
        self.catalog = catalog
        self.store = store
        self._clock = clock

    def sync_era_copy(self, actor_id: str) -> DocumentRef:
        """``actor_manifests/{id}_manifest.json.sync-era``, beside the manifest."""
        return DocumentRef(self.catalog.documents, manifest_name(actor_id) + SYNC_ERA_SUFFIX)

    def migrate(
        self, actor_id: str, dry_run: bool = False, should_stop: ShouldStop | None = None
    ) -> MigrationOutcome:
        """Migrate one actor's manifest (see the module's docstring).

        Raises ``ActorNotFoundError``, ``ManifestError`` (invalid; nothing written), ``S3Error``
        (the listing failed; nothing written), ``TdmError`` (a different ``.sync-era`` copy is
        already there, or the manifest changed meanwhile; nothing written),
        ``AuditCancelledError`` (``should_stop()`` during the listing; nothing written).
        """
        actor_id = normalize_actor_id(actor_id)
        ref = self.catalog.manifest_document(actor_id)
        with unreadable_as(ManifestError):
            current = ref.read()
        if current.data is None:
            raise ActorNotFoundError(f"actor {actor_id}: no manifest at {ref.url}")
        raw = parse_json_object(ref.url, current.data, ManifestError)
        if not sync_era_keys(raw):
            self.catalog.manifest(actor_id)  # a manifest invalid in another way says so here
            return MigrationOutcome(actor_id, ref.url, None, written=False)
        migration = self._migrate_document(ref, raw, should_stop)
        if dry_run:
            return MigrationOutcome(actor_id, ref.url, migration, written=False)
        copy = self.sync_era_copy(actor_id)
        _keep_original(copy, current.data)
        try:
            ref.write(dump_json(migration.document), expected=current.version)
        except DocumentConflictError:
            raise TdmError(
                f"{ref.url}: changed while it was being migrated; nothing written, run "
                f"tdm-desktop migrate {actor_id} again"
            ) from None
        log.info(
            "[S3-ONLY] Migrated %s: kept %d entries, dropped %d; the original is %s",
            ref.url,
            len(migration.kept),
            len(migration.dropped),
            copy.url,
        )
        return MigrationOutcome(actor_id, ref.url, migration, written=True, copy_url=copy.url)

    def _migrate_document(
        self, ref: DocumentRef, raw: dict[str, Any], should_stop: ShouldStop | None
    ) -> Migration:
        name = raw.get("character_name")
        try:
            check_actor_name(name)
        except InvalidNameError:
            check_manifest_document(ref.url, ref.name, raw)  # names it in the manifest's words
            raise
        listing = list_prefix(self.store, self.store.actor_prefix(name), should_stop)
        if not listing.complete:
            raise S3Error(listing.prefix, "ListingIncomplete", f"{listing.error}; nothing written")
        return migrate_document(
            ref.url,
            ref.name,
            raw,
            lambda url: self.store.locate(url, name),
            lambda filename: self.store.key_for(name, filename),
            self.store.aws_url_for,
            {obj.key: obj for obj in listing.objects},
            self._clock,
        )


def _keep_original(copy: DocumentRef, original: bytes) -> None:
    """Create the ``.sync-era`` copy with ``original`` (create-only); never overwrite a
    different one. The same bytes already there: an earlier run stopped after keeping them."""
    try:
        copy.write(original, expected=None)
        return
    except DocumentExistsError:
        pass
    with unreadable_as(ManifestError):
        existing = copy.read().data
    if existing != original:
        raise TdmError(
            f"{copy.url}: already holds another sync-era manifest and is never overwritten; "
            "move it away, then migrate again"
        )
