"""The app: the real MainWindow, offscreen at 1280×800, opening the benchmark actor.

Run by ``grid_load.py`` in its own process. A 5 ms ``Qt.PreciseTimer`` heartbeat measures how late
the GUI event loop is, phase by phase:

- ``load``: from selecting the actor in the actor list (as a click would) until every image is
  decoded (with prefetch of everything) or, without it, until the screen and its prefetch band are;
- ``scroll``: the vertical scroll bar driven from top to bottom, one step every 16 ms;
- ``resize``: the size slider dragged 160 → 512 → 64 → 160 px, one step of 8 px every 16 ms;
- ``keys`` (``--keys N``): N flag keys pressed on the grid (B, B, G, T, ...), each once the tile
  flagged by the previous one has been repainted: per key the GUI-thread time of the key's own
  dispatch, and the time from the key to the first paint of the flagged tile (key-to-repaint);
  the ``flagCountsLabel`` must then count the bad ones, and the service's ``load_actor`` calls
  during the phase are counted (reloads caused by the flag writes).

The keys phase finds what it drives by object name (``thumbnailGrid``, ``flagCountsLabel``,
``actionMarkBad`` ...) and Qt's public view API only, so it does not depend on the window's modules.

The loader is the window's own, with the transport the window chooses by configuration: the same
on AWS as on a custom endpoint such as the benchmark's (``--fetch aws``, the default: Qt's
``QNetworkAccessManager`` on presigned URLs signed in a worker), or the fallback where Qt has no
TLS (``--fetch botocore``: ``TDM_THUMBNAIL_FETCH=botocore``, botocore GETs in threads of their
own). ``fetch_path`` in the JSON says which transport the loader used (``qt`` or ``botocore``).
Rows beyond the sample are mapped to their real object by the service (``LoadCounter``), so the
window's own gate, signer and transport run unchanged.
``run_gui``'s gc tuning (``--no-gc-freeze`` to skip it); worker count from the CPUs (``--workers
N`` to override).

``TDM_BENCH_PROFILE=scroll,resize`` (phases, comma-separated) runs ``cProfile`` on the GUI
thread during those phases, timed by the thread's CPU time (waiting in the event loop costs
nothing), and writes ``<phase>.prof`` into ``TDM_BENCH_PROFILE_DIR`` (default: the temp dir) and
the top functions by own time to stderr: C++ work Qt does on its own (layout, painting) is the own
time of the event loop's ``exec``; what Python does, its functions. Each scripted step's own time
(the ``setValue`` call, without the paint it schedules) is in ``step_ms``.

``TDM_BENCH_TRACE=scroll,resize``: every event the application dispatches during those phases is
timed (``QApplication.notify``, outermost dispatch only), and those of 8 ms or more are listed on
stderr by type and receiver, with totals: which event makes a late heartbeat tick. The tracing
itself costs some µs per event, so its runs' stall figures are not comparable to others'.

``TDM_BENCH_KEY_TRACE=FILE``: the keys phase (and ``bench_review_app.py``'s session) writes one
JSON line per flag key to FILE (``key_trace.py``): the key's wall and GUI-thread CPU time, each
step it ran (presenter, controller, model, selection, view) with its wall and CPU time, the
garbage collector's time, where the other threads were when a key took 8 ms or more, and every
entry into Python between the dispatch and the flagged tile's paint.
``TDM_BENCH_SWITCH_S=0.005``: the interpreter's switch interval (default: the window's,
``SWITCH_INTERVAL_S``; 0.005 is Python's own), here and in ``bench_review_app.py``.

"Prefetch everything" sets ``grid_view.PREFETCH_SCREENS`` (the view's prefetch band, in screens)
so large that the band covers the whole actor (the view has no other knob for it) during the load
phase only; scroll and resize run with the view's default band.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import inspect
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QEvent, QEventLoop, QObject, QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QPaintEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLabel, QWidget

from bench_common import emit, peak_rss_mb, percentile, store_from_env
from bench_dataset import BENCH_ACTOR_ID, IDLE_ACTOR_ID, sample_key
from key_trace import from_env, trace_keys
from tdm_desktop.core.training_data import ActorTrainingData, TrainingDataService, TrainingImage
from tdm_desktop.ui.app import SWITCH_INTERVAL_S as SWITCH_DEFAULT
from tdm_desktop.ui.app import tune_gc, tune_switch_interval
from tdm_desktop.ui.grid import view as grid_view
from tdm_desktop.ui.grid.delegate import request_size
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.main_window import MainWindow
from tdm_desktop.ui.thumbnails.loader import ThumbnailLoader
from tdm_desktop.ui.thumbnails.transport import FETCH_ENV, Fetched

FRAME_MS = 16
COMPRESSED_BUDGET = inspect.signature(ThumbnailLoader).parameters["compressed_budget_bytes"].default
HEARTBEAT_MS = 5


class Heartbeat:
    """A 5 ms precise timer; each tick's lateness (ms beyond 5) is filed under the current phase."""

    def __init__(self) -> None:
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._phase = "idle"
        self._phase_began = 0.0
        self.lateness: dict[str, list[float]] = {}
        self.spikes: list[tuple[str, float, float]] = []  # (phase, ms into it, lateness) > 50 ms
        self.ticks: list[float] = []  # perf_counter of every tick

    @property
    def phase(self) -> str:
        return self._phase

    @phase.setter
    def phase(self, name: str) -> None:
        self._phase, self._phase_began = name, time.perf_counter()

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, (now - self._last) * 1000 - HEARTBEAT_MS)
        self._last = now
        self.ticks.append(now)
        self.lateness.setdefault(self._phase, []).append(late)
        if late > 50:
            into = (now - self._phase_began) * 1000 - late
            self.spikes.append((self._phase, round(into, 1), round(late, 1)))

    def stats(self, phase: str) -> dict[str, float]:
        values = self.lateness.get(phase, [])
        return {
            "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values, default=0.0), 2),
            "ticks": len(values),
        }


