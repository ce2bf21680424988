"""The main window: builds the layout and wires the parts together; it owns little logic.

Each feature lives in its folder (``docs/ARCHITECTURE.md`` walks through them): the open actor in
``actors/``, the grid in ``grid/``, thumbnails in ``thumbnails/``, flag / delete in ``curation/``,
✨ / 🎨 in ``generation/``, the preview in ``preview/``, Settings… in ``settings/``, Check against
S3… and Migrate… in ``integrity/``, the banner, status bar and log in ``status/``; actions, menus and toolbar come from ``actions.py``. The parts
are public attributes, so tests and scripts reach each one by its name. Object names
(``actorList``, ``thumbnailGrid``, ``imageCountLabel``, ``actionMarkGood``...) do not change.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.curators import FROM_CALLER, CuratorChoice
from tdm_desktop.core.data_dirs import DataDirChoice
from tdm_desktop.core.team_changes import ActorChanges, changes_between
from tdm_desktop.core.timestamps import Clock
from tdm_desktop.core.training_data import ActorTrainingData
from tdm_desktop.ui.actions import (
    build_actions,
    build_actor_context_menu,
    build_context_menu,
    build_menus,
    build_toolbar,
    load_icon,
)
from tdm_desktop.ui.actors.header import ActorHeaderWidget
from tdm_desktop.ui.actors.list_widget import ActorListWidget
from tdm_desktop.ui.actors.session import ActorSessionController
from tdm_desktop.ui.common.access import CatalogAccess, read_only_text
from tdm_desktop.ui.common.full_image import FullImageSource
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.compare.presenter import ComparePresenter, FlagKeys
from tdm_desktop.ui.curation.captions import CaptionController
from tdm_desktop.ui.curation.controller import CurationController
from tdm_desktop.ui.curation.dialogs import CurationQuestions, message_box_questions
from tdm_desktop.ui.curation.presenter import CurationPresenter
from tdm_desktop.ui.export.presenter import ExportPresenter
from tdm_desktop.ui.generation.dialogs import GenerationQuestions
from tdm_desktop.ui.generation.factory import GeneratorFactory
from tdm_desktop.ui.generation.presenter import GenerationPresenter
from tdm_desktop.ui.grid.delegate import ThumbnailDelegate
from tdm_desktop.ui.grid.filter import GridFilter
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.grid.view_controls import ViewControlsPresenter
from tdm_desktop.ui.integrity.presenter import IntegrityPresenter
from tdm_desktop.ui.integrity.questions import IntegrityQuestions
from tdm_desktop.ui.preview.presenter import PreviewPresenter
from tdm_desktop.ui.review.analysis import AnalysisController
from tdm_desktop.ui.review.presenter import ReviewPresenter
from tdm_desktop.ui.services import WindowService
from tdm_desktop.ui.settings.model import load_settings
from tdm_desktop.ui.settings.presenter import SettingsPresenter
from tdm_desktop.ui.status.banner import ErrorBannerWidget
from tdm_desktop.ui.status.log_dock import LogDock, for_window
from tdm_desktop.ui.status.status_bar import (
    add_catalog_labels,
    add_status_labels,
    counts_text,
    curator_text,
)
from tdm_desktop.ui.thumbnails.loader import ThumbnailLoader
from tdm_desktop.ui.thumbnails.source import ThumbnailSource
from tdm_desktop.ui.thumbnails.status import ThumbnailStatusController
from tdm_desktop.ui.thumbnails.transport import Transport

log = logging.getLogger(__name__)

APP_TITLE = "Training Data Manager"
APP_ICON = "tdm-desktop.svg"

TransportFactory = Callable[[ThumbnailSource, QObject], Transport]
"""``(source, parent) -> transport``: where thumbnails' bytes come from. By default the one the
configuration chooses (``ThumbnailSource.make_transport``); tests inject one that stays on the
machine (e.g. ``WorkerTransport(source.fetch_key)`` over moto)."""

OTHERS_CHANGED_MS = 15_000  # how long the status bar says what others changed
CLOSE_WAIT_S = 1.5  # closing waits this long at most for work in flight (our writes first)


class MainWindow(QMainWindow):
    """Training Data Manager's window. ``actor_opened`` / ``actor_failed`` say how an open ended;
    ``others_changed(summary)`` when a reload showed what someone else changed."""

    actor_opened = Signal(str)
    actor_failed = Signal(str, str)
    actors_listed = Signal()
    refreshed = Signal()
    others_changed = Signal(str)

    def __init__(
        self,
        service: WindowService,
        transport_factory: TransportFactory | None = None,
        settings: QSettings | None = None,
        *,
        questions: CurationQuestions | None = None,
        generator_factory: GeneratorFactory | None = None,
        generation_questions: GenerationQuestions | None = None,
        integrity_questions: IntegrityQuestions | None = None,
        clock: Clock | None = None,
        data_dir: DataDirChoice | None = None,
        open_data_dir: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
        curator_fallback: CuratorChoice | None = None,
        curator_in_title: bool = False,
        close_wait_s: float = CLOSE_WAIT_S,
        parent: QWidget | None = None,
    ) -> None:
        """``clock``: now, for "5 min ago"; ``data_dir``: the data dir ``service`` has open and why;
        ``open_data_dir(location)``: opens another one when Settings saves it (None: it opens at
        the next start); ``environ`` and ``curator_fallback``: where the curator's name comes
        from (``TDM_CURATOR`` in ``environ``, then Settings, then the fallback or the OS user);
        ``curator_in_title``: the title names the curator (windows of several curators);
        ``close_wait_s``: how long closing waits at most for work in flight."""
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(load_icon(APP_ICON))
        self._settings = settings if settings is not None else QSettings()
        questions = questions or message_box_questions(self)
        self._jobs = JobRunner(parent=self)
        self._open_data_dir = open_data_dir
        self._service = service
        self._curator_in_title = curator_in_title
        self._title_subject = ""
        self._close_wait_s = close_wait_s
        self.close_report: list[str] = []
        """What had not landed when the window closed (empty while open, and after a clean
        close)."""
        self.access = CatalogAccess(self)
        if curator_fallback is None and service.curator:
            curator_fallback = CuratorChoice(service.curator, FROM_CALLER)

        self.model = ImageGridModel(self, clock=clock)
        self.thumbnail_source = ThumbnailSource(service, self.model)
        self.thumbs = ThumbnailStatusController(service.s3_endpoint, parent=self)
        requests = load_settings(self._settings).thumbnail_requests
        if transport_factory is not None:
            transport = transport_factory(self.thumbnail_source, self)
        else:  # Qt on presigned URLs wherever it can speak to the endpoint (no GIL)
            transport = self.thumbnail_source.make_transport(connections=requests, parent=self)
        # near-duplicates and quality checks, from the bytes the loader fetched (its hook)
        self.analysis = AnalysisController(self.model, parent=self)
        self.loader = ThumbnailLoader(
            transport,
            gate=self.thumbnail_source.allow,
            max_requests=requests,
            analysis=self.analysis,
            parent=self,
        )
        self.analysis.attach(self.loader.analysis_backlog, self.loader.hold_analysis)
        self.controller = CurationController(
            service,
            self.model,
            confirm_delete=questions.confirm_delete,
            confirm_delete_all=questions.confirm_delete_all,
            access=self.access,
            clock=clock,
            parent=self,
        )
        self.captions = CaptionController(service, self.controller, parent=self)
        self._build_central(service)
        self.session = ActorSessionController(
            service,
            self.actor_list_widget,
            self.controller,
            self._settings,
            jobs=self._jobs,
            access=self.access,
            parent=self,
        )
        self.selection = GridSelection(self.grid, self.rows)
        self.review = ReviewPresenter(
            service,
            self.selection,
            self.header,
            self.actor_list_widget,
            self.controller,
            analysis=self.analysis,
            rows=self.rows,
            delegate=self.delegate,
            view=self.grid,
            status_text=self.statusBar().currentMessage,
            parent=self,
        )
        self.curation = CurationPresenter(
            self, self.controller, self.model, self.selection, questions.show_problems
        )
        self._build_actions()
        self.generation_presenter = GenerationPresenter(
            self,
            service,
            self._settings,
            self.session,
            self.window_actions.generate_single,
            self.window_actions.generate_all,
            generator_factory=generator_factory,
            questions=generation_questions,
            access=self.access,
        )
        self.generation = self.generation_presenter.generation
        self.view_controls = ViewControlsPresenter(
            self.grid,
            self.rows,
            self.selection,
            self.size_slider,
            self.flag_filter,
            self._settings,
            self.sort_order,
            parent=self,
        )
        full_image = FullImageSource(self.loader, service.fetch_image_bytes)
        self.preview_presenter = PreviewPresenter(
            self,
            self.grid,
            self.selection,
            full_image,
            self.window_actions.preview_actions(),
            actor=self.controller,
            read_base_image=service.base_image_bytes,
            captions=self.captions,
            clock=clock,
        )
        a = self.window_actions
        self.compare_presenter = ComparePresenter(
            self,
            self.grid_stack,
            self.grid,
            self.rows,
            self.selection,
            self.controller,
            full_image,
            FlagKeys(a.mark_good.shortcuts(), a.mark_bad.shortcuts(), a.toggle.shortcuts()),
            group_of=self.review.group_of,
        )
        self.export_presenter = ExportPresenter(
            self,
            service,
            self._settings,
            self.controller,
            a.export,
            counts=self.model.good_bad_counts,
            trigger_word=self.header.trigger_word_edit.text,
        )
        self.settings_presenter = SettingsPresenter(
            self,
            self._settings,
            self.loader,
            curated=service,
            polling=self.session.watcher,
            undo=self.controller,
            data_dir=data_dir,
            environ=environ,
            curator_fallback=curator_fallback,
        )
        self.integrity = IntegrityPresenter(
            self,
            service,
            self.session,
            self.actor_list_widget,
            self.window_actions.check_s3,
            self.window_actions.migrate,
            questions=integrity_questions,
        )
        self.loaded_label, self.flag_counts_label = add_status_labels(self.statusBar())
        self.curator_label, self.access_label = add_catalog_labels(self.statusBar())
        self.log_dock = LogDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.view_menu.addSeparator()
        self.view_controls.add_menus(self.view_menu)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.log_dock.toggleViewAction())
        self._connect()
        self._restore_settings()
        self.session.reload_actor_list()
        self.loader.warm_up()

    # -- building ------------------------------------------------------------------------------

    def _build_central(self, service: WindowService) -> None:
        self.actor_list_widget = ActorListWidget(self)
        self.actor_list = self.actor_list_widget.list_view
        self.search_box = self.actor_list_widget.search_box
        self.header = ActorHeaderWidget(self._jobs, service.base_image_bytes)
        self.error_banner = ErrorBannerWidget()

        self.grid = ThumbnailGridView()
        self.grid.setObjectName("thumbnailGrid")
        self.rows = GridFilter(self.grid, self.model, self)  # the view shows the model itself
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
        self.grid_stack = QStackedWidget()  # the grid, or the compare view in its place
        self.grid_stack.setObjectName("gridStack")
        self.grid_stack.addWidget(self.grid)
        right_layout.addWidget(self.grid_stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.actor_list_widget)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 900])
        self.setCentralWidget(self.splitter)

    def _build_actions(self) -> None:
        grid, curation = self.grid, self.curation
        slots = {
            "mark_good": curation.mark_good,
            "mark_bad": curation.mark_bad,
            "toggle_flag": curation.toggle_flag,
            "next_unreviewed": self.review.jump_to_unreviewed,
            "delete_selected": curation.delete_selected,
            "show_preview": lambda: self.preview_presenter.toggle(),
            "compare": lambda: self.compare_presenter.open_selection(),
            "retry_selected": grid.retry_selected,
            "copy_s3_urls": curation.copy_s3_urls,
            "select_all": grid.selectAll,
            "zoom_in": grid.zoom_in,
            "zoom_out": grid.zoom_out,
            "refresh": self.refresh,
            "delete_all": curation.delete_all,
            "export": lambda: self.export_presenter.open(),
            "quit": self.close,
            "open_settings": lambda: self.settings_presenter.open(),
        }
        self.window_actions = build_actions(self, grid, slots, self.controller.undo_group)
        self.view_menu = build_menus(self.menuBar(), self.window_actions)
        self.size_slider, self.flag_filter, self.sort_order = build_toolbar(
            self.toolbar, self.window_actions
        )

    def _connect(self) -> None:
        session, status = self.session, self.statusBar()
        self.actor_list_widget.actor_chosen.connect(session.load_actor)
        session.opening.connect(self._on_opening)
        session.opened.connect(self._on_actor_opened)
        session.open_failed.connect(self._on_actor_failed)
        session.reloaded.connect(self._on_reloaded)
        session.reload_failed.connect(self._on_reload_failed)
        session.error_reported.connect(self.show_error)
        session.actors_listed.connect(self.review.actors_listed)
        session.actors_listed.connect(self.actors_listed)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.actor_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.actor_list.customContextMenuRequested.connect(self._actor_context_menu)
        self.integrity.status_message.connect(status.showMessage)
        self.model.counts_changed.connect(
            lambda good, bad: self.flag_counts_label.setText(counts_text(good, bad))
        )
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._on_rows_changed)
        self.model.images_replaced.connect(self.loader.invalidate)  # a key can be reused
        self.loader.thumbnail_ready.connect(self.thumbs.on_thumbnail_ready)
        self.settings_presenter.applied.connect(
            lambda v: self.review.set_thresholds(v.duplicate_threshold, v.training_resolution)
        )
        self.loader.thumbnail_failed.connect(self.thumbs.on_thumbnail_failed)
        self.loader.thumbnail_failed.connect(self.analysis.thumbnail_failed)
        self.thumbs.loaded_text_changed.connect(self.loaded_label.setText)
        self.thumbs.connection_failed.connect(self._on_connection_failed)
        self.controller.error_reported.connect(self.show_error)
        self.captions.error_reported.connect(self.show_error)
        self.captions.trigger_word_shown.connect(self._on_trigger_word_shown)
        trigger = self.header.trigger_word_edit
        trigger.edited.connect(self.captions.edit_trigger_word)
        trigger.left.connect(lambda: self.grid.setFocus(Qt.FocusReason.OtherFocusReason))
        self.controller.files_written.connect(session.watcher.remember_current_state)
        self.curation.status_message.connect(status.showMessage)
        self.compare_presenter.status_message.connect(status.showMessage)
        self.export_presenter.status_message.connect(status.showMessage)
        self.review.status_message.connect(status.showMessage)
        self.flag_filter.currentIndexChanged.connect(lambda _i: self.review.filter_changed())
        self.actor_list.activated.connect(lambda _index: self.grid.setFocus())
        self.generation_presenter.status_message.connect(status.showMessage)
        self.settings_presenter.status_message.connect(status.showMessage)
        self.generation_presenter.landed.connect(session.show_landed)
        self.generation_presenter.error_reported.connect(self.show_error)
        self.controller.left_alone_reported.connect(self._on_left_alone)
        self.access.read_only_changed.connect(self._on_read_only_changed)
        self.access.refused.connect(self.error_banner.show_message)  # logged once by access
        self.settings_presenter.curator_applied.connect(self._on_curator_applied)
        self.settings_presenter.data_dir_chosen.connect(self._on_data_dir_chosen)

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
        self.settings_presenter.restore()

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        self.view_controls.save()
        self.session.remember_last_actor()
        s.sync()

    # -- the open actor ------------------------------------------------------------------------

    def refresh(self) -> None:
        """F5: re-list the actors, reload the open one keeping the place, retry failed thumbnails."""
        self.session.reload_actor_list()
        self.thumbs.retry_failed(self.loader.retry)
        self.session.reload_actor()

    def _on_opening(self, actor_id: str) -> None:
        self.loader.warm_up()  # the connection is made while the manifest is read
        self.header.invalidate()
        self.statusBar().showMessage(f"Opening actor {actor_id}…")

    def _on_actor_opened(self, data: ActorTrainingData) -> None:
        self._clear_banner()
        self.loader.clear()
        self.thumbs.forget_loaded()
        self.controller.set_actor(data.actor_id, data.actor_name)
        self.model.set_images(data.images)
        self._set_title(data.actor_name)
        self.header.show_actor(data.actor_name)
        self.captions.read_trigger_word()
        self.statusBar().showMessage(f"Opened {data.actor_name}", 3000)
        self.generation_presenter.update_actions()
        self.export_presenter.update_action()
        self.selection.make_current_row(0)
        typing = self.search_box.hasFocus() and bool(self.search_box.text())
        if not (typing or self.actor_list_widget.browsing_with_keyboard()):
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        self.actor_opened.emit(data.actor_id)

    def _on_actor_failed(self, actor_id: str, message: str) -> None:
        self.controller.set_actor(None)
        self.loader.clear()
        self.model.set_images([])
        self._set_title(actor_id)
        self.header.show_failed(actor_id)
        self.generation_presenter.update_actions()
        self.export_presenter.update_action()
        self.show_error(message)
        self.statusBar().clearMessage()
        self.actor_failed.emit(actor_id, message)

    def _on_reloaded(self, data: ActorTrainingData, select: str | None) -> None:
        self._clear_banner()
        # Our own writes are in the model already (a reload older than one is read again), so
        # what differs is what others did; a landing of our own generation is said by it.
        changes = self._others_changes(data) if select is None else None
        self.model.update_images(data.images)  # no reset: selection, current row, scroll kept
        self.actor_list_widget.update_count(data.actor_id, data.actor_name, len(data.images))
        if select is not None and self.selection.select_filename(select):
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.selection.ensure_current()
        if changes:
            summary = changes.summary()
            log.info("%s: %s", data.actor_name, summary, extra=for_window(self))
            self.statusBar().showMessage(summary, OTHERS_CHANGED_MS)
            self.others_changed.emit(summary)
        self.refreshed.emit()

    def _others_changes(self, data: ActorTrainingData) -> ActorChanges:
        """What differs between the rows as shown and ``data``: only the rows that read
        differently are built (a poll of a 100,000-image actor costs what changed)."""
        old, new, added, gone = self.model.differences(data.images)
        return dataclasses.replace(changes_between(old, new), added=added, deleted=gone)

    def _on_trigger_word_shown(self, actor_id: str, word: str, stored: bool) -> None:
        if actor_id == self.controller.actor_id:
            self.header.show_trigger_word(word, stored)

    def _on_reload_failed(self, message: str) -> None:
        self.show_error(message)
        self.refreshed.emit()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if index.isValid() and not self.grid.selectionModel().isSelected(index):
            self.selection.set_current(index)
        menu = build_context_menu(self, self.window_actions)
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def _actor_context_menu(self, pos: QPoint) -> None:
        if not self.actor_list.indexAt(pos).isValid():
            return
        menu = build_actor_context_menu(self, self.window_actions)
        menu.exec(self.actor_list.viewport().mapToGlobal(pos))

    # -- status and errors -----------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """A clear message over the grid and in the log; the rest keeps working. Every failed
        background job reaches the curator through here (``common/messages.py``)."""
        self.error_banner.show_message(message)
        log.error("%s", message)

    def service_curator(self) -> str | None:
        """Whose decisions this window's flags record now."""
        return self._service.curator

    def error_text(self) -> str:
        """The message over the grid ("" when none is shown)."""
        return self.error_banner.shown_text(self)

    def _on_rows_changed(self, *_args: object) -> None:
        """O(1) per change, whatever the row count: the gate and the counts ask the model."""
        count = self.model.rowCount()
        self.header.set_image_count(count)
        self.thumbnail_source.forget()
        self.thumbs.set_listed(count, self.model.is_listed)
        self.review.rows_changed()

    def _on_left_alone(self, text: str) -> None:
        log.warning("%s", text, extra=for_window(self))
        self.statusBar().showMessage(text, OTHERS_CHANGED_MS)

    def _on_read_only_changed(self, reason: str) -> None:
        self.access_label.setVisible(bool(reason))
        self.access_label.setToolTip(reason)
        self._clear_banner()

    def _clear_banner(self) -> None:
        """Take the last failure's line away; while the account may only read, that stays said."""
        if self.access.read_only:
            self.error_banner.show_message(read_only_text(self.access.reason))
        else:
            self.error_banner.dismiss()

    def _on_curator_applied(self, choice: CuratorChoice) -> None:
        self.curator_label.setText(curator_text(choice.name))
        self.curator_label.setToolTip(f"Your flags record {choice}")
        self._set_title(self._title_subject)

    def _set_title(self, subject: str) -> None:
        """``"0042_european_30_male — Training Data Manager"`` (``"… — alice — Training Data
        Manager"`` when the title names the curator)."""
        self._title_subject = subject
        parts = [subject] if subject else []
        curator = self._service.curator
        if self._curator_in_title and curator:
            parts.append(curator)
        parts.append(APP_TITLE)  # last: the desktop adds the app's name unless it ends so
        self.setWindowTitle(" — ".join(parts))

    def _on_data_dir_chosen(self, location: str) -> None:
        if self._open_data_dir is None:
            self.statusBar().showMessage(
                f"Data dir {location} saved: it opens the next time the app starts", 10_000
            )
            return
        self._open_data_dir(location)

    def _on_connection_failed(self, message: str) -> None:
        if message != self.error_text():
            self.show_error(message)

    # -- closing ---------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            self._update_polling()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._update_polling()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._update_polling()

    def _update_polling(self) -> None:
        """Nobody looks at a hidden or minimised window: it stops asking S3 what changed, and
        asks at once when it is back."""
        self.session.watcher.set_paused(not self.isVisible() or self.isMinimized())

    def closeEvent(self, event: QCloseEvent) -> None:
        """Returns within ``close_wait_s`` (plus the settings' write) whatever is in flight.

        What stops at once: thumbnail GETs and signing, queued decodes, the documents' polling,
        opening an actor, a check's listing, the next 🎨 image. Our own writes (flags, deletes,
        undo) get the time to land; what has not landed by then is reported, never dropped
        silently (``close_report``, logged as errors). Anything still waiting on S3 or on a
        generator afterwards ends on its own (daemon threads: the process never waits)."""
        deadline = time.monotonic() + self._close_wait_s
        self.save_settings()
        self.preview_presenter.close()
        self.session.watcher.shutdown()
        self.log_dock.detach()
        self.loader.shutdown(0)  # aborts GETs now; decodes in hand end within milliseconds
        self.generation.cancel()
        report = self.controller.shutdown(deadline)  # first: the writes are what may be lost
        report += self.integrity.close(deadline)
        report += self.export_presenter.shutdown(deadline)
        report += self.generation.shutdown(deadline)
        self._jobs.shutdown(deadline)  # reads only (opening an actor, the list, a base image)
        self.close_report = report
        super().closeEvent(event)
