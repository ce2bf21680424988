"""Benchmark the thumbnail grid against the physical limit and against a browser (``make bench``).

On the bundled local S3 (SeaweedFS, started here, data kept under the benchmark cache dir):

1. make sure N synthetic 1024×1024 JPEGs exist for the benchmark actor (only missing ones are
   drawn and uploaded; beyond ``--sample`` objects, manifest rows reuse the sample);
2. **limit**: a plain thread pool doing the app's GET and scaled decode (``bench_limit.py``);
3. **peer**: headless Chromium loading a page of ``<img>`` tags with presigned URLs
   (``bench_browser.py``; skipped, ``browser_ips: null``, without the ``chromium`` package);
4. **app**: the real main window offscreen at 1280×800 (``bench_app.py``) with the transport it
   chooses, the same on AWS as here (``--fetch aws``: Qt on presigned URLs), or the fallback where
   Qt has no TLS (``--fetch botocore``: botocore GETs in threads of their own).

With ``--rtt-ms`` / ``--mbit`` (or ``--link far|office|home``) every measurement goes through a
latency- and bandwidth-shaping TCP proxy on loopback (``wan_proxy.py``, its own process, one per
measurement) in front of the local S3, and the JSON adds the link, its limit in images/s
(bandwidth ÷ mean object size), ``app_vs_link`` and the proxy's own CPU seconds.

Each measurement runs in its own process, so RSS and the GIL are its own. A summary goes to
stderr; the last line of stdout is one JSON object with every figure.

    python benchmarks/grid_load.py [--images 1000] [--sample N] [--no-browser]
    python benchmarks/grid_load.py --images 300 --rtt-ms 40 --mbit 100 [--fetch aws,botocore]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
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
    reset_flags,
    upload_missing,
    write_manifests,
)
from tdm_desktop.core.errors import S3Error  # noqa: E402
from tdm_desktop.core.s3_store import S3Store, make_s3_client  # noqa: E402
from tdm_desktop.local_s3 import LocalS3, LocalS3Config  # noqa: E402
from wan_proxy import ShapedLink  # noqa: E402

log = logging.getLogger("bench")

BENCH_PORT = 8533  # not the demo's 8333, so a running demo and a benchmark do not collide
BUCKET = "story-boards-assets"
# The links of the WAN profile (``make bench-wan``): (round-trip ms, Mbit/s).
LINKS = {
    "far": (100.0, 1000.0),  # far but fast: latency binds, so concurrency decides
    "office": (40.0, 100.0),  # the bandwidth of ~40 images/s binds for everyone
    "home": (100.0, 20.0),
}
# --fetch names -> what bench_app.py calls them (``qt`` is the window's choice everywhere now).
FETCH_PATHS = {"aws": "aws", "qt": "aws", "botocore": "botocore", "boto": "botocore"}
TARGETS = {
    "app_vs_link": (">=", 0.9),
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
    parser.add_argument(
        "--limit-workers", help="thread counts tried for the limit (4,8,16; on a WAN link 16,32)"
    )
    parser.add_argument(
        "--fetch",
        default="aws",
        help="the app's fetch path(s), comma-separated, each measured in the same run, the first "
        "giving the headline figures: aws = the transport the window chooses, on AWS as on a "
        "custom endpoint (Qt on presigned URLs); botocore = the fallback where Qt has no TLS "
        "(default: aws)",
    )
    parser.add_argument("--rtt-ms", type=float, help="WAN profile: round-trip time to add (ms)")
    parser.add_argument("--mbit", type=float, help="WAN profile: link rate, Mbit/s each way")
    parser.add_argument(
        "--link",
        choices=sorted(LINKS),
        help="a named WAN link: far (100 ms, 1000 Mbit), "
        "office (40 ms, 100 Mbit), home (100 ms, 20 Mbit)",
    )
    parser.add_argument(
        "--setup-rtts",
        type=int,
        default=2,
        help="WAN: round trips before a new connection's first request (2: TCP + TLS 1.3)",
    )
    parser.add_argument("--no-gc-freeze", action="store_true", help="app: skip gc.freeze()")
    parser.add_argument("--workers", type=int, help="app: thumbnail workers (default: CPUs)")
    parser.add_argument(
        "--only", choices=("app", "limit", "browser"), help="run one measurement (profiling)"
    )
    parser.add_argument(
        "--py-spy", type=Path, metavar="FILE", help="record the app phase with py-spy (raw format)"
    )
    parser.add_argument(
        "--keys",
        type=int,
        default=0,
        help="app: press this many flag keys (G/B/T) after the drags; key-to-repaint figures",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.images < 1:
        parser.error("--images must be at least 1")
    args.sample = min(args.sample or min(args.images, 1000), args.images)
    if args.link is not None:
        if args.rtt_ms is not None or args.mbit is not None:
            parser.error("--link names an RTT and a rate: give it, or --rtt-ms / --mbit, not both")
        args.rtt_ms, args.mbit = LINKS[args.link]
    if args.rtt_ms is not None and args.rtt_ms < 0:
        parser.error(f"--rtt-ms {args.rtt_ms}: must not be negative")
    if args.mbit is not None and args.mbit <= 0:
        parser.error(f"--mbit {args.mbit}: must be positive")
    args.shaped = args.rtt_ms is not None or args.mbit is not None
    if args.shaped and args.rtt_ms is None:
        args.rtt_ms = 0.0
    if args.limit_workers is None:  # far away, more requests in flight reach the link's limit
        args.limit_workers = "16,32" if args.shaped else "4,8,16"
    paths = [name.strip() for name in args.fetch.split(",") if name.strip()]
    unknown = [name for name in paths if name not in FETCH_PATHS]
    if not paths or unknown:
        parser.error(f"--fetch {args.fetch!r}: each path must be one of aws, botocore")
    args.fetch_paths = list(dict.fromkeys(FETCH_PATHS[name] for name in paths))
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


def prepare(layout: BenchLayout, store: S3Store, args: argparse.Namespace) -> list[int]:
    """Upload what is missing, write the manifests; the sizes of the sample's objects in bytes."""
    began = time.perf_counter()
    uploaded = upload_missing(store, args.sample)
    sizes = object_sizes(store, args.sample)
    write_manifests(layout, store, args.images, sizes)
    wait_until_readable(store, object_key(0))
    log.info(
        "dataset: %d rows over %d objects (%d uploaded now, %.1f MB in all) in %.1f s",
        args.images,
        args.sample,
        uploaded,
        sum(sizes) / 2**20,
        time.perf_counter() - began,
    )
    return sizes


