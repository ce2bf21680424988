"""Thumbnails fetched from S3 and decoded in worker threads, cached in memory only.

After qimgv's thumbnailer: a private ``QThreadPool`` that never holds more than ``max_workers``
jobs, an app-side queue in screen order (so re-prioritising is just replacing a deque), dedupe of
in-flight (key, size) work, and ``QImageReader.setScaledSize`` in the worker so a JPEG decodes at
reduced scale. Workers hand a ``QImage`` back through a queued signal; only the GUI thread makes
``QPixmap``s. Two byte-bounded LRUs: decoded pixmaps, and the compressed bytes so that a size change
re-decodes (still in a worker) without fetching again. No disk cache, no temp files.

Two ways to fetch. With ``url_for`` (``ThumbnailSource.url_source()``: presigned URLs), the GET is a
``QNetworkAccessManager`` request on a presigned URL: the HTTP work happens in Qt's C++ network
thread without the GIL, so it neither stalls the GUI thread nor competes with it; at most
``max_requests`` run at once and the bytes go to a worker for the decode (``QImageReader.read``
releases the GIL too). Without it, ``fetch(key)`` (e.g. botocore's GET) runs in the workers; tests
and other callers use that path. See docs/PERFORMANCE.md for the figures behind this choice.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QByteArray,
    QObject,
    QRunnable,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from tdm_desktop.core.errors import ForeignImageError, S3Error
from tdm_desktop.ui.common.images import NotAnImageError, decode_image
from tdm_desktop.ui.thumbnails.cache import ByteLRU

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_PIXMAP_BUDGET_MIB = 512  # decoded thumbnails kept in memory (Settings… can change it)
DEFAULT_COMPRESSED_BUDGET_MIB = 128  # fetched bytes kept for re-decoding at another size

Fetch = Callable[[str], bytes]
Decode = Callable[[bytes, int], QImage]
UrlFor = Callable[[str], str]

MAX_REQUESTS = 6  # Qt opens at most 6 connections per host anyway
PUMP_SLICE_S = 0.004  # starting work (signing a URL ~0.4 ms) yields to the event loop after this
TRANSFER_TIMEOUT_MS = 30_000

# S3 error codes (and the short words S3Store uses) in a curator's words.
_REASONS = {
    "AccessDenied": "forbidden",
    "Forbidden": "forbidden",
    "403": "forbidden",
    "AllAccessDisabled": "forbidden",
    "NoSuchKey": "missing",
    "NoSuchBucket": "missing",
    "NotFound": "missing",
    "404": "missing",
    "Timeout": "timeout",
    "RequestTimeout": "timeout",
    "ReadTimeout": "timeout",
    "ConnectTimeout": "timeout",
    "EndpointUnreachable": "unreachable",
    "EndpointConnectionError": "unreachable",
    "NoCredentials": "no credentials",
    "InvalidAccessKeyId": "no credentials",
    "SignatureDoesNotMatch": "no credentials",
    "ExpiredToken": "no credentials",
}


_NET = QNetworkReply.NetworkError
_UNREACHABLE = {
    _NET.ConnectionRefusedError,
    _NET.RemoteHostClosedError,
    _NET.HostNotFoundError,
    _NET.TemporaryNetworkFailureError,
    _NET.NetworkSessionFailedError,
    _NET.ProxyConnectionRefusedError,
    _NET.ProxyNotFoundError,
    _NET.UnknownNetworkError,
}
_HTTP_REASONS = {401: "no credentials", 403: "forbidden", 404: "missing", 410: "missing"}
_S3_CODE = re.compile(rb"<Code>([A-Za-z0-9]+)</Code>")


def default_workers() -> int:
    """Decode workers: one per CPU (``QThread.idealThreadCount``), at least 1."""
    return max(1, QThread.idealThreadCount())


_QUERY = re.compile(r"\?[^\s]*")


def without_query(message: str) -> str:
    """``message`` without URL query strings: a presigned URL's query is a bearer credential
    (X-Amz-Credential, X-Amz-Signature), never logged nor shown."""
    return _QUERY.sub("?…", message)


def reply_failure_reason(error: QNetworkReply.NetworkError, status: int | None, body: bytes) -> str:
    """The curator's word for a failed thumbnail GET, from the S3 error code, HTTP status or error."""
    match = _S3_CODE.search(body[:4096])
    if match is not None and match.group(1).decode() in _REASONS:
        return _REASONS[match.group(1).decode()]
    if status in _HTTP_REASONS:
        return _HTTP_REASONS[status]
    if status is not None and status >= 400:
        return f"HTTP {status}"
    if error in (_NET.OperationCanceledError, _NET.TimeoutError):
        return "timeout"  # our requests are only cancelled by their transfer timeout
    if error in _UNREACHABLE:
        return "unreachable"
    return "failed"


