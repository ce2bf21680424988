"""Space / Enter on the grid: the full-size preview of the current image, following the grid.

The preview carries the flag / delete / undo actions, so the same keys work there; its arrows move
the grid's current image, and the preview shows whatever becomes current.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QModelIndex, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QListView, QWidget

from tdm_desktop.ui.common.full_image import FetchImage
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.preview.dialog import PreviewDialog, ReadBaseImage


class OpenActorName(Protocol):
    """The actor open in the grid (``CurationController``)."""

    @property
    def actor_name(self) -> str: ...


class PreviewPresenter(QObject):
    """Opens / closes one ``PreviewDialog`` (a child of ``window``, made on first use).

    ``fetch``: full-size bytes (``FullImageSource``: the loader's copy, else a GET).
    """

    def __init__(
        self,
        window: QWidget,
        grid: QListView,
        selection: GridSelection,
        fetch: FetchImage,
        actions: Sequence[QAction],
        *,
        actor: OpenActorName | None = None,
        read_base_image: ReadBaseImage | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._grid = grid
        self._selection = selection
        self._fetch = fetch
        self._actions = list(actions)
        self._actor = actor
        self._read_base_image = read_base_image
        self.dialog: PreviewDialog | None = None
        grid.selectionModel().currentChanged.connect(self._on_current_changed)

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
                self._fetch, read_base_image=self._read_base_image, parent=self._window
            )
            self.dialog.addActions(self._actions)
            self.dialog.navigate_requested.connect(self._selection.step)
        self.dialog.show_image(index.data(ImageGridModel.ImageRole), self._actor_name())
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()

    def _actor_name(self) -> str:
        return self._actor.actor_name if self._actor is not None else ""

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            image = current.data(ImageGridModel.ImageRole) if current.isValid() else None
            self.dialog.show_image(image, self._actor_name())
