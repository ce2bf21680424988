"""Nothing a test runs may open a connection off this machine.

Two nets, one per kind of socket:

- Python's sockets (botocore, urllib3, requests, http.client): an audit hook (``sys.addaudithook``)
  sees every ``socket.connect`` and ``socket.getaddrinfo``; one naming an address or host that is
  not loopback is recorded and refused (``OSError``) before anything is sent.
- Qt's sockets (``QNetworkAccessManager``): the application proxy is a recorder on 127.0.0.1 that
  notes the host each request was for and answers nothing. Qt sends requests for loopback hosts
  direct and everything else to the application proxy, so a Qt request meant for AWS ends here.

``attempts()`` lists what was tried; the ``no_network`` fixture fails a test that tried anything.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_attempts: list[str] = []
_lock = threading.Lock()
_installed = False
_REFUSAL = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_proxy_port: int | None = None


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    text = str(host).strip("[]").lower()
    if text in _LOOPBACK_NAMES or text.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _record(what: str) -> None:
    with _lock:
        _attempts.append(what)


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock, address = args
        family = getattr(sock, "family", None)
        if family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            _record(f"python connect {address[0]}:{address[1]}")
            raise OSError(f"tests never leave the machine: connect to {address[0]} refused")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if not _is_loopback(host):
            _record(f"python lookup {host}")
            raise OSError(f"tests never leave the machine: lookup of {host} refused")


def _serve_recorder(server: socket.socket) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(2)
            try:
                first = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                conn.sendall(_REFUSAL)  # an answer, so that Qt does not send it again
            except OSError:
                continue
            if first:  # a connection that sent nothing asked for nothing
                _record(f"qt {first}")


def install() -> int:
    """Install both nets once per process; returns the recorder's port."""
    global _installed, _proxy_port
    if not _installed:
        sys.addaudithook(_audit)
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        _proxy_port = server.getsockname()[1]
        threading.Thread(target=_serve_recorder, args=(server,), daemon=True).start()
        _installed = True
    assert _proxy_port is not None
    return _proxy_port


def route_qt_through_recorder() -> None:
    """Make Qt's application proxy the recorder (needs Qt imported; call again after a test
    changed it)."""
    from PySide6.QtNetwork import QNetworkProxy, QNetworkProxyFactory

    port = install()
    QNetworkProxyFactory.setUseSystemConfiguration(False)
    QNetworkProxy.setApplicationProxy(
        QNetworkProxy(QNetworkProxy.ProxyType.HttpProxy, "127.0.0.1", port)
    )


def attempts() -> list[str]:
    with _lock:
        return list(_attempts)


def forget() -> None:
    with _lock:
        _attempts.clear()
