"""Thumbnail GETs by Qt's network stack on presigned URLs, on every endpoint.

``NetworkTransport`` GETs with ``QNetworkAccessManager``: the HTTP work happens in Qt's C++
network thread without the GIL, over up to ``connections`` HTTP/1.1 connections per host (S3
speaks HTTP/1.1; Qt's default is 6, ``QHttp1Configuration`` raises it, Qt >= 6.5). The URLs come
from ``UrlSigner``: botocore's presign is pure Python (~0.5 ms a URL, more under load, and a
credential refresh inside it is network I/O), so it runs in a thread of its own, in batches of
``SIGN_BATCH`` keys ahead of need, never on the GUI thread. A URL is reused while it is valid
(``URL_REUSE_S``, well inside its ``X-Amz-Expires``); a 403 saying it expired (``ExpiredToken``, or
"Request has expired": temporary credentials can end before the URL does) signs it again, once.

What botocore would honour is carried over where Qt can: ``AWS_CA_BUNDLE`` is added to the trusted
certificates, and an ``https_proxy`` / ``http_proxy`` / ``all_proxy`` / ``no_proxy`` environment
is used (Qt's system proxy lookup reads those on Linux; Windows and macOS use the system
settings). A proxy set only in the AWS config file (``proxies`` in botocore's ``Config``) is not.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QObject, Qt, QUrl, Signal, SignalInstance, Slot
from PySide6.QtNetwork import (
    QHttp1Configuration,
    QNetworkAccessManager,
    QNetworkProxyFactory,
    QNetworkProxyQuery,
    QNetworkReply,
    QNetworkRequest,
    QSslCertificate,
    QSslConfiguration,
)

from tdm_desktop.ui.thumbnails.priority import lower_thread_priority
from tdm_desktop.ui.thumbnails.reasons import (
    failure_reason,
    reply_failure_reason,
    url_expired,
    without_query,
)
from tdm_desktop.ui.thumbnails.transport import Fetched

log = logging.getLogger(__name__)

Presign = Callable[[str], str]
SIGN_BATCH = 16  # URLs per signing turn (~8 ms of botocore), then the thread yields
URL_REUSE_S = 600.0  # a URL is used again for this long (S3Store signs for an hour)
TRANSFER_TIMEOUT_MS = 30_000
DEFAULT_CONNECTIONS = 16
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy")


@dataclass(frozen=True)
class Signed:
    key: str
    url: str | None
    error: str | None = None  # a curator's word when signing failed
    detail: str = ""


class _SignedEmitter(QObject):
    signed = Signal(list)
    probed = Signal(str)


class UrlSigner(QObject):
    """Signs GET URLs for keys in a thread of its own; ``signed(list[Signed])`` on the GUI thread.

    ``url(key)``: a URL signed less than ``reuse_s`` ago, or None. ``request(keys)`` queues the
    keys without one (each once), in order, ``batch`` at a time.
    """

    signed = Signal(list)
    probed = Signal(str)
    """A URL on the endpoint (``probe``): where GETs will go, for a connection made ahead."""

    def __init__(
        self,
        presign: Presign,
        *,
        batch: int = SIGN_BATCH,
        reuse_s: float = URL_REUSE_S,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._presign = presign
        self._batch = max(1, batch)
        self._reuse_s = reuse_s
        self._clock = clock
        self._urls: dict[str, tuple[str, float]] = {}  # key -> (url, signed_at)
        self._queued: set[str] = set()  # asked for and not signed yet
        self._lock = threading.Lock()  # _queued is read by the signing thread
        self._work: queue.SimpleQueue[list[str] | Callable[[], str] | None] = queue.SimpleQueue()
        self._emitter = _SignedEmitter(self)
        self._emitter.signed.connect(self._on_signed, Qt.ConnectionType.QueuedConnection)
        self._emitter.probed.connect(self.probed, Qt.ConnectionType.QueuedConnection)
        self._thread: threading.Thread | None = None
        self._closed = False

    def url(self, key: str) -> str | None:
        entry = self._urls.get(key)
        if entry is None:
            return None
        url, signed_at = entry
        if self._clock() - signed_at > self._reuse_s:
            del self._urls[key]
            return None
        return url

    def request(self, keys: Sequence[str]) -> None:
        """Sign these keys (those without a valid URL, not queued yet), in order."""
        if self._closed:
            return
        with self._lock:
            wanted = [k for k in dict.fromkeys(keys) if k not in self._queued]
        wanted = [k for k in wanted if self.url(k) is None]
        if not wanted:
            return
        with self._lock:
            self._queued.update(wanted)
        for start in range(0, len(wanted), self._batch):
            self._work.put(wanted[start : start + self._batch])
        self._start()

    def probe(self, sign: Callable[[], str]) -> None:
        """Sign ``sign()`` (a URL on the endpoint, never fetched) in the thread; ``probed(url)``."""
        if not self._closed:
            self._work.put(sign)
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="thumbnailSigner", daemon=True)
            self._thread.start()

    def retain(self, keys: set[str]) -> None:
        """Keys queued but not in ``keys`` are not signed after all (the screen moved on: a
        scroll through 100,000 images must not sign every one it passed)."""
        with self._lock:
            self._queued &= keys

    def forget(self, key: str) -> None:
        """``key``'s URL is no good (it expired): the next request signs it again."""
        self._urls.pop(key, None)

    def forget_all(self) -> None:
        self._urls.clear()

    def close(self) -> None:
        """Stop signing; the thread ends after the signature it is on (a daemon thread: a
        credential refresh that hangs inside a signature never holds up an exit), delivering
        nothing more."""
        self._closed = True
        self._work.put(None)

    def _run(self) -> None:
        lower_thread_priority()
        while True:
            keys = self._work.get()
            if keys is None or self._closed:
                return
            if callable(keys):
                try:
                    url = keys()
                except Exception as err:
                    log.info("no connection made ahead: %s", err)
                    continue
                if not self._closed:
                    self._emit(self._emitter.probed, url)
                continue
            results: list[Signed] = []
            for key in keys:
                with self._lock:
                    still_wanted = key in self._queued
                if not still_wanted or self._closed:
                    continue
                try:
                    results.append(Signed(key, self._presign(key)))
                except Exception as err:  # e.g. S3Error(NoCredentials) while refreshing them
                    results.append(Signed(key, None, failure_reason(err), str(err)))
            if self._closed:
                return  # the window closed while this batch was signed: nobody wants it
            if results:
                self._emit(self._emitter.signed, results)
            time.sleep(0)  # let the GUI thread have the GIL between batches

    @staticmethod
    def _emit(signal: SignalInstance, payload: object) -> None:
        try:
            signal.emit(payload)
        except RuntimeError:  # deleted with its window while a signature was made
            log.debug("a signature ended after its signer was deleted")

    @Slot(list)
    def _on_signed(self, results: list[Signed]) -> None:
        now = self._clock()
        for result in results:
            with self._lock:
                self._queued.discard(result.key)
            if result.url is not None:
                self._urls[result.key] = (result.url, now)
        if not self._closed:
            self.signed.emit(results)


