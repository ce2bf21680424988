"""Thumbnails fetched from S3 and decoded in worker threads, cached in memory only.

After qimgv's thumbnailer: a private ``QThreadPool`` that never holds more than ``max_workers``
jobs, an app-side queue in screen order (so re-prioritising is just replacing a deque), dedupe of
in-flight (key, size) work, and a decode at reduced scale in the worker. Workers hand a ``QImage``
back through a queued signal; only the GUI thread makes ``QPixmap``s. Two byte-bounded LRUs:
decoded pixmaps, and the compressed bytes so that a size change re-decodes (still in a worker)
without fetching again. No disk cache, no temp files.

The bytes come from a ``Transport`` (``transport.py``: Qt on presigned URLs, or a GET function in
threads of its own), the same on every endpoint. How many GETs are in flight is independent of
the decode workers: up to ``max_requests``, as many as the link carries (``RequestPacer``), the
visible tiles first, then the prefetch band. Every key passes ``gate`` (the listed images) on the
GUI thread before a transport sees it, whichever transport it is. See docs/PERFORMANCE.md for the
figures behind these choices.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import (
    QByteArray,
    QObject,
    QRunnable,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QPixmap

from tdm_desktop.ui.common.images import decode_image
from tdm_desktop.ui.thumbnails.cache import ByteLRU
from tdm_desktop.ui.thumbnails.pacing import RequestPacer
from tdm_desktop.ui.thumbnails.priority import lower_thread_priority
from tdm_desktop.ui.thumbnails.reasons import failure_reason
from tdm_desktop.ui.thumbnails.transport import Fetch, Fetched, Transport, WorkerTransport

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_PIXMAP_BUDGET_MIB = 512  # decoded thumbnails kept in memory (Settings… can change it)
DEFAULT_COMPRESSED_BUDGET_MIB = 128  # fetched bytes kept for re-decoding at another size
DEFAULT_REQUESTS = 16  # GETs in flight at most (Settings… can change it)

Decode = Callable[[bytes, int], QImage]
Gate = Callable[[str], bool]
"""``gate(key)``: may this key be fetched (is it listed)? Asked on the GUI thread."""

PUMP_SLICE_S = 0.004  # starting work yields to the event loop after this
PREPARE_AHEAD = 16  # keys whose URLs are signed ahead of their GET (about one pacer window)
HEDGE_S = 0.15  # a visible decode not begun this long after it was queued is queued once more
VISIBLE_PRIORITY, BAND_PRIORITY, ANALYSIS_PRIORITY = 2, 1, 0
ANALYSIS_JOBS = 1  # analysis jobs at once: one niced thread holding the GIL at a time, not two


class PixelAnalysis(Protocol):
    """A hook for what else should be learnt from an image's pixels (quality, a hash) without a
    second GET. ``wants(key)`` on the GUI thread when a thumbnail arrived with fetched bytes;
    then ``analyze(key, data, tile)`` in a decode worker, after the tile was handed back and only
    when no tile waits for a worker (lowest priority). ``data`` is the object's bytes (decode it
    at 256 px or more for the checks), ``tile`` its thumbnail (a null image if it left the
    cache). The loader keeps the keys, not the bytes: an image whose bytes left the compressed
    cache before a worker was free is skipped (its next fetch asks again)."""

    def wants(self, key: str) -> bool: ...

    def analyze(self, key: str, data: bytes, tile: QImage) -> None: ...


def default_workers() -> int:
    """Decode workers: one per CPU (``QThread.idealThreadCount``), at least 1."""
    return max(1, QThread.idealThreadCount())


def pixmap_bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * pixmap.depth() // 8


@dataclass(frozen=True)
class _Result:
    key: str
    size: int
    token: tuple[int, int]
    image: QImage | None
    data: bytes | QByteArray | None  # the compressed bytes when this job fetched them
    error: str | None


class _JobState:
    """Whether a decode job's ``run()`` has begun (read on the GUI thread, set in the worker)."""

    began = False


class _ResultEmitter(QObject):
    """Lives in the GUI thread; a worker's ``emit`` reaches it through a queued connection."""

    finished = Signal(object)


