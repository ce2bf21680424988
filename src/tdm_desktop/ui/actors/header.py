"""The actor header over the grid: base image thumbnail, the actor's name and ``N images in S3``,
and the actor's trigger word (editable: Enter or leaving the field counts, Esc puts it back)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from tdm_desktop.ui.common.images import decode_fitted
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text

log = logging.getLogger(__name__)

BASE_THUMB = 64
NO_BASE_IMAGE = "no base\nimage"
BASE_IMAGE_TIP = "The actor's base image"

ReadBaseImage = Callable[[str], bytes | None]
"""``actor_name -> the base image's bytes, or None`` (``TrainingDataService.base_image_bytes``)."""


TRIGGER_WORD_TIP = (
    "The actor's trigger word: exports put it in front of each caption that lacks it, or in "
    "place of [trigger]. Empty: the actor name."
)


def image_count_text(count: int, reviewed: int) -> str:
    """``"24 images in S3 · 18 reviewed"`` (``"0 images in S3"`` when there are none)."""
    if not count:
        return "0 images in S3"
    return f"{count} images in S3 · {min(reviewed, count)} reviewed"


class TriggerWordEdit(QLineEdit):
    """``edited(text)`` when the curator changed it and left (Enter, a click elsewhere);
    ``left()`` when the keyboard should go back to the grid (Enter, Esc). Esc puts back what it
    showed."""

    edited = Signal(str)
    left = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("triggerWordEdit")
        self.setToolTip(TRIGGER_WORD_TIP)
        self._shown = ""
        self.editingFinished.connect(self._finished)
        self.returnPressed.connect(self.left)

    def show_word(self, word: str, stored: bool) -> None:
        self._shown = word if stored else ""
        self.setText(self._shown)
        self.setModified(False)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.setText(self._shown)
            self.setModified(False)
            self.left.emit()
            return
        super().keyPressEvent(event)

    def _finished(self) -> None:
        if self.isModified():
            self.setModified(False)
            self.edited.emit(self.text())


class ActorHeaderWidget(QWidget):
    """``actorNameLabel``, ``baseImageLabel`` (read and decoded off the GUI thread on ``jobs``),
    ``imageCountLabel`` and ``triggerWordEdit``. A base image that arrives after another open
    started is dropped."""

    def __init__(
        self, jobs: JobRunner, read_base_image: ReadBaseImage, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._read_base_image = read_base_image
        self._serial = 0
        self._count = self._reviewed = 0

        self.actor_name_label = QLabel("No actor open")
        self.actor_name_label.setObjectName("actorNameLabel")
        font = self.actor_name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.actor_name_label.setFont(font)
        self.base_image_label = QLabel()
        self.base_image_label.setObjectName("baseImageLabel")
        self.base_image_label.setFixedSize(BASE_THUMB, BASE_THUMB)
        self.base_image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.base_image_label.setToolTip(BASE_IMAGE_TIP)
        self.image_count_label = QLabel("0 images in S3")
        self.image_count_label.setObjectName("imageCountLabel")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.base_image_label)
        names = QVBoxLayout()
        names.addWidget(self.actor_name_label)
        names.addWidget(self.image_count_label)
        layout.addLayout(names, 1)
        self.trigger_word_edit = TriggerWordEdit()
        self.trigger_word_edit.setMaximumWidth(220)
        self.trigger_word_edit.setEnabled(False)
        trigger_label = QLabel("Trigger word")
        trigger_label.setBuddy(self.trigger_word_edit)
        trigger_label.setToolTip(TRIGGER_WORD_TIP)
        layout.addWidget(trigger_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.trigger_word_edit, 0, Qt.AlignmentFlag.AlignTop)

    def invalidate(self) -> None:
        """Another open started: a base image still loading is no longer wanted."""
        self._serial += 1

    def show_actor(self, actor_name: str) -> None:
        self.invalidate()
        self.actor_name_label.setText(actor_name)
        self.trigger_word_edit.setPlaceholderText(actor_name)
        self.trigger_word_edit.show_word("", False)
        self.trigger_word_edit.setEnabled(True)
        self._load_base_image(actor_name)

    def show_failed(self, actor_id: str) -> None:
        self.invalidate()
        self.actor_name_label.setText(f"Actor {actor_id}")
        self.base_image_label.clear()
        self.trigger_word_edit.show_word("", False)
        self.trigger_word_edit.setEnabled(False)

    def show_trigger_word(self, word: str, stored: bool) -> None:
        """The actor's trigger word (``stored`` False: the actor name, shown as the placeholder)."""
        if not self.trigger_word_edit.hasFocus():
            self.trigger_word_edit.show_word(word, stored)

    def set_image_count(self, count: int) -> None:
        self._count = count
        self._show_count()

    def set_reviewed_count(self, reviewed: int) -> None:
        """How many of the images are decided (good or bad): the review's progress."""
        self._reviewed = reviewed
        self._show_count()

    def _show_count(self) -> None:
        self.image_count_label.setText(image_count_text(self._count, self._reviewed))

    def _load_base_image(self, actor_name: str) -> None:
        self.base_image_label.clear()
        self.base_image_label.setToolTip(BASE_IMAGE_TIP)
        serial = self._serial
        read = self._read_base_image

        def load() -> QImage | None:
            data = read(actor_name)
            return None if data is None else decode_fitted(data, BASE_THUMB)

        def done(image: QImage | None) -> None:
            if serial != self._serial:
                return
            if image is None:
                self.base_image_label.setText(NO_BASE_IMAGE)
            else:
                self.base_image_label.setPixmap(QPixmap.fromImage(image))

        def failed(error: BaseException) -> None:
            if serial == self._serial:  # shown where the image would be, and in the log
                message = failure_text(error, f"Base image of {actor_name}")
                log.warning("%s", message)
                self.base_image_label.setText(NO_BASE_IMAGE)
                self.base_image_label.setToolTip(message)

        self._jobs.run(load, on_result=done, on_error=failed)
