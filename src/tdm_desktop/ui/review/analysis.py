"""Near-duplicates and quality problems of the open actor, found from the bytes the thumbnail
loader already fetched (no extra GET), after the tiles, at a lower priority than them.

When a thumbnail lands, its image joins a backlog. Whenever the loader is idle (nothing queued,
decoding or on the network), one worker thread, niced below the thumbnail workers, takes the next
image, reads its bytes from the loader's compressed cache and runs ``core.image_analysis`` on
them (the same decode, checks and hash as ``tdm-desktop check`` / ``duplicates``). An image whose
bytes left the cache before its turn waits for its next thumbnail. Results are grouped (Hamming
distance under the threshold, single linkage) and announced at most every ``NOTIFY_MS``.

The tile is always handed back first: analysis never delays a visible thumbnail. Nor does it
start while the curator acts: after a key or a scroll (``hold``), the next image waits
``QUIET_MS``, so a job (a few ms of CPU) runs between two keys rather than beside one, and the
GUI thread does not wait on the interpreter lock for it. Measured in
``benchmarks/review_session.py`` (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from tdm_desktop.core.image_analysis import ImageAnalysis, analyze_bytes
from tdm_desktop.core.near_duplicates import DEFAULT_THRESHOLD, group_near_duplicates
from tdm_desktop.core.quality import QualityThresholds
from tdm_desktop.core.review_sort import ReviewFacts

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

log = logging.getLogger(__name__)

ANALYSIS_NICENESS = 15  # the thumbnail workers run at 10: they go first
POLL_MS = 40  # how often an idle loader is looked for while the backlog is not empty
NOTIFY_MS = 250
QUIET_MS = 60  # after a key or a scroll, no analysis starts for this long


class CachedBytes(Protocol):
    """The thumbnail loader (``ThumbnailLoader``): its compressed cache, and whether it is busy."""

    def compressed_bytes(self, key: str) -> bytes | None: ...

    def is_idle(self) -> bool: ...


class DuplicateMark(NamedTuple):
    """An image's near-duplicate group: its number and how many images are in it."""

    number: int
    size: int


class _Emitter(QObject):
    done = Signal(int, str, object)  # serial, filename, ImageAnalysis


class _AnalysisJob(QRunnable):
    def __init__(self, serial: int, filename: str, data: bytes, emitter: _Emitter) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._args = (serial, filename, data)
        self._emitter = emitter

    def run(self) -> None:
        _lower_priority()
        serial, filename, data = self._args
        try:
            result = analyze_bytes(filename, data)
        except Exception as err:  # a bug in the checks: the image stays unanalysed, logged
            log.error("analysis of %s failed", filename, exc_info=err)
            result = None
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self._emitter.done.emit(serial, filename, result)


_niced = threading.local()


def _lower_priority() -> None:
    """This worker yields to the thumbnail workers and the GUI thread (Linux: per-thread nice)."""
    if getattr(_niced, "done", False):
        return
    _niced.done = True
    if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, ANALYSIS_NICENESS)
        except OSError as err:
            log.debug("could not lower the analysis worker's priority: %s", err)


