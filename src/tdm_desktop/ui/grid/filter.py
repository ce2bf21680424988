"""What the grid shows of its model: every image, or only the good or the bad ones.

While the filter is "All" the grid shows ``ImageGridModel`` itself: no proxy between them, so a
reset of 100,000 rows maps nothing and asks nothing per row. Another filter puts a
``FlagFilterProxy`` in between (``GridFilter`` swaps the view's model), and the grid's rows are
then the proxy's. Everything that speaks of "the grid's rows" goes through ``GridFilter``'s
``to_source_row`` / ``to_view_row``. A sort, or another filter, is one more reason for
``GridFilter.wants_proxy`` to put a proxy in: manifest order and "All" never need one.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView

from tdm_desktop.ui.grid.model import AnyIndex, ImageGridModel

FLAG_FILTERS = (("All", "all"), ("Good", "good"), ("Bad", "bad"))
"""The filter's choices: (label in the toolbar, value kept in the settings)."""
_VALUES = tuple(value for _label, value in FLAG_FILTERS)


def check_flag_filter(name: str) -> str:
    if name not in _VALUES:
        raise ValueError(f"flag filter {name!r}: must be one of {', '.join(_VALUES)}")
    return name


class FlagFilterProxy(QSortFilterProxyModel):
    """Shows all images, only the good ones or only the bad ones."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._flag_filter = "all"
        self.setDynamicSortFilter(True)

    def flag_filter(self) -> str:
        return self._flag_filter

    def set_flag_filter(self, name: str) -> None:
        check_flag_filter(name)
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
        model = self.sourceModel()
        if isinstance(model, ImageGridModel):  # no QModelIndex per row: a big actor filters fast
            image = model.image_at(source_row)
            good = image.good if image is not None else True
        else:
            good = bool(model.index(source_row, 0, source_parent).data(ImageGridModel.GoodRole))
        return good == (self._flag_filter == "good")


class GridFilter(QObject):
    """Puts a ``FlagFilterProxy`` between ``view`` and ``model`` only while a filter is on.

    ``view_model_changed()`` after the view got another model (its selection model is new then:
    the current image and the selection are the caller's to restore, see ``ViewControlsPresenter``).
    """

    view_model_changed = Signal()

    def __init__(
        self, view: QAbstractItemView, model: ImageGridModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._model = model
        self._proxy: FlagFilterProxy | None = None
        self._flag_filter = "all"
        view.setModel(model)

    @property
    def model(self) -> ImageGridModel:
        return self._model

    def flag_filter(self) -> str:
        return self._flag_filter

    def proxy(self) -> FlagFilterProxy | None:
        """The proxy the view shows, or None while it shows the model itself."""
        return self._proxy

    def view_model(self) -> QAbstractItemModel:
        return self._proxy if self._proxy is not None else self._model

    def wants_proxy(self) -> bool:
        return self._flag_filter != "all"

    def set_flag_filter(self, name: str) -> None:
        check_flag_filter(name)
        if name == self._flag_filter:
            return
        self._flag_filter = name
        if self._proxy is not None:
            self._proxy.set_flag_filter(name)
        if self.wants_proxy() and self._proxy is None:
            proxy = FlagFilterProxy(self)
            proxy.set_flag_filter(name)
            proxy.setSourceModel(self._model)
            self._show(proxy)
        elif not self.wants_proxy() and self._proxy is not None:
            self._show(None)

    def to_source_row(self, view_row: int) -> int:
        """The model's row of the grid's row ``view_row`` (-1 if there is none)."""
        if self._proxy is None:
            return view_row if 0 <= view_row < self._model.rowCount() else -1
        return self._proxy.mapToSource(self._proxy.index(view_row, 0)).row()

    def to_view_row(self, source_row: int) -> int:
        """The grid's row showing the model's row ``source_row``, or -1 (filtered out)."""
        if self._proxy is None:
            return source_row if 0 <= source_row < self._model.rowCount() else -1
        index = self._proxy.mapFromSource(self._model.index(source_row, 0))
        return index.row() if index.isValid() else -1

    def view_index(self, source_row: int) -> QModelIndex:
        row = self.to_view_row(source_row)
        return self.view_model().index(row, 0) if row >= 0 else QModelIndex()

    def _show(self, proxy: FlagFilterProxy | None) -> None:
        old_selection = self._view.selectionModel()
        old_proxy, self._proxy = self._proxy, proxy
        self._view.setModel(proxy if proxy is not None else self._model)
        if old_selection is not None:
            old_selection.deleteLater()  # setModel does not delete the old selection model
        if old_proxy is not None:
            old_proxy.deleteLater()
        self.view_model_changed.emit()
