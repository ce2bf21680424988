"""Thumbnails fetched from S3 and decoded in worker threads, cached in memory only.

After qimgv's thumbnailer: a private ``QThreadPool`` that never holds more than ``max_workers``
jobs, an app-side queue in screen order (so re-prioritising is just replacing a deque), dedupe of
in-flight (key, size) work, and ``QImageReader.setScaledSize`` in the worker so a JPEG decodes at
reduced scale. Workers hand a ``QImage`` back through a queued signal; only the GUI thread makes
``QPixmap``s. Two byte-bounded LRUs: decoded pixmaps, and the compressed bytes so that a size change
re-decodes (still in a worker) without fetching again. No disk cache, no temp files.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QObject,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QImageReader, QPixmap

from tdm_desktop.core.errors import ForeignImageError, S3Error
from tdm_desktop.ui.byte_lru import ByteLRU

log = logging.getLogger(__name__)

MIB = 1024 * 1024

Fetch = Callable[[str], bytes]
Decode = Callable[[bytes, int], QImage]

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


class NotAnImageError(Exception):
    """The bytes fetched for a thumbnail could not be decoded as an image."""


def decode_thumbnail(data: bytes, size: int) -> QImage:
    """Decode ``data`` to fit in ``size``×``size`` (aspect kept, never enlarged). Thread-safe."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    native = reader.size()
    if native.isValid() and (native.width() > size or native.height() > size):
        scaled = native.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio)
        reader.setScaledSize(scaled.expandedTo(QSize(1, 1)))
    image = reader.read()
    if image.isNull():
        raise NotAnImageError(reader.errorString())
    return image


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
    data: bytes | None  # the compressed bytes when this job fetched them
    error: str | None


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
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._result = result
        self._fetch = fetch
        self._decode = decode
        self._emitter = emitter

    def run(self) -> None:
        r = self._result
        data, fetched, image, error = r.data, None, None, None
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
    boto3 client is). ``decode(bytes, size) -> QImage`` defaults to :func:`decode_thumbnail`.
    """

    thumbnail_ready = Signal(str)
    thumbnail_failed = Signal(str, str)

    def __init__(
        self,
        fetch: Fetch,
        *,
        max_workers: int = 8,
        pixmap_budget_bytes: int = 512 * MIB,
        compressed_budget_bytes: int = 128 * MIB,
        pool: QThreadPool | None = None,
        decode: Decode = decode_thumbnail,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
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
        """Queued requests not yet handed to a worker."""
        return len(self._pending)

    def shutdown(self) -> None:
        """Drop queued work and wait for running workers; nothing is delivered afterwards."""
        self._closed = True
        self._pending.clear()
        self._deferred.clear()
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
        while self._active < self._max_workers and self._pending and not self._closed:
            key, size = self._pending.popleft()
            if not self._needs_work(key, size):
                continue
            with self._compressed_lock:
                data = self._compressed.get(key)
            token = self._token(key)
            if data is None and self._fetching.get(key) == token:
                self._deferred.setdefault(key, []).append(size)  # one GET per key at a time
                continue
            if data is None:
                self._fetching[key] = token
            self._in_flight[(key, size)] = token
            self._active += 1
            job = _ThumbnailJob(
                _Result(key, size, token, None, data, None),
                self._fetch if data is None else None,
                self._decode,
                self._emitter,
            )
            self._pool.start(job)

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
        self._pump()

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
