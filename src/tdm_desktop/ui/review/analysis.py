"""Near-duplicates and quality problems of the open actor, found from the bytes the thumbnail
loader already fetched (no extra GET), after the tiles, at a lower priority than them.

``AnalysisController`` is the loader's ``PixelAnalysis`` hook: when a tile lands with fetched
bytes, the loader asks ``wants(key)`` (GUI thread: a listed image not analysed yet), and later
runs ``analyze(key, data, tile)`` in one of its decode workers, at the lowest priority, when no
tile waits for a worker and the curator has not acted for ``QUIET_MS`` (``hold``). ``analyze``
runs ``core.image_analysis`` (the same decode, checks and hash as ``tdm-desktop check`` /
``duplicates``) and hands the result to the GUI thread. Results are grouped (Hamming distance
under the threshold, single linkage) and announced at most every ``NOTIFY_MS``.

Nothing here walks the rows: the model answers ``is_listed`` / ``row_of`` per image, so opening
an actor of 100,000 images costs analysis nothing before its first screen. Measured in
``benchmarks/review_session.py`` (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from tdm_desktop.core.image_analysis import ImageAnalysis, analyze_bytes
from tdm_desktop.core.near_duplicates import DEFAULT_THRESHOLD, group_near_duplicates
from tdm_desktop.core.quality import QualityThresholds
from tdm_desktop.core.review_sort import ReviewFacts

log = logging.getLogger(__name__)

NOTIFY_MS = 250
NOT_AN_IMAGE_REASON = "not an image"  # the loader's word for bytes that did not decode
UNDECODABLE = "its bytes do not decode as an image"
QUIET_MS = 60  # after a key or a scroll, no analysis starts for this long


class ListedRows(Protocol):
    """The grid's model (``ImageGridModel``): which keys are listed, each filename's row."""

    def is_listed(self, key: str) -> bool: ...

    def row_of(self, filename: str) -> int: ...


class DuplicateMark(NamedTuple):
    """An image's near-duplicate group: its number and how many images are in it."""

    number: int
    size: int


def _filename(key: str) -> str:
    return key.rpartition("/")[2]


class AnalysisController(QObject):
    """What the checks and the hash found for the open actor's images; ``changed()`` when that
    changed (new results, other thresholds, another actor)."""

    changed = Signal()

    done = Signal(int, str, object)  # serial, S3 key, ImageAnalysis (from a worker: queued)

    def __init__(
        self,
        rows: ListedRows,
        *,
        thresholds: QualityThresholds | None = None,
        duplicate_threshold: int = DEFAULT_THRESHOLD,
        enabled: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._rows = rows
        self._thresholds = thresholds or QualityThresholds()
        self._duplicate_threshold = duplicate_threshold
        self.enabled = enabled
        self.done.connect(self._on_done)
        self._serial = 0
        self._backlog: Callable[[], int] = lambda: 0
        self._hold: Callable[[int], None] = lambda _ms: None
        self._results: dict[str, ImageAnalysis] = {}
        self._problems: dict[str, list[str]] = {}
        self._groups: dict[str, DuplicateMark] = {}
        self._group_lists: list[tuple[str, ...]] = []
        self._shown: tuple[dict[str, DuplicateMark], list[str]] = ({}, [])  # as last announced
        self._notify = QTimer(self, singleShot=True, interval=NOTIFY_MS)
        self._notify.timeout.connect(self._regroup)

    # -- what is shown -------------------------------------------------------------------------

    def attach(self, backlog: Callable[[], int], hold: Callable[[int], None]) -> None:
        """The loader's side: how many images wait for (or are in) ``analyze``, and how to keep
        analysis from starting for a while (``ThumbnailLoader.analysis_backlog`` /
        ``hold_analysis``)."""
        self._backlog, self._hold = backlog, hold

    def prune(self) -> None:
        """The rows changed (a refresh): results of images no longer listed go (O(results))."""
        gone = [name for name in self._results if self._rows.row_of(name) < 0]
        for name in gone:
            del self._results[name]
            self._problems.pop(name, None)
        if gone:
            self._changed_soon()

    def clear(self) -> None:
        """Another actor: nothing known, work in flight dropped."""
        self._serial += 1
        self._results = {}
        self._problems, self._groups, self._group_lists = {}, {}, []
        self._shown = ({}, [])
        self.changed.emit()

    def forget(self, keys: Iterable[str]) -> None:
        """These keys may hold another picture now (the model says so): analyse them again."""
        for key in keys:
            if self._results.pop(_filename(key), None) is not None:
                self._changed_soon()

    def set_thresholds(self, thresholds: QualityThresholds, duplicate_threshold: int) -> None:
        if (thresholds, duplicate_threshold) != (self._thresholds, self._duplicate_threshold):
            self._thresholds, self._duplicate_threshold = thresholds, duplicate_threshold
            self._problems = {}
            for name, result in self._results.items():
                self._note_problems(name, result)
            self._regroup(force=True)

    def hold(self) -> None:
        """The curator acts (a key, a scroll): no analysis starts for ``QUIET_MS``, so a job (a
        few ms of CPU) runs between two keys rather than beside one."""
        self._hold(QUIET_MS)

    # -- the loader's hook ---------------------------------------------------------------------

    def wants(self, key: str) -> bool:
        """GUI thread, when a tile landed with fetched bytes: a listed image not analysed yet."""
        return self.enabled and self._rows.is_listed(key) and _filename(key) not in self._results

    def analyze(self, key: str, data: bytes, _tile: QImage) -> None:
        """A decode worker: the checks and the hash of ``data``, handed to the GUI thread."""
        serial = self._serial
        try:
            result: ImageAnalysis | None = analyze_bytes(_filename(key), data)
        except Exception as err:  # a bug in the checks: the image stays unanalysed, logged
            log.error("analysis of %s failed", key, exc_info=err)
            result = None
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self.done.emit(serial, key, result)

    def thumbnail_failed(self, key: str, reason: str) -> None:
        """A tile that did not decode is a problem too ("not an image"), as ``check`` says."""
        if not self.enabled or reason != NOT_AN_IMAGE_REASON or not self._rows.is_listed(key):
            return
        name = _filename(key)
        self._results[name] = ImageAnalysis(name, not_an_image=UNDECODABLE)
        self._note_problems(name, self._results[name])
        self._changed_soon()

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

    def problem_count(self) -> int:
        """How many images the quality checks flagged (of those analysed)."""
        return len(self._problems)

    def analysed_count(self) -> int:
        return len(self._results)

    def backlog_count(self) -> int:
        return self._backlog()

    def is_done(self) -> bool:
        """Nothing waits for analysis in the loader (what landed is analysed)."""
        return self._backlog() == 0

    def is_settled(self) -> bool:
        """Done, and the marks say all of it (no regrouping pending)."""
        return self.is_done() and not self._notify.isActive()

    # -- the work ------------------------------------------------------------------------------

    def _on_done(self, serial: int, key: str, result: ImageAnalysis | None) -> None:
        if serial != self._serial or result is None or not self._rows.is_listed(key):
            return
        filename = _filename(key)
        self._results[filename] = result
        self._note_problems(filename, result)
        self._changed_soon()

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
            key=lambda item: self._rows.row_of(item[0]),
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