def wait_until_readable(store: S3Store, key: str, timeout_s: float = 120) -> None:
    """Wait until the local S3 serves ``key``: a freshly started SeaweedFS on a busy machine
    answers GETs with InternalError for a while after its S3 port is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            store.get_bytes(key)
            return
        except S3Error as err:
            if time.monotonic() > deadline:
                raise SystemExit(f"the local S3 does not serve {key}: {err}") from None
            log.info("the local S3 is not serving objects yet (%s); waiting", err.code)
            time.sleep(1)


@contextlib.contextmanager
def through_link(
    args: argparse.Namespace, s3_port: int, proxies: dict[str, Any], phase: str
) -> Iterator[None]:
    """With a WAN profile: a fresh shaping proxy for this phase, and the S3 endpoint of the
    environment (which every phase's client reads) pointed at it; its accounting in ``proxies``."""
    if not args.shaped:
        yield
        return
    link = ShapedLink(s3_port, args.rtt_ms, args.mbit, setup_rtts=args.setup_rtts)
    saved = os.environ["AWS_ENDPOINT_URL_S3"]
    with link:
        os.environ["AWS_ENDPOINT_URL_S3"] = link.endpoint
        try:
            yield
        finally:
            os.environ["AWS_ENDPOINT_URL_S3"] = saved
    proxies[phase] = link.stats
    log.info(
        "proxy for %s: %.2f CPU s over %.1f s, %d connections, writes late p99 %s ms",
        phase,
        link.stats.get("cpu_s", 0.0),
        link.stats.get("wall_s", 0.0),
        link.stats.get("connections", 0),
        link.stats.get("down", {}).get("late_p99_ms"),
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


def app_figures(
    app: dict, limit: dict, browser_ips: float | None, link_ips: float | None
) -> dict[str, Any]:
    """One app run's figures, and its ratios to what the same run measured."""
    stall = app["stall"]
    return {
        "fetch_path": app["fetch_path"],
        "app_ips": round(app["app_ips"], 1) if app["app_ips"] else None,
        "app_vs_limit": ratio(app["app_ips"], limit["limit_ips"]),
        "app_vs_browser": ratio(app["app_ips"], browser_ips),
        "app_vs_link": ratio(app["app_ips"], link_ips),
        "first_thumb_ms": app["first_thumb_ms"],
        "viewport_full_ms": app["viewport_full_ms"],
        "stall_p99_ms": max(s["p99_ms"] for s in stall.values()),
        "stall_max_ms": max(s["max_ms"] for s in stall.values()),
        "load_stall_p99_ms": stall["load"]["p99_ms"],
        "load_stall_max_ms": stall["load"]["max_ms"],
        "scroll_stall_p99_ms": stall["scroll"]["p99_ms"],
        "scroll_stall_max_ms": stall["scroll"]["max_ms"],
        "resize_stall_p99_ms": stall["resize"]["p99_ms"],
        "resize_stall_max_ms": stall["resize"]["max_ms"],
        "open_ms": app["open_ms"],
        "interactive_ms": app["interactive_ms"],
        "load_ms": app["load_ms"],
        "peak_rss_mb": app["peak_rss_mb"],
        "cache_mb": app["cache_mb"],
        "cache_budget_mb": app["cache_budget_mb"],
        "app_decoded": app["decoded"],
        "app_failed": app["failed"],
        **({"keys": app["keys"]} if app.get("keys") else {}),
    }


def combine(
    args: argparse.Namespace,
    limit: dict,
    browser: dict | None,
    apps: dict[str, dict],
    sizes: list[int],
    proxies: dict[str, Any],
) -> dict:
    """The run's JSON: the first fetch path's figures at the top, every path under ``paths``."""
    browser_ips = browser.get("browser_ips") if browser else None
    mean_bytes = sum(sizes) / len(sizes) if sizes else 0
    link_ips = (
        args.mbit * 1e6 / 8 / mean_bytes if args.shaped and args.mbit and mean_bytes else None
    )
    paths = {name: app_figures(app, limit, browser_ips, link_ips) for name, app in apps.items()}
    primary = paths[args.fetch_paths[0]]
    result: dict[str, Any] = {
        "images": args.images,
        "objects": args.sample,
        "mean_object_kb": round(mean_bytes / 1024, 1),
        "rtt_ms": args.rtt_ms if args.shaped else None,
        "mbit": args.mbit if args.shaped else None,
        "link_limit_ips": round(link_ips, 1) if link_ips else None,
        "limit_ips": round(limit["limit_ips"], 1),
        "browser_ips": round(browser_ips, 1) if browser_ips else None,
        **primary,
        "browser_first_ms": round(browser["browser_first_ms"], 1)
        if browser and browser.get("browser_first_ms")
        else None,
        "browser_decoded": browser.get("browser_decoded") if browser else None,
        "limit_workers": limit["limit_workers"],
        "limit_runs": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in run.items()}
            for run in limit["runs"]
        ],
        "proxy_cpu_s": round(sum(p.get("cpu_s", 0.0) for p in proxies.values()), 2)
        if args.shaped
        else None,
        "proxy": {phase: _proxy_summary(stats) for phase, stats in proxies.items()} or None,
        "paths": paths,
        "cpus": os.cpu_count(),
    }
    result["targets_met"] = {
        name: _meets(result.get(name), op, bound) for name, (op, bound) in TARGETS.items()
    }
    result["targets_met"]["peak_rss_mb"] = result["peak_rss_mb"] <= 250 + result["cache_budget_mb"]
    return result


