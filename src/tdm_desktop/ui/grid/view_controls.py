"""The toolbar's view controls: the thumbnail size slider (kept in step with Ctrl+= / Ctrl+- /
Ctrl+wheel on the grid), the review filter and the sort, all remembered in the settings."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QMenu, QSlider

from tdm_desktop.ui.grid.filter import FLAG_FILTERS, SORT_ORDERS, GridFilter
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import DEFAULT_THUMBNAIL, ThumbnailGridView, clamp_thumbnail
from tdm_desktop.ui.settings.model import read_number

SIZE_KEY = "grid/thumbnailSize"
# A slider drag changes the size dozens of times a second; each QSettings write is followed by a
# sync to disk, so the size is written once it has been still this long (and on close).
SAVE_SIZE_AFTER_MS = 500
FILTER_KEY = "grid/flagFilter"
SORT_KEY = "grid/sortOrder"


GRID_LETTERS = "gpbxtucrz"
"""Letters that are single-key shortcuts on the grid: in an open menu they would fire the
shortcut, not the menu item, so the menus' mnemonics avoid them."""


def with_mnemonics(labels: list[str], avoid: str = GRID_LETTERS) -> list[str]:
    """Each label with an ``&`` before its first letter that no label before it took and that is
    not in ``avoid``."""
    taken: set[str] = set(avoid)
    marked = []
    for label in labels:
        place = next(
            (i for i, c in enumerate(label) if c.isalpha() and c.lower() not in taken), None
        )
        if place is None:
            marked.append(label)
            continue
        taken.add(label[place].lower())
        marked.append(f"{label[:place]}&{label[place:]}")
    return marked


class ViewControlsPresenter(QObject):
    """Connects ``size_slider`` and ``flag_filter`` to ``grid`` / ``rows``; changing the filter
    keeps the current image when it is still shown, else the first one becomes current."""

    def __init__(
        self,
        grid: ThumbnailGridView,
        rows: GridFilter,
        selection: GridSelection,
        size_slider: QSlider,
        flag_filter: QComboBox,
        settings: QSettings,
        sort_order: QComboBox | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._grid = grid
        self._rows = rows
        self._selection = selection
        self._slider = size_slider
        self._filter = flag_filter
        self._sort = sort_order
        self._settings = settings
        self._save_size = QTimer(self, singleShot=True, interval=SAVE_SIZE_AFTER_MS)
        self._save_size.timeout.connect(
            lambda: self._settings.setValue(SIZE_KEY, self._slider.value())
        )
        size_slider.valueChanged.connect(self._on_slider)
        grid.thumbnail_size_changed.connect(self._on_grid_size)
        flag_filter.currentIndexChanged.connect(self._on_filter)
        if sort_order is not None:
            sort_order.currentIndexChanged.connect(self._on_sort)

    def add_menus(self, menu: QMenu) -> None:
        """View → Show and View → Sort: the two combos' choices as menu items, so the keyboard
        reaches them too (Alt+V, S, then the item's underlined letter)."""
        self._add_choices(menu.addMenu("&Show"), self._filter, "actionShow")
        if self._sort is not None:
            self._add_choices(menu.addMenu("Sort or&der"), self._sort, "actionSort")

    @staticmethod
    def _add_choices(menu: QMenu, combo: QComboBox, prefix: str) -> None:
        group = QActionGroup(menu)
        actions = []
        labels = with_mnemonics([combo.itemText(index) for index in range(combo.count())])
        for index, label in enumerate(labels):
            action = QAction(label, menu)
            action.setObjectName(f"{prefix}{str(combo.itemData(index)).title()}")
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, i=index: combo.setCurrentIndex(i))
            group.addAction(action)
            menu.addAction(action)
            actions.append(action)

        def check(index: int) -> None:
            if 0 <= index < len(actions):
                actions[index].setChecked(True)

        combo.currentIndexChanged.connect(check)
        check(combo.currentIndex())

    def restore(self) -> None:
        s = self._settings
        size = clamp_thumbnail(read_number(s, SIZE_KEY, DEFAULT_THUMBNAIL))
        self._slider.setValue(size)
        self._grid.set_thumbnail_size(size)
        values = [value for _label, value in FLAG_FILTERS]
        wanted = str(s.value(FILTER_KEY, "all"))
        self._filter.setCurrentIndex(values.index(wanted) if wanted in values else 0)
        if self._sort is not None:
            orders = [str(order) for _label, order in SORT_ORDERS]
            wanted = str(s.value(SORT_KEY, orders[0]))
            self._sort.setCurrentIndex(orders.index(wanted) if wanted in orders else 0)

    def save(self) -> None:
        self._save_size.stop()
        self._settings.setValue(SIZE_KEY, self._slider.value())
        self._settings.setValue(FILTER_KEY, self._filter.currentData())
        if self._sort is not None:
            self._settings.setValue(SORT_KEY, self._sort.currentData())

    def _on_slider(self, value: int) -> None:
        self._grid.set_thumbnail_size(value)
        self._save_size.start()

    def _on_grid_size(self, value: int) -> None:
        if self._slider.value() != value:
            blocked = self._slider.blockSignals(True)
            self._slider.setValue(value)
            self._slider.blockSignals(blocked)
            self._save_size.start()

    def _on_filter(self, _index: int) -> None:
        value = self._filter.currentData()
        self._keeping_current(lambda: self._rows.set_flag_filter(value))
        self._settings.setValue(FILTER_KEY, value)

    def _on_sort(self, _index: int) -> None:
        assert self._sort is not None
        value = self._sort.currentData()
        self._keeping_current(lambda: self._rows.set_sort_order(value))
        self._settings.setValue(SORT_KEY, value)

    def _keeping_current(self, change) -> None:
        """Apply ``change``; the current image stays current if still shown, else the first."""
        keep = self._selection.current_filename()
        change()
        if keep is None or not self._selection.select_filename(keep):
            self._selection.make_current_row(0)
