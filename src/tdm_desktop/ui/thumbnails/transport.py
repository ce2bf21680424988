"""How a thumbnail's bytes come from S3: one ``Transport`` for every endpoint, chosen by
configuration (``choose_transport``), never by what a test can intercept.

- ``NetworkTransport`` (``network.py``): Qt's ``QNetworkAccessManager`` on presigned URLs, on AWS
  and on a custom endpoint alike. The HTTP work runs in Qt's C++ network thread without the GIL;
  URLs are signed in a worker thread, in small batches, ahead of need.
- ``WorkerTransport`` (here): a GET function (botocore's, ``S3Store.get_bytes`` through the
  service) in a pool of threads of its own, as many as the requests in flight. The fallback where
  Qt cannot speak TLS to the endpoint, ``TDM_THUMBNAIL_FETCH=botocore``, and what tests inject
  (over moto, so nothing leaves the machine).

Either way the number of GETs in flight is the loader's (``RequestPacer``), independent of the
decode workers, and every key has passed the loader's listed-key gate before it gets here.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from PySide6.QtCore import QByteArray, QObject, Qt, Signal, Slot
from PySide6.QtNetwork import QSslSocket

from tdm_desktop.core.threads import DaemonPool
from tdm_desktop.ui.thumbnails.priority import lower_thread_priority
from tdm_desktop.ui.thumbnails.reasons import failure_reason

log = logging.getLogger(__name__)

Fetch = Callable[[str], bytes]
FETCH_ENV = "TDM_THUMBNAIL_FETCH"
"""``qt`` or ``botocore``: which transport to use, whatever ``choose_transport`` would pick."""


@dataclass(frozen=True)
class Fetched:
    """One GET's end: the body (``data``) or why not (``error``, a curator's word; ``detail`` for
    the log, never a URL's query). Times are ``time.monotonic()``: when the GET left, when its
    first byte came (None when unknown), when it ended; ``size`` bytes came."""

    key: str
    data: QByteArray | bytes | None
    error: str | None = None
    detail: str = ""
    sent_at: float = 0.0
    first_byte_at: float | None = None
    done_at: float = 0.0
    size: int = 0


class Transport(Protocol):
    """What the loader asks of a transport; ``fetched(Fetched)`` comes on the GUI thread, once
    per ``fetch`` (unless ``abort`` dropped it)."""

    fetched: Signal
    name: str

    def fetch(self, key: str) -> None: ...

    def prepare(self, keys: Sequence[str]) -> None: ...

    def warm_up(self) -> None: ...

    def abort(self) -> None: ...

    def shutdown(self, timeout_ms: int) -> bool: ...


class _Emitter(QObject):
    finished = Signal(object)


class _GetJob:
    def __init__(self, key: str, epoch: int, fetch: Fetch, transport: WorkerTransport) -> None:
        self._key, self._epoch, self._fetch, self._transport = key, epoch, fetch, transport

    def __call__(self) -> None:
        lower_thread_priority()
        sent = time.monotonic()
        try:
            data = self._fetch(self._key)
        except Exception as err:
            reason = failure_reason(err)
            result = Fetched(self._key, None, reason, str(err), sent, None, time.monotonic())
        else:
            result = Fetched(self._key, data, None, "", sent, None, time.monotonic(), len(data))
        self._transport.deliver(self._epoch, result)


class WorkerTransport(QObject):
    """``fetch(key) -> bytes`` in ``threads`` daemon threads of its own (thread-safe, as a boto3
    client is). Results of GETs started before ``abort`` are dropped; a GET still running at
    ``shutdown`` ends on its own (a botocore GET cannot be interrupted, and the process does not
    wait for it)."""

    fetched = Signal(object)
    name = "botocore"

    def __init__(self, fetch: Fetch, *, threads: int = 16, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._pool = DaemonPool(max(1, threads), name="thumbnailGet")
        self._emitter = _Emitter(self)
        self._emitter.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._epoch = 0
        self._closed = False

    def set_threads(self, threads: int) -> None:
        self._pool.set_max_threads(max(1, threads))

    def fetch(self, key: str) -> None:
        if not self._closed:
            self._pool.start(_GetJob(key, self._epoch, self._fetch, self), key)

    def prepare(self, keys: Sequence[str]) -> None:
        """Nothing to prepare: a GET needs no URL."""

    def warm_up(self) -> None:
        """Nothing: botocore's pool opens connections as GETs need them."""

    def abort(self) -> None:
        self._epoch += 1
        self._pool.cancel_queued()

    def shutdown(self, timeout_ms: int) -> bool:
        """Drop what is queued and wait up to ``timeout_ms`` for running GETs (True: all ended;
        those still running end on their own, unseen)."""
        self._closed = True
        self.abort()
        return self._pool.wait_for_done(timeout_ms / 1000)

    def deliver(self, epoch: int, result: Fetched) -> None:
        """(A GET's thread.) Hand ``result`` to the GUI thread, unless this transport closed."""
        if self._closed:
            return
        try:
            self._emitter.finished.emit((epoch, result))
        except RuntimeError:  # deleted with its window while the GET ran
            log.debug("thumbnail GET of %s ended after its transport was deleted", result.key)

    @Slot(object)
    def _on_finished(self, item: tuple[int, Fetched]) -> None:
        epoch, result = item
        if epoch == self._epoch and not self._closed:
            self.fetched.emit(result)


def qt_speaks_to(endpoint_url: str | None) -> bool:
    """Whether Qt's network stack can reach the endpoint: plain http always; https (AWS, where
    ``endpoint_url`` is None) only with a TLS backend (PySide6 loads the system's OpenSSL 3 on
    Linux, the OS's TLS on Windows and macOS; a Linux without libssl3 has none)."""
    scheme = urlsplit(endpoint_url).scheme.lower() if endpoint_url else "https"
    return scheme != "https" or QSslSocket.supportsSsl()


def transport_choice(endpoint_url: str | None, environ: dict[str, str] | None = None) -> str:
    """``"qt"`` or ``"botocore"`` for this endpoint: ``TDM_THUMBNAIL_FETCH`` when set, else Qt
    whenever it can speak to the endpoint (``qt_speaks_to``), else botocore."""
    env = os.environ if environ is None else environ
    wanted = env.get(FETCH_ENV, "").strip().lower()
    if wanted in ("qt", "botocore"):
        return wanted
    if wanted:
        log.warning("%s=%r: not qt or botocore; choosing by the endpoint", FETCH_ENV, wanted)
    if qt_speaks_to(endpoint_url):
        return "qt"
    log.warning(
        "Qt has no TLS backend here (%s): thumbnails are fetched with botocore instead",
        QSslSocket.activeBackend() or "none",
    )
    return "botocore"
