"""Run a callable off the GUI thread and deliver its result or error back on the GUI thread.

``JobRunner.run(fn, on_result=..., on_error=...)`` queues ``fn`` on daemon threads of its own
(``core.threads.DaemonPool``); when it ends, the runner's signals (queued to the thread that owns
the runner, i.e. the GUI thread) call the callbacks. A runner with ``max_threads=1`` runs its
jobs one after another, in order: the curation writes use one so an undo never overtakes the
delete it undoes.

Closing is bounded: ``shutdown(deadline)`` waits for the jobs at most until ``deadline``
(``time.monotonic()``), delivers the callbacks of those that ended meanwhile (their errors are
reported the usual way, not lost with the window), takes back the jobs not started and says
which were still running (``Unfinished``). A job that still runs ends on its own; nothing of it
is delivered, and the process never waits for it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QThread,
    Signal,
    SignalInstance,
    Slot,
)

from tdm_desktop.core.threads import DaemonPool, PoolJob

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


@dataclass(frozen=True)
class Unfinished:
    """What a runner's jobs had not finished when it shut down, by their ``what``: still
    running (it may still end, unseen), and taken back before they started."""

    running: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.running or self.not_started)


class _JobSignals(QObject):
    """Lives in the GUI thread; emitting from a worker queues the call back to it."""

    job_succeeded = Signal(int, object)
    job_failed = Signal(int, object)


class _Job:
    def __init__(
        self, job_id: int, fn: Callable[[], Any], signals: _JobSignals, runner: JobRunner
    ) -> None:
        self._job_id = job_id
        self._fn = fn
        self._signals = signals
        self._runner = runner

    def __call__(self) -> None:
        try:
            result = self._fn()
        except BaseException as err:  # delivered to the GUI thread, never lost in a worker
            self._emit(self._signals.job_failed, err)
        else:
            self._emit(self._signals.job_succeeded, result)

    def _emit(self, signal: SignalInstance, payload: object) -> None:
        if self._runner.is_closed():
            log.debug("job %d ended after its runner shut down", self._job_id)
            return
        try:
            signal.emit(self._job_id, payload)
        except RuntimeError:  # the runner was deleted (window closed) while the job ran
            log.debug("job %d finished after its runner was deleted", self._job_id)


class JobRunner(QObject):
    """Runs callables on daemon threads; results and errors come back as callbacks on the GUI
    thread. ``max_threads`` at once (default: one per CPU, ``QThread.idealThreadCount``)."""

    def __init__(
        self,
        *,
        max_threads: int | None = None,
        name: str = "tdm-job",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = DaemonPool(max_threads or max(1, QThread.idealThreadCount()), name=name)
        self._signals = _JobSignals(self)
        self._signals.job_succeeded.connect(self._on_succeeded)
        self._signals.job_failed.connect(self._on_failed)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[ResultCallback | None, ErrorCallback | None]] = {}
        self._queued: dict[int, PoolJob] = {}  # job id -> the pool's job, until its callback
        self._closed = False

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        what: str = "",
    ) -> int:
        """Queue ``fn``; return a job id. An error with no ``on_error`` is logged. ``what``
        names the job in a shutdown's ``Unfinished``. After ``shutdown`` nothing is queued."""
        job_id = next(self._ids)
        if self._closed:
            log.info("not started, the window is closing: %s", what or f"job {job_id}")
            return job_id
        self._callbacks[job_id] = (on_result, on_error)
        self._queued[job_id] = self._pool.start(_Job(job_id, fn, self._signals, self), what)
        return job_id

    def rename(self, job_id: int, what: str) -> None:
        """Name job ``job_id`` ``what`` from now on (a job that took on more work while queued);
        a job that has ended is left as it was."""
        job = self._queued.get(job_id)
        if job is not None:
            job.what = what

    def pending(self) -> int:
        """Jobs queued or running whose callbacks have not run yet."""
        return len(self._callbacks)

    def is_closed(self) -> bool:
        return self._closed

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until no job is queued or running (for tests); callbacks still arrive as
        events."""
        return self._pool.wait_for_done(None if msecs < 0 else msecs / 1000)

    def shutdown(self, deadline: float) -> Unfinished:
        """Wait for the jobs until ``deadline`` (``time.monotonic()``), deliver what ended, drop
        what did not start; nothing is delivered afterwards. See the module."""
        self._pool.wait_for_done(max(0.0, deadline - time.monotonic()))
        not_started = [job.what for job in self._pool.cancel_queued()]
        self.deliver_finished()
        self._closed = True
        running = [job.what for job in self._pool.running()]
        self._callbacks.clear()
        self._queued.clear()
        return Unfinished(running, not_started)

    def deliver_finished(self) -> None:
        """Run now the callbacks of jobs that have ended (their events are queued)."""
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        QCoreApplication.sendPostedEvents(self._signals, QEvent.Type.MetaCall)

    @Slot(int, object)
    def _on_succeeded(self, job_id: int, result: object) -> None:
        self._queued.pop(job_id, None)
        on_result, _ = self._callbacks.pop(job_id, (None, None))
        if on_result is not None:
            on_result(result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: object) -> None:
        self._queued.pop(job_id, None)
        _, on_error = self._callbacks.pop(job_id, (None, None))
        if on_error is not None:
            on_error(error)  # type: ignore[arg-type]
        else:
            log.error("background job failed: %s", error)
