"""The review in the real window, offscreen at 1280×800, on the benchmark actor (one process per
measurement; ``review_session.py`` runs it).

``--mode load``: from selecting the actor until every image's thumbnail is decoded (the view's
prefetch band covering the whole actor), with analysis (near-duplicate hash and quality checks)
on or off (``--analysis on|off``): loading throughput in images/s and the process's CPU seconds;
with analysis on, also when the last analysis ended and how many images were analysed.

``--mode session``: a simulated curator presses a flag key every ``--interval-ms`` (300) on the
grid, ``--keys`` times (G, with B every fifth), letting the window move to the next unreviewed
image after each. Per key: whether the current image's thumbnail was loaded at the size shown
when the key was pressed ("a decision on a loaded thumbnail"), the GUI-thread time of the key's
dispatch, and the time from the key to the first paint of the flagged tile (key-to-repaint). At
the end the header must say every image is reviewed and ``flagCountsLabel`` must count the bad
ones. A 5 ms heartbeat measures how late the event loop is meanwhile.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import bench_app
from bench_app import (
    Heartbeat,
    LoadCounter,
    LoadWatch,
    TilePaintWatch,
    bad_count,
    idle,
    wait_for,
)
from bench_common import percentile, store_from_env
from bench_dataset import BENCH_ACTOR_ID, IDLE_ACTOR_ID
from tdm_desktop.ui.app import SWITCH_INTERVAL_S as SWITCH_DEFAULT
from tdm_desktop.ui.app import tune_gc, tune_switch_interval
from tdm_desktop.ui.grid import view as grid_view
from tdm_desktop.ui.grid.delegate import request_size
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.main_window import MainWindow
from tdm_desktop.ui.thumbnails.transport import FETCH_ENV


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_window(
    args: argparse.Namespace,
) -> tuple[MainWindow, LoadCounter, tempfile.TemporaryDirectory]:
    if args.fetch == "botocore":
        os.environ[FETCH_ENV] = "botocore"
    else:
        os.environ.pop(FETCH_ENV, None)
    store = store_from_env()
    service = LoadCounter(args.data_dir, store, sample=min(args.sample, args.images))
    settings_dir = tempfile.TemporaryDirectory(prefix="tdm-bench-settings-")
    settings = QSettings(str(Path(settings_dir.name) / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("session/lastActor", IDLE_ACTOR_ID)
    window = MainWindow(service, settings=settings)
    window.review.analysis.enabled = args.analysis == "on"
    window.resize(1280, 800)
    window.show()
    wait_for(lambda: window.session.actor_id == IDLE_ACTOR_ID, 60, "opening the idle actor")
    tune_gc()  # as run_gui does once the window is up
    tune_switch_interval(float(os.environ.get("TDM_BENCH_SWITCH_S", SWITCH_DEFAULT)))
    return window, service, settings_dir


def measure_load(window: MainWindow, args: argparse.Namespace) -> dict[str, object]:
    size = request_size(window.grid.thumbnail_size(), window.grid.devicePixelRatioF())
    watch = LoadWatch(window, size)
    analysis = window.review.analysis
    grid_view.PREFETCH_SCREENS = args.images  # the band covers every row
    cpu_before = cpu_seconds()
    watch.start()
    window.actor_list_widget.select_actor(BENCH_ACTOR_ID)
    wait_for(lambda: len(watch.settled) >= args.images, args.timeout, "loading every image")
    load_s = time.perf_counter() - watch.t0
    cpu_load = cpu_seconds() - cpu_before
    loaded = len(watch.settled) - len(watch.failed)
    result: dict[str, object] = {
        "analysis": args.analysis,
        "load_s": round(load_s, 2),
        "ips": round(loaded / load_s, 1),
        "decoded": loaded,
        "failed": len(watch.failed),
        "cpu_s_during_load": round(cpu_load, 2),
    }
    if args.analysis == "on":
        wait_for(analysis.is_done, args.timeout, "the analysis of every loaded image")
        idle(400)  # the grouping runs at most every 250 ms
        done_s = time.perf_counter() - watch.t0
        result.update(
            {
                "analysed": analysis.analysed_count(),
                "analysis_done_after_load_s": round(done_s - load_s, 2),
                "cpu_s_until_analysed": round(cpu_seconds() - cpu_before, 2),
                "duplicate_groups": len(analysis.duplicate_groups()),
            }
        )
    return result


KEYS = (Qt.Key.Key_G, Qt.Key.Key_G, Qt.Key.Key_G, Qt.Key.Key_G, Qt.Key.Key_B)


def measure_session(window: MainWindow, args: argparse.Namespace) -> dict[str, object]:
    grid, loader = window.grid, window.loader
    size = request_size(grid.thumbnail_size(), grid.devicePixelRatioF())
    watch = LoadWatch(window, size)
    watch.start()
    window.actor_list_widget.select_actor(BENCH_ACTOR_ID)
    wait_for(lambda: watch.full_at is not None, args.timeout, "a full viewport")
    window.activateWindow()
    grid.setFocus()
    wait_for(grid.hasFocus, 5, "the grid's keyboard focus")
    idle(300)
    beat = Heartbeat()
    beat.start()
    tiles = TilePaintWatch()
    grid.viewport().installEventFilter(tiles)
    loaded_at_key: list[bool] = []
    repaint: list[float] = []
    dispatch: list[float] = []
    missed = 0
    pressed_at: list[float] = []
    keys = args.keys

    def settle_previous() -> None:
        nonlocal missed
        if not pressed_at:
            return
        if tiles.painted_at is None:
            missed += 1
        else:
            repaint.append((tiles.painted_at - pressed_at[-1]) * 1000)
            if TRACE is not None:
                TRACE.note(repaint_ms=round(repaint[-1], 2))

    def press() -> None:
        settle_previous()
        if len(loaded_at_key) >= keys:
            return
        index = grid.currentIndex()
        key = index.data(ImageGridModel.KeyRole)
        loaded_at_key.append(bool(key) and loader.is_cached(key, size))
        tiles.arm(grid.visualRect(index))
        if TRACE is not None:
            TRACE.begin()
        began = time.perf_counter()
        pressed_at.append(began)
        QTest.keyClick(grid, KEYS[len(loaded_at_key) % len(KEYS)])
        dispatch.append((time.perf_counter() - began) * 1000)
        if TRACE is not None:
            TRACE.end()
            TRACE.after_dispatch()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(args.interval_ms)
    timer.timeout.connect(press)
    beat.phase = "session"
    began = time.perf_counter()
    timer.start()
    wait_for(
        lambda: len(loaded_at_key) >= keys, keys * args.interval_ms / 1000 * 3 + 60, "the keys"
    )
    idle(args.interval_ms)
    settle_previous()
    timer.stop()
    session_s = time.perf_counter() - began
    beat.phase = "settle"
    wait_for(lambda: not window.controller.is_busy(), 120, "the flag writes")
    idle(200)
    beat.stop()
    bad_expected = sum(1 for i in range(1, keys + 1) if KEYS[i % len(KEYS)] == Qt.Key.Key_B)
    on_loaded = sum(loaded_at_key)
    return {
        "analysis": args.analysis,
        "keys": keys,
        "interval_ms": args.interval_ms,
        "session_s": round(session_s, 1),
        "decisions_on_loaded_thumbnail": on_loaded,
        "loaded_share": round(on_loaded / keys, 4) if keys else None,
        "key_to_repaint_p50_ms": round(percentile(repaint, 50), 2),
        "key_to_repaint_p99_ms": round(percentile(repaint, 99), 2),
        "key_to_repaint_max_ms": round(max(repaint, default=0.0), 2),
        "key_dispatch_p50_ms": round(percentile(dispatch, 50), 2),
        "key_dispatch_p99_ms": round(percentile(dispatch, 99), 2),
        "keys_without_repaint": missed,
        "stall": beat.stats("session"),
        "header": window.header.image_count_label.text(),
        "bad_counted": bad_count(window.flag_counts_label),
        "bad_expected": bad_expected,
        "status": window.statusBar().currentMessage(),
        "analysed": window.review.analysis.analysed_count(),
    }


TRACE = bench_app.TRACE  # TDM_BENCH_KEY_TRACE: what each key spends its time on (key_trace.py)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--sample", type=int, required=True)
    parser.add_argument("--mode", choices=("load", "session"), required=True)
    parser.add_argument("--analysis", choices=("on", "off"), default="on")
    parser.add_argument(
        "--fetch",
        choices=("aws", "botocore"),
        default="aws",
        help="aws = the transport the window chooses (Qt on presigned URLs); botocore = the "
        "fallback where Qt has no TLS (TDM_THUMBNAIL_FETCH)",
    )
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--interval-ms", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    app = QApplication([sys.argv[0]])
    window, service, settings_dir = build_window(args)
    measure = measure_load if args.mode == "load" else measure_session
    result = measure(window, args)
    result.update(
        {
            "mode": args.mode,
            "images": args.images,
            "fetch_path": window.loader.transport_name(),
            "load_actor_calls": service.load_calls,
        }
    )
    bench_app.finish(app, window, settings_dir, result)


if __name__ == "__main__":
    main()
