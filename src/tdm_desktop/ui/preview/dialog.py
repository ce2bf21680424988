"""Full-size preview of the grid's current image (Space/Enter), with next/previous on the arrows.

The dialog shows whatever image the window hands it; the arrows ask the window to move the grid's
current image (so the grid and the preview never disagree), and the window's flag actions (G/B/T...)
are added to the dialog so they work here too, through the same undo commands. ``C`` shows the
actor's base image beside the candidate, both fitted to panes of one size and zoomed together
(``Z``: 100 %, drag to pan). Escape closes. The bytes are fetched and decoded off the GUI thread;
only the GUI thread makes the ``QPixmap``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from tdm_desktop.core.layout import base_image_name
from tdm_desktop.core.timestamps import Clock, utc_now
from tdm_desktop.ui.common.full_image import FetchImage
from tdm_desktop.ui.common.images import decode_image
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import describe_image, failure_text
from tdm_desktop.ui.compare.pane import ImagePaneWidget, toggle_zoom_at_pointer
from tdm_desktop.ui.compare.zoom import SharedZoom

if TYPE_CHECKING:
    from datetime import datetime

    from tdm_desktop.core.training_data import TrainingImage

log = logging.getLogger(__name__)

ReadBaseImage = Callable[[str], bytes | None]
"""``actor_name -> the base image's bytes, or None`` (``TrainingDataService.base_image_bytes``)."""

HINT = "← → previous/next · G good · B bad · T toggle · C base image · Z 100 % / fit · Esc close"
NO_BASE_IMAGE = "This actor has no base image"


def describe(
    image: TrainingImage, pixel_size: QSize | None = None, now: datetime | None = None
) -> str:
    """``"0042_x_3.jpg · ✗ bad · alice · 5 min ago · 0.31 MB · 1024×768"`` (``unreviewed`` when
    nobody decided yet)."""
    return describe_image(image, pixel_size, now)


