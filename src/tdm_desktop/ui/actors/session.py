"""The open actor: listing actors, opening one, reloading it when its documents change, F5.

Opening also asks whether this account may write the catalog (``check_writable``: S3 answers
without anything being written) and tells ``CatalogAccess``, so a read-only curator learns it
before pressing a key, and no flag is ever shown, queued and then taken back.

``ActorSessionController`` runs every read on a ``JobRunner`` and drops stale results: an open that another open
overtook, a reload that a newer reload or an open overtook, and a reload that one of our own writes
overtook (that one is read again). It knows no window: it reports through signals, and the actor
list it drives is anything with the ``ActorChooser`` methods (``ActorListWidget`` in the app).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QSettings, Signal, SignalInstance, Slot

from tdm_desktop.core.errors import ReadOnlyCatalogError, TdmError
from tdm_desktop.core.names import normalize_actor_id
from tdm_desktop.core.training_data import ActorTrainingData
from tdm_desktop.core.watch import DocumentWatch
from tdm_desktop.ui.common.access import CatalogAccess
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text
from tdm_desktop.ui.common.watcher import DocumentWatcher

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tdm_desktop.core.actors import ActorSummary

log = logging.getLogger(__name__)

LAST_ACTOR_KEY = "session/lastActor"


class ActorChooser(Protocol):
    """The actor list: rows of actor summaries, one current."""

    def set_actors(self, actors: Sequence[ActorSummary]) -> None: ...
    def actor_ids(self) -> list[str]: ...
    def current_actor_id(self) -> str | None: ...
    def select_actor(self, actor_id: str) -> bool: ...


class WriteTracker(Protocol):
    """Our own writes (``CurationController``): a reload older than one of them is read again,
    once they have all landed (``busy_changed(False)``)."""

    write_serial: int
    busy_changed: SignalInstance

    def is_busy(self) -> bool: ...


class ActorSource(Protocol):
    """What the session asks of the service layer (``TrainingDataService``)."""

    def list_actors(self) -> list[ActorSummary]: ...
    def load_actor(self, actor_id: str) -> ActorTrainingData: ...
    def watch_actor(self, actor_id: str, actor_name: str) -> DocumentWatch: ...
    def check_writable(self) -> None: ...


@dataclass(frozen=True)
class _Opened:
    """What opening an actor read: its images, its documents as they were right after, and why
    this account may only read them (None: it may write)."""

    data: ActorTrainingData
    documents: DocumentWatch
    state: Hashable
    read_only: str | None = None


def _read_only_reason(service: ActorSource) -> str | None:
    """Why this account may only read the catalog, or None. A check that cannot be made now
    (S3 unreachable) is logged: the first write then says what is wrong."""
    try:
        service.check_writable()
    except ReadOnlyCatalogError as err:
        return str(err)
    except (TdmError, OSError) as err:
        log.warning("could not check whether this account may write the catalog: %s", err)
    return None


def _state_of(documents: DocumentWatch) -> Hashable:
    """The documents' state to compare later changes with; None when it cannot be read now
    (the first check then counts as a change and reloads once)."""
    try:
        return documents.state()
    except (TdmError, OSError) as err:
        log.warning("could not read the state of the actor's documents: %s", err)
        return None


class ActorSessionController(QObject):
    """Which actor is open, and keeping it in step with its documents.

    ``opening(actor_id)`` when a read starts; then ``opened(ActorTrainingData)`` or
    ``open_failed(actor_id, message)``. ``reloaded(ActorTrainingData, select)`` (``select``: a
    filename to make current, or None) or ``reload_failed(message)`` after a reload.
    ``actors_listed()`` after each listing; ``error_reported(message)`` for what the curator
    should read (the list failed, an ID is not valid).
    """

    opening = Signal(str)
    opened = Signal(object)
    open_failed = Signal(str, str)
    reloaded = Signal(object, object)
    reload_failed = Signal(str)
    actors_listed = Signal()
    error_reported = Signal(str)

    def __init__(
        self,
        service: ActorSource,
        chooser: ActorChooser,
        writes: WriteTracker,
        settings: QSettings,
        *,
        jobs: JobRunner | None = None,
        watcher: DocumentWatcher | None = None,
        access: CatalogAccess | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self.access = access if access is not None else CatalogAccess(self)
        self._chooser = chooser
        self._writes = writes
        self._settings = settings
        self.jobs = jobs if jobs is not None else JobRunner(parent=self)
        self.watcher = watcher if watcher is not None else DocumentWatcher(parent=self)
        self.watcher.documents_changed.connect(self.reload_actor)
        self._actor_id: str | None = None
        self._actor_name = ""
        self._open_serial = 0
        self._refresh_serial = 0
        self._pending_actor: str | None = None
        self._settings_actor: str | None = None
        self._actors_known = False
        self._select_after_refresh: str | None = None
        self._reload_when_idle = False
        writes.busy_changed.connect(self._on_writes_busy)

    @property
    def actor_id(self) -> str | None:
        return self._actor_id

    @property
    def actor_name(self) -> str:
        return self._actor_name

    # -- the last actor --------------------------------------------------------------------------

    def restore_last_actor(self) -> None:
        """The actor open when the app last closed opens once the list is known (if still there)."""
        last = self._settings.value(LAST_ACTOR_KEY)
        self._pending_actor = self._settings_actor = str(last) if last else None

    def remember_last_actor(self) -> None:
        if self._actor_id is not None:
            self._settings.setValue(LAST_ACTOR_KEY, self._actor_id)

    # -- listing ---------------------------------------------------------------------------------

    def reload_actor_list(self) -> None:
        self.jobs.run(
            self._service.list_actors, on_result=self._on_actors, on_error=self._on_list_error
        )

    def _on_actors(self, actors: list[ActorSummary]) -> None:
        self._chooser.set_actors(actors)
        self._actors_known = True
        pending, self._pending_actor = self._pending_actor, None
        known = {a.actor_id for a in actors}
        if pending is not None and pending not in known and self._settings_actor == pending:
            log.info("the last open actor %s is gone; opening the first one", pending)
            pending = None
        if pending is not None and pending != self._actor_id:
            self.open_actor(pending)
        elif self._actor_id is None and not pending:
            healthy = [a for a in actors if not a.problem]
            if healthy:
                self._chooser.select_actor(healthy[0].actor_id)
        self.actors_listed.emit()

    def _on_list_error(self, error: BaseException) -> None:
        self._actors_known = True
        self.error_reported.emit(failure_text(error, "Could not list the actors"))
        self.actors_listed.emit()

    # -- opening ---------------------------------------------------------------------------------

    def open_actor(self, actor_id: str) -> None:
        """Open an actor by ID (``42`` or ``0042``); once the list is known, it is selected in it."""
        if not self._actors_known:
            self._pending_actor = actor_id
            return
        try:
            actor_id = normalize_actor_id(actor_id)
        except TdmError as err:
            self.error_reported.emit(str(err))
            return
        chooser = self._chooser
        if actor_id in chooser.actor_ids():
            if chooser.current_actor_id() == actor_id or not chooser.select_actor(actor_id):
                self.load_actor(actor_id)
        else:
            self.load_actor(actor_id)

    @Slot(str)
    def load_actor(self, actor_id: str) -> None:
        """Read ``actor_id`` and make it the open actor (the chooser's choice lands here)."""
        self._open_serial += 1
        serial = self._open_serial
        service = self._service
        self.opening.emit(actor_id)

        def load() -> _Opened:
            data = service.load_actor(actor_id)
            documents = service.watch_actor(data.actor_id, data.actor_name)
            return _Opened(data, documents, _state_of(documents), _read_only_reason(service))

        self.jobs.run(
            load,
            on_result=lambda opened: self._on_actor_loaded(serial, opened),
            on_error=lambda err: self._on_actor_failed(serial, actor_id, err),
        )

    def _on_actor_loaded(self, serial: int, opened: _Opened) -> None:
        if serial != self._open_serial:
            return
        data = opened.data
        self._actor_id, self._actor_name = data.actor_id, data.actor_name
        self._select_after_refresh = None
        self._reload_when_idle = False
        self.access.set_read_only(opened.read_only)
        self.watcher.watch(opened.documents, opened.state)
        self._settings.setValue(LAST_ACTOR_KEY, data.actor_id)
        self.opened.emit(data)

    def _on_actor_failed(self, serial: int, actor_id: str, error: BaseException) -> None:
        if serial != self._open_serial:
            return
        self._actor_id, self._actor_name = None, ""
        self.watcher.clear()
        self.open_failed.emit(actor_id, failure_text(error, f"Could not open actor {actor_id}"))

    # -- reloading -------------------------------------------------------------------------------

    @Slot()
    def reload_actor(self) -> None:
        """The file watcher (and F5): reload the open actor; the place and selection survive."""
        if self._actor_id is None:
            current = self._chooser.current_actor_id()
            if current is not None:
                self.load_actor(current)
            return
        if self._writes.is_busy():  # read once our queued writes have landed (see _on_refreshed)
            self._reload_when_idle = True
            return
        self._refresh_serial += 1
        serial, open_serial = self._refresh_serial, self._open_serial
        writes = self._writes.write_serial
        actor_id = self._actor_id
        self.jobs.run(
            lambda: self._service.load_actor(actor_id),
            on_result=lambda data: self._on_refreshed(serial, open_serial, writes, data),
            on_error=lambda err: self._on_refresh_failed(open_serial, actor_id, err),
        )

    @Slot(bool)
    def _on_writes_busy(self, busy: bool) -> None:
        if not busy and self._reload_when_idle:
            self._reload_when_idle = False
            self.reload_actor()

    def show_landed(self, actor_id: str, select: str | None = None) -> None:
        """A new image of ``actor_id`` is in the manifest: re-read the actor (one job, newest read
        wins), then make ``select`` current. Our own write: the watcher's reload adds nothing."""
        if actor_id != self._actor_id:
            return
        if select is not None:
            self._select_after_refresh = select
        self.watcher.remember_current_state()
        self.reload_actor()

    def _on_refreshed(
        self, serial: int, open_serial: int, writes: int, data: ActorTrainingData
    ) -> None:
        if serial != self._refresh_serial or open_serial != self._open_serial:
            return
        if writes != self._writes.write_serial or self._writes.is_busy():
            # One of our writes overtook this read: read again, once, when the writes have all
            # landed (not now: while flag keys keep the queue busy, that would be a reload of
            # the whole actor after every key).
            self.watcher.remember_current_state()
            if self._writes.is_busy():
                self._reload_when_idle = True
            else:
                self.reload_actor()
            return
        select, self._select_after_refresh = self._select_after_refresh, None
        self.reloaded.emit(data, select)

    def _on_refresh_failed(self, open_serial: int, actor_id: str, error: BaseException) -> None:
        if open_serial != self._open_serial:
            return
        self.reload_failed.emit(failure_text(error, f"Could not reload actor {actor_id}"))