class GcPauses:
    """Durations of the garbage collector's runs (ms), by generation."""

    def __init__(self) -> None:
        self._began = 0.0
        self.pauses: list[tuple[int, float]] = []
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._began) * 1000))

    def summary(self) -> dict[str, float]:
        gen2 = [ms for gen, ms in self.pauses if gen == 2]
        return {
            "runs": len(self.pauses),
            "max_ms": round(max((ms for _, ms in self.pauses), default=0.0), 2),
            "gen2_runs": len(gen2),
            "gen2_max_ms": round(max(gen2, default=0.0), 2),
        }


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop until ``condition()`` holds; raise TimeoutError after ``timeout`` s."""
    if condition():
        return
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    poll = QTimer()
    poll.setInterval(10)

    def check() -> None:
        if condition() or time.perf_counter() > deadline:
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError(f"benchmark: {what} did not happen within {timeout:.0f} s")


def idle(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def drive(steps: list[Callable[[], None]], took: list[float] | None = None) -> None:
    """Run one step every frame (16 ms, precise timer) until all have run; each step's own time
    (ms) goes into ``took``."""
    pending = list(reversed(steps))
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(FRAME_MS)

    def step() -> None:
        if pending:
            began = time.perf_counter()
            pending.pop()()
            if took is not None:
                took.append((time.perf_counter() - began) * 1000)

    timer.timeout.connect(step)
    timer.start()
    wait_for(lambda: not pending, timeout=len(steps) * 1.0 + 30, what="scripted input")
    timer.stop()


class PhaseProfile:
    """``cProfile`` of the GUI thread by its CPU time, in the phases ``TDM_BENCH_PROFILE`` names."""

    def __init__(self) -> None:
        self.phases = {p for p in os.environ.get("TDM_BENCH_PROFILE", "").split(",") if p}
        self.out = Path(os.environ.get("TDM_BENCH_PROFILE_DIR", tempfile.gettempdir()))
        self._profile: cProfile.Profile | None = None

    @contextlib.contextmanager
    def phase(self, name: str):
        if name not in self.phases:
            yield
            return
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        try:
            yield
        finally:
            profile.disable()
            self.out.mkdir(parents=True, exist_ok=True)
            profile.dump_stats(str(self.out / f"{name}.prof"))
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(25)
            print(f"-- profile of phase {name} (GUI thread CPU time)", file=sys.stderr)
            print(text.getvalue(), file=sys.stderr)


class TracingApplication(QApplication):
    """A QApplication that times each outermost event dispatch in the traced phases."""

    def __init__(self, argv: list[str], phases: set[str]) -> None:
        super().__init__(argv)
        self.phases = phases
        self.beat: Heartbeat | None = None
        # phase, ms, on the CPU, waiting for a CPU (run queue), event, receiver
        self.slow: list[tuple[str, float, float, float, str, str]] = []
        self._depth = 0

    def notify(self, receiver: QObject, event: QEvent) -> bool:
        beat = self.beat
        if self._depth or beat is None or beat.phase not in self.phases:
            self._depth += 1
            try:
                return super().notify(receiver, event)
            finally:
                self._depth -= 1
        kind = event.type()
        self._depth += 1
        began, cpu_began, queued_began = time.perf_counter(), time.thread_time(), _run_queue_ns()
        try:
            return super().notify(receiver, event)
        finally:
            self._depth -= 1
            ms = (time.perf_counter() - began) * 1000
            cpu_ms = (time.thread_time() - cpu_began) * 1000
            queued_ms = (_run_queue_ns() - queued_began) / 1e6
            if ms >= 8:
                name = type(receiver).__name__
                if receiver.objectName():
                    name += f"#{receiver.objectName()}"
                if isinstance(receiver, QTimer):
                    name += f"@{receiver.interval()}ms"
                parent = receiver.parent()
                if parent is not None:
                    name += f" in {type(parent).__name__}"
                self.slow.append(
                    (beat.phase, ms, cpu_ms, queued_ms, str(kind).rsplit(".", 1)[-1], name)
                )

    def report(self) -> None:
        totals: dict[tuple[str, str, str], list[tuple[float, float, float]]] = {}
        for phase, ms, cpu_ms, queued_ms, kind, name in self.slow:
            totals.setdefault((phase, kind, name), []).append((ms, cpu_ms, queued_ms))
        print(
            "-- events of 8 ms or more (phase, event, receiver: count, total ms, of it on the CPU,"
            " waiting for a CPU, max ms); the rest is blocked (the GIL, a lock)",
            file=sys.stderr,
        )
        for (phase, kind, name), values in sorted(
            totals.items(), key=lambda kv: -sum(v[0] for v in kv[1])
        ):
            wall, cpu = sum(v[0] for v in values), sum(v[1] for v in values)
            queued = sum(v[2] for v in values)
            print(
                f"{phase:>7} {kind:<22} {name:<50} {len(values):>4} {wall:8.1f} {cpu:8.1f} "
                f"{queued:8.1f} "
                f"{max(v[0] for v in values):6.1f}",
                file=sys.stderr,
            )


def _run_queue_ns() -> int:
    """Nanoseconds this thread has waited for a CPU (Linux schedstat; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as stat:
            return int(stat.read().split()[1])
    except OSError:
        return 0


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds of this process's threads so far, summed by thread name (Linux; else {})."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    totals: dict[str, float] = {}
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return totals
    for task in tasks.iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if task.name == str(os.getpid()):
            name = "GUI thread"
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def cpu_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    return {name: round(s, 2) for name, s in sorted(spent.items(), key=lambda kv: -kv[1]) if s}


def step_stats(took: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(took, 50), 2),
        "p99_ms": round(percentile(took, 99), 2),
        "max_ms": round(max(took, default=0.0), 2),
    }


