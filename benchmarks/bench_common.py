"""What the benchmark phases share: the store from the environment, percentiles, RSS, JSON output."""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tdm_desktop.core.s3_store import S3Store, make_s3_client

BUCKET = os.environ.get("TDM_BUCKET", "story-boards-assets")


def store_from_env(workers: int = 32) -> S3Store:
    """The app's own store, on the endpoint and key the orchestrator put in the environment."""
    return S3Store(make_s3_client(max_pool_connections=max(32, workers)), BUCKET)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def emit(result: dict[str, Any]) -> None:
    """A phase's answer: one JSON object on the last line of stdout."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def wake_delay_ms(work: Callable[[], object] | None, naps: int = 300) -> float:
    """Median delay (ms) past a 1 ms ``time.sleep`` in this thread while a worker thread runs
    ``work`` again and again (None: nothing runs). The sleeper needs the GIL to wake: work that
    holds it delays the wake by up to the interpreter's switch interval or a whole C call; work
    that releases it, by almost nothing. A GUI thread waiting on a worker feels the same."""
    stop = threading.Event()

    def nonstop() -> None:
        while not stop.is_set():
            work()

    worker = threading.Thread(target=nonstop, daemon=True) if work is not None else None
    if worker is not None:
        worker.start()
        time.sleep(0.05)
    delays = []
    for _ in range(naps):
        began = time.perf_counter()
        time.sleep(0.001)
        delays.append((time.perf_counter() - began - 0.001) * 1000)
    stop.set()
    if worker is not None:
        worker.join()
    return statistics.median(delays)