class PreviewDialog(QDialog):
    """Shows one image at full size; ``navigate_requested(+1 / -1)`` on the arrow keys."""

    navigate_requested = Signal(int)

    def __init__(
        self,
        fetch_full_image: FetchImage,
        *,
        read_base_image: ReadBaseImage | None = None,
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
        self._read_base = read_base_image or (lambda _name: None)
        self._jobs = jobs if jobs is not None else JobRunner(parent=self)
        self._image: TrainingImage | None = None
        self._actor_name = ""
        self._size: QSize | None = None
        self._serial = 0
        self._base_of: str | None = None  # the actor whose base image is loaded or loading
        self._base_serial = 0

        self.zoom = SharedZoom(self)
        self.picture_pane = ImagePaneWidget(self.zoom)
        self.picture_pane.setObjectName("previewPicture")
        self.base_pane = ImagePaneWidget(self.zoom)
        self.base_pane.setObjectName("previewBaseImage")
        self.base_pane.hide()
        self._info = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self._info.setObjectName("previewInfo")
        self._info.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        hint = QLabel(HINT)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        panes = QHBoxLayout()
        panes.setSpacing(6)
        panes.addWidget(self.base_pane, 1)
        panes.addWidget(self.picture_pane, 1)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(panes, 1)
        self._layout.addWidget(self._info)
        self._layout.addWidget(hint)
        self.resize(900, 700)

    @property
    def image(self) -> TrainingImage | None:
        return self._image

    def info_text(self) -> str:
        return self._info.text()

    def has_picture(self) -> bool:
        return self.picture_pane.has_picture()

    def base_shown(self) -> bool:
        return not self.base_pane.isHidden()

    def add_below(self, widget: QWidget) -> None:
        """Put ``widget`` (the caption editor) under the picture, above the info line."""
        self._layout.insertWidget(1, widget)

    def show_image(self, image: TrainingImage | None, actor_name: str = "") -> None:
        """Show ``image`` (None: nothing). A new image loads in the background; a flag change of
        the same image only updates the caption."""
        same = (
            image is not None and self._image is not None and image.filename == self._image.filename
        )
        self._image = image
        if actor_name != self._actor_name:
            self._actor_name = actor_name
            if self.base_shown():
                self._load_base()
        if image is None:
            self._serial += 1
            self._size = None
            self.picture_pane.set_message("No image")
            self._info.setText("No image")
            self._caption_panes()
            return
        if not same:
            self._size = None
        self._info.setText(describe(image, self._size, self._clock()))
        self.setWindowTitle(f"Preview: {image.filename}")
        self._caption_panes()
        if same and self.picture_pane.has_picture():
            return
        self._load(image)

    def toggle_base(self) -> None:
        """``C``: the actor's base image beside the candidate, or not."""
        if self.base_shown():
            self.base_pane.hide()
        else:
            self.base_pane.show()
            if self._base_of != self._actor_name:
                self._load_base()
        self._caption_panes()

    # -- loading -------------------------------------------------------------------------------

    def _load(self, image: TrainingImage) -> None:
        self._serial += 1
        serial = self._serial
        self.picture_pane.set_message("Loading…")
        fetch = self._fetch
        self._jobs.run(
            lambda: decode_image(fetch(image)),
            on_result=lambda qimage: self._loaded(serial, qimage),
            on_error=lambda err: self._failed(serial, err),
        )

    def _loaded(self, serial: int, qimage: QImage) -> None:
        if serial != self._serial or self._image is None:
            return
        self.picture_pane.set_picture(qimage)
        self._size = qimage.size()
        self._info.setText(describe(self._image, self._size, self._clock()))
        self._caption_panes()

    def _failed(self, serial: int, error: BaseException) -> None:
        if serial != self._serial:
            return
        message = failure_text(error)  # shown where the image would be, and in the log
        log.warning("preview failed: %s", message)
        self.picture_pane.set_message(f"Could not show this image:\n{message}")

    def _load_base(self) -> None:
        self._base_serial += 1
        serial, name, read = self._base_serial, self._actor_name, self._read_base
        self._base_of = name
        if not name:
            self.base_pane.set_message(NO_BASE_IMAGE)
            return
        self.base_pane.set_message("Loading…")

        def load() -> QImage | None:
            data = read(name)
            return None if data is None else decode_image(data)

        def done(picture: QImage | None) -> None:
            if serial != self._base_serial:
                return
            if picture is None:
                self.base_pane.set_message(NO_BASE_IMAGE)
            else:
                self.base_pane.set_picture(picture)
            self._caption_panes()

        def failed(error: BaseException) -> None:
            if serial == self._base_serial:
                message = failure_text(error, f"Base image of {name}")
                log.warning("%s", message)
                self.base_pane.set_message(message)

        self._jobs.run(load, on_result=done, on_error=failed)

    def _caption_panes(self) -> None:
        """Captions only when two panes are side by side: which is the base image."""
        if not self.base_shown():
            self.picture_pane.set_caption("")
            return
        size = self.base_pane.picture_size()
        base = base_image_name(self._actor_name).rsplit("/", 1)[-1] if self._actor_name else ""
        dims = f" · {size.width()}×{size.height()}" if size.isValid() else ""
        self.base_pane.set_caption(f"Base image: {base}{dims}")
        if self._image is not None:
            self.picture_pane.set_caption(
                f"Candidate: {self._image.filename}", bad=not self._image.good
            )

    # -- keys ----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.navigate_requested.emit(+1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp):
            self.navigate_requested.emit(-1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.close()
        elif key == Qt.Key.Key_C:
            self.toggle_base()
        elif key == Qt.Key.Key_Z:
            self._toggle_zoom()
        else:
            super().keyPressEvent(event)

    def _toggle_zoom(self) -> None:
        toggle_zoom_at_pointer(self.zoom, (self.picture_pane, self.base_pane))
