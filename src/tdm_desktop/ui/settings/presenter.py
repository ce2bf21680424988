"""Settings… (Ctrl+,): opens the dialog and applies what it returns. Values are saved in
``QSettings``; the thumbnail cache budget applies at once, the generator from the next generation
(the generation presenter reads the settings each time)."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QWidget

from tdm_desktop.ui.settings.dialog import SettingsDialog
from tdm_desktop.ui.settings.model import (
    KEY_BUDGET,
    KEY_REQUESTS,
    AppSettings,
    load_settings,
    save_settings,
)
from tdm_desktop.ui.thumbnails.loader import MIB


class PixmapBudget(Protocol):
    """The thumbnail loader's decoded-pixmap cache and GETs in flight (``ThumbnailLoader``)."""

    def set_pixmap_budget(self, budget_bytes: int) -> None: ...

    def set_max_requests(self, count: int) -> None: ...


class SettingsPresenter(QObject):
    """One ``SettingsDialog`` at a time (a child of ``window``); ``status_message(text, ms)``."""

    status_message = Signal(str, int)

    def __init__(self, window: QWidget, settings: QSettings, loader: PixmapBudget) -> None:
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._loader = loader
        self.dialog: SettingsDialog | None = None

    def open(self) -> None:
        """Show the dialog (or raise the one already open)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        dialog = SettingsDialog(load_settings(self._settings), parent=self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self.apply(dialog.values()))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()

    def apply(self, values: AppSettings) -> None:
        save_settings(self._settings, values)
        self._apply_pixmap_budget(values.thumbnail_budget_mib)
        self._loader.set_max_requests(values.thumbnail_requests)
        self.status_message.emit(f"Settings saved: generator {values.generator}", 5000)

    def restore(self) -> None:
        """At startup: a saved thumbnail cache budget applies (else the loader keeps its own)."""
        if self._settings.contains(KEY_BUDGET):
            self._apply_pixmap_budget(load_settings(self._settings).thumbnail_budget_mib)
        if self._settings.contains(KEY_REQUESTS):
            self._loader.set_max_requests(load_settings(self._settings).thumbnail_requests)

    def _apply_pixmap_budget(self, mib: int) -> None:
        self._loader.set_pixmap_budget(mib * MIB)
