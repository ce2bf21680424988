"""One transport for every endpoint: Qt on presigned URLs, signed in a worker, reused, re-signed
once when expired; chosen by the configuration; the TLS bundle and proxies carried over."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtNetwork import QNetworkProxy, QNetworkProxyQuery, QSslCertificate

from tdm_desktop.core.errors import S3Error
from tdm_desktop.ui.thumbnails import transport as transport_module
from tdm_desktop.ui.thumbnails.loader import ThumbnailLoader
from tdm_desktop.ui.thumbnails.network import (
    NetworkTransport,
    SystemProxies,
    UrlSigner,
    tls_configuration,
    uses_proxy_environment,
)
from tdm_desktop.ui.thumbnails.pacing import RequestPacer
from tdm_desktop.ui.thumbnails.transport import FETCH_ENV, transport_choice
from tests.ui.thumbnails.test_loader import JPEG, wait_all_ready


class Signing:
    """A presign function that notes which thread signed which key."""

    def __init__(self, server) -> None:
        self.server = server
        self.calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, key: str) -> str:
        with self._lock:
            self.calls.append((key, threading.get_ident()))
        return self.server.url_for(key)

    def count(self, key: str) -> int:
        with self._lock:
            return sum(1 for signed, _ in self.calls if signed == key)


@pytest.fixture
def loaders():
    made: list[ThumbnailLoader] = []
    yield made
    for loader in made:
        loader.shutdown()


def test_urls_are_signed_off_the_gui_thread_and_reused_while_valid(qtbot, tiny_s3, loaders):
    keys = [f"k{i}.jpg" for i in range(20)]
    tiny_s3.objects.update(dict.fromkeys(keys, JPEG))
    signing = Signing(tiny_s3)
    loader = ThumbnailLoader(NetworkTransport(signing), pacer=RequestPacer(8, initial=8))
    loaders.append(loader)

    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)
    loader.invalidate(keys[:5])  # fetched again: the URLs signed a moment ago are still good
    qtbot.waitUntil(lambda: all(tiny_s3.count(k) == 2 for k in keys[:5]), timeout=5000)
    wait_all_ready(qtbot, loader, keys, 64)

    assert all(loader.pixmap(k, 64) is not None for k in keys)
    assert {thread for _, thread in signing.calls} - {threading.get_ident()} == {
        thread for _, thread in signing.calls
    }  # never signed on the GUI thread
    assert all(signing.count(k) == 1 for k in keys)


def test_the_signer_works_in_small_batches_in_order(qtbot):
    signed: list[list[str]] = []
    signer = UrlSigner(lambda key: f"http://127.0.0.1:9/{key}", batch=16)
    signer.signed.connect(lambda results: signed.append([r.key for r in results]))
    keys = [f"k{i}" for i in range(40)]

    signer.request(keys)
    signer.request(keys[:10])  # queued already: not signed twice
    qtbot.waitUntil(lambda: sum(map(len, signed)) == 40, timeout=5000)
    signer.close()

    assert [len(batch) for batch in signed] == [16, 16, 8]
    assert [key for batch in signed for key in batch] == keys
    assert signer.url("k3") == "http://127.0.0.1:9/k3"


def test_an_expired_url_is_signed_again_once(qtbot, tiny_s3, loaders):
    tiny_s3.objects.update({"once.jpg": JPEG, "always.jpg": JPEG})
    tiny_s3.expired.update({"once.jpg": 1, "always.jpg": 99})
    signing = Signing(tiny_s3)
    failed: dict[str, str] = {}
    loader = ThumbnailLoader(NetworkTransport(signing))
    loaders.append(loader)
    loader.thumbnail_failed.connect(failed.__setitem__)

    loader.request(["once.jpg", "always.jpg"], 64)
    wait_all_ready(qtbot, loader, ["once.jpg", "always.jpg"], 64)

    assert loader.pixmap("once.jpg", 64) is not None
    assert failed == {"always.jpg": "forbidden"}  # refused again after one new signature
    assert signing.count("once.jpg") == 2 and tiny_s3.count("once.jpg") == 2
    assert signing.count("always.jpg") == 2 and tiny_s3.count("always.jpg") == 2


def test_no_credentials_while_signing_fails_the_tiles_with_that_reason(qtbot, loaders):
    def presign(key: str) -> str:
        raise S3Error(key, "NoCredentials", "Unable to locate credentials")

    failed: dict[str, str] = {}
    loader = ThumbnailLoader(NetworkTransport(presign), pacer=RequestPacer(4, initial=4))
    loaders.append(loader)
    loader.thumbnail_failed.connect(failed.__setitem__)
    loader.request(["a.jpg", "b.jpg"], 64)
    qtbot.waitUntil(lambda: len(failed) == 2, timeout=5000)
    assert failed == {"a.jpg": "no credentials", "b.jpg": "no credentials"}


def test_a_key_refused_at_the_gate_is_never_signed_nor_fetched(qtbot, tiny_s3, loaders):
    tiny_s3.objects.update({"listed.jpg": JPEG, "gone.jpg": JPEG})
    signing = Signing(tiny_s3)
    failed: dict[str, str] = {}
    loader = ThumbnailLoader(NetworkTransport(signing), gate=lambda key: key == "listed.jpg")
    loaders.append(loader)
    loader.thumbnail_failed.connect(failed.__setitem__)

    loader.request(["gone.jpg", "listed.jpg"], 64)
    wait_all_ready(qtbot, loader, ["gone.jpg", "listed.jpg"], 64)

    assert failed == {"gone.jpg": "missing"}
    assert signing.count("gone.jpg") == 0 and tiny_s3.count("gone.jpg") == 0


def test_more_connections_per_host_than_qts_six(qtbot, tiny_s3, loaders):
    keys = [f"c{i}.jpg" for i in range(12)]
    for key in keys:
        tiny_s3.objects[key] = JPEG
        tiny_s3.hold[key] = threading.Event()
    transport = NetworkTransport(Signing(tiny_s3), connections=16)
    loader = ThumbnailLoader(transport, pacer=RequestPacer(12, minimum=12, initial=12))
    loaders.append(loader)
    assert transport.connections() == 16

    loader.request(keys, 64)
    qtbot.waitUntil(lambda: len(tiny_s3.paths) == 12, timeout=5000)  # 12 at once, not 6
    for gate in tiny_s3.hold.values():
        gate.set()
    wait_all_ready(qtbot, loader, keys, 64)


def test_the_transport_is_chosen_by_configuration(monkeypatch):
    assert transport_choice(None, {}) == (
        "qt" if transport_module.qt_speaks_to(None) else "botocore"
    )
    assert transport_choice("http://127.0.0.1:8333", {}) == "qt"
    assert transport_choice(None, {FETCH_ENV: "botocore"}) == "botocore"
    assert transport_choice("http://127.0.0.1:8333", {FETCH_ENV: "Qt"}) == "qt"
    monkeypatch.setattr(transport_module.QSslSocket, "supportsSsl", staticmethod(lambda: False))
    assert transport_choice(None, {}) == "botocore"  # AWS is https: no TLS in Qt, botocore
    assert transport_choice("https://minio.example.org", {}) == "botocore"
    assert transport_choice("http://127.0.0.1:8333", {}) == "qt"


def test_aws_ca_bundle_is_trusted_by_qt_too(tmp_path):
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    if not system.exists():
        pytest.skip("no system certificate bundle to borrow a certificate from")
    first = QSslCertificate.fromPath(str(system))[0]
    bundle = tmp_path / "corp.pem"
    bundle.write_bytes(first.toPem().data())

    configuration = tls_configuration({"AWS_CA_BUNDLE": str(bundle)})

    assert configuration is not None and first in configuration.caCertificates()
    assert tls_configuration({}) is None
    assert tls_configuration({"AWS_CA_BUNDLE": str(tmp_path / "missing.pem")}) is None


def test_a_proxy_in_the_environment_is_used_by_qt(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.corp.example:3128")
    monkeypatch.setenv("no_proxy", "internal.example")
    assert uses_proxy_environment()
    query = QNetworkProxyQuery(QUrl("https://story-boards-assets.s3.amazonaws.com/k.jpg"))
    proxies = SystemProxies().queryProxy(query)
    assert (proxies[0].type(), proxies[0].hostName(), proxies[0].port()) == (
        QNetworkProxy.ProxyType.HttpProxy,
        "proxy.corp.example",
        3128,
    )
    assert not uses_proxy_environment({})
