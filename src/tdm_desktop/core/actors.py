"""The actors of a data dir (a folder or an S3 prefix): one manifest each, in ``actor_manifests/``.

The actor list comes from a listing of ``actor_manifests/`` (ListObjectsV2 in S3): the actors are
known at once by their ID, and their names and image counts come in as their manifests are read,
a few at a time (``ActorCatalog.scan``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tdm_desktop.core.documents import DocumentRef, DocumentStore, open_documents
from tdm_desktop.core.errors import (
    ActorNotFoundError,
    DataFileError,
    ManifestNotFoundError,
    SyncEraManifestError,
    TdmError,
)
from tdm_desktop.core.layout import (
    MANIFESTS_DIR,
    actor_dir_name,
    actor_id_of,
    base_image_name,
    manifest_name,
    prompt_metadata_name,
)
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.names import normalize_actor_id
from tdm_desktop.core.prompt_metadata import CheckedEntries, PromptMetadata
from tdm_desktop.core.threads import map_unordered
from tdm_desktop.core.timestamps import Clock

REMOTE_READERS = 16  # manifests read at once from S3 while counting (latency-bound on AWS)


@dataclass(frozen=True)
class ActorSummary:
    """One row of the actor list. A broken manifest has ``problem`` set. ``image_count`` is None
    (and ``actor_name`` empty) while the manifest is not read yet (``ActorScan.actors``).
    ``sync_era``: the problem is a manifest written before the S3-only change (``tdm-desktop
    migrate`` fixes it); its ``actor_name`` is the manifest's, when valid."""

    actor_id: str
    actor_name: str
    image_count: int | None
    problem: str | None = None
    sync_era: bool = False

    @property
    def counted(self) -> bool:
        return self.image_count is not None or self.problem is not None


@dataclass(frozen=True)
class BaseImage:
    """An actor's reference image: a binary document of the catalog. ``str()`` is its URL."""

    document: DocumentRef

    @property
    def name(self) -> str:
        """The file name, ``{actor_name}_base.png``."""
        return self.document.name.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        return self.document.url

    def read(self) -> bytes:
        data = self.document.read().data
        if data is None:
            raise TdmError(f"base image {self.url}: no longer there")
        return data

    def __str__(self) -> str:
        return self.url


class ActorScan:
    """The actor list in two steps. ``actors``: every actor of the listing, by ID, at once
    (names empty, counts None). ``counts()``: each actor again, with its name and image count or
    its problem, as its manifest is read (``workers`` at a time), in the order they finish.
    ``cancel()`` stops reading (from any thread); ``counts()`` then ends early."""

    def __init__(self, catalog: ActorCatalog, actor_ids: list[str], workers: int) -> None:
        self._catalog = catalog
        self.actors = [ActorSummary(actor_id, "", None) for actor_id in actor_ids]
        self._workers = max(1, workers)
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def counts(self) -> Iterator[ActorSummary]:
        ids = [actor.actor_id for actor in self.actors]
        if self._workers == 1:
            for actor_id in ids:
                if self._cancelled.is_set():
                    return
                yield self._catalog.summary(actor_id)
            return
        # Daemon threads (core/threads.py): a manifest read that hangs never holds up the exit
        # of a window that was closed meanwhile.
        summaries = map_unordered(
            self._catalog.summary,
            ids,
            self._workers,
            name="tdm-actors",
            should_stop=self._cancelled.is_set,
        )
        try:
            for summary in summaries:
                if self._cancelled.is_set():
                    return
                yield summary
        finally:
            self._cancelled.set()
            summaries.close()


