"""The toolbar's view controls: the thumbnail size slider (kept in step with Ctrl+= / Ctrl+- /
Ctrl+wheel on the grid) and the Good / Bad filter, both remembered in the settings."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtWidgets import QComboBox, QSlider

from tdm_desktop.ui.grid.filter import FLAG_FILTERS, GridFilter
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import DEFAULT_THUMBNAIL, ThumbnailGridView, clamp_thumbnail
from tdm_desktop.ui.settings.model import read_number

SIZE_KEY = "grid/thumbnailSize"
# A slider drag changes the size dozens of times a second; each QSettings write is followed by a
# sync to disk, so the size is written once it has been still this long (and on close).
SAVE_SIZE_AFTER_MS = 500
FILTER_KEY = "grid/flagFilter"


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
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._grid = grid
        self._rows = rows
        self._selection = selection
        self._slider = size_slider
        self._filter = flag_filter
        self._settings = settings
        self._save_size = QTimer(self, singleShot=True, interval=SAVE_SIZE_AFTER_MS)
        self._save_size.timeout.connect(
            lambda: self._settings.setValue(SIZE_KEY, self._slider.value())
        )
        size_slider.valueChanged.connect(self._on_slider)
        grid.thumbnail_size_changed.connect(self._on_grid_size)
        flag_filter.currentIndexChanged.connect(self._on_filter)

    def restore(self) -> None:
        s = self._settings
        size = clamp_thumbnail(read_number(s, SIZE_KEY, DEFAULT_THUMBNAIL))
        self._slider.setValue(size)
        self._grid.set_thumbnail_size(size)
        values = [value for _label, value in FLAG_FILTERS]
        wanted = str(s.value(FILTER_KEY, "all"))
        self._filter.setCurrentIndex(values.index(wanted) if wanted in values else 0)

    def save(self) -> None:
        self._save_size.stop()
        self._settings.setValue(SIZE_KEY, self._slider.value())
        self._settings.setValue(FILTER_KEY, self._filter.currentData())

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
        keep = self._selection.current_filename()
        self._rows.set_flag_filter(value)
        self._settings.setValue(FILTER_KEY, value)
        if keep is None or not self._selection.select_filename(keep):
            self._selection.make_current_row(0)