def failure_reason(error: BaseException) -> str:
    """A short word a curator understands for why a thumbnail could not be shown."""
    if isinstance(error, ForeignImageError):
        return f"foreign URL: {error.reason}"
    if isinstance(error, S3Error):
        return _REASONS.get(error.code, error.code or "S3 error")
    if isinstance(error, NotAnImageError):
        return "not an image"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, OSError):
        return "unreachable"
    if isinstance(error, LookupError):  # e.g. the image is no longer listed
        return "missing"
    return "failed"


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


WORKER_NICENESS = 10
_worker_state = threading.local()


def _lower_thread_priority(niceness: int = WORKER_NICENESS) -> None:
    """Make this worker thread yield the CPU to the GUI thread (Linux: per-thread nice).

    On 2 cores, decodes, the S3 server and the GUI thread all want the CPU while a grid fills; at
    equal priority the GUI thread waits its turn and the event loop stalls. Qt's own
    ``QThread.setPriority`` does nothing for normal threads on Linux, so this uses setpriority on
    the thread id. Once per thread; silently skipped where unsupported.
    """
    if getattr(_worker_state, "niced", False):
        return
    _worker_state.niced = True
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, niceness))
    except OSError as err:
        log.debug("could not lower the thumbnail worker's priority: %s", err)


class _ResultEmitter(QObject):
    """Lives in the GUI thread; a worker's ``emit`` reaches it through a queued connection."""

    finished = Signal(object)


