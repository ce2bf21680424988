"""No test opens a connection off this machine (tests/network_guard.py, on for every test):
the net catches what it must, and a window showing thumbnails tries nothing else."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from tests import network_guard
from tests.ui.conftest import ACTOR_A


def test_the_net_catches_a_python_connection_off_the_machine():
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(OSError, match="never leave the machine"),
    ):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1
    with pytest.raises(OSError, match="never leave the machine"):
        socket.getaddrinfo("story-boards-assets.s3.amazonaws.com", 443)
    tried = network_guard.attempts()
    network_guard.forget()  # caught on purpose: the test itself stays green
    assert tried == [
        "python connect 192.0.2.1:443",
        "python lookup story-boards-assets.s3.amazonaws.com",
    ]


def test_the_net_catches_a_qt_request_off_the_machine(qtbot):
    network = QNetworkAccessManager()
    request = QNetworkRequest(QUrl("http://story-boards-assets.s3.amazonaws.com/k.jpg"))
    request.setTransferTimeout(3000)
    reply = network.get(request)
    qtbot.waitUntil(reply.isFinished, timeout=5000)
    tried = network_guard.attempts()
    network_guard.forget()
    assert reply.error() != QNetworkReply.NetworkError.NoError
    assert tried == ["qt GET http://story-boards-assets.s3.amazonaws.com/k.jpg HTTP/1.1"]


def test_a_window_loads_every_thumbnail_without_leaving_the_machine(qtbot, window, actors):
    keys = [window.model.index(row, 0).data(window.model.KeyRole) for row in range(7)]
    size = window.grid.iconSize().width()
    qtbot.waitUntil(lambda: all(window.loader.is_cached(k, size) for k in keys), timeout=10_000)
    assert window.loaded_label.text() == f"Loaded {len(actors[ACTOR_A[0]])} / 7"
    assert network_guard.attempts() == []


def test_on_aws_the_window_itself_fetches_with_qt(qtbot, service, settings, dialogs):
    """Without an injected transport the window takes the configured one: on AWS (no custom
    endpoint) that is Qt on presigned URLs, the same as on a custom endpoint. Here its GETs go
    to AWS, so the net catches them: proof that the fixtures' injection is what keeps the other
    tests on the machine, not the choice of path."""
    from tdm_desktop.ui.main_window import MainWindow

    window = MainWindow(service, settings=settings, questions=dialogs.as_questions())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.show()
    try:
        assert service.s3_endpoint is None
        if window.loader.transport_name() == "botocore":  # no TLS backend in this Qt
            return
        assert window.loader.transport_name() == "qt"
        qtbot.waitUntil(lambda: bool(network_guard.attempts()), timeout=10_000)
    finally:
        window.close()
        tried = network_guard.attempts()
        network_guard.forget()
    assert tried and all("s3.amazonaws.com:443" in attempt for attempt in tried), tried
