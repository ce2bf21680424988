"""The good/bad filter in front of the grid's model."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSortFilterProxyModel

from tdm_desktop.ui.grid.model import AnyIndex, ImageGridModel

FLAG_FILTERS = (("All", "all"), ("Good", "good"), ("Bad", "bad"))
"""The filter's choices: (label in the toolbar, value kept in the settings)."""
_VALUES = tuple(value for _label, value in FLAG_FILTERS)


class FlagFilterProxy(QSortFilterProxyModel):
    """Shows all images, only the good ones or only the bad ones."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._flag_filter = "all"
        self.setDynamicSortFilter(True)

    def flag_filter(self) -> str:
        return self._flag_filter

    def set_flag_filter(self, name: str) -> None:
        if name not in _VALUES:
            raise ValueError(f"flag filter {name!r}: must be one of {', '.join(_VALUES)}")
        if name == self._flag_filter:
            return
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self._flag_filter = name
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._flag_filter = name
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if self._flag_filter == "all":
            return True
        good = self.sourceModel().index(source_row, 0, source_parent).data(ImageGridModel.GoodRole)
        return bool(good) == (self._flag_filter == "good")
