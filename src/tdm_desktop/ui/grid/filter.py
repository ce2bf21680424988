"""The review filter and the sort in front of the grid's model.

Filters: All, Unreviewed (nobody decided yet), Good (decided good), Bad, Problems (a quality
check flagged it), Near-duplicates (in a group; listed group by group). Sorts: manifest order
(the default), newest first, filename, blurriest first, problems first, near-duplicate groups
together (``core.review_sort``). With "All" in manifest order the proxy passes rows through
unchanged; analysis results (``ReviewFactsSource``) only matter to the filters and sorts that
use them, and ``facts_changed`` re-applies only those.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt

from tdm_desktop.core.review_sort import ReviewFacts, SortOrder, sort_key
from tdm_desktop.ui.grid.model import AnyIndex, ImageGridModel

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
        if name not in _VALUES:
            raise ValueError(f"flag filter {name!r}: must be one of {', '.join(_VALUES)}")
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
        if self._flag_filter == "duplicates" and self._order is SortOrder.MANIFEST:
            return SortOrder.DUPLICATES
        return self._order

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
        index = self.sourceModel().index(source_row, 0, source_parent)
        image = index.data(ImageGridModel.ImageRole)
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
        order = self.effective_order()
        first = left.data(ImageGridModel.ImageRole)
        second = right.data(ImageGridModel.ImageRole)
        facts = self._facts
        return sort_key(order, first, facts.facts(first.filename) if facts else None) < sort_key(
            order, second, facts.facts(second.filename) if facts else None
        )
