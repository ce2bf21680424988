"""Space / Enter on the grid: the full-size preview of the current image, following the grid.

The preview carries the flag / delete / undo actions, so the same keys work there; its arrows move
the grid's current image, and the preview shows whatever becomes current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QModelIndex, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from tdm_desktop.core.timestamps import Clock
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.preview.dialog import PreviewDialog

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage


class CompressedCache(Protocol):
    """The thumbnail loader's cache of fetched bytes (``ThumbnailLoader``)."""

    def compressed_bytes(self, key: str) -> bytes | None: ...


class PreviewPresenter(QObject):
    """Opens / closes one ``PreviewDialog`` (a child of ``window``, made on first use).

    Full-size bytes come from the loader's compressed cache when it has them, else ``fetch``.
    """

    def __init__(
        self,
        window: QWidget,
        grid: ThumbnailGridView,
        selection: GridSelection,
        loader: CompressedCache,
        fetch: Callable[[TrainingImage], bytes],
        actions: Sequence[QAction],
        *,
        clock: Clock | None = None,
    ) -> None:
        """``clock``: now, for "5 min ago" (the system clock by default)."""
        super().__init__(window)
        self._clock = clock
        self._window = window
        self._grid = grid
        self._selection = selection
        self._loader = loader
        self._fetch = fetch
        self._actions = list(actions)
        self.dialog: PreviewDialog | None = None
        # the current image moved, or its row changed (e.g. another curator's flag)
        grid.current_image_changed.connect(self._on_current_changed)

    def toggle(self) -> None:
        """Show the current image; if the preview is open, close it."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.close()
            return
        index = self._grid.currentIndex()
        if not index.isValid():
            return
        self._selection.set_current(index)
        if self.dialog is None:
            self.dialog = PreviewDialog(
                self._full_image_bytes, clock=self._clock, parent=self._window
            )
            self.dialog.addActions(self._actions)
            self.dialog.navigate_requested.connect(self._selection.step)
        self.dialog.show_image(index.data(ImageGridModel.ImageRole))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()

    def _full_image_bytes(self, image: TrainingImage) -> bytes:
        if image.location is not None:
            data = self._loader.compressed_bytes(image.location.key)
            if data:
                return data
        return self._fetch(image)

    def _on_current_changed(self, current: QModelIndex) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            image = current.data(ImageGridModel.ImageRole) if current.isValid() else None
            self.dialog.show_image(image)
