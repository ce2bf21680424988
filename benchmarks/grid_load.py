"""Benchmark the thumbnail grid against the physical limit and against a browser (``make bench``).

On the bundled local S3 (SeaweedFS, started here, data kept under the benchmark cache dir):

1. make sure N synthetic 1024×1024 JPEGs exist for the benchmark actor (only missing ones are
   drawn and uploaded; beyond ``--sample`` objects, manifest rows reuse the sample);
2. **limit**: a plain thread pool doing the app's GET and scaled decode (``bench_limit.py``);
3. **peer**: headless Chromium loading a page of ``<img>`` tags with presigned URLs
   (``bench_browser.py``; skipped, ``browser_ips: null``, without the ``chromium`` package);
4. **app**: the real main window offscreen at 1280×800 (``bench_app.py``).

Each measurement runs in its own process, so RSS and the GIL are its own. A summary goes to
stderr; the last line of stdout is one JSON object with every figure.

    python benchmarks/grid_load.py [--images 1000] [--sample N] [--no-browser]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_browser import measure_browser  # noqa: E402
from bench_dataset import (  # noqa: E402
    BENCH_ACTOR_NAME,
    BenchLayout,
    default_layout,
    object_key,
    upload_missing,
    write_manifests,
)
from tdm_desktop.core.s3_store import S3Store, make_s3_client  # noqa: E402
from tdm_desktop.local_s3 import LocalS3, LocalS3Config  # noqa: E402

log = logging.getLogger("bench")

BENCH_PORT = 8533  # not the demo's 8333, so a running demo and a benchmark do not collide
BUCKET = "story-boards-assets"
TARGETS = {
    "app_vs_limit": (">=", 0.9),
    "app_vs_browser": (">=", 1.5),
    "first_thumb_ms": ("<=", 150),
    "viewport_full_ms": ("<=", 500),
    "stall_p99_ms": ("<=", 16),
    "stall_max_ms": ("<=", 50),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="rows in the actor (1000)")
    parser.add_argument(
        "--sample", type=int, help="real S3 objects; rows beyond reuse them (min(images, 1000))"
    )
    parser.add_argument("--cache-dir", type=Path, help="where S3 data and manifests are kept")
    parser.add_argument("--port", type=int, default=BENCH_PORT, help="local S3 port (8533)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium peer")
    parser.add_argument(
        "--prefetch-all",
        choices=("auto", "yes", "no"),
        default="auto",
        help="load every image, for app_ips (auto: up to 2,000 images)",
    )
    parser.add_argument("--limit-workers", default="4,8,16", help="thread counts tried (4,8,16)")
    parser.add_argument(
        "--fetch",
        choices=("qt", "boto"),
        default="qt",
        help="the app's thumbnail GETs: qt (QNetworkAccessManager, presigned; the default) or boto",
    )
    parser.add_argument("--no-gc-freeze", action="store_true", help="app: skip gc.freeze()")
    parser.add_argument("--workers", type=int, help="app: thumbnail workers (default: CPUs)")
    parser.add_argument(
        "--only", choices=("app", "limit", "browser"), help="run one measurement (profiling)"
    )
    parser.add_argument(
        "--py-spy", type=Path, metavar="FILE", help="record the app phase with py-spy (raw format)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.images < 1:
        parser.error("--images must be at least 1")
    args.sample = min(args.sample or min(args.images, 1000), args.images)
    return args


def run_phase(script: str, *options: str, py_spy: Path | None = None) -> dict[str, Any]:
    """Run ``benchmarks/<script>`` in its own process; its last stdout line is its JSON."""
    argv = [sys.executable, str(HERE / script), *options]
    if py_spy is not None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        argv = [
            spy,
            "record",
            "--format",
            "raw",
            "--rate",
            "250",
            *os.environ.get("TDM_BENCH_PY_SPY_FLAGS", "").split(),
            "-o",
            str(py_spy),
            "--",
            *argv,
        ]
    log.info("running %s", " ".join(argv[1:]))
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:  # (py-spy prints a line of its own after the JSON)
        raise SystemExit(f"benchmark phase {script} failed with exit code {done.returncode}")
    return json.loads(lines[-1])


def prepare(layout: BenchLayout, store: S3Store, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    uploaded = upload_missing(store, args.sample)
    sizes = object_sizes(store, args.sample)
    write_manifests(layout, store, args.images, sizes)
    log.info(
        "dataset: %d rows over %d objects (%d uploaded now, %.1f MB in all) in %.1f s",
        args.images,
        args.sample,
        uploaded,
        sum(sizes) / 2**20,
        time.perf_counter() - began,
    )


def object_sizes(store: S3Store, count: int) -> list[int]:
    """Sizes of objects ``0 .. count-1`` in bytes, from one listing."""
    client = make_s3_client()
    sizes: dict[str, int] = {}
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=store.bucket, Prefix=f"system_actors/training_data/{BENCH_ACTOR_NAME}/"
    )
    for page in pages:
        for item in page.get("Contents", []):
            sizes[item["Key"]] = int(item["Size"])
    return [sizes.get(object_key(i), 0) for i in range(count)]


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def combine(args: argparse.Namespace, limit: dict, browser: dict | None, app: dict) -> dict:
    load = app["stall"]["load"]
    stalls = app["stall"].values()
    browser_ips = browser.get("browser_ips") if browser else None
    result: dict[str, Any] = {
        "images": args.images,
        "objects": args.sample,
        "limit_ips": round(limit["limit_ips"], 1),
        "app_ips": round(app["app_ips"], 1) if app["app_ips"] else None,
        "browser_ips": round(browser_ips, 1) if browser_ips else None,
        "app_vs_limit": ratio(app["app_ips"], limit["limit_ips"]),
        "app_vs_browser": ratio(app["app_ips"], browser_ips),
        "first_thumb_ms": app["first_thumb_ms"],
        "viewport_full_ms": app["viewport_full_ms"],
        "stall_p99_ms": max(s["p99_ms"] for s in stalls),
        "stall_max_ms": max(s["max_ms"] for s in stalls),
        "load_stall_p99_ms": load["p99_ms"],
        "load_stall_max_ms": load["max_ms"],
        "scroll_stall_p99_ms": app["stall"]["scroll"]["p99_ms"],
        "scroll_stall_max_ms": app["stall"]["scroll"]["max_ms"],
        "resize_stall_p99_ms": app["stall"]["resize"]["p99_ms"],
        "resize_stall_max_ms": app["stall"]["resize"]["max_ms"],
        "open_ms": app["open_ms"],
        "interactive_ms": app["interactive_ms"],
        "load_ms": app["load_ms"],
        "peak_rss_mb": app["peak_rss_mb"],
        "cache_mb": app["cache_mb"],
        "cache_budget_mb": app["cache_budget_mb"],
        "browser_first_ms": round(browser["browser_first_ms"], 1)
        if browser and browser.get("browser_first_ms")
        else None,
        "browser_decoded": browser.get("browser_decoded") if browser else None,
        "app_decoded": app["decoded"],
        "app_failed": app["failed"],
        "limit_workers": limit["limit_workers"],
        "limit_runs": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in run.items()}
            for run in limit["runs"]
        ],
        "cpus": os.cpu_count(),
    }
    result["targets_met"] = {
        name: _meets(result.get(name), op, bound) for name, (op, bound) in TARGETS.items()
    }
    result["targets_met"]["peak_rss_mb"] = result["peak_rss_mb"] <= 250 + result["cache_budget_mb"]
    return result


def _meets(value: float | None, op: str, bound: float) -> bool | None:
    if value is None:
        return None
    return value >= bound if op == ">=" else value <= bound


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    layout = default_layout() if args.cache_dir is None else BenchLayout(args.cache_dir)
    load_before = os.getloadavg()[0]
    with LocalS3(LocalS3Config(layout.s3_dir, port=args.port, bucket=BUCKET)) as s3:
        os.environ.update(s3.env())
        os.environ["TDM_BUCKET"] = BUCKET
        store = S3Store(make_s3_client(), BUCKET)
        prepare(layout, store, args)
        limit = browser = app = None
        if args.only in (None, "limit"):
            limit_images = str(min(args.images, max(args.sample, 2000)))
            limit = run_phase(
                "bench_limit.py",
                *("--images", limit_images, "--sample", str(args.sample)),
                *("--workers", args.limit_workers),
            )
        if args.only in (None, "browser") and not args.no_browser:
            urls = [store.presign_get(object_key(i)) for i in range(args.sample)]
            browser = measure_browser(urls, 160)
        prefetch_all = args.prefetch_all == "yes" or (
            args.prefetch_all == "auto" and args.images <= 2_000
        )
        if args.only in (None, "app"):
            app = run_phase(
                "bench_app.py",
                *("--data-dir", str(layout.data_dir), "--images", str(args.images)),
                *("--sample", str(args.sample)),
                *(("--prefetch-all",) if prefetch_all else ()),
                *("--fetch", args.fetch),
                *(("--no-gc-freeze",) if args.no_gc_freeze else ()),
                *(("--workers", str(args.workers)) if args.workers else ()),
                py_spy=args.py_spy,
            )
    if limit is None or app is None:
        print(json.dumps({"limit": limit, "browser": browser, "app": app}))
        return 0
    result = combine(args, limit, browser, app)
    result["load_average_before"] = round(load_before, 2)
    result["app"] = app
    summary = {k: v for k, v in result.items() if k not in ("app", "limit_runs")}
    for key, value in summary.items():
        print(f"{key:>22}: {value}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
