"""Settings… (Ctrl+,): opens the dialog and applies what it returns. Values are saved in
``QSettings``; the thumbnail cache budget, the undo memory, the check interval and the curator
apply at once, the
generator from the next generation (the generation presenter reads the settings each time), and a
new data dir is asked for through ``data_dir_chosen`` (the app opens a window on it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QWidget

from tdm_desktop.core.curators import CuratorChoice, choose_curator
from tdm_desktop.core.data_dirs import DataDirChoice, choose_data_dir
from tdm_desktop.core.errors import InvalidNameError
from tdm_desktop.ui.settings.dialog import InEffect, SettingsDialog
from tdm_desktop.ui.settings.model import (
    KEY_BUDGET,
    KEY_REQUESTS,
    AppSettings,
    load_settings,
    save_settings,
)
from tdm_desktop.ui.thumbnails.loader import MIB

log = logging.getLogger(__name__)


class PixmapBudget(Protocol):
    """The thumbnail loader's decoded-pixmap cache and GETs in flight (``ThumbnailLoader``)."""

    def set_pixmap_budget(self, budget_bytes: int) -> None: ...

    def set_max_requests(self, count: int) -> None: ...


class UndoBudget(Protocol):
    """What keeps the copies of deleted images for undo (``CurationController``)."""

    def set_undo_memory(self, budget_bytes: int) -> None: ...


class Curated(Protocol):
    """Whose decisions the flags record (``TrainingDataService.curator``)."""

    curator: str | None


class Polling(Protocol):
    """What checks an S3 catalog for others' changes (``DocumentWatcher``)."""

    def set_poll_interval(self, msecs: int) -> None: ...


class SettingsPresenter(QObject):
    """One ``SettingsDialog`` at a time (a child of ``window``); ``status_message(text, ms)``.

    ``curator_applied(CuratorChoice)`` whenever the curator in effect is (re)decided;
    ``data_dir_chosen(location)`` when another data dir was saved (open it).
    """

    status_message = Signal(str, int)
    curator_applied = Signal(object)
    data_dir_chosen = Signal(str)
    applied = Signal(object)
    """The ``AppSettings`` now in use (after Settings… and at startup)."""

    def __init__(
        self,
        window: QWidget,
        settings: QSettings,
        loader: PixmapBudget,
        *,
        curated: Curated | None = None,
        polling: Polling | None = None,
        undo: UndoBudget | None = None,
        data_dir: DataDirChoice | None = None,
        environ: Mapping[str, str] | None = None,
        curator_fallback: CuratorChoice | None = None,
    ) -> None:
        """``data_dir``: the data dir the window has open and why (None: not known here);
        ``environ``: where ``TDM_CURATOR`` is read; ``curator_fallback``: the curator when
        neither it nor Settings names one (default: the OS user name)."""
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._loader = loader
        self._curated = curated
        self._polling = polling
        self._undo = undo
        self._environ = os.environ if environ is None else environ
        self._curator_fallback = curator_fallback
        self.data_dir = data_dir
        self.curator: CuratorChoice | None = None
        self.dialog: SettingsDialog | None = None

    def open(self) -> None:
        """Show the dialog (or raise the one already open)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        dialog = SettingsDialog(
            load_settings(self._settings),
            parent=self._window,
            in_effect=InEffect(self.data_dir, self.curator),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self.apply(dialog.values()))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()

    def apply(self, values: AppSettings) -> None:
        previous = load_settings(self._settings)
        save_settings(self._settings, values)
        self._apply_pixmap_budget(values.thumbnail_budget_mib)
        self._loader.set_max_requests(values.thumbnail_requests)
        self._apply_catalog(values)
        self.applied.emit(values)
        said = f"Settings saved: curator {self.curator}, generator {values.generator}"
        self.status_message.emit(said, 5000)
        if values.data_dir != previous.data_dir:
            chosen = choose_data_dir(None, values.data_dir)
            if self.data_dir is None or chosen.location != self.data_dir.location:
                self.data_dir_chosen.emit(chosen.location)

    def restore(self) -> None:
        """At startup: a saved thumbnail cache budget applies (else the loader keeps its own), and
        the curator and check interval in effect."""
        values = load_settings(self._settings)
        if self._settings.contains(KEY_BUDGET):
            self._apply_pixmap_budget(values.thumbnail_budget_mib)
        if self._settings.contains(KEY_REQUESTS):
            self._loader.set_max_requests(values.thumbnail_requests)
        self._apply_catalog(values)
        self.applied.emit(values)

    def _apply_catalog(self, values: AppSettings) -> None:
        if self._undo is not None:
            self._undo.set_undo_memory(values.undo_memory_mib * MIB)
        if self._polling is not None:
            self._polling.set_poll_interval(values.poll_seconds * 1000)
        try:
            choice = choose_curator(self._environ, values.curator, fallback=self._curator_fallback)
        except InvalidNameError as err:  # a TDM_CURATOR that is not valid: keep the one in use
            log.warning("%s", err)
            return
        if self._curated is not None:
            self._curated.curator = choice.name
        if choice != self.curator:
            log.info("curator: %s", choice)
        self.curator = choice
        self.curator_applied.emit(choice)

    def _apply_pixmap_budget(self, mib: int) -> None:
        self._loader.set_pixmap_budget(mib * MIB)