def _proxy_summary(stats: dict[str, Any]) -> dict[str, Any]:
    down, up = stats.get("down", {}), stats.get("up", {})
    return {
        "cpu_s": stats.get("cpu_s"),
        "wall_s": stats.get("wall_s"),
        "connections": stats.get("connections"),
        "down_mb": round(down.get("bytes", 0) / 2**20, 1),
        "down_busy_s": down.get("busy_s"),
        "late_p99_ms": down.get("late_p99_ms"),
        "late_max_ms": down.get("late_max_ms"),
        "early_pieces": (down.get("early_pieces") or 0) + (up.get("early_pieces") or 0),
        "receiver_waits": down.get("receiver_waits"),
        "niceness": stats.get("niceness"),
    }


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
    load_before = os.getloadavg()
    proxies: dict[str, Any] = {}
    apps: dict[str, dict] = {}
    limit = browser = None
    with LocalS3(LocalS3Config(layout.s3_dir, port=args.port, bucket=BUCKET)) as s3:
        os.environ.update(s3.env())
        os.environ["TDM_BUCKET"] = BUCKET
        sizes = prepare(layout, S3Store(make_s3_client(), BUCKET), args)
        if args.only in (None, "limit"):
            limit_images = str(min(args.images, max(args.sample, 2000)))
            with through_link(args, s3.port, proxies, "limit"):
                limit = run_phase(
                    "bench_limit.py",
                    *("--images", limit_images, "--sample", str(args.sample)),
                    *("--workers", args.limit_workers),
                )
        if args.only in (None, "browser") and not args.no_browser:
            with through_link(args, s3.port, proxies, "browser"):
                store = S3Store(make_s3_client(), BUCKET)  # on the proxy's endpoint, if any
                urls = [store.presign_get(object_key(i)) for i in range(args.sample)]
                browser = measure_browser(urls, 160)
        prefetch_all = args.prefetch_all == "yes" or (
            args.prefetch_all == "auto" and args.images <= 2_000
        )
        if args.only in (None, "app"):
            for path in args.fetch_paths:
                reset_flags(layout)  # each path's keys phase starts from unreviewed images
                with through_link(args, s3.port, proxies, f"app_{path}"):
                    apps[path] = run_phase(
                        "bench_app.py",
                        *("--data-dir", str(layout.data_dir), "--images", str(args.images)),
                        *("--sample", str(args.sample)),
                        *(("--prefetch-all",) if prefetch_all else ()),
                        *("--fetch", path),
                        *(("--no-gc-freeze",) if args.no_gc_freeze else ()),
                        *(("--workers", str(args.workers)) if args.workers else ()),
                        *(("--keys", str(args.keys)) if args.keys else ()),
                        py_spy=args.py_spy,
                    )
    load_after = os.getloadavg()
    if limit is None or not apps:
        print(json.dumps({"limit": limit, "browser": browser, "app": apps, "proxy": proxies}))
        return 0
    result = combine(args, limit, browser, apps, sizes, proxies)
    result["load_average_before"] = [round(x, 2) for x in load_before]
    result["load_average_after"] = [round(x, 2) for x in load_after]
    result["app"] = apps[args.fetch_paths[0]]
    hidden = ("app", "limit_runs", "paths", "proxy", "keys")
    for key, value in result.items():
        if key not in hidden:
            print(f"{key:>22}: {value}", file=sys.stderr)
    for name, figures in result["paths"].items():
        brief = {
            k: figures[k] for k in ("app_ips", "app_vs_limit", "app_vs_link", "app_vs_browser")
        }
        print(f"{'path ' + name:>22}: {brief}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