class _DecodeJob(QRunnable):
    """Decode the bytes; always reports exactly once."""

    def __init__(
        self, result: _Result, decode: Decode, emitter: _ResultEmitter, *, keep_bytes: bool
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._result = result
        self._decode = decode
        self._emitter = emitter
        self._keep_bytes = keep_bytes  # the bytes were fetched for this job: cache them
        self.state = _JobState()

    def run(self) -> None:
        self.state.began = True
        lower_thread_priority()
        r = self._result
        data, image, error = r.data, None, None
        if isinstance(data, QByteArray):  # a network reply's body
            data = data.data()
        try:
            image = self._decode(bytes(data or b""), r.size)
        except Exception as err:
            error = failure_reason(err)
            log.info("thumbnail %s failed: %s (%s)", r.key, error, err)
        kept = data if self._keep_bytes and error is None else None
        self._emitter.finished.emit(_Result(r.key, r.size, r.token, image, kept, error))


class _AnalysisJob(QRunnable):
    def __init__(
        self, analysis: PixelAnalysis, key: str, data: bytes, tile: QImage, done: _ResultEmitter
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._analysis, self._key, self._data, self._tile, self._done = (
            analysis,
            key,
            data,
            tile,
            done,
        )

    def run(self) -> None:
        lower_thread_priority()
        try:
            self._analysis.analyze(self._key, self._data, self._tile)
        except Exception:
            log.exception("analysing %s failed", self._key)
        self._done.finished.emit(None)


class ThumbnailLoader(QObject):
    """Loads thumbnails for S3 keys; the view asks, the delegate paints.

    ``transport``: where bytes come from (a ``Transport``); a plain ``fetch(key) -> bytes`` is run
    in a ``WorkerTransport`` (tests pass one over a fake or moto). ``gate(key)`` (GUI thread) says
    whether a key may be fetched at all; a refused key fails as "missing" without a GET.
    ``max_requests`` GETs in flight at most, paced by ``pacer`` (default: a ``RequestPacer``
    following the link); ``max_workers`` decode workers (default: one per CPU).
    ``decode(bytes, size) -> QImage`` defaults to :func:`decode_image`.
    """

    thumbnail_ready = Signal(str)
    thumbnail_failed = Signal(str, str)

    def __init__(
        self,
        transport: Transport | Fetch,
        *,
        gate: Gate | None = None,
        max_workers: int | None = None,
        max_requests: int = DEFAULT_REQUESTS,
        pacer: RequestPacer | None = None,
        pixmap_budget_bytes: int = DEFAULT_PIXMAP_BUDGET_MIB * MIB,
        compressed_budget_bytes: int = DEFAULT_COMPRESSED_BUDGET_MIB * MIB,
        pool: QThreadPool | None = None,
        decode: Decode = decode_image,
        analysis: PixelAnalysis | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if max_workers is None:
            max_workers = default_workers()
        if max_requests < 1:
            raise ValueError(f"thumbnail requests {max_requests}: must be at least 1")
        if max_workers < 1:
            raise ValueError(f"thumbnail workers {max_workers}: must be at least 1")
        self._decode = decode
        self._max_workers = max_workers
        self._owns_pool = pool is None
        if pool is None:  # created before the emitter so Qt destroys it (joining workers) first
            pool = QThreadPool(self)
            pool.setMaxThreadCount(max_workers)
            pool.setObjectName("thumbnailPool")
        self._pool = pool
        self._emitter = _ResultEmitter(self)
        self._emitter.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._analysis_done = _ResultEmitter(self)
        self._analysis_done.finished.connect(self._on_analysed, Qt.ConnectionType.QueuedConnection)
        if not isinstance(transport, QObject):
            transport = WorkerTransport(transport, threads=max_requests, parent=self)
        self._transport: Transport = transport
        transport.fetched.connect(self._on_fetched)
        self._gate = gate
        self._pacer = pacer if pacer is not None else RequestPacer(max_requests)
        self._analysis = analysis
        # keys whose tile landed with fetched bytes, for the hook, in the order they landed; the
        # bytes are read from the compressed cache when a worker is free (gone by then: skipped)
        self._analysis_queue: dict[str, None] = {}
        self._analysing = 0
        self._analysis_after = 0.0  # no analysis job starts before this (time.monotonic)
        self._analysis_timer = QTimer(self)
        self._analysis_timer.setSingleShot(True)
        self._analysis_timer.timeout.connect(self._start_analysis)
        # Results arrive in bursts; they free slots, and one pump per event-loop turn refills
        # them, a time slice at a time, so the GUI thread never works long in one go.
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)

        self._pixmaps: ByteLRU[tuple[str, int], QPixmap] = ByteLRU(
            pixmap_budget_bytes, pixmap_bytes, self._forget_size
        )
        self._sizes: dict[str, set[int]] = {}  # key -> sizes held in self._pixmaps
        self._compressed: ByteLRU[str, bytes] = ByteLRU(compressed_budget_bytes, len)
        self._compressed_lock = threading.Lock()  # compressed_bytes() may be called by workers
        self._errors: dict[str, str] = {}

        self._pending: deque[tuple[str, int]] = deque()
        self._wanted: set[str] = set()  # keys of the latest request
        self._visible: set[str] = set()  # the on-screen keys of the latest request
        self._size = 0  # size of the latest request
        self._in_flight: dict[tuple[str, int], tuple[int, int]] = {}  # (key, size) -> token
        self._fetching: dict[str, tuple[int, int]] = {}  # key -> token of its GET (or decode)
        self._gets: dict[str, tuple[int, tuple[int, int]]] = {}  # key in flight -> (size, token)
        self._deferred: dict[str, list[int]] = {}  # sizes waiting for a fetch of that key
        self._active = 0  # decode jobs handed to the pool
        # visible decodes queued and not finished: when each was queued, and whether it began
        self._visible_jobs: dict[
            tuple[str, int, tuple[int, int]], tuple[float, _JobState, _Result]
        ] = {}
        self._hedged: dict[tuple[str, int, tuple[int, int]], int] = {}  # -> results to come
        self._epoch = 0
        self._generation: dict[str, int] = {}
        self._closed = False

    # -- asking ---------------------------------------------------------------------------------

    def request(self, keys: Sequence[str], size: int, prefetch: Sequence[str] = ()) -> None:
        """Replace the queue: ``keys`` (visible, in priority order) first, then ``prefetch``.

        Queued work not listed is dropped; work already running completes and is cached.
        """
        if self._closed or size < 1:
            return
        self._size = size
        self._pending.clear()
        self._deferred.clear()
        seen: set[str] = set()
        for key in (*keys, *prefetch):
            if not key or key in seen:
                continue
            seen.add(key)
            self._pixmaps.touch((key, size))
            if self._needs_work(key, size):
                self._pending.append((key, size))
        self._wanted = seen
        self._visible = {key for key in keys if key}
        self._pump()

    def pixmap(self, key: str, size: int) -> QPixmap | None:
        """The thumbnail at ``size`` if cached, else the nearest cached size of ``key``, or None."""
        exact = self._pixmaps.peek((key, size))
        if exact is not None:
            return exact
        sizes = self._sizes.get(key)
        if not sizes:
            return None
        nearest = min(sizes, key=lambda s: (abs(s - size), -s))
        return self._pixmaps.peek((key, nearest))

    def is_cached(self, key: str, size: int) -> bool:
        """True when the thumbnail of ``key`` at exactly ``size`` is in the pixmap cache."""
        return (key, size) in self._pixmaps

    def error(self, key: str) -> str | None:
        return self._errors.get(key)

    def retry(self, keys: Iterable[str]) -> None:
        """Forget the errors and bytes of ``keys`` and fetch them again, ahead of the queue."""
        keys = [k for k in keys if k]
        for key in keys:
            self._errors.pop(key, None)
            with self._compressed_lock:
                self._compressed.pop(key)
        self._push_front(keys)

    def invalidate(self, keys: Iterable[str]) -> None:
        """Drop everything known about ``keys`` (the object changed); reload those still wanted."""
        keys = [k for k in keys if k]
        for key in keys:
            self._drop(key)
        self._push_front([k for k in keys if k in self._wanted])

    def clear(self) -> None:
        """Drop every cache, error and queued request (e.g. another actor was opened)."""
        self._epoch += 1
        self._pending.clear()
        self._deferred.clear()
        self._wanted = set()
        self._visible = set()
        self._pixmaps.clear()
        self._sizes.clear()
        with self._compressed_lock:
            self._compressed.clear()
        self._errors.clear()
        self._generation.clear()
        self._in_flight.clear()
        self._fetching.clear()
        self._gets.clear()
        self._analysis_queue.clear()
        self._visible_jobs.clear()
        self._hedged.clear()
        self._transport.abort()

    def warm_up(self) -> None:
        """GETs will come soon (an actor is opening): let the transport connect ahead."""
        if not self._closed:
            self._transport.warm_up()

    def set_pixmap_budget(self, budget_bytes: int) -> None:
        self._pixmaps.set_budget(budget_bytes)

    def pixmap_budget(self) -> int:
        return self._pixmaps.budget_bytes()

    def set_max_requests(self, count: int) -> None:
        """GETs in flight at most from now on (the pacer keeps fewer while the link is slow)."""
        self._pacer.set_maximum(max(1, count))
        self._pump_soon()

    def max_requests(self) -> int:
        return self._pacer.maximum()

    def requests_in_flight(self) -> int:
        return len(self._gets)

    def request_limit(self) -> int:
        """How many GETs the pacer allows in flight now."""
        return self._pacer.limit()

    def compressed_bytes(self, key: str) -> bytes | None:
        """The fetched bytes of ``key`` if still cached (e.g. for a preview). Thread-safe."""
        with self._compressed_lock:
            return self._compressed.peek(key)

    def cache_bytes(self) -> int:
        return self._pixmaps.total_bytes()

    def compressed_cache_bytes(self) -> int:
        return self._compressed.total_bytes()

    def pending_count(self) -> int:
        """Queued requests not yet handed to a worker or to the network."""
        return len(self._pending)

    def worker_count(self) -> int:
        return self._max_workers

    def transport_name(self) -> str:
        """Which transport fetches: ``"qt"`` (presigned URLs) or ``"botocore"``."""
        return self._transport.name

    def analysis_backlog(self) -> int:
        """Images waiting for the analysis hook, or in it."""
        return len(self._analysis_queue) + self._analysing

    def hold_analysis(self, ms: int) -> None:
        """No analysis job starts for ``ms`` (the curator acts: a key, a scroll)."""
        self._analysis_after = max(self._analysis_after, time.monotonic() + ms / 1000)
        if self._analysis is not None and not self._closed and not self._analysis_timer.isActive():
            self._analysis_timer.start(ms)

    def uses_network(self) -> bool:
        """True when GETs go through Qt's network stack on presigned URLs."""
        return self._transport.name == "qt"

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Drop queued work, abort GETs and wait at most ``timeout_ms`` for running workers;
        nothing is delivered afterwards. True when every worker had ended."""
        self._closed = True
        self._pending.clear()
        self._deferred.clear()
        self._analysis_queue.clear()
        deadline = time.monotonic() + timeout_ms / 1000
        transport_done = self._transport.shutdown(timeout_ms)
        if self._owns_pool:
            self._pool.clear()
        left_ms = max(0, int((deadline - time.monotonic()) * 1000))
        return self._pool.waitForDone(left_ms) and transport_done

    # -- the queue ------------------------------------------------------------------------------

    def _token(self, key: str) -> tuple[int, int]:
        return (self._epoch, self._generation.get(key, 0))

    def _needs_work(self, key: str, size: int) -> bool:
        return (
            key not in self._errors
            and (key, size) not in self._pixmaps
            and self._in_flight.get((key, size)) != self._token(key)
        )

    def _push_front(self, keys: Sequence[str]) -> None:
        if self._closed or self._size < 1:
            return
        size = self._size
        front = [(k, size) for k in dict.fromkeys(keys) if self._needs_work(k, size)]
        self._pending = deque([*front, *(p for p in self._pending if p not in front)])
        self._pump()

    def _pump(self) -> None:
        """Hand queued work, in order, to free decode workers (bytes cached) or to the transport
        (as many GETs as the pacer allows); then the idle workers to the analysis hook.

        Runs for at most ``PUMP_SLICE_S``, then continues in the next event-loop turn.
        """
        began = time.perf_counter()
        while self._pending and not self._closed:
            if time.perf_counter() - began > PUMP_SLICE_S:
                self._pump_timer.start()
                return
            key, size = self._pending[0]
            if not self._needs_work(key, size):
                self._pending.popleft()
                continue
            with self._compressed_lock:
                data = self._compressed.get(key)
            token = self._token(key)
            if data is None and self._fetching.get(key) == token:
                self._pending.popleft()
                self._deferred.setdefault(key, []).append(size)  # one GET per key at a time
                continue
            if data is None and len(self._gets) >= self._pacer.limit():
                break
            if data is not None and self._active >= self._max_workers:
                break
            self._pending.popleft()
            self._in_flight[(key, size)] = token
            if data is not None:
                self._start_decode(_Result(key, size, token, None, data, None), keep=False)
                continue
            self._fetching[key] = token
            if self._gate is not None and not self._gate(key):
                self._fail(key, size, token, "missing", "no longer listed")
                continue
            self._gets[key] = (size, token)
            self._transport.fetch(key)
        self._prepare_ahead()
        self._start_analysis()

    def _prepare_ahead(self) -> None:
        """Let the transport get ready for the next GETs (sign their URLs)."""
        ahead: list[str] = []
        for key, size in self._pending:
            if len(ahead) >= PREPARE_AHEAD:
                break
            listed = self._gate is None or self._gate(key)
            if key not in self._gets and listed and self._needs_work(key, size):
                ahead.append(key)
        if ahead:
            self._transport.prepare(ahead)

    def _pump_soon(self) -> None:
        if not self._closed:
            self._pump_timer.start()

    def _start_decode(self, result: _Result, *, keep: bool) -> None:
        self._active += 1
        job = _DecodeJob(result, self._decode, self._emitter, keep_bytes=keep)
        visible = result.key in self._visible
        if visible:
            ident = (result.key, result.size, result.token)
            self._visible_jobs[ident] = (time.monotonic(), job.state, result)
        self._pool.start(job, VISIBLE_PRIORITY if visible else BAND_PRIORITY)

    def _hedge_stalled(self) -> None:
        """Queue once more a visible decode that has not begun ``HEDGE_S`` after it was queued.

        Measured here: now and then a queued visible job's ``run()`` began only seconds later,
        when the load was over, while the other worker decoded hundreds of band images (the job
        was next in the queue; its thread seems to wait that long for the GIL, which the GUI
        thread and the other worker hand to each other). Whichever copy ends first is shown.
        """
        now = time.monotonic()
        for ident, (queued_at, state, result) in list(self._visible_jobs.items()):
            if state.began or now - queued_at < HEDGE_S or ident in self._hedged:
                continue
            key, size, token = ident
            data = result.data
            if isinstance(data, QByteArray):  # a reply's body, only read by the stalled job
                data = data.data()
            if not data:
                continue
            log.debug(
                "thumbnail %s: decode not begun after %.0f ms; queued again",
                key,
                (now - queued_at) * 1000,
            )
            self._hedged[ident] = 2
            del self._visible_jobs[ident]
            self._active += 1
            twin = _DecodeJob(
                _Result(key, size, token, None, bytes(data), None),
                self._decode,
                self._emitter,
                keep_bytes=result.data is not None,
            )
            self._pool.start(twin, VISIBLE_PRIORITY + 1)

    def _start_analysis(self) -> None:
        if self._analysis is None or self._closed:
            return
        wait_ms = (self._analysis_after - time.monotonic()) * 1000
        if wait_ms > 0:  # held: the timer comes back (a coarse timer may fire a little early)
            if not self._analysis_timer.isActive():
                self._analysis_timer.start(max(1, int(wait_ms) + 1))
            return
        waiting_tiles = bool(self._pending) and self._needs_work(*self._pending[0])
        while (
            self._analysis_queue
            and not waiting_tiles
            and self._analysing < ANALYSIS_JOBS
            and self._active + self._analysing < self._max_workers
        ):
            key = next(iter(self._analysis_queue))
            del self._analysis_queue[key]
            with self._compressed_lock:
                data = self._compressed.peek(key)
            if data is None:
                continue  # its bytes left the cache: its next fetch brings it back
            pixmap = self.pixmap(key, self._size)
            tile = pixmap.toImage() if pixmap is not None else QImage()
            self._analysing += 1
            job = _AnalysisJob(self._analysis, key, data, tile, self._analysis_done)
            self._pool.start(job, ANALYSIS_PRIORITY)

    # -- results --------------------------------------------------------------------------------

    @Slot(object)
    def _on_fetched(self, fetched: Fetched) -> None:
        key = fetched.key
        entry = self._gets.pop(key, None)
        if entry is None or self._closed:
            return  # not ours any more (cleared, invalidated)
        size, token = entry
        if fetched.error is None and fetched.data is not None:
            self._pacer.done(fetched.sent_at, fetched.first_byte_at, fetched.done_at, fetched.size)
        else:
            self._pacer.failed()
        if token != self._token(key):
            self._forget_in_flight(key, size, token)
            self._pump_soon()
            return
        if fetched.error is not None or fetched.data is None:
            log.info("thumbnail %s failed: %s (%s)", key, fetched.error, fetched.detail)
            self._fail(key, size, token, fetched.error or "failed", fetched.detail)
            self._pump_soon()
            return
        self._start_decode(_Result(key, size, token, None, fetched.data, None), keep=True)
        self._pump_soon()

    def _fail(self, key: str, size: int, token: tuple[int, int], reason: str, detail: str) -> None:
        self._forget_in_flight(key, size, token)
        if token == self._token(key):
            self._deliver(_Result(key, size, token, None, None, reason))

    def _forget_in_flight(self, key: str, size: int, token: tuple[int, int]) -> None:
        if self._in_flight.get((key, size)) == token:
            del self._in_flight[(key, size)]
        if self._fetching.get(key) == token:
            del self._fetching[key]

    @Slot(object)
    def _on_finished(self, result: _Result) -> None:
        self._active -= 1
        if self._closed:
            return
        ident = (result.key, result.size, result.token)
        self._visible_jobs.pop(ident, None)
        twins = self._hedged.pop(ident, None)
        if twins == 2:
            self._hedged[ident] = 1  # the first of a job and its copy: shown; the other is not
        self._forget_in_flight(result.key, result.size, result.token)
        if twins != 1 and result.token == self._token(result.key):
            self._deliver(result)
        self._hedge_stalled()
        self._pump_soon()

    @Slot(object)
    def _on_analysed(self, _nothing: object) -> None:
        self._analysing -= 1
        self._pump_soon()

    def _deliver(self, result: _Result) -> None:
        key, size = result.key, result.size
        if result.error is not None or result.image is None:
            reason = result.error or "not an image"
            self._errors[key] = reason
            self._deferred.pop(key, None)
            self.thumbnail_failed.emit(key, reason)
            return
        if result.data is not None:
            data = bytes(result.data)
            with self._compressed_lock:
                self._compressed.put(key, data)
            if self._analysis is not None and self._analysis.wants(key):
                self._analysis_queue[key] = None
        waiting = self._deferred.pop(key, [])
        if waiting:
            self._pending.extendleft((key, s) for s in reversed(waiting))
        if self._pixmaps.put((key, size), QPixmap.fromImage(result.image)):
            self._sizes.setdefault(key, set()).add(size)
        self.thumbnail_ready.emit(key)

    def _forget_size(self, cache_key: tuple[str, int], _pixmap: QPixmap) -> None:
        key, size = cache_key
        sizes = self._sizes.get(key)
        if sizes is not None:
            sizes.discard(size)
            if not sizes:
                del self._sizes[key]

    def _drop(self, key: str) -> None:
        self._generation[key] = self._generation.get(key, 0) + 1
        for size in self._sizes.pop(key, set()):
            self._pixmaps.pop((key, size))
        with self._compressed_lock:
            self._compressed.pop(key)
        self._errors.pop(key, None)
        self._deferred.pop(key, None)
        self._analysis_queue.pop(key, None)
