"""What the benchmark phases share: the store from the environment, percentiles, RSS, JSON output."""

from __future__ import annotations

import json
import math
import os
import resource
import sys
from collections.abc import Sequence
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
