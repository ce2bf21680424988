"""What the grid shows of its model, and in which order: the review's filters and sorts.

Filters: All, Unreviewed (nobody decided yet), Good (decided good), Bad, Problems (a quality check
flagged it), Near-duplicates (in a group; listed group by group). Sorts: manifest order (the
default), newest first, filename, blurriest first, problems first, near-duplicate groups
together (``core.review_sort``).

While the filter is "All" in manifest order the grid shows ``ImageGridModel`` itself: no proxy
between them, so a reset of 100,000 rows maps nothing and asks nothing per row. Another filter or
sort puts a ``FlagFilterProxy`` in between (``GridFilter`` swaps the view's model), and the
grid's rows are then the proxy's. Everything that speaks of "the grid's rows" goes through
``GridFilter``'s ``to_source_row`` / ``to_view_row``. Analysis results (``ReviewFactsSource``)
only matter to the filters and sorts that use them; ``facts_changed`` re-applies only those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView

from tdm_desktop.core.review_sort import ReviewFacts, SortOrder, sort_key
from tdm_desktop.ui.grid.model import AnyIndex, ImageGridModel

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

FLAG_FILTERS = (
    ("All", "all"),
    ("Unreviewed", "unreviewed"),
    ("Good", "good"),
    ("Bad", "bad"),
    ("Problems", "problems"),
    ("Near-duplicates", "duplicates"),
)
"""The filter's choices: (label in the toolbar, value kept in the settings)."""
_VALUES = tuple(value for _label, value in FLAG_FILTERS)
_NEEDS_FACTS = {"problems", "duplicates"}

SORT_ORDERS = (
    ("Manifest order", SortOrder.MANIFEST),
    ("Newest first", SortOrder.NEWEST),
    ("Filename", SortOrder.FILENAME),
    ("Blurriest first", SortOrder.BLUR),
    ("Problems first", SortOrder.PROBLEMS),
    ("Near-duplicates together", SortOrder.DUPLICATES),
)
_SORTS_NEEDING_FACTS = {SortOrder.BLUR, SortOrder.PROBLEMS, SortOrder.DUPLICATES}


class ReviewFactsSource(Protocol):
    """What analysis found (``AnalysisController``)."""

    def facts(self, filename: str) -> ReviewFacts | None: ...

    def problems(self, filename: str) -> list[str]: ...

    def duplicate_group(self, filename: str) -> tuple[int, int] | None: ...


def check_flag_filter(name: str) -> str:
    if name not in _VALUES:
        raise ValueError(f"flag filter {name!r}: must be one of {', '.join(_VALUES)}")
    return name


class FlagFilterProxy(QSortFilterProxyModel):
    """Shows the images the review filter lets through, in the chosen order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._flag_filter = "all"
        self._order = SortOrder.MANIFEST
        self._facts: ReviewFactsSource | None = None
        self.setDynamicSortFilter(True)

    def flag_filter(self) -> str:
        return self._flag_filter

    def sort_order(self) -> SortOrder:
        return self._order

    def set_facts(self, facts: ReviewFactsSource | None) -> None:
        self._facts = facts

    def set_flag_filter(self, name: str) -> None:
        check_flag_filter(name)
        if name == self._flag_filter:
            return
        self._refilter(lambda: setattr(self, "_flag_filter", name))
        self._resort()

    def set_sort_order(self, order: SortOrder | str) -> None:
        order = SortOrder(order)
        if order != self._order:
            self._order = order
            self._resort()

    def effective_order(self) -> SortOrder:
        """The Near-duplicates filter lists group by group unless another order is chosen."""
        return effective_order(self._flag_filter, self._order)

    def facts_changed(self) -> None:
        """Analysis found more: re-apply the filter and the sort if they use what it found."""
        if self._flag_filter in _NEEDS_FACTS:
            self._refilter(lambda: None)
        if self.effective_order() in _SORTS_NEEDING_FACTS:
            self.invalidate()

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def _resort(self) -> None:
        if self.effective_order() is SortOrder.MANIFEST:
            self.sort(-1)  # the source's order, nothing compared
        else:
            self.invalidate()
            self.sort(0, Qt.SortOrder.AscendingOrder)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        wanted = self._flag_filter
        if wanted == "all":
            return True
        image = self._image(source_row, source_parent)
        if image is None:
            return False
        if wanted == "unreviewed":
            return not image.review.decided and image.good
        if wanted == "good":
            return image.good and image.review.decided
        if wanted == "bad":
            return not image.good
        if self._facts is None:
            return False
        if wanted == "problems":
            return bool(self._facts.problems(image.filename))
        return self._facts.duplicate_group(image.filename) is not None

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        order, facts = self.effective_order(), self._facts
        first = self._image(left.row(), left.parent())
        second = self._image(right.row(), right.parent())
        if first is None or second is None:
            return False
        return sort_key(order, first, facts.facts(first.filename) if facts else None) < sort_key(
            order, second, facts.facts(second.filename) if facts else None
        )

    def _image(self, source_row: int, source_parent: AnyIndex) -> TrainingImage | None:
        model = self.sourceModel()
        if isinstance(model, ImageGridModel):  # no QModelIndex per row: a big actor filters fast
            return model.image_at(source_row)
        return model.index(source_row, 0, source_parent).data(ImageGridModel.ImageRole)


def effective_order(flag_filter: str, order: SortOrder) -> SortOrder:
    """The Near-duplicates filter lists group by group unless another order is chosen."""
    if flag_filter == "duplicates" and order is SortOrder.MANIFEST:
        return SortOrder.DUPLICATES
    return order


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
        self._order = SortOrder.MANIFEST
        self._facts: ReviewFactsSource | None = None
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

    def sort_order(self) -> SortOrder:
        return self._order

    def wants_proxy(self) -> bool:
        return self._flag_filter != "all" or self._order is not SortOrder.MANIFEST

    def set_facts(self, facts: ReviewFactsSource | None) -> None:
        """What the Problems / Near-duplicates filters and the analysis sorts read."""
        self._facts = facts
        if self._proxy is not None:
            self._proxy.set_facts(facts)

    def facts_changed(self) -> None:
        if self._proxy is not None:
            self._proxy.facts_changed()

    def set_flag_filter(self, name: str) -> None:
        check_flag_filter(name)
        if name == self._flag_filter:
            return
        self._flag_filter = name
        if self._proxy is not None:
            self._proxy.set_flag_filter(name)
        self._place_proxy()

    def set_sort_order(self, order: SortOrder | str) -> None:
        order = SortOrder(order)
        if order == self._order:
            return
        self._order = order
        if self._proxy is not None:
            self._proxy.set_sort_order(order)
        self._place_proxy()

    def _place_proxy(self) -> None:
        if self.wants_proxy() and self._proxy is None:
            proxy = FlagFilterProxy(self)
            proxy.set_facts(self._facts)
            proxy.set_flag_filter(self._flag_filter)
            proxy.set_sort_order(self._order)
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
