"""Run a callable off the GUI thread and deliver its result or error back on the GUI thread.

``JobRunner.run(fn, on_result=..., on_error=...)`` queues ``fn`` on a ``QThreadPool``; when it ends, the
runner's signals (queued to the thread that owns the runner, i.e. the GUI thread) call the callbacks.
A runner with ``max_threads=1`` runs its jobs one after another, in order: the curation writes use one so
an undo never overtakes the delete it undoes.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, SignalInstance, Slot

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _JobSignals(QObject):
    """Lives in the GUI thread; emitting from a worker queues the call back to it."""

    job_succeeded = Signal(int, object)
    job_failed = Signal(int, object)


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], signals: _JobSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job_id = job_id
        self._fn = fn
        self._signals = signals

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as err:  # delivered to the GUI thread, never lost in a worker
            self._emit(self._signals.job_failed, err)
        else:
            self._emit(self._signals.job_succeeded, result)

    def _emit(self, signal: SignalInstance, payload: object) -> None:
        try:
            signal.emit(self._job_id, payload)
        except RuntimeError:  # the runner was deleted (window closed) while the job ran
            log.debug("job %d finished after its runner was deleted", self._job_id)


class JobRunner(QObject):
    """Runs callables on a thread pool; results and errors come back as callbacks on the GUI thread."""

    def __init__(
        self,
        pool: QThreadPool | None = None,
        *,
        max_threads: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if pool is None:
            pool = QThreadPool(self)
            if max_threads is not None:
                pool.setMaxThreadCount(max_threads)
        self._pool = pool
        self._signals = _JobSignals(self)
        self._signals.job_succeeded.connect(self._on_succeeded)
        self._signals.job_failed.connect(self._on_failed)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[ResultCallback | None, ErrorCallback | None]] = {}

    @property
    def pool(self) -> QThreadPool:
        return self._pool

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> int:
        """Queue ``fn``; return a job id. An error with no ``on_error`` is logged."""
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_result, on_error)
        self._pool.start(_Job(job_id, fn, self._signals))
        return job_id

    def pending(self) -> int:
        """Jobs queued or running whose callbacks have not run yet."""
        return len(self._callbacks)

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (for shutdown and tests); callbacks still arrive as events."""
        return self._pool.waitForDone(msecs)

    @Slot(int, object)
    def _on_succeeded(self, job_id: int, result: object) -> None:
        on_result, _ = self._callbacks.pop(job_id, (None, None))
        if on_result is not None:
            on_result(result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: object) -> None:
        _, on_error = self._callbacks.pop(job_id, (None, None))
        if on_error is not None:
            on_error(error)  # type: ignore[arg-type]
        else:
            log.error("background job failed: %s", error)
