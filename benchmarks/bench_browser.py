"""The peer: headless Chromium loading a web page of ``<img>`` tags with presigned S3 URLs.

What curators know as the alternative: a page of thumbnails pointing at S3. The page is served from
127.0.0.1 by a tiny server of ours; each image's ``onload`` waits for ``img.decode()`` and counts it
only when ``naturalWidth > 0``. When every image has loaded or failed, the page POSTs its figures
(``performance.now()`` since navigation start) back to the server and Chromium is stopped.
Chromium gets a fresh profile each run, so nothing comes from its cache.
"""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("bench.browser")

# Flags that work on this machine kind (no sandbox as root, no calls home on a closed network).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,800",
)

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bench</title>
<style>
body {{ margin: 0; background: #222; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 4px; }}
.grid img {{ width: {size}px; height: {size}px; object-fit: contain; background: #3a3a3a; }}
</style>
<script>
const N = {count};
let settled = 0, decoded = 0, first = null, last = 0, failed = 0;
function report() {{
  const body = JSON.stringify({{decoded, failed, first_ms: first, last_ms: last, n: N}});
  fetch("/result", {{method: "POST", body}});
}}
function settle() {{ settled += 1; if (settled === N) report(); }}
function L(img) {{
  img.decode().then(() => {{
    if (img.naturalWidth > 0) {{
      decoded += 1;
      const t = performance.now();
      if (first === null) first = t;
      last = t;
    }} else {{ failed += 1; }}
    settle();
  }}, () => {{ failed += 1; settle(); }});
}}
function E(img) {{ failed += 1; settle(); }}
</script></head>
<body><div class="grid">
{images}
</div></body></html>
"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def build_page(urls: list[str], size: int) -> bytes:
    tags = "\n".join(
        f'<img src="{html.escape(url)}" onload="L(this)" onerror="E(this)" alt="">' for url in urls
    )
    return _PAGE.format(count=len(urls), size=size, images=tags).encode()


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, page: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.page = page
        self.result: dict[str, Any] | None = None
        self.done = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:
        if self.path != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.result = json.loads(self.rfile.read(length) or b"{}")
        self.send_response(204)
        self.end_headers()
        self.server.done.set()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def measure_browser(urls: list[str], size: int, timeout: float = 600.0) -> dict[str, Any] | None:
    """Figures of Chromium loading ``urls`` as a page of ``<img>``; None without Chromium."""
    binary = chromium_path()
    if binary is None:
        log.info("chromium is not installed: no browser figures (apt-get install chromium)")
        return None
    server = _PageServer(build_page(urls, size))
    threading.Thread(target=server.serve_forever, name="bench-page", daemon=True).start()
    profile = tempfile.mkdtemp(prefix="tdm-bench-chromium-")
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    argv = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        finished = server.done.wait(timeout)
    finally:
        _stop(proc)
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)
    if not finished or server.result is None:
        log.warning("chromium did not report within %.0f s", timeout)
        return {"browser_ips": None, "browser_first_ms": None, "browser_decoded": 0}
    result = server.result
    decoded, last_ms = int(result.get("decoded") or 0), float(result.get("last_ms") or 0.0)
    return {
        "browser_ips": decoded / (last_ms / 1000) if decoded and last_ms > 0 else None,
        "browser_first_ms": result.get("first_ms"),
        "browser_all_ms": last_ms,
        "browser_decoded": decoded,
        "browser_failed": int(result.get("failed") or 0),
    }


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the Chromium we started: its own process group (it was started in a new session)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
