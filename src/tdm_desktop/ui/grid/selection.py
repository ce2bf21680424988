"""The grid's current image and selection, in filenames: what flag, delete and preview act on."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from PySide6.QtCore import QItemSelectionModel, QModelIndex
from PySide6.QtWidgets import QListView

from tdm_desktop.ui.grid.filter import FlagFilterProxy
from tdm_desktop.ui.grid.model import ImageGridModel


def next_after(ordered: Sequence[str], selected: Collection[str]) -> str | None:
    """The image to move to after acting on ``selected``: the first unselected one after the last
    selected one, else the last unselected one before it; None when everything was selected."""
    chosen = set(selected)
    positions = [i for i, name in enumerate(ordered) if name in chosen]
    if not positions:
        return None
    last = positions[-1]
    for name in ordered[last + 1 :]:
        if name not in chosen:
            return name
    for name in reversed(ordered[:last]):
        if name not in chosen:
            return name
    return None


class GridSelection:
    """Reads and moves the selection of ``grid`` (showing ``proxy`` over ``model``)."""

    def __init__(self, grid: QListView, proxy: FlagFilterProxy, model: ImageGridModel) -> None:
        self._grid = grid
        self._proxy = proxy
        self._model = model

    def selected_filenames(self) -> list[str]:
        """Selected images in grid order; the current one if nothing is selected."""
        rows = sorted(index.row() for index in self._grid.selectionModel().selectedIndexes())
        if not rows and self._grid.currentIndex().isValid():
            rows = [self._grid.currentIndex().row()]
        return [self._filename_at(row) for row in rows]

    def visible_filenames(self) -> list[str]:
        return [self._filename_at(row) for row in range(self._proxy.rowCount())]

    def current_filename(self) -> str | None:
        index = self._grid.currentIndex()
        return self._filename_at(index.row()) if index.isValid() else None

    def has_current(self) -> bool:
        return self._grid.currentIndex().isValid()

    def select_filename(self, filename: str) -> bool:
        """Make ``filename`` the current, only selected image (if the filter shows it)."""
        row = self._model.row_of(filename)
        if row < 0:
            return False
        index = self._proxy.mapFromSource(self._model.index(row, 0))
        if not index.isValid():
            return False
        self.set_current(index)
        return True

    def make_current_row(self, proxy_row: int) -> None:
        """Make the row current, clamped to the rows shown (nothing when none is)."""
        count = self._proxy.rowCount()
        if count:
            self.set_current(self._proxy.index(max(0, min(proxy_row, count - 1)), 0))

    def make_last_row_current(self) -> None:
        self.make_current_row(self._proxy.rowCount() - 1)

    def ensure_current(self) -> None:
        """The first image becomes current if none is."""
        if not self.has_current() and self._proxy.rowCount():
            self.make_current_row(0)

    def set_current(self, index: QModelIndex) -> None:
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self._grid.selectionModel().setCurrentIndex(index, flags)
        self._grid.scrollTo(index)

    def step(self, delta: int) -> None:
        """Move the current image by ``delta`` rows (the preview's previous / next)."""
        row = self._grid.currentIndex().row() + delta
        if 0 <= row < self._proxy.rowCount():
            self.set_current(self._proxy.index(row, 0))

    def act_and_advance(self, act: Callable[[list[str]], bool]) -> None:
        """Run ``act`` on the selection, then move to the image after it (flag keys act on the
        selection and advance, as in photo culling tools); if it is gone, stay on the last
        acted-on image."""
        names = self.selected_filenames()
        if not names:
            return
        position = self._grid.currentIndex().row()
        target = next_after(self.visible_filenames(), names)
        if not act(names):
            return
        moved = target is not None and self.select_filename(target)
        if not moved and not self.select_filename(names[-1]):
            self.make_current_row(position)

    def next_after_selection(self, names: list[str]) -> str | None:
        return next_after(self.visible_filenames(), names)

    def _filename_at(self, proxy_row: int) -> str:
        image = self._proxy.index(proxy_row, 0).data(ImageGridModel.ImageRole)
        return image.filename
