"""The training-data service: what the seed's API and its UI did, as plain calls.

S3 is the single source of truth. The manifest lists the S3 URLs; ``prompt_metadata.json`` keeps the
good/bad decisions (who and when). Both are documents of the data dir, a folder or an S3 prefix
(``core.documents``). Deleting goes to S3 first, then the manifest drops exactly what S3 reported
deleted.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdm_desktop.core.actor_images import ActorImages
from tdm_desktop.core.actors import ActorCatalog, ActorSummary, BaseImage
from tdm_desktop.core.documents import DocumentStore, LocalDocuments, open_documents
from tdm_desktop.core.errors import (
    DuplicateImageError,
    ForeignImageError,
    ImageNotInManifestError,
    ObjectExistsError,
    TdmError,
    one_line,
)
from tdm_desktop.core.generation import GenerationService
from tdm_desktop.core.generator import Generator
from tdm_desktop.core.integrity import IntegrityService
from tdm_desktop.core.layout import base_image_name, manifest_name, prompt_metadata_name
from tdm_desktop.core.manifest import ManifestEntry, TrainingDataManifest
from tdm_desktop.core.names import check_curator, normalize_actor_id
from tdm_desktop.core.prompt_metadata import (
    UNREVIEWED,
    FlagChange,
    FlagUndo,
    PromptMetadata,
    Review,
    review_of,
)
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.timestamps import Clock, api_timestamp
from tdm_desktop.core.watch import DocumentWatch, LocalFileWatch, PolledDocuments

if TYPE_CHECKING:
    from tdm_desktop.core.export import ExportReport
    from tdm_desktop.core.export import ProgressCallback as ExportProgress
    from tdm_desktop.core.export_layout import ExportOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingImage:
    """One image of an actor, as the window and the API see it."""

    index: int
    filename: str
    s3_url: str
    size_mb: float
    modified_date: str
    good: bool
    location: S3Location | None  # None: a foreign URL, never fetched with credentials
    foreign_reason: str | None
    entry: ManifestEntry
    review: Review = UNREVIEWED  # who decided good/bad and when; unreviewed: good, nobody

    @property
    def key(self) -> str | None:
        return self.location.key if self.location else None


def _training_image(
    index: int,
    entry: ManifestEntry,
    location: S3Location | None,
    foreign_reason: str | None,
    record: Mapping[str, Any] | None,
) -> TrainingImage:
    review = review_of(record)
    return TrainingImage(
        index=index,
        filename=entry.filename,
        s3_url=entry.s3_url,
        size_mb=entry.size_mb,
        modified_date=entry.modified_date,
        good=review.good,
        location=location,
        foreign_reason=foreign_reason,
        entry=entry,
        review=review,
    )


@dataclass(frozen=True)
class ActorTrainingData:
    """An actor as read: its images, and the versions of its two documents as read (for polls
    that ask whether they changed since)."""

    actor_id: str
    actor_name: str
    images: ActorImages
    manifest_updated: str
    base_image: BaseImage | None
    manifest_version: str | None = None
    prompt_metadata_version: str | None = None


@dataclass(frozen=True)
class DeleteOutcome:
    """What a delete did: ``failed`` and ``refused`` (foreign) images are still in S3 and listed.
    ``unlisted_failed``: gone from S3, but the manifest could not be updated (a lock timeout, a
    full disk, a file another program broke meanwhile), so it still lists them; deleting them
    again finishes the job (S3 deletes are idempotent)."""

    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    unlisted_failed: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.refused and not self.unlisted_failed


class TrainingDataService:
    """The one service layer the window, the CLI and the tests share.

    ``data_dir``: a folder, an ``s3://bucket/prefix`` (through ``store``'s client) or a
    ``DocumentStore``. ``curator``: whose decisions the flags record (``reviewed_by``).
    """

    def __init__(
        self,
        data_dir: Path | str | DocumentStore,
        store: S3Store,
        *,
        curator: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.documents = open_documents(data_dir, store.client)
        self.store = store
        self._curator = None if curator is None else check_curator(curator)
        self.catalog = ActorCatalog(self.documents, clock=clock)
        self._clock = clock
        self._actor_names: dict[str, str] = {}  # actor ID -> name, from manifests read here
        self._versions: dict[str, dict[str, str | None]] = {}  # actor ID -> its documents' versions

    @property
    def curator(self) -> str | None:
        """Whose decisions the flags record from now on (``reviewed_by``)."""
        return self._curator

    @curator.setter
    def curator(self, name: str | None) -> None:
        self._curator = None if name is None else check_curator(name)

    @property
    def location(self) -> str:
        """The data dir as a curator names it: its folder, or ``s3://bucket/prefix``."""
        return self.documents.location

    def check_writable(self) -> None:
        """``ReadOnlyCatalogError`` when this account may only read the catalog (asked without
        writing anything; see ``DocumentStore.check_writable``)."""
        self.documents.check_writable()

    @property
    def data_dir(self) -> Path | DocumentStore:
        """The data dir: its folder, or the store of an S3 one (``documents`` is always the store)."""
        if isinstance(self.documents, LocalDocuments):
            return self.documents.root
        return self.documents

    # -- paths, for file watchers -------------------------------------------------------------

    def manifest_path(self, actor_id: str) -> Path | None:
        """The manifest's local file; None in an S3 data dir (nothing to watch there)."""
        return self.catalog.manifest_path(actor_id)

    def prompt_metadata_path(self, actor_name: str) -> Path | None:
        return self.catalog.prompt_metadata_path(actor_name)

    # -- reading ------------------------------------------------------------------------------

    def load_actor(self, actor_id: str) -> ActorTrainingData:
        """The actor's images with their flags; a foreign URL gets a reason, not a location."""
        actor_id = normalize_actor_id(actor_id)
        log.info("[S3-ONLY] Loading training data for actor %s", actor_id)
        log.info("[S3-ONLY] Loading manifest from %s", self.catalog.manifest_url(actor_id))
        data = self._training_data(self.catalog.manifest(actor_id))
        log.info("[S3-ONLY] Found %d images in manifest", len(data.images))
        foreign = data.images.foreign_count()
        if foreign:
            log.warning("[S3-ONLY] %d foreign URLs will not be fetched", foreign)
        return data

    def _training_data(self, manifest: TrainingDataManifest) -> ActorTrainingData:
        name = manifest.character_name
        self._actor_names[manifest.character_id] = name
        metadata = self.catalog.prompt_metadata(name).load()
        images = ActorImages(
            manifest.entries_json(),
            metadata.images(),
            _training_image,
            lambda entry: self._locate(entry, name),
            bucket=self.store.bucket,
            key_prefix=self.store.key_prefix(name),
            canonical=self.store.canonical_url_prefixes(name),
        )
        self._versions[normalize_actor_id(manifest.character_id)] = {
            manifest.document.name: manifest.version,
            metadata.document.name: metadata.version,
        }
        return ActorTrainingData(
            actor_id=manifest.character_id,
            actor_name=name,
            images=images,
            manifest_updated=manifest.training_data_updated,
            base_image=self.catalog.base_image(name),
            manifest_version=manifest.version,
            prompt_metadata_version=metadata.version,
        )

    def _locate(
        self, entry: ManifestEntry, actor_name: str
    ) -> tuple[S3Location | None, str | None]:
        try:
            location = self.store.locate(entry.s3_url, actor_name)
        except ForeignImageError as err:
            return None, err.reason
        if location.key.rsplit("/", 1)[-1] != entry.filename:
            return None, f"the URL names another file than {entry.filename!r}"
        return location, None

    def get_training_data(self, actor_id: str) -> dict:
        """``GET /api/actors/:actorId/training-data`` of the seed, exactly its response shape."""
        actor_id = normalize_actor_id(actor_id)
        log.info("[S3-ONLY] Loading training data for actor %s", actor_id)
        log.info("[S3-ONLY] Loading manifest from %s", self.catalog.manifest_url(actor_id))
        manifest = self.catalog.manifest(actor_id)
        entries = manifest.get_all_images()
        log.info("[S3-ONLY] Found %d images in manifest", len(entries))
        name = manifest.character_name
        flags = self.catalog.prompt_metadata(name).flags()
        images = [
            {
                "index": index,
                "filename": entry.filename,
                "s3_url": entry.s3_url,
                "size_mb": entry.size_mb,
                "modified_date": api_timestamp(entry.modified_date),
                "good": flags.get(entry.filename, True),
            }
            for index, entry in enumerate(entries)
        ]
        log.info("[S3-ONLY] Returning %d S3 images", len(images))
        return {
            "actor_id": int(actor_id),
            "actor_name": name,
            "training_images": images,
            "base_image_path": f"/data/{base_image_name(name)}",
            "total_count": len(images),
            "manifest_updated": api_timestamp(manifest.training_data_updated),
        }

    def fetch_image_bytes(self, image: TrainingImage) -> bytes:
        """The image's bytes from S3 through the configured client; never for a foreign URL."""
        if image.location is None:
            raise ForeignImageError(
                image.s3_url, image.foreign_reason or "not in this actor's prefix"
            )
        return self.store.get_bytes(image.location.key)

    # -- flags --------------------------------------------------------------------------------

    def mark(self, actor_id: str, filenames: Iterable[str], good: bool) -> dict[str, bool]:
        """Flag images good or bad. Returns their previous flags (for undo)."""
        return self.set_flags(actor_id, dict.fromkeys(filenames, good))

    def set_flags(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        known_filenames: Collection[str] | None = None,
    ) -> dict[str, bool]:
        """Decide each image good or bad (as ``curator``, now). Unknown filenames are refused
        before anything is written. Returns the previous flags.

        ``known_filenames``: the actor's listed filenames as the caller already knows them (the
        window's model). With them, and once this service has read the actor (``load_actor``),
        the manifest is not read again: the flagged names are checked against them instead.
        """
        changes = self.flag(actor_id, flags, known_filenames)
        before = {change.filename: change.before_review.good for change in changes}
        return {filename: before.get(filename, good) for filename, good in flags.items()}

    def flag(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        known_filenames: Collection[str] | None = None,
    ) -> list[FlagChange]:
        """``set_flags`` returning what changed per image (its decision keys before and after),
        for ``undo_flags``. Images already decided that way are not in it."""
        return self.flag_each(actor_id, [flags], known_filenames)[0]

    def flag_each(
        self,
        actor_id: str,
        flag_sets: Sequence[Mapping[str, bool]],
        known_filenames: Collection[str] | None = None,
    ) -> list[list[FlagChange]]:
        """``flag`` each of ``flag_sets`` in turn, in one write of prompt_metadata.json (one read,
        one check, one render: ``PromptMetadata.decide_each``); per set, what ``flag`` of it
        alone would have returned after the sets before it. An unknown filename in any set
        refuses them all, before anything is written. Each set is logged as ``flag`` logs it."""
        flag_sets = [dict(flags) for flags in flag_sets]
        every_name = {filename: None for flags in flag_sets for filename in flags}
        name = self._listed_actor_name(actor_id, every_name, known_filenames)
        metadata = self.catalog.prompt_metadata(name)
        each = metadata.decide_each(flag_sets, curator=self.curator)
        for flags in flag_sets:
            bad = sum(1 for good in flags.values() if not good)
            log.info(
                "[S3-ONLY] Flagged %s of %s (%d good, %d bad) as %s in %s",
                _counted(len(flags), "image"),
                name,
                len(flags) - bad,
                bad,
                self.curator or "an unnamed curator",
                metadata.url,
            )
        return each

    def undo_flags(self, actor_id: str, changes: Iterable[FlagChange]) -> FlagUndo:
        """Undo ``changes`` (what ``flag`` returned) where each image is still as they left it,
        in one write; images someone changed since are left alone and named with their current
        decision (``FlagUndo.left_alone``: who and when)."""
        return self._take_back(actor_id, changes, redo=False)

    def redo_flags(self, actor_id: str, changes: Iterable[FlagChange]) -> FlagUndo:
        """Make ``changes`` again after ``undo_flags``, only where each image is still as the undo
        left it; the others are left alone and named, as by ``undo_flags``."""
        return self._take_back(actor_id, changes, redo=True)

    def _take_back(self, actor_id: str, changes: Iterable[FlagChange], *, redo: bool) -> FlagUndo:
        actor_id = normalize_actor_id(actor_id)
        name = self._actor_names.get(actor_id) or self.catalog.manifest(actor_id).character_name
        self._actor_names[actor_id] = name
        metadata = self.catalog.prompt_metadata(name)
        outcome = metadata.redo(changes) if redo else metadata.undo(changes)
        log.info(
            "[S3-ONLY] %s %s of %s in %s; %d left alone (changed since)",
            "Redid" if redo else "Undid",
            _counted(len(outcome.undone), "flag"),
            name,
            metadata.url,
            len(outcome.left_alone),
        )
        return outcome

    def reviews(self, actor_id: str) -> dict[str, Review]:
        """Who decided what about each decided image of the actor, and when."""
        actor_id = normalize_actor_id(actor_id)
        name = self._actor_names.get(actor_id) or self.catalog.manifest(actor_id).character_name
        return self.catalog.prompt_metadata(name).reviews()

    def _listed_actor_name(
        self,
        actor_id: str,
        flags: Iterable[str],
        known_filenames: Collection[str] | None,
    ) -> str:
        """The actor's name, once every flagged filename is known to be listed."""
        actor_id = normalize_actor_id(actor_id)
        name = self._actor_names.get(actor_id) if known_filenames is not None else None
        if name is None or known_filenames is None:
            manifest = self.catalog.manifest(actor_id)
            self._require_listed(manifest, flags)
            name = manifest.character_name
            self._actor_names[manifest.character_id] = name
        else:
            missing = [filename for filename in flags if filename not in known_filenames]
            if missing:
                raise ImageNotInManifestError(
                    f"actor {actor_id} ({name}): not in the manifest: {', '.join(missing)}"
                )
        return name

    @staticmethod
    def _require_listed(manifest: TrainingDataManifest, filenames: Iterable[str]) -> None:
        listed = {entry.filename for entry in manifest.get_all_images()}
        missing = [name for name in filenames if name not in listed]
        if missing:
            raise ImageNotInManifestError(
                f"actor {manifest.character_id} ({manifest.character_name}): "
                f"not in the manifest: {', '.join(missing)}"
            )

    # -- deleting -----------------------------------------------------------------------------

    def delete_images(self, actor_id: str, filenames: Iterable[str]) -> DeleteOutcome:
        """Delete from S3 first; the manifest then drops exactly what S3 reported deleted."""
        filenames = list(dict.fromkeys(filenames))
        manifest = self.catalog.manifest(actor_id)
        self._require_listed(manifest, filenames)
        self.documents.check_writable()  # a read-only curator deletes nothing from S3
        data = self._training_data(manifest)
        by_name = {name: data.images[data.images.row_of(name)] for name in filenames}
        refused = {
            name: f"foreign URL ({by_name[name].foreign_reason}): not deleted"
            for name in filenames
            if by_name[name].location is None
        }
        key_to_name = {
            by_name[name].location.key: name for name in filenames if name not in refused
        }
        report = self.store.delete_keys(list(key_to_name))
        deleted = [key_to_name[key] for key in report.deleted]
        failed = {key_to_name[key]: reason for key, reason in report.failed.items()}
        unlisted_failed: dict[str, str] = {}
        if deleted:
            try:
                manifest.remove_images(deleted)
            except (TdmError, OSError) as err:
                reason = f"deleted from S3, but the manifest still lists it: {one_line(err)}"
                unlisted_failed = dict.fromkeys(deleted, reason)
                deleted = []
            else:
                self._forget_flags(data.actor_name, deleted)
        log.info(
            "[S3-ONLY] Deleted %d of %d images of %s from S3 and the manifest",
            len(deleted),
            len(filenames),
            data.actor_name,
        )
        for name, reason in {**failed, **refused, **unlisted_failed}.items():
            log.warning("[S3-ONLY] Not deleted: %s: %s", name, reason)
        return DeleteOutcome(deleted, failed, refused, unlisted_failed)

    def _forget_flags(self, actor_name: str, filenames: list[str]) -> None:
        """Drop deleted images' flags. A failure here leaves only harmless entries for images no
        longer listed, so it is logged, not reported as a failed delete."""
        try:
            self.catalog.prompt_metadata(actor_name).forget(filenames)
        except (TdmError, OSError) as err:
            log.warning("[S3-ONLY] Flags of deleted images kept: %s", one_line(err))

    def delete_all(self, actor_id: str) -> DeleteOutcome:
        """Delete every image the actor's manifest lists."""
        manifest = self.catalog.manifest(actor_id)
        return self.delete_images(actor_id, [e.filename for e in manifest.get_all_images()])

    def restore_image(
        self,
        actor_id: str,
        entry: ManifestEntry,
        data: bytes,
        good: bool,
        index: int | None = None,
        generation: Mapping[str, Any] | None = None,
    ) -> None:
        """Undo of a delete: re-upload the original bytes (never overwriting) and list the entry
        again, at ``index`` (its old place) when given, with its unknown keys.

        ``generation``: the image's record in prompt_metadata.json as it was before the delete
        (``PromptMetadata.generation``: prompt, seed, generator...); it is written back with
        ``good``."""
        manifest = self.catalog.manifest(actor_id)
        name = manifest.character_name
        self.documents.check_writable()
        key = self.store.key_for(name, entry.filename)
        try:
            self.store.put_new(key, data, _content_type(entry.filename))
        except ObjectExistsError:
            if self.store.get_bytes(key) != data:
                raise
        with contextlib.suppress(DuplicateImageError):  # another process listed it already
            manifest.add_entry(entry, index)
        metadata = self.catalog.prompt_metadata(name)
        if generation:
            metadata.restore_entry(entry.filename, {**generation, "good": good})
        elif not good:
            metadata.set_flags({entry.filename: False}, curator=self.curator)
        log.info("[S3-ONLY] Restored %s of %s to S3 and the manifest", entry.filename, name)

    # -- what the window asks for ------------------------------------------------------------

    def list_actors(self) -> list[ActorSummary]:
        return self.catalog.list_actors()

    def prompt_metadata(self, actor_name: str) -> PromptMetadata:
        return self.catalog.prompt_metadata(actor_name)

    def base_image_bytes(self, actor_name: str) -> bytes | None:
        """The actor's reference image (from its folder or S3), or None when it has none."""
        return self.documents.read(base_image_name(actor_name)).data

    def watch_actor(self, actor_id: str, actor_name: str) -> DocumentWatch:
        """The documents a window follows to see the actor changed elsewhere: local files it can
        watch, or (S3) documents it polls with conditional GETs (304 while unchanged)."""
        names = (manifest_name(actor_id), prompt_metadata_name(actor_name))
        paths = [self.documents.local_path(name) for name in names]
        if all(path is not None for path in paths):
            return LocalFileWatch(tuple(path for path in paths if path is not None))
        loaded = self._versions.get(normalize_actor_id(actor_id), {})
        return PolledDocuments(
            self.documents, names, {n: v for n, v in loaded.items() if n in names}
        )

    @property
    def s3_endpoint(self) -> str | None:
        """The custom S3 endpoint in use (e.g. the bundled local S3); None on AWS."""
        return self.store.endpoint_url

    def presign_get(self, key: str) -> str:
        return self.store.presign_get(key)

    def integrity(self) -> IntegrityService:
        """Audit, repair and migration of these actors (the window's Check against S3…)."""
        return IntegrityService(self.catalog, self.store, clock=self._clock)

    def generation(self, generator: Generator) -> GenerationService:
        """Generation for these actors with ``generator``."""
        return GenerationService(self.documents, self.store, generator, clock=self._clock)

    def export_training_set(
        self,
        actor_id: str,
        destination: str,
        options: ExportOptions,
        *,
        on_progress: ExportProgress | None = None,
        should_stop: Callable[[], bool] | None = None,
        workers: int = 8,
    ) -> ExportReport:
        """The actor's training set in a trainer's layout, to a folder or ``s3://bucket/prefix``
        (``core.export``): never overwrites, a re-run adds only what is new."""
        from tdm_desktop.core.export import ExportService  # it builds on this service
        from tdm_desktop.core.export_targets import make_target

        target = make_target(destination, self.store)
        return ExportService(self, workers).export(
            actor_id, target, options, on_progress, should_stop
        )


def _content_type(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "webp": "image/webp"}.get(suffix, "image/jpeg")


def _counted(count: int, noun: str) -> str:
    """``"1 image"``, ``"3 images"`` (for the log lines)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
