"""Background threads that never hold up the end of the process.

A request to S3 or to an image generator can wait for minutes (its own timeouts allow it), and a
thread cannot be interrupted while it waits. ``concurrent.futures`` and ``QThreadPool`` both join
their threads when they end (at interpreter exit, or when the pool is destroyed), so one such
request keeps a closed window's process alive until it returns. ``DaemonPool`` runs callables on
daemon threads instead: whoever owns the pool decides how long to wait for them
(``wait_for_done``), takes back what has not started (``cancel_queued``) and lets the rest end on
their own; the process never waits for them.

``DaemonPool(max_threads)`` runs jobs in the order they were started; with one thread, one after
another (a write queue). Threads are made as jobs need them and end after ``IDLE_S`` without
work. ``map_unordered(fn, items, workers)`` is ``ThreadPoolExecutor.map`` on such threads, yielding
in the order results come. ``wait_for_all_pools(timeout_s)`` waits until every pool is idle
(tests, before a fake S3 goes away).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

log = logging.getLogger(__name__)

IDLE_S = 10.0  # an idle thread ends after this long
_T = TypeVar("_T")
_R = TypeVar("_R")
_POOLS: weakref.WeakSet[DaemonPool] = weakref.WeakSet()
_POOLS_LOCK = threading.Lock()


@dataclass
class PoolJob:
    """One callable queued on a pool; ``what`` names it (for a report of what did not run)."""

    fn: Callable[[], object]
    what: str = ""
    serial: int = field(default=0)


class DaemonPool:
    """Runs callables on up to ``max_threads`` daemon threads named ``name``; see the module."""

    def __init__(self, max_threads: int = 1, *, name: str = "tdm-worker") -> None:
        if max_threads < 1:
            raise ValueError(f"threads {max_threads}: must be at least 1")
        self._max = max_threads
        self._name = name
        self._queue: deque[PoolJob] = deque()
        self._running: dict[int, PoolJob] = {}  # serial -> job, while it runs
        self._threads = 0
        self._idle = 0
        self._cond = threading.Condition()
        self._serials = itertools.count(1)
        with _POOLS_LOCK:
            _POOLS.add(self)

    def max_threads(self) -> int:
        return self._max

    def set_max_threads(self, count: int) -> None:
        with self._cond:
            self._max = max(1, count)
            self._spawn_needed()

    def start(self, fn: Callable[[], object], what: str = "") -> PoolJob:
        """Queue ``fn`` (after everything queued before it)."""
        job = PoolJob(fn, what, next(self._serials))
        with self._cond:
            self._queue.append(job)
            self._spawn_needed()
            self._cond.notify()
        return job

    def cancel_queued(self) -> list[PoolJob]:
        """Take back every job not started yet (they never run); returns them, in order."""
        with self._cond:
            dropped = list(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        return dropped

    def running(self) -> list[PoolJob]:
        """The jobs running now, oldest first."""
        with self._cond:
            return [self._running[s] for s in sorted(self._running)]

    def is_idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._running

    def wait_for_done(self, timeout_s: float | None = None) -> bool:
        """Wait until nothing is queued or running, at most ``timeout_s`` (None: no bound);
        True when idle."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._queue and not self._running, timeout=timeout_s
            )

    # -- threads --------------------------------------------------------------------------------

    def _spawn_needed(self) -> None:
        """(Lock held.) One more thread when jobs wait, none is idle and there is room."""
        waiting = len(self._queue) - self._idle
        while waiting > 0 and self._threads < self._max:
            self._threads += 1
            waiting -= 1
            thread = threading.Thread(target=self._work, name=self._name, daemon=True)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                got = self._cond.wait_for(lambda: bool(self._queue), timeout=IDLE_S)
                self._idle -= 1
                if not got or self._threads > self._max:
                    self._threads -= 1
                    self._cond.notify_all()
                    return
                job = self._queue.popleft()
                self._running[job.serial] = job
            try:
                job.fn()
            except BaseException:  # a job reports its own errors; never lose the thread quietly
                log.exception("background job %s failed", job.what or job.serial)
            finally:
                with self._cond:
                    del self._running[job.serial]
                    self._cond.notify_all()


def wait_for_all_pools(timeout_s: float) -> bool:
    """Wait until every pool is idle, at most ``timeout_s`` in all; True when all are."""
    deadline = time.monotonic() + timeout_s
    with _POOLS_LOCK:
        pools = list(_POOLS)
    return all(p.wait_for_done(max(0.0, deadline - time.monotonic())) for p in pools)


_DONE = object()


def map_unordered(
    fn: Callable[[_T], _R],
    items: Iterable[_T],
    workers: int,
    *,
    name: str = "tdm-map",
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[_R]:
    """``fn(item)`` for each item on ``workers`` daemon threads; results as they come. An
    exception of ``fn`` is raised here. Items not started when the consumer stops iterating, or
    once ``should_stop()`` is true, are skipped; the calls running then are waited for (a
    consumer that is itself abandoned, waiting for a call that hangs, holds up nothing: every
    thread here is a daemon)."""
    todo: queue.SimpleQueue[_T] = queue.SimpleQueue()
    count = 0
    for item in items:
        todo.put(item)
        count += 1
    results: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()
    stopped = threading.Event()

    def work() -> None:
        while not stopped.is_set() and not (should_stop is not None and should_stop()):
            try:
                item = todo.get_nowait()
            except queue.Empty:
                break
            try:
                results.put((True, fn(item)))
            except BaseException as err:
                results.put((False, err))
            time.sleep(0)  # let the consumer take the result (and maybe stop) before the next
        results.put((True, _DONE))

    threads = [
        threading.Thread(target=work, name=name, daemon=True)
        for _ in range(max(1, min(workers, count)))
    ]
    for thread in threads:
        thread.start()
    finished = 0
    try:
        while finished < len(threads):
            ok, value = results.get()
            if value is _DONE:
                finished += 1
            elif ok:
                yield value  # type: ignore[misc]
            else:
                raise value  # type: ignore[misc]
    finally:
        stopped.set()
        for thread in threads:  # the calls running end first (as ThreadPoolExecutor's exit)
            thread.join()
