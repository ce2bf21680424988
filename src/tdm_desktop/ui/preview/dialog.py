"""Full-size preview of the grid's current image (Space/Enter), with next/previous on the arrows.

The dialog shows whatever image the window hands it; the arrows ask the window to move the grid's
current image (so the grid and the preview never disagree), and the window's flag actions (G/B/T...)
are added to the dialog so they work here too, through the same undo commands. Escape closes.
The bytes are fetched and decoded off the GUI thread; only the GUI thread makes the ``QPixmap``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget

from tdm_desktop.core.review_text import review_text
from tdm_desktop.core.timestamps import Clock, utc_now
from tdm_desktop.ui.common.images import decode_image
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text

if TYPE_CHECKING:
    from datetime import datetime

    from tdm_desktop.core.training_data import TrainingImage

log = logging.getLogger(__name__)

FetchFullImage = Callable[["TrainingImage"], bytes]


def describe(
    image: TrainingImage, pixel_size: QSize | None = None, now: datetime | None = None
) -> str:
    """``"0042_x_3.jpg · ✗ bad · alice · 5 min ago · 0.31 MB · 1024×768"`` (``unreviewed`` when
    nobody decided yet)."""
    decided = review_text(image.review, now or utc_now(), marked=True)
    parts = [image.filename, decided, f"{image.size_mb:.2f} MB"]
    if pixel_size is not None and pixel_size.isValid():
        parts.append(f"{pixel_size.width()}×{pixel_size.height()}")
    return " · ".join(parts)


class PreviewDialog(QDialog):
    """Shows one image at full size; ``navigate_requested(+1 / -1)`` on the arrow keys."""

    navigate_requested = Signal(int)

    def __init__(
        self,
        fetch_full_image: FetchFullImage,
        *,
        jobs: JobRunner | None = None,
        clock: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock or utc_now
        self.setObjectName("previewDialog")
        self.setWindowTitle("Preview")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fetch = fetch_full_image
        self._jobs = jobs if jobs is not None else JobRunner(parent=self)
        self._image: TrainingImage | None = None
        self._pixmap: QPixmap | None = None
        self._serial = 0

        self._picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self._picture.setObjectName("previewPicture")
        self._picture.setMinimumSize(200, 200)
        self._picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._picture.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._info = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self._info.setObjectName("previewInfo")
        self._info.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        hint = QLabel("← → previous/next · G good · B bad · T toggle · Esc close")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self._picture, 1)
        layout.addWidget(self._info)
        layout.addWidget(hint)
        self.resize(900, 700)

    @property
    def image(self) -> TrainingImage | None:
        return self._image

    def info_text(self) -> str:
        return self._info.text()

    def has_picture(self) -> bool:
        return self._pixmap is not None

    def show_image(self, image: TrainingImage | None) -> None:
        """Show ``image`` (None: nothing). A new image loads in the background; a flag change of
        the same image only updates the caption."""
        same = (
            image is not None and self._image is not None and image.filename == self._image.filename
        )
        self._image = image
        if image is None:
            self._serial += 1
            self._pixmap = None
            self._picture.clear()
            self._info.setText("No image")
            return
        size = self._pixmap.size() if (same and self._pixmap is not None) else None
        self._info.setText(describe(image, size, self._clock()))
        self.setWindowTitle(f"Preview: {image.filename}")
        if same and self._pixmap is not None:
            return
        self._load(image)

    def _load(self, image: TrainingImage) -> None:
        self._serial += 1
        serial = self._serial
        self._pixmap = None
        self._picture.setText("Loading…")
        fetch = self._fetch
        self._jobs.run(
            lambda: decode_image(fetch(image)),
            on_result=lambda qimage: self._loaded(serial, qimage),
            on_error=lambda err: self._failed(serial, err),
        )

    def _loaded(self, serial: int, qimage: QImage) -> None:
        if serial != self._serial or self._image is None:
            return
        self._pixmap = QPixmap.fromImage(qimage)
        self._info.setText(describe(self._image, self._pixmap.size(), self._clock()))
        self._rescale()

    def _failed(self, serial: int, error: BaseException) -> None:
        if serial != self._serial:
            return
        message = failure_text(error)  # shown where the image would be, and in the log
        log.warning("preview failed: %s", message)
        self._picture.setText(f"Could not show this image:\n{message}")

    def _rescale(self) -> None:
        if self._pixmap is None:
            return
        self._picture.setPixmap(
            self._pixmap.scaled(
                self._picture.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.navigate_requested.emit(+1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp):
            self.navigate_requested.emit(-1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.close()
        else:
            super().keyPressEvent(event)