class PaintCounter(QObject):
    """Counts the grid viewport's paint events, per heartbeat phase."""

    def __init__(self, beat: Heartbeat) -> None:
        super().__init__()
        self._beat = beat
        self.counts: dict[str, int] = {}

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.counts[self._beat.phase] = self.counts.get(self._beat.phase, 0) + 1
        return False


def repaint_ms(window: MainWindow, times: int = 20) -> float:
    """Median time of one synchronous repaint of the grid's viewport (everything cached)."""
    viewport = window.grid.viewport()
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        viewport.repaint()
        samples.append((time.perf_counter() - began) * 1000)
    return round(sorted(samples)[len(samples) // 2], 2)


class LoadWatch:
    """Timestamps of the open: actor opened, first thumbnail, viewport full, everything settled."""

    def __init__(self, window: MainWindow, size: int) -> None:
        self.window = window
        self.size = size
        self.t0 = 0.0
        self.opened_at: float | None = None
        self.first_at: float | None = None
        self.full_at: float | None = None
        self.last_at: float | None = None
        self.settled: set[str] = set()
        self.failed: dict[str, str] = {}
        self._visible: list[str] = []
        self.gets: dict[str, tuple[float, float]] = {}  # key -> GET (sent, done), monotonic
        self.ready_at: dict[str, float] = {}  # key -> perf_counter when it was ready
        window.actor_opened.connect(self._on_opened)
        # the loader's transport's own report of each GET (a benchmark may look inside)
        window.loader._transport.fetched.connect(self._on_fetched)
        window.loader.thumbnail_ready.connect(self._on_ready)
        window.loader.thumbnail_failed.connect(self._on_failed)

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def _on_opened(self, actor_id: str) -> None:
        if actor_id == BENCH_ACTOR_ID and self.opened_at is None:
            self.opened_at = time.perf_counter()

    def _on_ready(self, key: str) -> None:
        if self.opened_at is None:
            return
        now = time.perf_counter()
        self.ready_at.setdefault(key, now)
        self.first_at = self.first_at or now
        self.last_at = now
        self.settled.add(key)
        if self.full_at is None and self._viewport_full():
            self.full_at = now

    def _on_fetched(self, fetched: Fetched) -> None:
        self.gets.setdefault(fetched.key, (fetched.sent_at, fetched.done_at))

    def slowest(self) -> dict[str, object]:
        """The slowest GET of the load, and the visible tile that came last (GET times in ms)."""
        offset = time.perf_counter() - time.monotonic()  # perf_counter = monotonic + offset here
        report: dict[str, object] = {}
        if self.gets:
            key, (sent, done) = max(self.gets.items(), key=lambda kv: kv[1][1] - kv[1][0])
            report["slowest_get"] = {
                "ms": round((done - sent) * 1000, 1),
                "sent_ms": self.ms(sent + offset),
                "visible": key in self._visible,
            }
        ready = [(self.ready_at[k], k) for k in self._visible if k in self.ready_at]
        if ready:
            at, key = max(ready)
            sent, done = self.gets.get(key, (None, None))
            report["last_visible"] = {
                "ready_ms": self.ms(at),
                "get_sent_ms": None if sent is None else self.ms(sent + offset),
                "get_done_ms": None if done is None else self.ms(done + offset),
            }
        return report

    def _on_failed(self, key: str, reason: str) -> None:
        if self.opened_at is not None:
            self.settled.add(key)
            self.failed[key] = reason
            self.last_at = time.perf_counter()

    def _viewport_full(self) -> bool:
        if not self._visible:
            grid = self.window.grid
            model = grid.model()
            self._visible = [
                model.index(row, 0).data(ImageGridModel.KeyRole) for row in grid.visible_rows()
            ]
        loader = self.window.loader
        return bool(self._visible) and all(loader.is_cached(k, self.size) for k in self._visible)

    def ms(self, at: float | None) -> float | None:
        return None if at is None else round((at - self.t0) * 1000, 1)


class LoadCounter(TrainingDataService):
    """The app's service, counting ``load_actor`` calls (each is a full read of the actor), and
    reading rows beyond the ``sample`` real objects from the object they reuse."""

    def __init__(self, *args: object, sample: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.load_calls = 0
        self._sample = sample

    def load_actor(self, actor_id: str) -> ActorTrainingData:
        self.load_calls += 1  # (from job threads: an int += is enough for a count)
        return super().load_actor(actor_id)

    def fetch_image_bytes(self, image: TrainingImage) -> bytes:
        if image.location is None:
            return super().fetch_image_bytes(image)
        return self.store.get_bytes(sample_key(image.location.key, self._sample))

    def presign_get(self, key: str) -> str:
        if not key.rpartition("/")[2].startswith("bench_"):  # e.g. the window's probe URL
            return super().presign_get(key)
        return super().presign_get(sample_key(key, self._sample))


class TilePaintWatch(QObject):
    """Timestamp of the first paint of the viewport that covers ``rect`` once armed."""

    def __init__(self) -> None:
        super().__init__()
        self._rect: QRect | None = None
        self.painted_at: float | None = None

    def arm(self, rect: QRect) -> None:
        self._rect, self.painted_at = rect, None

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if (
            self._rect is not None
            and event.type() == QEvent.Type.Paint
            and isinstance(event, QPaintEvent)
            and event.region().intersects(self._rect)
        ):
            self.painted_at = time.perf_counter()
            self._rect = None
            if TRACE is not None:
                TRACE.painted()
        return False


TRACE = from_env()

if TRACE is not None:
    trace_keys(TRACE)


def finish(app: QApplication, window, settings_dir, result: dict) -> None:
    """Close the window, add the peak RSS, drop the settings, dump the key trace, print the JSON."""
    window.close()
    app.processEvents()
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    settings_dir.cleanup()
    if TRACE is not None:
        TRACE.dump()
    emit(result)


KEY_PATTERN = (Qt.Key.Key_B, Qt.Key.Key_B, Qt.Key.Key_G, Qt.Key.Key_T)  # T: good -> bad


def bad_count(label: QLabel) -> int | None:
    """``bad N`` from the status bar's flag counts (``good G · bad B``)."""
    words = label.text().replace("·", " ").split()
    return int(words[words.index("bad") + 1]) if "bad" in words else None


def measure_keys(
    window: QWidget, service: LoadCounter, count: int, beat: Heartbeat, pause_ms: int = 30
) -> dict[str, object]:
    """Press ``count`` flag keys on the grid; key-to-repaint and per-key figures (see above)."""
    grid = window.findChild(QAbstractItemView, "thumbnailGrid")
    label = window.findChild(QLabel, "flagCountsLabel")
    if grid is None or label is None or window.findChild(QAction, "actionMarkBad") is None:
        raise SystemExit("benchmark: the window has no thumbnailGrid / flagCountsLabel / actions")
    window.activateWindow()
    grid.setFocus()
    wait_for(grid.hasFocus, 5, "the grid's keyboard focus")
    grid.scrollTo(grid.currentIndex())
    idle(200)
    watch = TilePaintWatch()
    grid.viewport().installEventFilter(watch)
    bad_before = bad_count(label) or 0
    loads_before = service.load_calls
    dispatch_ms: list[float] = []
    repaint_ms: list[float] = []
    missed = 0
    beat.phase = "keys"
    began = time.perf_counter()
    for i in range(count):
        index = grid.currentIndex()
        watch.arm(grid.visualRect(index))
        if TRACE is not None:
            TRACE.begin()
        pressed = time.perf_counter()
        QTest.keyClick(grid, KEY_PATTERN[i % len(KEY_PATTERN)])
        dispatch_ms.append((time.perf_counter() - pressed) * 1000)
        if TRACE is not None:
            TRACE.end()
            TRACE.after_dispatch()
        try:
            wait_for(lambda: watch.painted_at is not None, 10, "the flagged tile's repaint")
        except TimeoutError:
            missed += 1
            continue
        repaint_ms.append((watch.painted_at - pressed) * 1000)
        if TRACE is not None:
            TRACE.note(repaint_ms=round(repaint_ms[-1], 2))
        idle(pause_ms)
    keys_s = time.perf_counter() - began
    beat.phase = "keys_settle"
    expected_bad = bad_before + sum(
        1 for i in range(count) if KEY_PATTERN[i % len(KEY_PATTERN)] != Qt.Key.Key_G
    )
    with contextlib.suppress(TimeoutError):  # reported below as bad_counted != bad_expected
        wait_for(lambda: bad_count(label) == expected_bad, 60, "the flag counts")
    grid.viewport().removeEventFilter(watch)
    return {
        "keys": count,
        "key_to_repaint_p50_ms": round(percentile(repaint_ms, 50), 2),
        "key_to_repaint_p99_ms": round(percentile(repaint_ms, 99), 2),
        "key_to_repaint_max_ms": round(max(repaint_ms, default=0.0), 2),
        "key_dispatch_p50_ms": round(percentile(dispatch_ms, 50), 2),
        "key_dispatch_p99_ms": round(percentile(dispatch_ms, 99), 2),
        "keys_without_repaint": missed,
        "keys_s": round(keys_s, 2),
        "bad_counted": bad_count(label),
        "bad_expected": expected_bad,
        "load_actor_calls": service.load_calls - loads_before,
        "load_actor_calls_per_s": round((service.load_calls - loads_before) / keys_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--sample", type=int, required=True)
    parser.add_argument("--prefetch-all", action="store_true")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--fetch",
        choices=("aws", "botocore"),
        default="aws",
        help="aws = the transport the window chooses (on AWS and on a custom endpoint alike: Qt "
        "on presigned URLs); botocore = the fallback where Qt has no TLS (TDM_THUMBNAIL_FETCH)",
    )
    parser.add_argument("--no-gc-freeze", action="store_true", help="skip run_gui's gc tuning")
    parser.add_argument("--workers", type=int, help="thumbnail workers (default: CPU count)")
    parser.add_argument("--keys", type=int, default=0, help="flag keys to press after the drags")
    args = parser.parse_args()

    if args.fetch == "botocore":
        os.environ[FETCH_ENV] = "botocore"
    else:
        os.environ.pop(FETCH_ENV, None)
    traced = {p for p in os.environ.get("TDM_BENCH_TRACE", "").split(",") if p}
    app = TracingApplication([sys.argv[0]], traced) if traced else QApplication([sys.argv[0]])
    store = store_from_env()
    service = LoadCounter(args.data_dir, store, sample=min(args.sample, args.images))

    settings_dir = tempfile.TemporaryDirectory(prefix="tdm-bench-settings-")
    settings = QSettings(str(Path(settings_dir.name) / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("session/lastActor", IDLE_ACTOR_ID)
    default_band = grid_view.PREFETCH_SCREENS
    if args.prefetch_all:
        grid_view.PREFETCH_SCREENS = args.images  # the band covers every row

    window = MainWindow(service, settings=settings)
    window.resize(1280, 800)
    window.show()
    wait_for(lambda: window.session.actor_id == IDLE_ACTOR_ID, 60, "opening the idle actor")
    if not args.no_gc_freeze:
        tune_gc()  # as run_gui does once the window is up
    tune_switch_interval(float(os.environ.get("TDM_BENCH_SWITCH_S", SWITCH_DEFAULT)))
    gc_pauses = GcPauses()
    size = request_size(window.grid.thumbnail_size(), window.grid.devicePixelRatioF())
    watch = LoadWatch(window, size)
    beat = Heartbeat()
    if isinstance(app, TracingApplication):
        app.beat = beat
    profiler = PhaseProfile()
    paints = PaintCounter(beat)
    window.grid.viewport().installEventFilter(paints)
    beat.start()
    wait_for(lambda: len(beat.ticks) > 20, 5, "the heartbeat")

    # -- load -----------------------------------------------------------------------------------
    beat.phase = "load"
    cpu_before_load = thread_cpu_s()
    watch.start()
    loader = window.loader
    with profiler.phase("load"):
        window.actor_list_widget.select_actor(BENCH_ACTOR_ID)
        if args.prefetch_all:
            wait_for(lambda: len(watch.settled) >= args.images, args.timeout, "loading every image")
        else:
            wait_for(lambda: watch.full_at is not None, args.timeout, "a full viewport")
            wait_for(lambda: loader.pending_count() == 0, args.timeout, "the prefetch band")
    load_end = time.perf_counter()
    load_cpu = cpu_between(cpu_before_load, thread_cpu_s())
    interactive_at = next((t for t in beat.ticks if watch.opened_at and t > watch.opened_at), None)
    beat.phase = "settle"
    grid_view.PREFETCH_SCREENS = default_band  # scroll and resize with the product's own band
    full_repaint_ms = repaint_ms(window)

    # -- scroll ---------------------------------------------------------------------------------
    bar = window.grid.verticalScrollBar()
    bar.setValue(0)
    idle(300)  # the synchronous repaints above stay out of the scroll figures
    total = bar.maximum()
    step = max(window.grid.viewport().height(), -(-total // 300))
    positions = [min(p, total) for p in range(step, total + step, step)]
    beat.phase = "scroll"
    scroll_began = time.perf_counter()
    steps: dict[str, list[float]] = {"scroll": [], "resize": []}
    with profiler.phase("scroll"):
        drive([lambda v=p: bar.setValue(v) for p in positions], steps["scroll"])
    scroll_s = time.perf_counter() - scroll_began

    # -- slider drags ---------------------------------------------------------------------------
    slider = window.size_slider
    start_value = slider.value()
    values = [
        *range(start_value, 513, 8),
        *range(512, 63, -8),
        *range(64, start_value + 1, 8),
    ]
    beat.phase = "resize"
    with profiler.phase("resize"):
        drive([lambda v=v: slider.setValue(v) for v in values], steps["resize"])
    keys = measure_keys(window, service, args.keys, beat) if args.keys else None
    beat.phase = "done"
    beat.stop()
    if isinstance(app, TracingApplication):
        app.report()

    load_seconds = load_end - watch.t0
    loaded = len(watch.settled) - len(watch.failed)
    result = {
        "images": args.images,
        "objects": min(args.sample, args.images),
        "prefetch_all": args.prefetch_all,
        "open_ms": watch.ms(watch.opened_at),
        "interactive_ms": watch.ms(interactive_at),
        "first_thumb_ms": watch.ms(watch.first_at),
        "viewport_full_ms": watch.ms(watch.full_at),
        "load_ms": round(load_seconds * 1000, 1),
        "decoded": loaded,
        "failed": len(watch.failed),
        "failures": sorted(set(watch.failed.values())),
        "app_ips": loaded / load_seconds if args.prefetch_all and load_seconds > 0 else None,
        "stall": {phase: beat.stats(phase) for phase in ("load", "scroll", "resize")},
        "load_thread_cpu_s": load_cpu,
        "load_gets": watch.slowest(),
        "step_ms": {phase: step_stats(took) for phase, took in steps.items()},
        "keys": {**keys, "stall": beat.stats("keys")} if keys else None,
        "paints": paints.counts,
        "stall_spikes": {
            phase: sorted((s[1:] for s in beat.spikes if s[0] == phase), key=lambda s: -s[1])[:5]
            for phase in ("load", "scroll", "resize")
        },
        "full_repaint_ms": full_repaint_ms,
        "fetch_path": loader.transport_name(),
        "requests_limit_end": loader.request_limit(),
        "workers": loader.worker_count(),
        "gc_frozen": not args.no_gc_freeze,
        "gc_pauses": gc_pauses.summary(),
        "scroll_steps": len(positions),
        "scroll_ms": round(scroll_s * 1000, 1),
        "resize_steps": len(values),
        "cache_mb": round((loader.cache_bytes() + loader.compressed_cache_bytes()) / 2**20, 1),
        "pixmap_cache_mb": round(loader.cache_bytes() / 2**20, 1),
        "cache_budget_mb": round((loader.pixmap_budget() + COMPRESSED_BUDGET) / 2**20, 1),
    }
    finish(app, window, settings_dir, result)


if __name__ == "__main__":
    main()
