"""What the status bar and the error banner say: thumbnails loaded / failed, good · bad, and one
clear line when a failure hits every image (endpoint unreachable, no credentials, timeout)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

BANNER_STYLE = (
    "QLabel#errorBanner { background: #fdecea; color: #611a15; border: 1px solid #f5c2c0;"
    " padding: 6px; border-radius: 4px; }"
)


def connection_problem(reason: str, endpoint: str | None) -> str | None:
    """A banner line for thumbnail failures that hit every image, else None."""
    where = endpoint or "AWS S3"
    if reason == "unreachable":
        return (
            f"S3 is unreachable at {where}: thumbnails cannot load. Check the endpoint "
            "(--endpoint-url, AWS_ENDPOINT_URL_S3) and the network, then press F5."
        )
    if reason == "no credentials":
        return (
            "No AWS credentials found: set AWS_PROFILE (or --profile) or the AWS_ACCESS_KEY_ID "
            "variables, then press F5."
        )
    if reason == "timeout":
        return f"S3 at {where} does not answer in time: press F5 to try again."
    return None


def counts_text(good: int, bad: int) -> str:
    return f"good {good} · bad {bad}"


class ErrorBanner(QLabel):
    """``errorBanner``: a clear message over the grid, hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet(BANNER_STYLE)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.show()

    def dismiss(self) -> None:
        self.clear()
        self.hide()

    def shown_text(self, ancestor: QWidget) -> str:
        return self.text() if self.isVisibleTo(ancestor) else ""


def add_status_labels(bar: QStatusBar) -> tuple[QLabel, QLabel]:
    """``loadedLabel`` and ``flagCountsLabel``, permanent on the right of ``bar``."""
    loaded_label = QLabel("Loaded 0 / 0")
    loaded_label.setObjectName("loadedLabel")
    flag_counts_label = QLabel(counts_text(0, 0))
    flag_counts_label.setObjectName("flagCountsLabel")
    bar.addPermanentWidget(loaded_label)
    bar.addPermanentWidget(flag_counts_label)
    return loaded_label, flag_counts_label


class ThumbnailStatus(QObject):
    """Which S3 keys the thumbnail loader may fetch (the listed images), and how loading went.

    ``fetch_key`` runs on the loader's worker threads: it only reads a dict the GUI thread replaces.
    ``endpoint`` says where S3 is (None: AWS) for the connection-problem line.
    """

    loaded_text_changed = Signal(str)
    connection_failed = Signal(str)  # a banner line

    def __init__(
        self,
        fetch_image_bytes: Callable[[Any], bytes],
        endpoint: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fetch_image_bytes = fetch_image_bytes
        self._endpoint = endpoint
        self._images_by_key: dict[str, TrainingImage] = {}
        self._loaded_keys: set[str] = set()
        self._failed_keys: set[str] = set()
        self._row_count = 0

    def fetch_key(self, key: str) -> bytes:
        """The loader's fetch (worker threads): S3 key → TrainingImage → service."""
        image = self._images_by_key.get(key)
        if image is None:
            raise KeyError(f"{key}: no longer listed")
        return self._fetch_image_bytes(image)

    def forget_loaded(self) -> None:
        """Another actor opens: nothing of it is loaded yet."""
        self._loaded_keys.clear()
        self._failed_keys.clear()

    def set_images(self, images: Sequence[TrainingImage]) -> None:
        self._images_by_key = {img.location.key: img for img in images if img.location is not None}
        self._loaded_keys &= self._images_by_key.keys()
        self._failed_keys &= self._images_by_key.keys()
        self._row_count = len(images)
        self._announce()

    def loaded_text(self) -> str:
        text = f"Loaded {len(self._loaded_keys)} / {self._row_count}"
        if self._failed_keys:
            text += f" ({len(self._failed_keys)} failed)"
        return text

    def retry_failed(self, retry: Callable[[list[str]], None]) -> None:
        """F5: ask ``retry`` to load the failed thumbnails again."""
        if self._failed_keys:
            retry(sorted(self._failed_keys))
            self._failed_keys.clear()
            self._announce()

    def on_thumbnail_ready(self, key: str) -> None:
        if key in self._images_by_key:
            self._loaded_keys.add(key)
            self._failed_keys.discard(key)
            self._announce()

    def on_thumbnail_failed(self, key: str, reason: str) -> None:
        if key in self._images_by_key:
            self._failed_keys.add(key)
            self._announce()
            message = connection_problem(reason, self._endpoint())
            if message is not None:
                self.connection_failed.emit(message)

    def _announce(self) -> None:
        self.loaded_text_changed.emit(self.loaded_text())
