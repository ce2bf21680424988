"""What one flag key spends its time on, for the benchmarks' keys (``TDM_BENCH_KEY_TRACE=FILE``).

``KeyTrace.wrap(owner, "name", ...)`` times methods the key runs on the GUI thread (nested calls
are kept apart by their depth). Around each key the trace takes the wall time, the GUI thread's
own CPU time (``time.thread_time``: when the wall time is far above it, the thread was waiting,
for the interpreter lock or for a core), the garbage collector's time, and, for the slow keys,
where every other thread was when the key ended. ``dump`` writes one JSON line per key.
"""

from __future__ import annotations

import functools
import gc
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOOP_FRAMES = ("wait_for", "idle", "drive", "main")  # frames running the event loop
SLOW_MS = 8.0  # a key slower than this gets the other threads' stacks


class KeyTrace:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None
        self._entries: list[list[Any]] | None = None
        self._depth = 0
        self._gc_began = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict) -> None:
        if self._current is None:
            return
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._gc_began) * 1000
            self._current["gc_ms"] += ms
            self._current["gc"].append((info["generation"], round(ms, 2)))

    def wrap(self, owner: Any, *names: str) -> None:
        for name in names:
            original = getattr(owner, name)
            label = f"{getattr(owner, '__name__', type(owner).__name__)}.{name}"
            setattr(owner, name, self._timed(label, original))

    def _timed(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            current = self._current
            if current is None or threading.current_thread() is not threading.main_thread():
                return fn(*args, **kwargs)
            self._depth += 1
            began, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                wall = (time.perf_counter() - began) * 1000
                steps = current["steps"]
                key = f"{'  ' * self._depth}{label}"
                entry = steps.setdefault(key, [0.0, 0.0, 0])
                entry[0] += wall
                entry[1] += (time.thread_time() - cpu) * 1000
                entry[2] += 1

        return timed

    def begin(self) -> None:
        sys.setprofile(None)  # the previous key's tile was never painted
        self._entries = None
        self._current = {
            "steps": {},
            "gc_ms": 0.0,
            "gc": [],
            "t0": time.perf_counter(),
            "cpu0": time.thread_time(),
        }

    def end(self) -> dict[str, Any] | None:
        current, self._current = self._current, None
        if current is None:
            return None
        wall = (time.perf_counter() - current.pop("t0")) * 1000
        cpu = (time.thread_time() - current.pop("cpu0")) * 1000
        current["wall_ms"] = round(wall, 2)
        current["cpu_ms"] = round(cpu, 2)
        current["steps"] = {
            k: [round(v[0], 2), round(v[1], 2), v[2]] for k, v in current["steps"].items()
        }
        if wall > SLOW_MS:
            me = threading.get_ident()
            names = {t.ident: t.name for t in threading.enumerate()}
            current["others"] = {
                names.get(ident, str(ident)): traceback.format_stack(frame, limit=4)[-2:]
                for ident, frame in sys._current_frames().items()
                if ident != me
            }
        self.keys.append(current)
        return current

    def after_dispatch(self) -> None:
        """From now until ``painted``: every entry into Python on this thread (slots, timers,
        paints) with its wall and CPU time, relative to the end of the dispatch."""
        self._entries = []
        self._open: list[list[Any]] = []
        self._after_t0 = time.perf_counter()
        sys.setprofile(self._profile)

    def _profile(self, frame: Any, event: str, _arg: Any) -> None:
        """Entries called by the event loop: their caller is the frame that runs the loop."""
        if event == "call":
            caller = frame.f_back
            if caller is not None and caller.f_code.co_name in LOOP_FRAMES:
                code = frame.f_code
                name = f"{code.co_filename.rpartition('/')[2]}:{code.co_name}"
                at = round((time.perf_counter() - self._after_t0) * 1000, 2)
                self._open.append([frame, name, at, time.perf_counter(), time.thread_time()])
        elif event == "return" and self._open and self._open[-1][0] is frame:
            _frame, name, at, began, cpu = self._open.pop()
            wall = round((time.perf_counter() - began) * 1000, 2)
            self._entries.append([name, at, wall, round((time.thread_time() - cpu) * 1000, 2)])

    def painted(self) -> None:
        sys.setprofile(None)
        if self.keys and getattr(self, "_entries", None) is not None:
            self.keys[-1]["after"] = self._entries
            self.keys[-1]["paint_after_dispatch_ms"] = round(
                (time.perf_counter() - self._after_t0) * 1000, 2
            )
        self._entries = None

    def note(self, **values: Any) -> None:
        if self.keys:
            self.keys[-1].update(values)

    def dump(self) -> None:
        with self.path.open("w") as out:
            for key in self.keys:
                out.write(json.dumps(key) + "\n")


def trace_keys(trace: KeyTrace) -> None:
    """What a flag key runs on the GUI thread, step by step (``TDM_BENCH_KEY_TRACE``)."""
    from tdm_desktop.ui.common.jobs import JobRunner
    from tdm_desktop.ui.curation import presenter as curation_presenter
    from tdm_desktop.ui.curation.commands import FlagCommand
    from tdm_desktop.ui.curation.controller import CurationController
    from tdm_desktop.ui.curation.presenter import CurationPresenter
    from tdm_desktop.ui.grid.selection import GridSelection
    from tdm_desktop.ui.grid.view import ThumbnailGridView
    from tdm_desktop.ui.preview.presenter import PreviewPresenter
    from tdm_desktop.ui.review import advance
    from tdm_desktop.ui.review.presenter import ReviewPresenter
    from tdm_desktop.ui.review.progress import ReviewTally

    trace.wrap(CurationPresenter, "mark_good", "mark_bad")
    trace.wrap(
        CurationController, "mark", "_push_flags", "write_flags", "_queue_flags", "_start_job"
    )
    trace.wrap(FlagCommand, "redo")
    from tdm_desktop.ui.grid.model import ImageGridModel

    trace.wrap(ImageGridModel, "set_reviews", "_emit_counts")
    trace.wrap(ReviewTally, "_recount")
    trace.wrap(ReviewPresenter, "_on_tally", "_on_current_changed")
    trace.wrap(PreviewPresenter, "_on_current_changed")
    trace.wrap(GridSelection, "act_and_advance", "select_filename", "set_current", "selected_rows")
    trace.wrap(
        ThumbnailGridView, "dataChanged", "currentChanged", "request_visible", "keyPressEvent"
    )
    trace.wrap(JobRunner, "run")
    trace.wrap(advance, "next_unreviewed", "next_unreviewed_shown")
    curation_presenter.next_unreviewed_shown = advance.next_unreviewed_shown


def from_env() -> KeyTrace | None:
    import os

    path = os.environ.get("TDM_BENCH_KEY_TRACE")
    return KeyTrace(Path(path)) if path else None
