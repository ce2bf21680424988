"""Runs File → Export good set… in the background: ``ExportController`` drives the service
layer's export on a one-thread ``JobRunner`` (never on the GUI thread) and reports on the GUI
thread through signals; the worker's ``on_progress`` crosses threads by emitting a queued signal.
Cancel sets an event that ``should_stop`` reads: the images in flight finish, no new one starts,
and the report names the ones not started.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QObject, Signal, Slot

from tdm_desktop.core.export import ExportReport, ProgressCallback
from tdm_desktop.core.export_layout import ExportOptions
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text

log = logging.getLogger(__name__)


class ExportWork(Protocol):
    """The service layer's export (``TrainingDataService``)."""

    def export_training_set(
        self,
        actor_id: str,
        destination: str,
        options: ExportOptions,
        *,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        workers: int = 8,
    ) -> ExportReport: ...


@dataclass(frozen=True)
class ExportRequest:
    """What the export dialog asks for."""

    actor_id: str
    destination: str  # a folder, or s3://bucket/prefix
    options: ExportOptions


class ExportController(QObject):
    """One export at a time. ``progress_changed(done, total, filename)``,
    ``finished(request, ExportReport)``, ``failed(request, message)`` (nothing or only part was
    written: the message says which)."""

    progress_changed = Signal(int, int, str)
    finished = Signal(object, object)
    failed = Signal(object, str)
    busy_changed = Signal(bool)
    _progress_reported = Signal(int, int, str)  # from the worker thread

    def __init__(self, service: ExportWork, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._jobs = JobRunner(max_threads=1, parent=self)
        self._stop = threading.Event()
        self._busy = False
        self._progress_reported.connect(self._on_progress)

    def is_busy(self) -> bool:
        return self._busy

    def is_cancelling(self) -> bool:
        return self._busy and self._stop.is_set()

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._jobs.wait_for_done(msecs)

    def start(self, request: ExportRequest) -> bool:
        """Start ``request``; False while another export runs."""
        if self._busy:
            return False
        self._stop.clear()
        self._set_busy(True)
        emit, service = self._progress_reported.emit, self._service
        self._jobs.run(
            lambda: service.export_training_set(
                request.actor_id,
                request.destination,
                request.options,
                on_progress=lambda done, total, name: emit(done, total, name),
                should_stop=self._stop.is_set,
            ),
            on_result=lambda report: self._done(request, report),
            on_error=lambda error: self._failed(request, error),
            what=f"the export of {request.actor_id} to {request.destination}",
        )
        return True

    def shutdown(self, deadline: float) -> list[str]:
        """Stop an export after the images in flight, waiting until ``deadline``
        (``time.monotonic()``) at most; a line (also logged) for one still running then: what
        it wrote stays, and a second export adds the rest (it never overwrites)."""
        self.cancel()
        unfinished = self._jobs.shutdown(deadline)
        lines = [
            f"Not finished, the window closed: {what}; what it wrote stays, export again to add "
            "the rest"
            for what in [*unfinished.running, *unfinished.not_started]
        ]
        for line in lines:
            log.error("%s", line)
        return lines

    @Slot()
    def cancel(self) -> None:
        if self._busy and not self._stop.is_set():
            log.info("export: stopping after the images in flight")
            self._stop.set()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.progress_changed.emit(done, total, name)

    def _done(self, request: ExportRequest, report: ExportReport) -> None:
        self._set_busy(False)
        self.finished.emit(request, report)

    def _failed(self, request: ExportRequest, error: BaseException) -> None:
        self._set_busy(False)
        self.failed.emit(request, failure_text(error))

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
