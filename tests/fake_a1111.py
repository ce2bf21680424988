"""A fake AUTOMATIC1111 / Forge web UI API on 127.0.0.1 for the generator's tests.

It checks each request's shape (path, JSON keys, a PNG ``init_images[0]`` and a float
``denoising_strength`` for img2img), answers a real PNG in base64, and has switches (``mode``)
for 500, 422, 401, slow answers, answers held until released, malformed base64, non-image bytes, and ``fail_marker`` to fail
only the prompts that contain it.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

TXT2IMG_KEYS = {"prompt", "negative_prompt", "seed", "width", "height", "steps"}


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


BASE_IMAGE = png_bytes((32, 32), "orange")


@dataclass
class FakeA1111:
    """What the fake server answers (``mode``) and what it was asked (``calls``)."""

    mode: str = "ok"
    image: bytes = field(default_factory=png_bytes)
    seed_used: int = 1234
    calls: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    fail_marker: str | None = None  # a prompt containing it gets a 500

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        problems = self.check_shape(path, body)
        if problems:
            return 422, {"detail": [{"loc": ["body", p], "msg": "bad"} for p in problems]}
        if self.fail_marker and self.fail_marker in str(body.get("prompt")):
            return 500, {"error": "RuntimeError", "detail": "CUDA out of memory"}
        encoded = base64.b64encode(self.image).decode()
        info = json.dumps({"seed": self.seed_used, "all_seeds": [self.seed_used], "steps": 25})
        match self.mode:
            case "500":
                return 500, {"error": "RuntimeError", "detail": "CUDA out of memory"}
            case "422":
                return 422, {
                    "detail": [
                        {"loc": ["body", "width"], "msg": "value is not a valid integer"},
                    ]
                }
            case "401":
                return 401, {"detail": "Not authenticated"}
            case "slow":
                self.release.wait(5)
                return 200, {"images": [encoded], "info": info}
            case "held":  # until the test (or the fixture's end) releases it
                self.release.wait()
                return 200, {"images": [encoded], "info": info}
            case "bad_base64":
                return 200, {"images": ["iVBORw0K!!!not base64***"], "info": info}
            case "not_image":
                text = base64.b64encode(b"<html>oops</html>" * 10).decode()
                return 200, {"images": [text], "info": info}
            case "no_images":
                return 200, {"info": info}
            case "not_json":
                return 200, "<html>gateway</html>"
            case "data_url":
                return 200, {"images": ["data:image/png;base64," + encoded], "info": info}
            case "no_info":
                return 200, {"images": [encoded]}
        return 200, {"images": [encoded], "parameters": body, "info": info}

    @staticmethod
    def check_shape(path: str, body: dict[str, Any]) -> list[str]:
        if path not in ("/sdapi/v1/txt2img", "/sdapi/v1/img2img"):
            return [f"path {path}"]
        problems = sorted(TXT2IMG_KEYS - body.keys())
        if path.endswith("img2img"):
            init = body.get("init_images")
            try:
                ok = Image.open(io.BytesIO(base64.b64decode(init[0], validate=True))).format
            except Exception:
                ok = None
            if ok != "PNG":
                problems.append("init_images")
            if not isinstance(body.get("denoising_strength"), float):
                problems.append("denoising_strength")
        return problems


@pytest.fixture
def fake_a1111() -> Iterator[FakeA1111]:
    fake = FakeA1111()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.calls.append({"path": self.path, "body": body, "headers": dict(self.headers)})
            status, answer = fake.answer(self.path, body)
            data = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
