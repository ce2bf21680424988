"""What the compare view shows: 2 to 4 images, which pane has the focus, the zoom they share, and
their full-size pictures, fetched and decoded in workers (never on the GUI thread).

No widgets here: ``CompareWidget`` draws what this holds, ``ComparePresenter`` connects it to the
grid and to curation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from tdm_desktop.ui.common.full_image import FetchImage
from tdm_desktop.ui.common.images import decode_image
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text
from tdm_desktop.ui.compare.zoom import SharedZoom

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

log = logging.getLogger(__name__)

MIN_IMAGES, MAX_IMAGES = 2, 4


def compare_problem(count: int) -> str | None:
    """Why ``count`` selected images cannot be compared, or None."""
    if MIN_IMAGES <= count <= MAX_IMAGES:
        return None
    return (
        f"Compare: select {MIN_IMAGES} to {MAX_IMAGES} images "
        f"(Shift+arrows or Ctrl+click), not {count}"
    )


def columns_for(count: int) -> int:
    """Panes per row: 2 and 3 side by side, 4 as 2 × 2."""
    return 2 if count == 4 else max(1, count)


class CompareController(QObject):
    """The compared images by filename, the focused pane, the shared zoom, the pictures.

    ``picture_ready(slot, QImage)`` / ``picture_failed(slot, message)`` arrive on the GUI thread
    for the set opened last; earlier sets' pictures are dropped.
    """

    opened = Signal(list)  # filenames
    focus_changed = Signal(int)
    picture_ready = Signal(int, QImage)
    picture_failed = Signal(int, str)

    def __init__(
        self,
        fetch: FetchImage,
        *,
        jobs: JobRunner | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch
        if jobs is None:  # every pane's picture at once
            jobs = JobRunner(max_threads=MAX_IMAGES, name="tdm-compare", parent=self)
        self._jobs = jobs
        self.zoom = SharedZoom(self)
        self._filenames: list[str] = []
        self._focus = 0
        self._serial = 0

    @property
    def filenames(self) -> list[str]:
        return list(self._filenames)

    @property
    def focus(self) -> int:
        return self._focus

    def focused_filename(self) -> str | None:
        return self._filenames[self._focus] if self._filenames else None

    def open(self, images: Sequence[TrainingImage], focus: int = 0) -> None:
        """Compare ``images`` (2–4), at fit, the focus on ``focus``; their pictures load now."""
        problem = compare_problem(len(images))
        if problem:
            raise ValueError(problem)
        self._serial += 1
        self._filenames = [image.filename for image in images]
        self._focus = max(0, min(focus, len(images) - 1))
        self.zoom.reset()
        self.opened.emit(self.filenames)
        self.focus_changed.emit(self._focus)
        for slot, image in enumerate(images):
            self._load(slot, image)

    def clear(self) -> None:
        """Nothing compared; pictures still loading are dropped."""
        self._serial += 1
        self._filenames = []
        self._focus = 0

    def set_focus(self, slot: int) -> None:
        if 0 <= slot < len(self._filenames) and slot != self._focus:
            self._focus = slot
            self.focus_changed.emit(slot)

    def move_focus(self, dx: int, dy: int = 0) -> None:
        """Arrows: ``dx`` along a row, ``dy`` between rows (4 images are 2 × 2); stops at the ends."""
        count = len(self._filenames)
        if not count:
            return
        columns = columns_for(count)
        slot = self._focus + dx + dy * columns
        if dy and not 0 <= slot < count:
            return
        self.set_focus(max(0, min(slot, count - 1)))

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._jobs.wait_for_done(msecs)

    def _load(self, slot: int, image: TrainingImage) -> None:
        serial, fetch = self._serial, self._fetch
        self._jobs.run(
            lambda: decode_image(fetch(image)),
            on_result=lambda picture: self._loaded(serial, slot, picture),
            on_error=lambda error: self._failed(serial, slot, image.filename, error),
        )

    def _loaded(self, serial: int, slot: int, picture: QImage) -> None:
        if serial == self._serial:
            self.picture_ready.emit(slot, picture)

    def _failed(self, serial: int, slot: int, filename: str, error: BaseException) -> None:
        if serial != self._serial:
            return
        message = failure_text(error)  # shown where the picture would be, and in the log
        log.warning("compare: %s: %s", filename, message)
        self.picture_failed.emit(slot, message)