class SystemProxies(QNetworkProxyFactory):
    """The proxies the environment names (``https_proxy``, ``no_proxy``...), per request."""

    def queryProxy(self, query: QNetworkProxyQuery = QNetworkProxyQuery()):  # noqa: B008
        return QNetworkProxyFactory.systemProxyForQuery(query)


def tls_configuration(environ: dict[str, str] | None = None) -> QSslConfiguration | None:
    """The system's trusted certificates plus ``AWS_CA_BUNDLE``'s, when that is set."""
    env = os.environ if environ is None else environ
    bundle = env.get("AWS_CA_BUNDLE")
    if not bundle:
        return None
    certificates = QSslCertificate.fromPath(bundle)
    if not certificates:
        log.warning(
            "AWS_CA_BUNDLE=%s: no certificate could be read; Qt trusts the system's", bundle
        )
        return None
    configuration = QSslConfiguration.defaultConfiguration()
    configuration.addCaCertificates(certificates)
    return configuration


def uses_proxy_environment(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in PROXY_VARIABLES)


@dataclass
class _Get:
    key: str
    sent_at: float
    retried: bool
    first_byte_at: float | None = None


class NetworkTransport(QObject):
    """GETs ``presign(key)``'s URLs with ``network`` (made here if not given); see the module."""

    fetched = Signal(object)
    name = "qt"

    def __init__(
        self,
        presign: Presign,
        *,
        network: QNetworkAccessManager | None = None,
        connections: int = DEFAULT_CONNECTIONS,
        transfer_timeout_ms: int = TRANSFER_TIMEOUT_MS,
        signer: UrlSigner | None = None,
        tls: QSslConfiguration | None = None,
        probe: Callable[[], str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._network = network if network is not None else QNetworkAccessManager(self)
        if network is None and uses_proxy_environment():
            self._network.setProxyFactory(SystemProxies())
        self._network.finished.connect(self._on_reply)
        self._signer = signer if signer is not None else UrlSigner(presign, parent=self)
        self._signer.signed.connect(self._on_signed)
        self._signer.probed.connect(self._connect_ahead)
        self._probe = probe
        self._http1 = QHttp1Configuration()
        self._http1.setNumberOfConnectionsPerHost(max(1, min(255, connections)))
        self._timeout_ms = transfer_timeout_ms
        self._tls = tls if tls is not None else tls_configuration()
        self._waiting: dict[str, bool] = {}  # key -> retried, waiting for its URL
        self._replies: dict[QNetworkReply, _Get] = {}
        self._closed = False

    def connections(self) -> int:
        return self._http1.numberOfConnectionsPerHost()

    def fetch(self, key: str) -> None:
        if self._closed:
            return
        url = self._signer.url(key)
        if url is not None:
            self._get(key, url, retried=False)
        else:
            self._waiting[key] = False
            self._signer.request([key])

    def warm_up(self) -> None:
        """Open a connection to the endpoint before the first GET needs one (TCP and TLS cost two
        round trips: far away, that is 200 ms off the first thumbnail). The endpoint is learnt
        from a URL ``probe`` signs in the signer's thread; nothing is requested."""
        if self._probe is not None and not self._closed:
            self._signer.probe(self._probe)

    @Slot(str)
    def _connect_ahead(self, url: str) -> None:
        """What ``QNetworkAccessManager.connectToHost`` does (a GET of Qt's own "preconnect"
        scheme, which opens a connection and sends nothing), with our HTTP/1 configuration: the
        first request to a host fixes its number of connections, and ``connectToHost`` would fix
        it at Qt's default of 6."""
        target = QUrl(url)
        if self._closed or target.scheme() not in ("http", "https") or not target.host():
            return
        ahead = QUrl()
        ahead.setScheme(f"preconnect-{target.scheme()}")
        ahead.setHost(target.host())
        ahead.setPort(target.port(443 if target.scheme() == "https" else 80))
        request = QNetworkRequest(ahead)
        request.setHttp1Configuration(self._http1)
        if self._tls is not None:
            request.setSslConfiguration(self._tls)
        reply = self._network.get(request)
        reply.finished.connect(reply.deleteLater)

    def prepare(self, keys: Sequence[str]) -> None:
        """Sign URLs for keys likely asked next, so their GETs need not wait for a signature;
        keys hinted before and not in ``keys`` (nor waiting for their GET) are not signed."""
        if not self._closed:
            self._signer.retain({*keys, *self._waiting})
            self._signer.request(keys)

    def abort(self) -> None:
        self._waiting.clear()
        replies, self._replies = list(self._replies), {}
        for reply in replies:
            reply.abort()
            reply.deleteLater()

    def shutdown(self, timeout_ms: int) -> bool:
        """Abort every GET and stop signing; nothing here waits (True)."""
        self._closed = True
        self.abort()
        self._signer.close()
        return True

    # -- internals ----------------------------------------------------------------------------------

    def _get(self, key: str, url: str, *, retried: bool) -> None:
        request = QNetworkRequest(QUrl.fromEncoded(url.encode()))
        request.setTransferTimeout(self._timeout_ms)
        request.setHttp1Configuration(self._http1)
        if self._tls is not None:
            request.setSslConfiguration(self._tls)
        reply = self._network.get(request)
        get = _Get(key, time.monotonic(), retried)
        self._replies[reply] = get
        reply.metaDataChanged.connect(lambda g=get: self._first_byte(g))

    @staticmethod
    def _first_byte(get: _Get) -> None:
        if get.first_byte_at is None:
            get.first_byte_at = time.monotonic()

    @Slot(list)
    def _on_signed(self, results: list[Signed]) -> None:
        for result in results:
            if result.key not in self._waiting:
                continue  # signed ahead of need, or aborted meanwhile
            retried = self._waiting.pop(result.key)
            if result.url is not None:
                self._get(result.key, result.url, retried=retried)
            else:
                now = time.monotonic()
                error = result.error or "failed"
                self.fetched.emit(Fetched(result.key, None, error, result.detail, now, None, now))

    @Slot(QNetworkReply)
    def _on_reply(self, reply: QNetworkReply) -> None:
        get = self._replies.pop(reply, None)
        if get is None:  # not ours (a shared manager), or aborted
            return
        reply.deleteLater()
        if self._closed:
            return
        done = time.monotonic()
        error = reply.error()
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        code = int(status) if status is not None else None
        body: QByteArray = reply.readAll()  # the copy to bytes happens in a decode worker
        if error == QNetworkReply.NetworkError.NoError and (code is None or 200 <= code < 300):
            size = body.size()
            self.fetched.emit(
                Fetched(get.key, body, None, "", get.sent_at, get.first_byte_at, done, size)
            )
            return
        raw = body.data()
        if url_expired(code, raw) and not get.retried:
            log.info("thumbnail %s: its URL expired; signing it again", get.key)
            self._signer.forget(get.key)
            self._waiting[get.key] = True
            self._signer.request([get.key])
            return
        reason = reply_failure_reason(error, code, raw)
        detail = without_query(reply.errorString())
        self.fetched.emit(
            Fetched(get.key, None, reason, detail, get.sent_at, get.first_byte_at, done)
        )