class AnalysisController(QObject):
    """What the checks and the hash found for the open actor's images; ``changed()`` when that
    changed (new results, other thresholds, another actor)."""

    changed = Signal()

    def __init__(
        self,
        loader: CachedBytes,
        *,
        thresholds: QualityThresholds | None = None,
        duplicate_threshold: int = DEFAULT_THRESHOLD,
        enabled: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._loader = loader
        self._thresholds = thresholds or QualityThresholds()
        self._duplicate_threshold = duplicate_threshold
        self.enabled = enabled
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._emitter = _Emitter(self)
        self._emitter.done.connect(self._on_done)
        self._serial = 0
        self._keys: dict[str, str] = {}  # S3 key -> filename
        self._order: dict[str, int] = {}  # filename -> manifest position
        self._backlog: dict[str, None] = {}  # S3 keys, in the order their tiles landed
        self._busy = False
        self._quiet_until = 0.0
        self._results: dict[str, ImageAnalysis] = {}
        self._problems: dict[str, list[str]] = {}
        self._groups: dict[str, DuplicateMark] = {}
        self._group_lists: list[tuple[str, ...]] = []
        self._shown: tuple[dict[str, DuplicateMark], list[str]] = ({}, [])  # as last announced
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._start_next)
        self._notify = QTimer(self, singleShot=True, interval=NOTIFY_MS)
        self._notify.timeout.connect(self._regroup)

    # -- what is shown -------------------------------------------------------------------------

    def set_images(self, images: Sequence[TrainingImage]) -> None:
        """The grid's rows (a reset or a refresh): results of images no longer listed go."""
        keys = {image.location.key: image.filename for image in images if image.location}
        if keys == self._keys:
            return
        self._keys = keys
        self._order = {image.filename: row for row, image in enumerate(images)}
        listed = set(keys.values())
        self._backlog = {key: None for key in self._backlog if key in keys}
        self._results = {name: r for name, r in self._results.items() if name in listed}
        self._changed_soon()

    def clear(self) -> None:
        """Another actor: nothing known, work in flight dropped."""
        self._serial += 1
        self._busy = False
        self._keys, self._order, self._backlog, self._results = {}, {}, {}, {}
        self._problems, self._groups, self._group_lists = {}, {}, []
        self._shown = ({}, [])
        self._poll.stop()
        self.changed.emit()

    def forget(self, keys: Iterable[str]) -> None:
        """These keys may hold another picture now (the model says so): analyse them again."""
        for key in keys:
            name = self._keys.get(key)
            if name is not None and self._results.pop(name, None) is not None:
                self._changed_soon()

    def set_thresholds(self, thresholds: QualityThresholds, duplicate_threshold: int) -> None:
        if (thresholds, duplicate_threshold) != (self._thresholds, self._duplicate_threshold):
            self._thresholds, self._duplicate_threshold = thresholds, duplicate_threshold
            self._problems = {}
            for name, result in self._results.items():
                self._note_problems(name, result)
            self._regroup(force=True)

    def hold(self) -> None:
        """The curator acts (a key, a scroll): no analysis starts for ``QUIET_MS``."""
        self._quiet_until = time.monotonic() + QUIET_MS / 1000

    def thumbnail_ready(self, key: str) -> None:
        """A tile landed: its image joins the backlog (unless analysed already)."""
        name = self._keys.get(key)
        if not self.enabled or name is None or name in self._results:
            return
        self._backlog[key] = None
        if not self._poll.isActive():
            self._poll.start()

    # -- what is known -------------------------------------------------------------------------

    def analysis(self, filename: str) -> ImageAnalysis | None:
        return self._results.get(filename)

    def problems(self, filename: str) -> list[str]:
        """``["blurry: sharpness 35 < 100", ...]`` (empty when none, or not analysed yet)."""
        return self._problems.get(filename, [])

    def duplicate_group(self, filename: str) -> DuplicateMark | None:
        return self._groups.get(filename)

    def duplicate_groups(self) -> list[tuple[str, ...]]:
        """The groups, numbered 1, 2... by their first image's manifest position."""
        return list(self._group_lists)

    def facts(self, filename: str) -> ReviewFacts | None:
        """What the sorts and filters need (None: not analysed yet)."""
        result = self._results.get(filename)
        if result is None:
            return None
        mark = self._groups.get(filename)
        return ReviewFacts(
            sharpness=result.measures.sharpness if result.measures is not None else None,
            problem_count=len(self._problems.get(filename, [])),
            duplicate_group=mark.number if mark is not None else None,
        )

    def analysed_count(self) -> int:
        return len(self._results)

    def backlog_count(self) -> int:
        return len(self._backlog) + (1 if self._busy else 0)

    def is_done(self) -> bool:
        return not self._backlog and not self._busy

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    # -- the work ------------------------------------------------------------------------------

    def _start_next(self) -> None:
        if self._busy:
            return
        if not self._backlog:
            self._poll.stop()
            return
        if not self._loader.is_idle() or time.monotonic() < self._quiet_until:
            return  # thumbnails first, and the curator's keys
        while self._backlog:
            key = next(iter(self._backlog))
            del self._backlog[key]
            name = self._keys.get(key)
            data = self._loader.compressed_bytes(key)
            if name is None or name in self._results or not data:
                continue  # gone, done, or out of the cache: its next thumbnail brings it back
            self._busy = True
            self._pool.start(_AnalysisJob(self._serial, name, data, self._emitter))
            return

    def _on_done(self, serial: int, filename: str, result: ImageAnalysis | None) -> None:
        if serial != self._serial:
            return
        self._busy = False
        if result is not None and filename in self._order:
            self._results[filename] = result
            self._note_problems(filename, result)
            self._changed_soon()
        self._start_next()

    def _note_problems(self, filename: str, result: ImageAnalysis) -> None:
        problems = result.problems(self._thresholds)
        if problems:
            self._problems[filename] = problems
        else:
            self._problems.pop(filename, None)

    def _changed_soon(self) -> None:
        if not self._notify.isActive():
            self._notify.start()

    def _regroup(self, *, force: bool = False) -> None:
        """Groups from every hash so far (numpy all pairs: milliseconds); ``changed`` only when a
        mark changed (most new results have none: no repaint for them)."""
        self._notify.stop()
        self._problems = {n: p for n, p in self._problems.items() if n in self._results}
        hashes = sorted(
            ((name, r.phash) for name, r in self._results.items() if r.phash is not None),
            key=lambda item: self._order.get(item[0], 0),
        )
        groups = group_near_duplicates(hashes, self._duplicate_threshold)
        marks = {
            name: DuplicateMark(group.number, len(group.filenames))
            for group in groups
            for name in group.filenames
        }
        shown = (marks, sorted(self._problems))
        if force or shown != self._shown:
            self._group_lists = [group.filenames for group in groups]
            self._groups = marks
            self._shown = shown
            self.changed.emit()
