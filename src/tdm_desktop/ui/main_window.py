"""The main window: builds the layout and wires the parts together (CONTRACT §6).

It owns little logic. The open actor and its reloads live in ``actor_session``; actions, menus and
toolbar in ``actions``; selection in ``grid_selection``; flag / delete glue in ``curation_panel``;
✨ / 🎨 in ``generation_panel``; slider and filter in ``view_controls``; the preview, Settings…,
header, status bar and log dock in ``preview_panel``, ``settings_panel``, ``header``, ``status``
and ``log_panel``. Object names are part of the contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QSplitter, QToolBar, QVBoxLayout, QWidget

from tdm_desktop.ui.actions import (
    build_actions,
    build_context_menu,
    build_menus,
    build_toolbar,
    load_icon,
)
from tdm_desktop.ui.actors.header import ActorHeader
from tdm_desktop.ui.actors.list_widget import ActorPanel
from tdm_desktop.ui.actors.session import ActorSession
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.watcher import ActorFileWatcher
from tdm_desktop.ui.curation.controller import (
    CurationController,
    SessionDeleteConfirmer,
    confirm_delete_all_dialog,
)
from tdm_desktop.ui.curation.presenter import CurationPanel, WindowDialogs, message_box_problems
from tdm_desktop.ui.generation.controller import GenerationDialogs, GeneratorFactory
from tdm_desktop.ui.generation.presenter import GenerationPanel
from tdm_desktop.ui.grid.delegate import ThumbnailDelegate
from tdm_desktop.ui.grid.model import FlagFilterProxy, ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.grid.view_controls import ViewControls
from tdm_desktop.ui.preview.dialog import PreviewDialog
from tdm_desktop.ui.preview.presenter import PreviewPanel
from tdm_desktop.ui.settings.dialog import AppSettings, SettingsDialog
from tdm_desktop.ui.settings.presenter import SettingsPanel
from tdm_desktop.ui.status.log_dock import LogPanel
from tdm_desktop.ui.thumbnails.loader import ThumbnailLoader, presigned_url_source
from tdm_desktop.ui.thumbnails.status import (
    ErrorBanner,
    ThumbnailStatus,
    add_status_labels,
    counts_text,
)

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import ActorTrainingData
    from tdm_desktop.ui.generation.controller import GenerateAllProgressDialog, GenerateSingleDialog

__all__ = ["APP_ICON", "APP_TITLE", "MainWindow", "WindowDialogs", "load_icon"]

log = logging.getLogger(__name__)

APP_TITLE = "Training Data Manager"
APP_ICON = "tdm-desktop.svg"

LoaderFactory = Callable[[Callable[[str], bytes]], ThumbnailLoader]


class MainWindow(QMainWindow):
    """Training Data Manager's window. ``actor_opened`` / ``actor_failed`` say how an open ended."""

    actor_opened = Signal(str)
    actor_failed = Signal(str, str)
    actors_listed = Signal()
    refreshed = Signal()

    def __init__(
        self,
        service: Any,
        loader_factory: LoaderFactory | None = None,
        settings: QSettings | None = None,
        *,
        dialogs: WindowDialogs | None = None,
        generator_factory: GeneratorFactory | None = None,
        generation_dialogs: GenerationDialogs | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(load_icon(APP_ICON))
        self._service = service
        self._settings = settings if settings is not None else QSettings()
        self._dialogs = dialogs or WindowDialogs(
            SessionDeleteConfirmer(self),
            confirm_delete_all_dialog(self),
            message_box_problems(self),
        )
        self._jobs = JobRunner(parent=self)

        self.model = ImageGridModel(self)
        self.proxy = FlagFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.thumbs = ThumbnailStatus(
            lambda image: service.fetch_image_bytes(image),
            lambda: getattr(getattr(service, "store", None), "endpoint_url", None),
            parent=self,
        )
        url_for = presigned_url_source(getattr(service, "store", None))  # Qt GETs: no GIL
        factory = loader_factory or (
            lambda fetch: ThumbnailLoader(fetch, url_for=url_for, parent=self)
        )
        self.loader = factory(self.thumbs.fetch_key)
        self.controller = CurationController(
            service,
            self.model,
            confirm_delete=self._dialogs.confirm_delete,
            confirm_delete_all=self._dialogs.confirm_delete_all,
            parent=self,
        )
        self._build_central()
        self.session = ActorSession(
            service,
            self.actor_panel,
            self.controller,
            self._settings,
            jobs=self._jobs,
            watcher=ActorFileWatcher(parent=self),
            parent=self,
        )
        self.watcher = self.session.watcher
        self.selection = GridSelection(self.grid, self.proxy, self.model)
        self.curation = CurationPanel(
            self, self.controller, self.model, self.selection, self._dialogs.show_problems
        )
        self._build_actions()
        self.gen_panel = GenerationPanel(
            self,
            service,
            self._settings,
            self.session,
            self.action_generate_single,
            self.action_generate_all,
            generator_factory=generator_factory,
            dialogs=generation_dialogs,
        )
        self.generation = self.gen_panel.generation
        self.view_controls = ViewControls(
            self.grid,
            self.proxy,
            self.selection,
            self.size_slider,
            self.flag_filter,
            self._settings,
            parent=self,
        )
        self.preview_panel = PreviewPanel(
            self,
            self.grid,
            self.selection,
            self.loader,
            lambda image: service.fetch_image_bytes(image),
            self.actions_.preview_actions(),
        )
        self.settings_panel = SettingsPanel(self, self._settings, self.loader)
        self.loaded_label, self.flag_counts_label = add_status_labels(self.statusBar())
        self.log_panel = LogPanel(self, self.view_menu)
        self.log_view, self.log_dock = self.log_panel.view, self.log_panel.dock
        self._connect()
        self._restore_settings()
        self.set_generation_handler(self.generate_single, self.generate_all)
        self.reload_actor_list()

    # -- building ------------------------------------------------------------------------------

    def _build_central(self) -> None:
        self.actor_panel = ActorPanel(self)
        self.actor_list = self.actor_panel.list_view
        self.search_box = self.actor_panel.search_box
        self.header = ActorHeader(self._jobs)
        self.actor_name_label = self.header.actor_name_label
        self.base_image_label = self.header.base_image_label
        self.image_count_label = self.header.image_count_label
        self.error_banner = ErrorBanner()

        self.grid = ThumbnailGridView()
        self.grid.setObjectName("thumbnailGrid")
        self.grid.setModel(self.proxy)
        self.delegate = ThumbnailDelegate(self.loader, self.grid)
        self.grid.setItemDelegate(self.delegate)
        self.grid.attach_loader(self.loader)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        self.toolbar = QToolBar("Actions", self)
        self.toolbar.setObjectName("mainToolbar")

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.toolbar)
        right_layout.addWidget(self.error_banner)
        right_layout.addWidget(self.grid, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.actor_panel)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 900])
        self.setCentralWidget(self.splitter)

    def _build_actions(self) -> None:
        grid = self.grid
        slots = {
            "mark_good": self.mark_good,
            "mark_bad": self.mark_bad,
            "toggle_flag": self.toggle_flag,
            "delete_selected": self.delete_selected,
            "show_preview": self.show_preview,
            "retry_selected": grid.retry_selected,
            "copy_s3_urls": self.copy_s3_urls,
            "select_all": grid.selectAll,
            "zoom_in": grid.zoom_in,
            "zoom_out": grid.zoom_out,
            "refresh": self.refresh,
            "delete_all": self.delete_all,
            "quit": self.close,
            "open_settings": self.open_settings,
        }
        a = self.actions_ = build_actions(self, grid, slots, self.controller.undo_group)
        self.action_mark_good, self.action_mark_bad, self.action_toggle = (
            a.mark_good, a.mark_bad, a.toggle,
        )  # fmt: skip
        self.action_delete, self.action_preview, self.action_retry = a.delete, a.preview, a.retry
        self.action_copy_url, self.action_select_all = a.copy_url, a.select_all
        self.action_zoom_in, self.action_zoom_out = a.zoom_in, a.zoom_out
        self.action_refresh, self.action_delete_all, self.action_quit = (
            a.refresh, a.delete_all, a.quit,
        )  # fmt: skip
        self.action_settings = a.settings
        self.action_generate_single, self.action_generate_all = a.generate_single, a.generate_all
        self.action_undo, self.action_redo = a.undo, a.redo
        self.view_menu = build_menus(self.menuBar(), a)
        self.size_slider, self.flag_filter = build_toolbar(self.toolbar, a)

    def _connect(self) -> None:
        session, status = self.session, self.statusBar()
        self.actor_panel.actor_chosen.connect(session.load_actor)
        session.opening.connect(self._on_opening)
        session.opened.connect(self._on_actor_opened)
        session.open_failed.connect(self._on_actor_failed)
        session.reloaded.connect(self._on_reloaded)
        session.reload_failed.connect(self._on_reload_failed)
        session.error_reported.connect(self.show_error)
        session.actors_listed.connect(self.actors_listed)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.model.counts_changed.connect(
            lambda good, bad: self.flag_counts_label.setText(counts_text(good, bad))
        )
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._on_rows_changed)
        self.model.images_replaced.connect(self.loader.invalidate)  # a key can be reused
        self.loader.thumbnail_ready.connect(self.thumbs.on_thumbnail_ready)
        self.loader.thumbnail_failed.connect(self.thumbs.on_thumbnail_failed)
        self.thumbs.loaded_text_changed.connect(self.loaded_label.setText)
        self.thumbs.connection_failed.connect(self._on_connection_failed)
        self.controller.error_reported.connect(self.show_error)
        self.controller.files_written.connect(self.watcher.remember_current_state)
        self.curation.status_message.connect(status.showMessage)
        self.actor_list.activated.connect(lambda _index: self.grid.setFocus())
        self.gen_panel.status_message.connect(status.showMessage)
        self.settings_panel.status_message.connect(status.showMessage)
        self.gen_panel.landed.connect(session.show_landed)
        self.gen_panel.error_reported.connect(self.show_error)

    # -- settings ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1280, 820)
        state = s.value("window/state")
        if isinstance(state, QByteArray | bytes):
            self.restoreState(QByteArray(state))
        else:
            self.resizeDocks([self.log_dock], [110], Qt.Orientation.Vertical)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray | bytes):
            self.splitter.restoreState(QByteArray(splitter))
        self.view_controls.restore()
        self.session.restore_last_actor()
        self.settings_panel.restore()

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        self.view_controls.save()
        self.session.remember_last_actor()
        s.sync()

    @property
    def settings_dialog(self) -> SettingsDialog | None:
        return self.settings_panel.dialog

    def open_settings(self) -> None:
        """Settings… (Ctrl+,): generator, A1111 URL, steps, denoising, thumbnail cache budget."""
        self.settings_panel.open()

    def apply_settings(self, values: AppSettings) -> None:
        """Keep ``values`` in the settings; the thumbnail budget applies at once, the generator
        from the next generation."""
        self.settings_panel.apply(values)

    # -- the open actor ------------------------------------------------------------------------

    @property
    def actor_id(self) -> str | None:
        return self.session.actor_id

    def reload_actor_list(self) -> None:
        self.session.reload_actor_list()

    def open_actor(self, actor_id: str) -> None:
        """Open an actor by ID (``42`` or ``0042``); once the list is known, it is selected in it."""
        self.session.open_actor(actor_id)

    def refresh(self) -> None:
        """F5: re-list the actors, reload the open one keeping the place, retry failed thumbnails."""
        self.session.reload_actor_list()
        self.thumbs.retry_failed(self.loader.retry)
        self.session.reload_actor()

    def reload_actor(self) -> None:
        """The file watcher (and F5): reload the open actor; the place and selection survive."""
        self.session.reload_actor()

    def _on_opening(self, actor_id: str) -> None:
        self.header.invalidate()
        self.statusBar().showMessage(f"Opening actor {actor_id}…")

    def _on_actor_opened(self, data: ActorTrainingData) -> None:
        self.hide_error()
        self.loader.clear()
        self.thumbs.forget_loaded()
        self.controller.set_actor(data.actor_id, data.actor_name)
        self.model.set_images(data.images)
        self.setWindowTitle(f"{data.actor_name} — {APP_TITLE}")
        self.header.show_actor(data.actor_name, data.base_image)
        self.statusBar().showMessage(f"Opened {data.actor_name}", 3000)
        self.gen_panel.update_actions()
        self.selection.make_current_row(0)
        typing = self.search_box.hasFocus() and bool(self.search_box.text())
        if not (typing or self.actor_panel.browsing_with_keyboard()):
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        self.actor_opened.emit(data.actor_id)

    def _on_actor_failed(self, actor_id: str, message: str) -> None:
        self.controller.set_actor(None)
        self.loader.clear()
        self.model.set_images([])
        self.setWindowTitle(f"{actor_id} — {APP_TITLE}")
        self.header.show_failed(actor_id)
        self.gen_panel.update_actions()
        self.show_error(message)
        self.statusBar().clearMessage()
        self.actor_failed.emit(actor_id, message)

    def _on_reloaded(self, data: ActorTrainingData, select: str | None) -> None:
        self.hide_error()
        self.model.update_images(data.images)
        self.actor_panel.update_count(data.actor_id, data.actor_name, len(data.images))
        if select is not None and self.select_filename(select):
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.selection.ensure_current()
        self.refreshed.emit()

    def _on_reload_failed(self, message: str) -> None:
        self.show_error(message)
        self.refreshed.emit()

    # -- the grid's selection and curation -------------------------------------------------------

    def selected_filenames(self) -> list[str]:
        """Selected images in grid order; the current one if nothing is selected."""
        return self.selection.selected_filenames()

    def visible_filenames(self) -> list[str]:
        return self.selection.visible_filenames()

    def current_filename(self) -> str | None:
        return self.selection.current_filename()

    def select_filename(self, filename: str) -> bool:
        """Make ``filename`` the current, only selected image (if the filter shows it)."""
        return self.selection.select_filename(filename)

    def mark_good(self) -> None:
        self.curation.mark_good()

    def mark_bad(self) -> None:
        self.curation.mark_bad()

    def toggle_flag(self) -> None:
        self.curation.toggle_flag()

    def delete_selected(self) -> None:
        self.curation.delete_selected()

    def delete_all(self) -> None:
        self.curation.delete_all()

    def copy_s3_urls(self) -> None:
        self.curation.copy_s3_urls()

    # -- preview and context menu ----------------------------------------------------------------

    @property
    def preview(self) -> PreviewDialog | None:
        return self.preview_panel.dialog

    def show_preview(self) -> None:
        self.preview_panel.toggle()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if index.isValid() and not self.grid.selectionModel().isSelected(index):
            self.selection.set_current(index)
        build_context_menu(self, self.actions_).exec(self.grid.viewport().mapToGlobal(pos))

    # -- generation ------------------------------------------------------------------------------

    def set_generation_handler(
        self,
        generate_single: Callable[[], None] | None,
        generate_all: Callable[[], None] | None = None,
    ) -> None:
        """Wire ✨ / 🎨 to these callbacks (None: disabled).

        The window wires its own (``generate_single`` / ``generate_all``); the actions are
        enabled while an actor is open and no generation runs.
        """
        self.gen_panel.set_handlers(generate_single, generate_all)

    def generate_single(self) -> None:
        """✨: ask for a prompt, seed and negative prompt, then generate in the background."""
        self.gen_panel.generate_single()

    def generate_all(self) -> None:
        """🎨: confirm, then one image per prompt in the background with a progress dialog."""
        self.gen_panel.generate_all()

    @property
    def generate_single_dialog(self) -> GenerateSingleDialog | None:
        return self.gen_panel.generate_single_dialog

    @property
    def generate_all_progress(self) -> GenerateAllProgressDialog | None:
        return self.gen_panel.generate_all_progress

    # -- status and errors -----------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """A clear message over the grid (and in the log); the rest keeps working."""
        self.error_banner.show_message(message)
        log.error("%s", message)

    def hide_error(self) -> None:
        self.error_banner.dismiss()

    def error_text(self) -> str:
        return self.error_banner.shown_text(self)

    def _on_rows_changed(self, *_args: object) -> None:
        images = self.model.images()
        self.header.set_image_count(len(images))
        self.thumbs.set_images(images)

    def _on_connection_failed(self, message: str) -> None:
        if message != self.error_text():
            self.show_error(message)

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.preview_panel.close()
        self.watcher.clear()
        self.log_panel.detach()
        self.loader.shutdown()
        self.generation.cancel()
        self.generation.wait_for_jobs(30_000)
        self.controller.wait_for_jobs(10_000)
        self._jobs.wait_for_done(10_000)
        super().closeEvent(event)
