"""The grid's current image and selection, in filenames: what flag, delete and preview act on.

Every question here costs O(what is selected), never O(rows): a flag key on a 100,000-image
actor reads the selected rows and the rows next to them, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex
from PySide6.QtWidgets import QListView

from tdm_desktop.core.actor_images import ImageRows
from tdm_desktop.ui.grid.filter import GridFilter

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage


def next_after(ordered: Sequence[str], selected: Collection[str]) -> str | None:
    """The image to move to after acting on ``selected``: the first unselected one after the last
    selected one, else the last unselected one before it; None when everything was selected."""
    chosen = set(selected)
    positions = [i for i, name in enumerate(ordered) if name in chosen]
    if not positions:
        return None
    row = next_row_after(positions, len(ordered))
    return ordered[row] if row is not None else None


def next_row_after(rows: Collection[int], row_count: int) -> int | None:
    """``next_after`` in rows: the first row after the last of ``rows`` that is not one of them,
    else the last such row before it; None when ``rows`` are all the rows. O(len(rows))."""
    chosen = set(rows)
    if not chosen:
        return None
    last = max(chosen)
    row = last + 1
    while row < row_count and row in chosen:
        row += 1
    if row < row_count:
        return row
    row = last - 1
    while row >= 0 and row in chosen:
        row -= 1
    return row if row >= 0 else None


class ViewImages(ImageRows):
    """The images in the order the grid shows them (its filter, its sort), read row by row when
    asked: walking a few rows from the current one costs a few rows, not the actor."""

    def __init__(self, rows: GridFilter) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return self._rows.view_model().rowCount()

    def _row(self, index: int) -> TrainingImage:
        image = self._rows.model.image_at(self._rows.to_source_row(index))
        assert image is not None
        return image


class GridSelection:
    """Reads and moves the selection of ``grid`` (showing what ``rows`` puts in front of it)."""

    def __init__(self, grid: QListView, rows: GridFilter) -> None:
        self._grid = grid
        self._rows = rows
        self._model = rows.model

    def selected_rows(self) -> list[int]:
        """The grid's rows that are selected, in order; the current one if none is."""
        rows = sorted(index.row() for index in self._grid.selectionModel().selectedIndexes())
        if not rows and self._grid.currentIndex().isValid():
            rows = [self._grid.currentIndex().row()]
        return rows

    def selected_filenames(self) -> list[str]:
        """Selected images in grid order; the current one if nothing is selected."""
        return [self._filename_at(row) for row in self.selected_rows()]

    def view_images(self) -> ViewImages:
        """The images in the grid's order, read lazily (see ``ViewImages``)."""
        return ViewImages(self._rows)

    def visible_filenames(self) -> list[str]:
        """Every filename the grid shows, in its order: O(rows), so not for what a key does."""
        return [self._filename_at(row) for row in range(self._view_count())]

    def current_row(self) -> int:
        """The current image's row in the grid's order, or -1."""
        index = self._grid.currentIndex()
        return index.row() if index.isValid() else -1

    def row_of(self, filename: str | None) -> int:
        """``filename``'s row in the grid's order, or -1 (not shown)."""
        row = self._model.row_of(filename) if filename is not None else -1
        return self._rows.to_view_row(row) if row >= 0 else -1

    def current_filename(self) -> str | None:
        index = self._grid.currentIndex()
        return self._filename_at(index.row()) if index.isValid() else None

    def has_current(self) -> bool:
        return self._grid.currentIndex().isValid()

    def select_filename(self, filename: str) -> bool:
        """Make ``filename`` the current, only selected image (if the filter shows it)."""
        index = self._rows.view_index(self._model.row_of(filename))
        if not index.isValid():
            return False
        self.set_current(index)
        return True

    def make_current_row(self, view_row: int) -> None:
        """Make the row current, clamped to the rows shown (nothing when none is)."""
        count = self._view_count()
        if count:
            self.set_current(self._rows.view_model().index(max(0, min(view_row, count - 1)), 0))

    def make_last_row_current(self) -> None:
        self.make_current_row(self._view_count() - 1)

    def ensure_current(self) -> None:
        """The first image becomes current if none is."""
        if not self.has_current() and self._view_count():
            self.make_current_row(0)

    def set_current(self, index: QModelIndex) -> None:
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self._grid.selectionModel().setCurrentIndex(index, flags)
        self._grid.scrollTo(index)

    def step(self, delta: int) -> None:
        """Move the current image by ``delta`` rows (the preview's previous / next)."""
        row = self._grid.currentIndex().row() + delta
        if 0 <= row < self._view_count():
            self.set_current(self._rows.view_model().index(row, 0))

    def act_and_advance(
        self,
        act: Callable[[list[str]], bool],
        next_for: Callable[[list[str]], str | None] | None = None,
    ) -> None:
        """Run ``act`` on the selection, then move to the image after it (flag keys act on the
        selection and advance, as in photo culling tools), or to ``next_for(selection)`` when
        given; if there is none, stay on the last acted-on image."""
        rows = self.selected_rows()
        if not rows:
            return
        names = [self._filename_at(row) for row in rows]
        position = self._grid.currentIndex().row()
        target = next_for(names) if next_for is not None else self._next_after_rows(rows)
        if not act(names):
            return
        moved = target is not None and self.select_filename(target)
        if not moved and not self.select_filename(names[-1]):
            self.make_current_row(position)

    def next_after_selection(self, names: list[str]) -> str | None:
        """The image after ``names`` (selected images) in the grid's order, as ``next_after``."""
        rows = [self._rows.to_view_row(self._model.row_of(name)) for name in names]
        return self._next_after_rows([row for row in rows if row >= 0])

    def _next_after_rows(self, rows: Collection[int]) -> str | None:
        row = next_row_after(rows, self._view_count())
        return self._filename_at(row) if row is not None else None

    def _view_count(self) -> int:
        return self._rows.view_model().rowCount()

    def _filename_at(self, view_row: int) -> str:
        return self._model.filenames()[self._rows.to_source_row(view_row)]
