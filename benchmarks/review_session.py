"""Benchmark the review in the window (``make bench-review``), on the bundled local S3.

1. the benchmark actor (``bench_dataset``: synthetic 1024×1024 JPEGs, reused between runs);
2. **load** with analysis off and on, in turns (off, on, on, off by default: ``--load-runs``), each
   in its own process: thumbnails/s from selecting the actor until every image is decoded, and the
   ratio on/off (target: within 5 %, i.e. ≥ 0.95); with analysis on, when the analysis of the
   loaded images ended and how many it covered;
3. **session**: a simulated curator presses a flag key every 300 ms through 1,000 images, with
   analysis on (and off, ``--sessions on,off``, to see what analysis costs the keys): the share of
   decisions made on a loaded thumbnail (target ≥ 99 %) and key-to-repaint p99 (target ≤ 16 ms).

Each measurement runs in its own process (``bench_review_app.py``). A summary goes to stderr; the
last line of stdout is one JSON object with every figure.

    python benchmarks/review_session.py [--images 1000] [--keys 1000] [--interval-ms 300]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_dataset import BenchLayout, default_layout, reset_flags  # noqa: E402
from grid_load import BUCKET, prepare, run_phase  # noqa: E402
from grid_load import _meets as meets  # noqa: E402
from tdm_desktop.core.s3_store import S3Store, make_s3_client  # noqa: E402
from tdm_desktop.local_s3 import LocalS3, LocalS3Config  # noqa: E402

log = logging.getLogger("bench")

REVIEW_PORT = 8535  # not the demo's 8333 nor grid_load's 8533
TARGETS = {
    "loaded_share": (">=", 0.99),
    "key_to_repaint_p99_ms": ("<=", 16),
    "load_ips_ratio": (">=", 0.95),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1000, help="rows in the actor (1000)")
    parser.add_argument("--sample", type=int, help="real S3 objects (min(images, 1000))")
    parser.add_argument("--keys", type=int, help="flag keys in the session (as many as images)")
    parser.add_argument("--interval-ms", type=int, default=300, help="between keys (300)")
    parser.add_argument(
        "--load-runs", default="off,on,on,off", help="load measurements, in this order"
    )
    parser.add_argument(
        "--sessions",
        default="on",
        help="curator sessions, with analysis on and/or off, in this order (on; '' for none)",
    )
    parser.add_argument(
        "--fetch",
        choices=("aws", "botocore"),
        default="aws",
        help="thumbnail GETs: the window's transport (aws), or the botocore fallback",
    )
    parser.add_argument("--cache-dir", type=Path, help="where S3 data and manifests are kept")
    parser.add_argument("--port", type=int, default=REVIEW_PORT, help=f"local S3 ({REVIEW_PORT})")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.sample = min(args.sample or min(args.images, 1000), args.images)
    args.keys = args.keys or args.images
    args.runs = [run.strip() for run in args.load_runs.split(",") if run.strip()]
    args.session_runs = [run.strip() for run in args.sessions.split(",") if run.strip()]
    if any(run not in ("on", "off") for run in [*args.runs, *args.session_runs]):
        parser.error("--load-runs / --sessions: each run is on or off")
    return args


def app_phase(layout: BenchLayout, args: argparse.Namespace, *options: str) -> dict[str, Any]:
    reset_flags(layout)  # every measurement starts from unreviewed images
    return run_phase(
        "bench_review_app.py",
        *("--data-dir", str(layout.data_dir), "--images", str(args.images)),
        *("--sample", str(args.sample), "--fetch", args.fetch),
        *options,
    )


def summarise(loads: list[dict[str, Any]], sessions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The headline figures from the session with analysis on (else the first one); every
    session under ``sessions``."""
    session = sessions.get("on") or next(iter(sessions.values()), None)
    off = [run["ips"] for run in loads if run["analysis"] == "off"]
    on = [run["ips"] for run in loads if run["analysis"] == "on"]
    with_analysis = [run for run in loads if run["analysis"] == "on"]
    result: dict[str, Any] = {
        "load_ips_off": off,
        "load_ips_on": on,
        "load_ips_ratio": round(statistics.median(on) / statistics.median(off), 3)
        if on and off
        else None,
        "analysed": [run.get("analysed") for run in with_analysis],
        "analysis_done_after_load_s": [
            run.get("analysis_done_after_load_s") for run in with_analysis
        ],
        "cpu_s_during_load_off": [
            run["cpu_s_during_load"] for run in loads if run["analysis"] == "off"
        ],
        "cpu_s_during_load_on": [run["cpu_s_during_load"] for run in with_analysis],
        "cpu_s_until_analysed": [run.get("cpu_s_until_analysed") for run in with_analysis],
        "loads": loads,
    }
    if session is not None:
        result.update(
            {
                key: session[key]
                for key in (
                    "keys",
                    "interval_ms",
                    "loaded_share",
                    "decisions_on_loaded_thumbnail",
                    "key_to_repaint_p50_ms",
                    "key_to_repaint_p99_ms",
                    "key_to_repaint_max_ms",
                    "key_dispatch_p99_ms",
                    "keys_without_repaint",
                    "header",
                    "bad_counted",
                    "bad_expected",
                )
            }
        )
        result["session_stall_p99_ms"] = session["stall"]["p99_ms"]
        result["session_analysis"] = session["analysis"]
        result["sessions"] = sessions
    result["targets_met"] = {
        name: meets(result.get(name), op, bound) for name, (op, bound) in TARGETS.items()
    }
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    layout = default_layout() if args.cache_dir is None else BenchLayout(args.cache_dir)
    load_before = os.getloadavg()
    loads: list[dict[str, Any]] = []
    sessions: dict[str, dict[str, Any]] = {}
    with LocalS3(LocalS3Config(layout.s3_dir, port=args.port, bucket=BUCKET)) as s3:
        os.environ.update(s3.env())
        os.environ["TDM_BUCKET"] = BUCKET
        prepare(layout, S3Store(make_s3_client(), BUCKET), args)
        for run in args.runs:
            loads.append(app_phase(layout, args, "--mode", "load", "--analysis", run))
            log.info("load, analysis %s: %s images/s", run, loads[-1]["ips"])
        for run in args.session_runs:
            sessions[run] = app_phase(
                layout,
                args,
                *("--mode", "session", "--analysis", run, "--keys", str(args.keys)),
                *("--interval-ms", str(args.interval_ms)),
            )
            log.info("session, analysis %s: %s", run, sessions[run]["key_to_repaint_p99_ms"])
    result = summarise(loads, sessions)
    result["images"] = args.images
    result["fetch_path"] = args.fetch
    result["cpus"] = os.cpu_count()
    result["load_average_before"] = [round(x, 2) for x in load_before]
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    for key, value in result.items():
        if key not in ("loads", "sessions"):
            print(f"{key:>28}: {value}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
