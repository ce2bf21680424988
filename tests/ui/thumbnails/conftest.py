"""The thumbnails' test helpers: a tiny S3-like HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import threading

import pytest

EXPIRED = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"


class TinyS3:
    """An ``http.server`` on 127.0.0.1 answering GET /<key> like S3 would; counts requests."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.objects: dict[str, bytes] = {}
        self.status: dict[str, tuple[int, bytes]] = {}  # key -> (status, body)
        self.hold: dict[str, threading.Event] = {}  # key -> released when set
        self.paths: list[str] = []
        self.expired: dict[str, int] = {}  # key -> how many more GETs answer "expired"
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:
                key = self.path.lstrip("/").split("?", 1)[0]
                with owner._lock:
                    owner.paths.append(self.path)
                gate = owner.hold.get(key)
                if gate is not None:
                    gate.wait(timeout=5)
                status, body = owner.status.get(key, (200, owner.objects.get(key, b"")))
                with owner._lock:
                    if owner.expired.get(key, 0) > 0:
                        owner.expired[key] -= 1
                        status, body = 403, EXPIRED
                if key not in owner.objects and key not in owner.status:
                    status, body = 404, b"<Error><Code>NoSuchKey</Code></Error>"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (a timeout test)
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url_for(self, key: str) -> str:
        return f"{self.base}/{key}?X-Amz-Signature=abc%2Fdef"

    def count(self, key: str) -> int:
        with self._lock:
            return sum(1 for p in self.paths if p.lstrip("/").split("?", 1)[0] == key)

    def close(self) -> None:
        for gate in self.hold.values():
            gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tiny_s3():
    server = TinyS3()
    yield server
    server.close()
