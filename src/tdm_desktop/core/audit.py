"""Audit: an actor's manifest and prompt metadata compared with one listing of its S3 prefix.

``audit(...)`` is a pure function of what was read (manifest entries, prompt-metadata names,
uploads in progress, the listing); ``AuditService.audit_actor`` does the reading: the manifest,
the prompt metadata and one ListObjectsV2 listing (all pages) of
``system_actors/training_data/{actor_name}/``.

What it finds, each with the filename and what to do:

- *orphan*: an object under the actor's prefix that no entry lists;
- *dangling*: an entry whose object is not in S3;
- *size mismatch*: an entry whose ``size_mb`` differs from the object's size by more than the
  manifest's rounding (MiB, two decimals);
- *foreign*: an entry whose URL the app refuses (another bucket, another actor's prefix, another
  file than the entry's name, malformed): never fetched, repaired or deleted;
- *duplicate*: two entries whose objects have the same ETag (the same bytes);
- *stale metadata*: a prompt-metadata entry for an image the manifest does not list.

A listing that stops early (an S3 error, a timeout) makes the report incomplete: dangling entries
cannot be told then and are not reported, and repair refuses to act on it. A listing asked to stop
(``should_stop``, the window's Cancel) raises ``AuditCancelledError`` between two objects: no
report, nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.errors import ForeignImageError, InvalidNameError, S3Error, TdmError
from tdm_desktop.core.manifest import ManifestEntry
from tdm_desktop.core.names import check_filename, normalize_actor_id
from tdm_desktop.core.s3_store import ObjectInfo, S3Store
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.timestamps import Clock, utc_now
from tdm_desktop.core.upload_journal import UploadIntent, UploadJournal, is_abandoned, this_host

MIB = 1024 * 1024
SIZE_TOLERANCE_MB = 0.005 + 1e-9  # size_mb is rounded to two decimals


class FindingKind(StrEnum):
    ORPHAN = "orphan"
    DANGLING = "dangling"
    SIZE_MISMATCH = "size-mismatch"
    FOREIGN = "foreign"
    DUPLICATE = "duplicate"
    STALE_METADATA = "stale-metadata"


KIND_ORDER = tuple(FindingKind)

ShouldStop = Callable[[], bool]


class AuditCancelledError(TdmError):
    """The audit was asked to stop before its listing ended: no report, nothing changed."""


@dataclass(frozen=True)
class Finding:
    """One thing that does not match. ``detail`` says what, ``fix`` what to do about it.

    ``obj``: the object in S3 (orphan, size mismatch, duplicate); ``entry``: the manifest entry
    (dangling, size mismatch, foreign, duplicate); ``intent``: the upload in progress that left an
    orphan; ``repairable``: whether ``tdm-desktop repair`` may act on it (an object whose name
    this app would never write, or one a generation is uploading right now, is left alone).
    """

    kind: FindingKind
    filename: str
    detail: str
    fix: str
    key: str | None = None
    obj: ObjectInfo | None = None
    entry: ManifestEntry | None = None
    intent: UploadIntent | None = None
    repairable: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "filename": self.filename,
            "key": self.key,
            "detail": self.detail,
            "fix": self.fix,
            "repairable": self.repairable,
        }


@dataclass(frozen=True)
class Listing:
    """What one listing of a prefix returned. ``error`` is set when it stopped early."""

    prefix: str
    objects: tuple[ObjectInfo, ...]
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class AuditReport:
    actor_id: str
    actor_name: str
    entry_count: int
    listing: Listing
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return self.listing.complete

    @property
    def clean(self) -> bool:
        return self.complete and not self.findings

    def of_kind(self, kind: FindingKind) -> list[Finding]:
        return [finding for finding in self.findings if finding.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "complete": self.complete,
            "error": self.listing.error,
            "entries": self.entry_count,
            "objects": len(self.listing.objects),
            "findings": [finding.to_json() for finding in self.findings],
        }


Locate = Callable[[str], S3Location]


def entry_key(entry: ManifestEntry, locate: Locate) -> tuple[str | None, str | None]:
    """(the entry's S3 key, None), or (None, why its URL is foreign)."""
    try:
        location = locate(entry.s3_url)
    except ForeignImageError as err:
        return None, err.reason
    if location.key.rsplit("/", 1)[-1] != entry.filename:
        return None, f"the URL names another file than {entry.filename!r}"
    return location.key, None


def audit(
    actor_id: str,
    actor_name: str,
    entries: Sequence[ManifestEntry],
    metadata_names: Collection[str],
    listing: Listing,
    locate: Locate,
    intents: Mapping[str, UploadIntent] | None = None,
    abandoned: Callable[[UploadIntent], bool] = lambda intent: True,
) -> AuditReport:
    """Compare what the manifest and the prompt metadata say with what the listing shows.

    ``locate`` maps an entry's URL to its location, raising ``ForeignImageError`` for a URL
    outside the bucket and the actor's prefix (``S3Store.locate`` for the actor).
    ``abandoned`` tells an upload in progress that nobody will finish from a live one.
    """
    intents = intents or {}
    objects = {obj.key: obj for obj in listing.objects if obj.key.startswith(listing.prefix)}
    findings: list[Finding] = []
    keyed: dict[str, ManifestEntry] = {}
    for entry in entries:
        key, reason = entry_key(entry, locate)
        if key is None:
            findings.append(_foreign(actor_id, entry, reason or "foreign URL"))
        else:
            keyed[key] = entry
    listed_names = {entry.filename for entry in entries}
    for key, entry in keyed.items():
        obj = objects.get(key)
        if obj is None:
            if listing.complete:
                findings.append(_dangling(actor_id, entry, key))
        elif abs(entry.size_mb - obj.size / MIB) > SIZE_TOLERANCE_MB:
            findings.append(_size_mismatch(actor_id, entry, obj))
    findings += _duplicates(actor_id, keyed, objects)
    for key, obj in objects.items():
        if key not in keyed:
            name = key[len(listing.prefix) :]
            intent = intents.get(name)
            findings.append(_orphan(actor_id, obj, name, name in listed_names, intent, abandoned))
    for name in sorted(set(metadata_names) - listed_names):
        findings.append(_stale(actor_id, name))
    findings.sort(key=lambda f: (KIND_ORDER.index(f.kind), f.filename))
    return AuditReport(
        actor_id=actor_id,
        actor_name=actor_name,
        entry_count=len(entries),
        listing=listing,
        findings=tuple(findings),
    )


def _repair(actor_id: str, flag: str) -> str:
    return f"tdm-desktop repair {actor_id} {flag}"


def _mb(size: int) -> str:
    return f"{size / MIB:.2f} MB"


def _orphan(
    actor_id: str,
    obj: ObjectInfo,
    name: str,
    listed_by_name: bool,
    intent: UploadIntent | None,
    abandoned: Callable[[UploadIntent], bool],
) -> Finding:
    when = f", {obj.last_modified:%Y-%m-%d %H:%M}" if obj.last_modified else ""
    detail = f"in S3 ({_mb(obj.size)}{when}), not in the manifest"
    try:
        check_filename(name)
        valid = True
    except InvalidNameError:
        valid = False
    if not valid:
        return Finding(
            FindingKind.ORPHAN,
            name,
            f"{detail}; not an image name this app writes",
            "left alone by repair: remove or move it with another S3 tool if it does not belong",
            key=obj.key,
            obj=obj,
            repairable=False,
        )
    if listed_by_name:
        return Finding(
            FindingKind.ORPHAN,
            name,
            f"{detail} at this key: the manifest lists {name} with another URL",
            "left alone by repair (the entry names this file): correct that entry's s3_url by "
            "hand if this object is the image, or delete one of them with another S3 tool",
            key=obj.key,
            obj=obj,
            repairable=False,
        )
    if intent is not None and intent.key == obj.key and not abandoned(intent):
        return Finding(
            FindingKind.ORPHAN,
            name,
            f"{detail}: a generation is uploading it right now "
            f"(started {intent.started_at} on {intent.host}, pid {intent.pid})",
            "wait: that generation lists it when it finishes; audit again later",
            key=obj.key,
            obj=obj,
            intent=intent,
            repairable=False,
        )
    left = intent if intent is not None and intent.key == obj.key else None
    fix = (
        f"adopt it: `{_repair(actor_id, '--adopt-orphans')}`; "
        f"or delete it: `{_repair(actor_id, '--delete-orphans --yes')}`"
    )
    if left is not None:
        detail += f": left by a generation that was interrupted (started {left.started_at})"
        fix = f"the next generate on this actor lists it with its prompt; or {fix}"
    return Finding(FindingKind.ORPHAN, name, detail, fix, key=obj.key, obj=obj, intent=left)


def _dangling(actor_id: str, entry: ManifestEntry, key: str) -> Finding:
    return Finding(
        FindingKind.DANGLING,
        entry.filename,
        "listed in the manifest, no object in S3",
        f"stop listing it with `{_repair(actor_id, '--drop-dangling')}`",
        key=key,
        entry=entry,
    )


def _size_mismatch(actor_id: str, entry: ManifestEntry, obj: ObjectInfo) -> Finding:
    return Finding(
        FindingKind.SIZE_MISMATCH,
        entry.filename,
        f"the manifest says {entry.size_mb} MB, the object has {obj.size} bytes ({_mb(obj.size)})",
        f"record the object's size with `{_repair(actor_id, '--fix-sizes')}`",
        key=obj.key,
        obj=obj,
        entry=entry,
    )


def _foreign(actor_id: str, entry: ManifestEntry, reason: str) -> Finding:
    return Finding(
        FindingKind.FOREIGN,
        entry.filename,
        f"its URL is refused ({reason}): never fetched, repaired or deleted",
        "correct its s3_url by hand if it should be one of this actor's images",
        entry=entry,
        repairable=False,
    )


def _duplicates(
    actor_id: str, keyed: Mapping[str, ManifestEntry], objects: Mapping[str, ObjectInfo]
) -> Iterable[Finding]:
    first_by_etag: dict[str, ManifestEntry] = {}
    for key, entry in keyed.items():
        obj = objects.get(key)
        if obj is None or not obj.etag:
            continue
        first = first_by_etag.setdefault(obj.etag, entry)
        if first is not entry:
            yield Finding(
                FindingKind.DUPLICATE,
                entry.filename,
                f"the same content as {first.filename} (ETag {obj.etag})",
                f"keep one: `tdm-desktop delete {actor_id} {entry.filename}`",
                key=key,
                obj=obj,
                entry=entry,
                repairable=False,
            )


def _stale(actor_id: str, name: str) -> Finding:
    return Finding(
        FindingKind.STALE_METADATA,
        name,
        "prompt_metadata.json has an entry for it, the manifest does not list it",
        f"forget it with `{_repair(actor_id, '--forget-stale')}`",
    )


def list_prefix(store: S3Store, prefix: str, should_stop: ShouldStop | None = None) -> Listing:
    """One listing of ``prefix`` (all pages); a page that fails ends it, incomplete.
    ``should_stop()`` true: ``AuditCancelledError`` (asked after each object, so at the latest
    once the page being read has arrived)."""
    stop = should_stop or (lambda: False)
    objects: list[ObjectInfo] = []
    try:
        for obj in store.iter_objects(prefix):
            if stop():
                break
            objects.append(obj)
        if stop():
            raise AuditCancelledError(f"the listing of {prefix} was cancelled")
    except S3Error as err:
        return Listing(prefix, tuple(objects), error=f"the listing stopped early: {err}")
    return Listing(prefix, tuple(objects))


class AuditService:
    """Reads what ``audit`` compares: the manifest, the prompt metadata, the uploads in progress
    and one listing of the actor's prefix."""

    def __init__(
        self,
        catalog: ActorCatalog,
        store: S3Store,
        clock: Clock | None = None,
        alive: Callable[[int], bool] | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self._clock = clock or utc_now
        self._alive = alive

    def audit_actor(self, actor_id: str, should_stop: ShouldStop | None = None) -> AuditReport:
        """Raises ``ActorNotFoundError`` / ``ManifestError`` / ``PromptMetadataError`` for input
        that cannot be audited; an S3 failure makes the report incomplete instead;
        ``should_stop()`` true during the listing raises ``AuditCancelledError``."""
        actor_id = normalize_actor_id(actor_id)
        manifest = self.catalog.manifest(actor_id)
        name = manifest.character_name
        metadata_names = set(self.catalog.prompt_metadata(name).load().flags())
        journal = UploadJournal.for_actor(self.catalog.documents, name)
        intents = journal.pending()
        listing = list_prefix(self.store, self.store.actor_prefix(name), should_stop)
        return audit(
            actor_id,
            name,
            manifest.get_all_images(),
            metadata_names,
            listing,
            lambda url: self.store.locate(url, name),
            intents,
            self.abandoned,
        )

    def abandoned(self, intent: UploadIntent) -> bool:
        now: datetime = self._clock()
        if self._alive is None:
            return is_abandoned(intent, now, this_host())
        return is_abandoned(intent, now, this_host(), self._alive)
