"""The actor header over the grid: base image thumbnail, the actor's name and ``N images in S3``."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from tdm_desktop.core.actors import BaseImage
from tdm_desktop.ui.jobs import JobRunner

log = logging.getLogger(__name__)

BASE_THUMB = 64


def scaled_base_image(base: BaseImage, size: int = BASE_THUMB) -> QImage:
    """The base image read (from its folder or S3) and scaled to fit ``size`` (worker threads:
    ``QImage`` only, never ``QPixmap``)."""
    image = QImage.fromData(base.read())
    if image.isNull():
        raise ValueError(f"{base}: not an image")
    return image.scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


class ActorHeader(QWidget):
    """``actorNameLabel``, ``baseImageLabel`` (loaded off the GUI thread on ``jobs``) and
    ``imageCountLabel``. A base image that arrives after another open started is dropped."""

    def __init__(self, jobs: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._serial = 0

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
        self.base_image_label.setToolTip("The actor's base image")
        self.image_count_label = QLabel("0 images in S3")
        self.image_count_label.setObjectName("imageCountLabel")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.base_image_label)
        names = QVBoxLayout()
        names.addWidget(self.actor_name_label)
        names.addWidget(self.image_count_label)
        layout.addLayout(names, 1)

    def invalidate(self) -> None:
        """Another open started: a base image still loading is no longer wanted."""
        self._serial += 1

    def show_actor(self, actor_name: str, base_image: BaseImage | None) -> None:
        self.invalidate()
        self.actor_name_label.setText(actor_name)
        self._load_base_image(base_image)

    def show_failed(self, actor_id: str) -> None:
        self.invalidate()
        self.actor_name_label.setText(f"Actor {actor_id}")
        self.base_image_label.clear()

    def set_image_count(self, count: int) -> None:
        self.image_count_label.setText(f"{count} images in S3")

    def _load_base_image(self, base: BaseImage | None) -> None:
        self.base_image_label.clear()
        if base is None:
            self.base_image_label.setText("no base\nimage")
            return
        serial = self._serial

        def done(image: QImage) -> None:
            if serial == self._serial:
                self.base_image_label.setPixmap(QPixmap.fromImage(image))

        self._jobs.run(
            lambda: scaled_base_image(base),
            on_result=done,
            on_error=lambda e: log.warning("base image: %s", e),
        )
