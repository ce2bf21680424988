"""Notice when another process (or curator) changes the open actor's documents.

The service says what to follow (a ``DocumentWatch``): local files, or documents elsewhere that
only their ``state()`` can tell about. Local files are followed with ``QFileSystemWatcher``;
writers replace them atomically (temp file + ``os.replace``), which makes it drop the path, so the
parent folders are watched too and paths are re-added after each event. Documents with no local
file (an S3 catalog) are polled every few seconds (``set_poll_interval``); polling pauses while
the window is hidden or minimised (``set_paused``) and checks at once when it is back. Either way a
change is only reported when ``state()`` actually moved, read off the GUI thread, and events are
debounced (~200 ms) into one ``documents_changed`` signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from tdm_desktop.core.watch import DocumentWatch
from tdm_desktop.ui.common.jobs import JobRunner

log = logging.getLogger(__name__)

POLL_MS = 5000  # documents with no local file (an S3 catalog) are checked this often by default


class DocumentWatcher(QObject):
    """Follows one actor's documents; emits ``documents_changed`` once per burst of changes."""

    documents_changed = Signal()

    def __init__(
        self, debounce_ms: int = 200, poll_ms: int = POLL_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_event)
        self._watcher.directoryChanged.connect(self._on_event)
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self._check)
        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self._check)
        self._jobs = JobRunner(max_threads=1, parent=self)  # in order: a baseline, then checks
        self._documents: DocumentWatch | None = None
        self._serial = 0  # bumped by watch()/clear(): results of an older watch are dropped
        self._seen: Hashable = None
        self._paused = False
        self.polls = 0
        """How many polls were started (each one conditional GETs of the documents)."""

    def watch(self, documents: DocumentWatch, seen: Hashable) -> None:
        """Follow ``documents`` (which may not exist yet), forgetting the previous ones; ``seen``
        is their state as the caller read them (a change from it is reported)."""
        self.clear()
        self._documents = documents
        self._seen = seen
        if documents.local_files:
            self._rearm()
        elif not self._paused:
            self._poll.start()

    def set_poll_interval(self, msecs: int) -> None:
        """How often documents with no local file are checked (a running poll keeps its rhythm
        from the next tick)."""
        self._poll.setInterval(max(1, msecs))

    def poll_interval(self) -> int:
        return self._poll.interval()

    def set_paused(self, paused: bool) -> None:
        """Stop polling (the window is hidden or minimised) or go on, checking at once."""
        if paused == self._paused:
            return
        self._paused = paused
        polled = self._documents is not None and not self._documents.local_files
        if paused:
            self._poll.stop()
        elif polled:
            self._poll.start()
            self._check()

    def is_polling(self) -> bool:
        return self._poll.isActive()

    def clear(self) -> None:
        self._serial += 1
        self._documents = None
        self._debounce.stop()
        self._poll.stop()
        for group in (self._watcher.files(), self._watcher.directories()):
            if group:
                self._watcher.removePaths(group)

    def shutdown(self) -> None:
        """The window closes: follow nothing more; a poll waiting for S3 is left to end unseen."""
        self.clear()
        self._jobs.shutdown(0.0)

    def check_now(self) -> None:
        """Read the documents' state now (this window changed them from elsewhere than the
        grid): a change from what was seen is reported once, as any other."""
        self._check()

    def remember_current_state(self) -> None:
        """Take the documents as they are now as seen (after our own writes, if the caller wants)."""
        self._read_state(self._take_as_seen)

    def _take_as_seen(self, state: Hashable) -> None:
        self._seen = state

    def _rearm(self) -> None:
        if self._documents is None:
            return
        files = self._documents.local_files
        wanted = {str(p) for p in files if p.exists()}
        wanted |= {str(p.parent) for p in files if p.parent.is_dir()}
        present = set(self._watcher.files()) | set(self._watcher.directories())
        missing = sorted(wanted - present)
        if missing:
            self._watcher.addPaths(missing)

    @Slot(str)
    def _on_event(self, _path: str) -> None:
        self._debounce.start()

    @Slot()
    def _check(self) -> None:
        if self._documents is None:
            return
        if not self._documents.local_files:
            if self._paused or self._jobs.pending():
                return  # hidden, or the last poll has not answered yet (a slow network)
            self.polls += 1
        self._rearm()
        self._read_state(self._compare)

    def _compare(self, state: Hashable) -> None:
        if state == self._seen:
            return
        self._seen = state
        files = self._documents.local_files if self._documents is not None else ()
        where = ", ".join(p.name for p in files) or "polled"
        log.info("the open actor's documents changed elsewhere (%s): reloading", where)
        self.documents_changed.emit()

    def _read_state(self, then: Callable[[Hashable], None]) -> None:
        documents, serial = self._documents, self._serial
        if documents is None:
            return

        def deliver(state: Hashable) -> None:
            if serial == self._serial:
                then(state)

        self._jobs.run(
            documents.state,
            on_result=deliver,
            on_error=lambda err: log.warning("could not read the actor's documents: %s", err),
        )