class _ThumbnailJob(QRunnable):
    """Fetch (unless the compressed bytes are given) then decode; always reports exactly once."""

    def __init__(
        self,
        result: _Result,
        fetch: Fetch | None,
        decode: Decode,
        emitter: _ResultEmitter,
        *,
        keep_bytes: bool = False,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._result = result
        self._fetch = fetch
        self._decode = decode
        self._emitter = emitter
        self._keep_bytes = keep_bytes  # the bytes were fetched for this job: cache them

    def run(self) -> None:
        _lower_thread_priority()
        r = self._result
        data, image, error = r.data, None, None
        if isinstance(data, QByteArray):  # a network reply's body
            data = data.data()
        fetched = data if self._keep_bytes else None
        try:
            if data is None and self._fetch is not None:
                data = fetched = self._fetch(r.key)
            image = self._decode(bytes(data or b""), r.size)
        except Exception as err:
            error = failure_reason(err)
            log.info("thumbnail %s failed: %s (%s)", r.key, error, err)
        self._emitter.finished.emit(
            _Result(r.key, r.size, r.token, image, fetched if error is None else None, error)
        )


class ThumbnailLoader(QObject):
    """Loads thumbnails for S3 keys in worker threads; the view asks, the delegate paints.

    ``fetch(key) -> bytes`` is the S3 GET (called from worker threads: it must be thread-safe, as a
    boto3 client is). ``decode(bytes, size) -> QImage`` defaults to :func:`decode_image`.
    With ``url_for(key) -> URL`` (called on the GUI thread; e.g. ``S3Store.presign_get``), GETs go
    through ``network`` (a ``QNetworkAccessManager``, made here if not given) instead of ``fetch``,
    ``max_requests`` at a time, each aborted as "timeout" after ``transfer_timeout_ms`` without data.
    ``max_workers`` defaults to :func:`default_workers` (one per CPU).
    """

    thumbnail_ready = Signal(str)
    thumbnail_failed = Signal(str, str)

    def __init__(
        self,
        fetch: Fetch,
        *,
        max_workers: int | None = None,
        pixmap_budget_bytes: int = DEFAULT_PIXMAP_BUDGET_MIB * MIB,
        compressed_budget_bytes: int = DEFAULT_COMPRESSED_BUDGET_MIB * MIB,
        pool: QThreadPool | None = None,
        decode: Decode = decode_image,
        url_for: UrlFor | None = None,
        network: QNetworkAccessManager | None = None,
        max_requests: int = MAX_REQUESTS,
        transfer_timeout_ms: int = TRANSFER_TIMEOUT_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if max_workers is None:
            max_workers = default_workers()
        if max_requests < 1:
            raise ValueError(f"thumbnail requests {max_requests}: must be at least 1")
        if max_workers < 1:
            raise ValueError(f"thumbnail workers {max_workers}: must be at least 1")
        self._fetch = fetch
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
        self._url_for = url_for
        self._max_requests = max_requests
        self._transfer_timeout_ms = transfer_timeout_ms
        self._network: QNetworkAccessManager | None = None
        if url_for is not None:
            self._network = network if network is not None else QNetworkAccessManager(self)
            self._network.finished.connect(self._on_reply)
        self._replies: dict[QNetworkReply, tuple[str, int, tuple[int, int]]] = {}
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
        self._size = 0  # size of the latest request
        self._in_flight: dict[tuple[str, int], tuple[int, int]] = {}  # (key, size) -> token
        self._fetching: dict[str, tuple[int, int]] = {}  # key -> token of the job fetching it
        self._deferred: dict[str, list[int]] = {}  # sizes waiting for a fetch of that key
        self._active = 0
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
        self._pixmaps.clear()
        self._sizes.clear()
        with self._compressed_lock:
            self._compressed.clear()
        self._errors.clear()
        self._generation.clear()
        self._in_flight.clear()
        self._fetching.clear()
        self._abort_requests()

    def set_pixmap_budget(self, budget_bytes: int) -> None:
        self._pixmaps.set_budget(budget_bytes)

    def pixmap_budget(self) -> int:
        return self._pixmaps.budget_bytes()

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

    def uses_network(self) -> bool:
        """True when GETs go through QNetworkAccessManager on URLs from ``url_for``."""
        return self._network is not None

    def shutdown(self) -> None:
        """Drop queued work and wait for running workers; nothing is delivered afterwards."""
        self._closed = True
        self._pending.clear()
        self._deferred.clear()
        self._abort_requests()
        if self._owns_pool:
            self._pool.clear()
        self._pool.waitForDone()

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
        """Hand queued work, in order, to free workers (decode, or fetch + decode) or requests.

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
            by_network = data is None and self._network is not None
            if by_network and len(self._replies) >= self._max_requests:
                return
            if not by_network and self._active >= self._max_workers:
                return
            self._pending.popleft()
            if data is None:
                self._fetching[key] = token
            self._in_flight[(key, size)] = token
            if by_network:
                self._start_request(key, size, token)
            else:
                self._start_job(_Result(key, size, token, None, data, None), fetch=data is None)

    def _pump_soon(self) -> None:
        if not self._closed:
            self._pump_timer.start()

    def _start_job(self, result: _Result, *, fetch: bool, keep_bytes: bool = False) -> None:
        self._active += 1
        job = _ThumbnailJob(
            result,
            self._fetch if fetch else None,
            self._decode,
            self._emitter,
            keep_bytes=keep_bytes,
        )
        self._pool.start(job)

    # -- the network path -----------------------------------------------------------------------

    def _start_request(self, key: str, size: int, token: tuple[int, int]) -> None:
        assert self._network is not None and self._url_for is not None
        try:
            url = self._url_for(key)
        except Exception as err:  # e.g. S3Error(NoCredentials) while signing
            self._fail_request(key, size, token, failure_reason(err), err, pump=False)
            return
        request = QNetworkRequest(QUrl.fromEncoded(url.encode()))
        request.setTransferTimeout(self._transfer_timeout_ms)
        reply = self._network.get(request)
        self._replies[reply] = (key, size, token)

    @Slot(QNetworkReply)
    def _on_reply(self, reply: QNetworkReply) -> None:
        entry = self._replies.pop(reply, None)
        if entry is None:  # not ours (a shared manager), or aborted by clear()/shutdown()
            return
        reply.deleteLater()
        if self._closed:
            return
        key, size, token = entry
        error = reply.error()
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        body = reply.readAll()  # a QByteArray: the copy to bytes happens in the worker
        if error == _NET.NoError and (status is None or 200 <= int(status) < 300):
            self._start_job(
                _Result(key, size, token, None, body, None), fetch=False, keep_bytes=True
            )
            self._pump_soon()
            return
        code = int(status) if status is not None else None
        reason = reply_failure_reason(error, code, body.data())
        self._fail_request(key, size, token, reason, without_query(reply.errorString()))

    def _fail_request(
        self,
        key: str,
        size: int,
        token: tuple[int, int],
        reason: str,
        detail: object,
        *,
        pump: bool = True,
    ) -> None:
        log.info("thumbnail %s failed: %s (%s)", key, reason, detail)
        if self._in_flight.get((key, size)) == token:
            del self._in_flight[(key, size)]
        if self._fetching.get(key) == token:
            del self._fetching[key]
        if token == self._token(key):
            self._deliver(_Result(key, size, token, None, None, reason))
        if pump:
            self._pump_soon()

    def _abort_requests(self) -> None:
        replies, self._replies = list(self._replies), {}
        for reply in replies:
            reply.abort()
            reply.deleteLater()

    @Slot(object)
    def _on_finished(self, result: _Result) -> None:
        self._active -= 1
        if self._closed:
            return
        key, size = result.key, result.size
        current = result.token == self._token(key)
        if self._in_flight.get((key, size)) == result.token:
            del self._in_flight[(key, size)]
        if self._fetching.get(key) == result.token:
            del self._fetching[key]
        if current:
            self._deliver(result)
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
            with self._compressed_lock:
                self._compressed.put(key, result.data)
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