class ActorCatalog:
    """Finds actors and their documents in a data dir: a folder, or a ``DocumentStore`` (layout:
    README.md, "Files in the data dir")."""

    CHECKED_DOCUMENTS = 4  # prompt metadata documents whose valid entries are remembered

    def __init__(self, data_dir: Path | str | DocumentStore, clock: Clock | None = None) -> None:
        self.documents = open_documents(data_dir)
        self._clock = clock
        self._checked: OrderedDict[str, CheckedEntries] = OrderedDict()
        self._checked_lock = threading.Lock()

    @property
    def location(self) -> str:
        """The data dir's path or ``s3://`` URL."""
        return self.documents.location

    @property
    def manifests_location(self) -> str:
        return f"{self.documents.location.rstrip('/')}/{MANIFESTS_DIR}"

    def manifest_url(self, actor_id: str) -> str:
        return self.documents.url(manifest_name(actor_id))

    def manifest_path(self, actor_id: str) -> Path | None:
        """The manifest's local file (for a file watcher); None in an S3 data dir."""
        return self.documents.local_path(manifest_name(actor_id))

    def manifest_document(self, actor_id: str) -> DocumentRef:
        return DocumentRef(self.documents, manifest_name(actor_id))

    def manifest(self, actor_id: str) -> TrainingDataManifest:
        """The actor's manifest, loaded and validated (raises ManifestError, ActorNotFoundError)."""
        actor_id = normalize_actor_id(actor_id)
        manifest = TrainingDataManifest(self.manifest_document(actor_id), clock=self._clock)
        try:
            manifest.load()
        except ManifestNotFoundError:
            raise ActorNotFoundError(f"actor {actor_id}: no manifest at {manifest.url}") from None
        return manifest

    def actor_ids(self) -> list[str]:
        """Every actor's ID, from one listing of ``actor_manifests/``, in ID order. Names that
        are not one of ours (``notes_manifest.json``, ``42_manifest.json``) are left out."""
        ids = {actor_id_of(name) for name in self.documents.names(MANIFESTS_DIR)}
        ids |= {actor_id_of(name) for name in self._folders_named_like_manifests()}
        ids.discard(None)
        return sorted((i for i in ids if i is not None), key=int)

    def _folders_named_like_manifests(self) -> Iterator[str]:
        """A folder where a manifest belongs (only a local data dir can have one): listed, so
        its reader names it as broken instead of the actor vanishing from the list."""
        folder = self.documents.local_path(MANIFESTS_DIR)
        if folder is None:
            return
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.is_dir(follow_symlinks=False):
                    yield f"{MANIFESTS_DIR}/{entry.name}"

    def scan(self, workers: int | None = None) -> ActorScan:
        """The listing now, the counts as they come (``ActorScan``). ``workers`` defaults to a few
        readers at once in S3, one for a folder."""
        if workers is None:
            workers = REMOTE_READERS if self.documents.is_remote else 1
        return ActorScan(self, self.actor_ids(), workers)

    def summary(self, actor_id: str) -> ActorSummary:
        """One actor's row: its name and image count, or the problem of its manifest."""
        try:
            manifest = self.manifest(actor_id)
        except SyncEraManifestError as err:
            return ActorSummary(actor_id, err.actor_name or "", 0, str(err), sync_era=True)
        except DataFileError as err:
            return ActorSummary(actor_id, "", 0, problem=str(err))
        except ActorNotFoundError as err:  # removed since the listing
            return ActorSummary(actor_id, "", 0, problem=str(err))
        return ActorSummary(actor_id, manifest.character_name, manifest.image_count)

    def list_actors(self) -> list[ActorSummary]:
        """Every actor, sorted by ID, with its count; a broken manifest is listed with its
        problem, never hiding the others."""
        scan = self.scan()
        by_id = {summary.actor_id: summary for summary in scan.counts()}
        return [by_id.get(actor.actor_id, actor) for actor in scan.actors]

    def actor_dir_url(self, actor_name: str) -> str:
        return self.documents.url(actor_dir_name(actor_name))

    def prompt_metadata_path(self, actor_name: str) -> Path | None:
        """The prompt metadata's local file (for a file watcher); None in an S3 data dir."""
        return self.documents.local_path(prompt_metadata_name(actor_name))

    def prompt_metadata(self, actor_name: str) -> PromptMetadata:
        """The actor's prompt metadata; the objects made for one actor share what their reads
        found valid (``CheckedEntries``), for the actors used last."""
        name = prompt_metadata_name(actor_name)
        document = DocumentRef(self.documents, name)
        return PromptMetadata(
            document, actor_name, clock=self._clock, checked=self._checked_of(name)
        )

    def _checked_of(self, name: str) -> CheckedEntries:
        with self._checked_lock:
            checked = self._checked.pop(name, None) or CheckedEntries()
            self._checked[name] = checked
            while len(self._checked) > self.CHECKED_DOCUMENTS:
                self._checked.popitem(last=False)
            return checked

    def base_image(self, actor_name: str) -> BaseImage | None:
        """The actor's base image when it has one (a listing of its folder, not a download)."""
        name = base_image_name(actor_name)
        folder = name.rsplit("/", 1)[0]
        if name not in set(self.documents.names(folder)):
            return None
        return BaseImage(DocumentRef(self.documents, name))
