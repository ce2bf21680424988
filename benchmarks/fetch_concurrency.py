"""Fetch only (no decode): what N requests in flight buy on each link, with Qt and with botocore.

For phase B's single fetch path. On the benchmark's local S3 (started here, the same cache as
``grid_load.py``), through the shaping proxy of ``wan_proxy.py`` for each link, the sample's
objects are fetched:

- by ``QNetworkAccessManager`` on presigned URLs (signed in one batch before the clock starts),
  with N requests in flight and ``QHttp1Configuration.setNumberOfConnectionsPerHost(N)`` (Qt's
  default is 6 per host), for each N of ``--qt``;
- by botocore (``S3Store.get_bytes``) in a thread pool of each size of ``--boto`` (2 is what the
  app's AWS path has today on 2 cores: one GET per decode worker).

Images/s for each, the link's limit (bandwidth ÷ mean object size) and the proxy's CPU seconds.

    python benchmarks/fetch_concurrency.py [--links loopback,far,office,home] [--images 300]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer, QUrl
from PySide6.QtNetwork import (
    QHttp1Configuration,
    QNetworkAccessManager,
    QNetworkReply,
    QNetworkRequest,
)

from bench_common import emit
from bench_dataset import BenchLayout, default_layout, object_key, upload_missing
from grid_load import BENCH_PORT, BUCKET, LINKS, object_sizes
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tdm_desktop.local_s3 import LocalS3, LocalS3Config
from wan_proxy import ShapedLink

log = logging.getLogger("bench.fetch")


def qt_fetch(urls: list[str], in_flight: int, timeout_s: float = 600) -> dict[str, float]:
    """Fetch every URL with ``in_flight`` requests at once on as many connections per host."""
    manager = QNetworkAccessManager()
    config = QHttp1Configuration()
    config.setNumberOfConnectionsPerHost(in_flight)
    todo = deque(urls)
    running: set[QNetworkReply] = set()
    done = {"ok": 0, "failed": 0, "bytes": 0}
    loop = QEventLoop()

    def start_next() -> None:
        while todo and len(running) < in_flight:
            request = QNetworkRequest(QUrl.fromEncoded(todo.popleft().encode()))
            request.setHttp1Configuration(config)
            running.add(manager.get(request))

    def finished(reply: QNetworkReply) -> None:
        running.discard(reply)
        if reply.error() == QNetworkReply.NetworkError.NoError:
            done["ok"] += 1
            done["bytes"] += len(reply.readAll())
        else:
            done["failed"] += 1
        reply.deleteLater()
        start_next()
        if not todo and not running:
            loop.quit()

    manager.finished.connect(finished)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    began = time.perf_counter()
    start_next()
    loop.exec()
    seconds = time.perf_counter() - began
    manager.deleteLater()
    return {"ips": round(done["ok"] / seconds, 1), "failed": done["failed"], "s": round(seconds, 2)}


def boto_fetch(keys: list[str], threads: int) -> dict[str, float]:
    store = S3Store(make_s3_client(max_pool_connections=max(32, threads)), BUCKET)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        got = sum(1 for data in pool.map(store.get_bytes, keys) if data)
    seconds = time.perf_counter() - began
    return {"ips": round(got / seconds, 1), "s": round(seconds, 2)}


def through(name: str, s3_port: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``measure`` with the S3 endpoint behind a fresh proxy for link ``name`` (none for
    loopback); the figures gain the connections the proxy saw and its CPU seconds."""
    rtt, mbit = LINKS.get(name, (None, None))
    if rtt is None:
        return measure()
    saved = os.environ["AWS_ENDPOINT_URL_S3"]
    with ShapedLink(s3_port, rtt, mbit) as link:
        os.environ["AWS_ENDPOINT_URL_S3"] = link.endpoint
        try:
            figures = measure()
        finally:
            os.environ["AWS_ENDPOINT_URL_S3"] = saved
    return {
        **figures,
        "connections": link.stats.get("connections"),
        "proxy_cpu_s": link.stats.get("cpu_s"),
    }


def measure_link(
    name: str, s3_port: int, keys: list[str], args: argparse.Namespace, mean_bytes: float
) -> dict[str, Any]:
    rtt, mbit = LINKS.get(name, (None, None))
    figures: dict[str, Any] = {"rtt_ms": rtt, "mbit": mbit}
    if mbit:
        figures["link_limit_ips"] = round(mbit * 1e6 / 8 / mean_bytes, 1)

    def qt(n: int) -> dict[str, Any]:
        store = S3Store(make_s3_client(), BUCKET)  # on the proxy's endpoint
        return qt_fetch([store.presign_get(key) for key in keys], n)

    for n in (int(x) for x in args.qt.split(",")):
        figures[f"qt_{n}"] = through(name, s3_port, lambda n=n: qt(n))
        log.info("%s: Qt, %d in flight: %s", name, n, figures[f"qt_{n}"])
    for n in (int(x) for x in args.boto.split(",")):
        figures[f"boto_{n}"] = through(name, s3_port, lambda n=n: boto_fetch(keys, n))
        log.info("%s: botocore, %d threads: %s", name, n, figures[f"boto_{n}"])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", default="loopback,far,office,home")
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--qt", default="6,16,32", help="requests in flight tried with Qt")
    parser.add_argument("--boto", default="2,16", help="thread counts tried with botocore")
    parser.add_argument("--cache-dir", type=Path)
    parser.add_argument("--port", type=int, default=BENCH_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _app = QCoreApplication([sys.argv[0]])
    layout = default_layout() if args.cache_dir is None else BenchLayout(args.cache_dir)
    result: dict[str, Any] = {"images": args.images, "cpus": os.cpu_count()}
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    with LocalS3(LocalS3Config(layout.s3_dir, port=args.port, bucket=BUCKET)) as s3:
        os.environ.update(s3.env())
        store = S3Store(make_s3_client(), BUCKET)
        upload_missing(store, args.images)
        sizes = object_sizes(store, args.images)
        mean_bytes = sum(sizes) / len(sizes)
        result["mean_object_kb"] = round(mean_bytes / 1024, 1)
        keys = [object_key(i) for i in range(args.images)]
        result["links"] = {
            name: measure_link(name, s3.port, keys, args, mean_bytes)
            for name in args.links.split(",")
        }
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
