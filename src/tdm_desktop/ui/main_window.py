"""The main window: wires the actor list, the thumbnail grid, the curation controller and the dialogs.

It owns little logic: decisions live in ``curation.CurationController``, loading in background jobs,
file watching in ``watcher.ActorFileWatcher``. Object names are part of the contract (CONTRACT §6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QSettings,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QSizePolicy,
    QSlider,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.errors import TdmError
from tdm_desktop.ui.actor_panel import ActorPanel
from tdm_desktop.ui.curation import (
    ConfirmDelete,
    ConfirmDeleteAll,
    CurationController,
    DeleteResult,
    SessionDeleteConfirmer,
    confirm_delete_all_dialog,
    images_phrase,
    next_after,
)
from tdm_desktop.ui.generation import (
    ALL_TITLE,
    SINGLE_TITLE,
    GenerateAllProgressDialog,
    GenerateSingleDialog,
    GenerationController,
    GenerationDialogs,
    GeneratorFactory,
    generator_label,
    make_generator,
    message_box_dialogs,
    one_line,
)
from tdm_desktop.ui.grid_delegate import ThumbnailDelegate
from tdm_desktop.ui.grid_model import FlagFilterProxy, ImageGridModel
from tdm_desktop.ui.grid_view import ThumbnailGridView
from tdm_desktop.ui.jobs import JobRunner
from tdm_desktop.ui.preview import PreviewDialog
from tdm_desktop.ui.settings_dialog import (
    KEY_BUDGET,
    MIB,
    AppSettings,
    SettingsDialog,
    load_settings,
    save_settings,
)
from tdm_desktop.ui.thumbnail_loader import ThumbnailLoader
from tdm_desktop.ui.watcher import ActorFileWatcher

if TYPE_CHECKING:
    from tdm_desktop.core.generation import GeneratedImage, GenerationReport, GenerationService
    from tdm_desktop.core.training_data import ActorTrainingData, TrainingImage
    from tdm_desktop.generators.base import Generator

log = logging.getLogger(__name__)

APP_TITLE = "Training Data Manager"
MIN_THUMB, MAX_THUMB, DEFAULT_THUMB = 64, 512, 160
FILTERS = (("All", "all"), ("Good", "good"), ("Bad", "bad"))
GENERATION_TOOLTIP = "coming with the generation feature"
BASE_THUMB = 64
APP_ICON = "tdm-desktop.svg"

LoaderFactory = Callable[[Callable[[str], bytes]], ThumbnailLoader]
ShowProblems = Callable[[str, Mapping[str, str]], None]


@dataclass
class WindowDialogs:
    """The questions and reports the window shows; tests inject answers instead of modal boxes."""

    confirm_delete: ConfirmDelete
    confirm_delete_all: ConfirmDeleteAll
    show_problems: ShowProblems


def load_icon(name: str) -> QIcon:
    """An SVG icon from the installed ``tdm_desktop.resources/icons`` (empty if missing)."""
    resource = resources.files("tdm_desktop.resources").joinpath("icons", name)
    if isinstance(resource, Path):
        return QIcon(str(resource)) if resource.is_file() else QIcon()
    try:  # a zipped install: render the SVG from its bytes
        data = resource.read_bytes()
    except OSError:
        return QIcon()
    pixmap = QPixmap()
    pixmap.loadFromData(data, "SVG")
    return QIcon(pixmap)


def problems_text(problems: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {reason}" for name, reason in problems.items())


def _message_box_problems(parent: QWidget) -> ShowProblems:
    def show(title: str, problems: Mapping[str, str]) -> None:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(f"{title}: {images_phrase(len(problems))} stayed in S3 and the manifest.")
        box.setDetailedText(problems_text(problems))
        box.setInformativeText(problems_text(dict(list(problems.items())[:10])))
        box.exec()

    return show


class _LogBridge(QObject):
    line_logged = Signal(str)


class QtLogHandler(logging.Handler):
    """Forwards log records to the GUI thread through a queued signal (safe from any thread)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = _LogBridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.line_logged.emit(self.format(record))
        except RuntimeError:  # the window is gone
            pass
        except Exception:
            self.handleError(record)


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
            _message_box_problems(self),
        )
        self._jobs = JobRunner(parent=self)
        self._images_by_key: dict[str, TrainingImage] = {}
        self._loaded_keys: set[str] = set()
        self._failed_keys: set[str] = set()
        self._actor_id: str | None = None
        self._actor_name = ""
        self._open_serial = 0
        self._refresh_serial = 0
        self._pending_actor: str | None = None
        self._actors_known = False
        self._after_delete: str | None = None
        self._progress: QProgressDialog | None = None
        self._generate_single: Callable[[], None] | None = None
        self._generate_all: Callable[[], None] | None = None
        self._generator_factory = generator_factory or make_generator
        self._generation_dialogs = generation_dialogs or message_box_dialogs(self)
        self.generation = GenerationController(parent=self)
        self._generation_busy: QProgressDialog | None = None
        self.generate_all_progress: GenerateAllProgressDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.generate_single_dialog: GenerateSingleDialog | None = None
        self._select_after_refresh: str | None = None

        self.model = ImageGridModel(self)
        self.proxy = FlagFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        factory = loader_factory or (lambda fetch: ThumbnailLoader(fetch, parent=self))
        self.loader = factory(self._fetch_key)
        self.controller = CurationController(
            service,
            self.model,
            confirm_delete=self._dialogs.confirm_delete,
            confirm_delete_all=self._dialogs.confirm_delete_all,
            parent=self,
        )
        self.watcher = ActorFileWatcher(parent=self)
        self.preview: PreviewDialog | None = None

        self._build_central()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_and_log()
        self._connect()
        self._restore_settings()
        self.set_generation_handler(self.generate_single, self.generate_all)
        self.reload_actor_list()

    # -- building ------------------------------------------------------------------------------

    def _build_central(self) -> None:
        self.actor_panel = ActorPanel(self)
        self.actor_list = self.actor_panel.list_view
        self.search_box = self.actor_panel.search_box

        self.actor_name_label = QLabel("No actor open")
        self.actor_name_label.setObjectName("actorNameLabel")
        font = self.actor_name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.actor_name_label.setFont(font)
        self.base_image_label = QLabel()
        self.base_image_label.setObjectName("baseImageLabel")
        self.base_image_label.setFixedSize(BASE_THUMB, BASE_THUMB)
        self.base_image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.base_image_label.setToolTip("The actor's base image")
        self.image_count_label = QLabel("0 images in S3")
        self.image_count_label.setObjectName("imageCountLabel")
        header = QHBoxLayout()
        header.addWidget(self.base_image_label)
        names = QVBoxLayout()
        names.addWidget(self.actor_name_label)
        names.addWidget(self.image_count_label)
        header.addLayout(names, 1)

        self.error_banner = QLabel()
        self.error_banner.setObjectName("errorBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.setStyleSheet(
            "QLabel#errorBanner { background: #fdecea; color: #611a15; border: 1px solid #f5c2c0;"
            " padding: 6px; border-radius: 4px; }"
        )
        self.error_banner.hide()

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
        right_layout.addLayout(header)
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

    def _action(
        self,
        name: str,
        text: str,
        slot: Callable[[], Any] | None,
        shortcuts: Sequence[QKeySequence | QKeySequence.StandardKey | str] = (),
        *,
        on_grid: bool = False,
    ) -> QAction:
        """An action; ``on_grid`` ones (single letters...) only fire while the grid has focus."""
        action = QAction(text, self)
        action.setObjectName(name)
        keys = [k if isinstance(k, QKeySequence) else QKeySequence(k) for k in shortcuts]
        if keys:
            action.setShortcuts(keys)
            tip = " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            action.setToolTip(f"{text.replace('&', '')} ({tip})")
        if on_grid:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.grid.addAction(action)
        else:
            self.addAction(action)
        if slot is not None:
            action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.action_mark_good = a(
            "actionMarkGood", "Mark &Good", self.mark_good, ["G", "P"], on_grid=True
        )
        self.action_mark_bad = a(
            "actionMarkBad", "Mark &Bad", self.mark_bad, ["B", "X"], on_grid=True
        )
        self.action_toggle = a(
            "actionToggleFlag", "&Toggle Flag", self.toggle_flag, ["T"], on_grid=True
        )
        self.action_delete = a(
            "actionDelete", "&Delete", self.delete_selected, [QKeySequence(Qt.Key.Key_Delete)],
            on_grid=True,
        )  # fmt: skip
        self.action_preview = a(
            "actionPreview", "&Preview", self.show_preview,
            [QKeySequence(Qt.Key.Key_Space), QKeySequence(Qt.Key.Key_Return),
             QKeySequence(Qt.Key.Key_Enter)],
            on_grid=True,
        )  # fmt: skip
        self.action_retry = a(
            "actionRetry", "&Retry Loading", self.grid.retry_selected, ["R"], on_grid=True
        )
        self.action_copy_url = a(
            "actionCopyS3Url", "&Copy S3 URL", self.copy_s3_urls, [QKeySequence.StandardKey.Copy],
            on_grid=True,
        )  # fmt: skip
        self.action_select_all = a(
            "actionSelectAll", "Select &All", self.grid.selectAll, ["Ctrl+A"], on_grid=True
        )
        self.action_zoom_in = a(
            "actionZoomIn", "Zoom &In", self.grid.zoom_in, ["Ctrl+=", "Ctrl++"], on_grid=True
        )
        self.action_zoom_out = a(
            "actionZoomOut", "Zoom &Out", self.grid.zoom_out, ["Ctrl+-"], on_grid=True
        )
        self.action_refresh = a(
            "actionRefresh", "&Refresh", self.refresh, [QKeySequence(Qt.Key.Key_F5)]
        )
        self.action_delete_all = a("actionDeleteAll", "🗑️ Delete All", self.delete_all)
        self.action_quit = a("actionQuit", "&Quit", self.close, ["Ctrl+Q"])
        self.action_settings = a("actionSettings", "&Settings…", self.open_settings, ["Ctrl+,"])
        self.action_generate_single = a("actionGenerateSingle", SINGLE_TITLE, None)
        self.action_generate_all = a("actionGenerateAll", ALL_TITLE, None)
        # The toolbar shows SVG icons and emoji-free labels (emoji need an emoji font);
        # the menus and tooltips keep the design's emoji names.
        for action, icon, label in (
            (self.action_generate_single, "sparkle.svg", "Generate Single Image"),
            (self.action_generate_all, "palette.svg", "Generate All Prompts"),
            (self.action_delete_all, "trash.svg", "Delete All"),
            (self.action_refresh, "refresh.svg", "Refresh"),
            (self.action_settings, "settings.svg", "Settings"),
        ):
            action.setIcon(load_icon(icon))
            action.setIconText(label)
        self.action_delete_all.setToolTip("🗑️ Delete All: delete every image of this actor")
        self.action_generate_single.triggered.connect(self._on_generate_single)
        self.action_generate_all.triggered.connect(self._on_generate_all)
        self.set_generation_handler(None, None)

        group = self.controller.undo_group
        self.action_undo = group.createUndoAction(self, "&Undo")
        self.action_undo.setObjectName("actionUndo")
        self.action_undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.action_redo = group.createRedoAction(self, "&Redo")
        self.action_redo.setObjectName("actionRedo")
        self.action_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.addAction(self.action_undo)
        self.addAction(self.action_redo)

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.action_refresh])
        file_menu.addSeparator()
        file_menu.addAction(self.action_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.action_undo, self.action_redo])
        edit_menu.addSeparator()
        edit_menu.addActions([self.action_select_all, self.action_copy_url])
        edit_menu.addSeparator()
        edit_menu.addActions([self.action_delete, self.action_delete_all])
        edit_menu.addSeparator()
        edit_menu.addAction(self.action_settings)
        self.view_menu = bar.addMenu("&View")
        self.view_menu.addActions([self.action_zoom_in, self.action_zoom_out, self.action_preview])
        image_menu = bar.addMenu("&Image")
        image_menu.addActions([self.action_mark_good, self.action_mark_bad, self.action_toggle])
        image_menu.addSeparator()
        image_menu.addActions([self.action_retry, self.action_copy_url])
        image_menu.addSeparator()
        image_menu.addActions([self.action_generate_single, self.action_generate_all])

        tb = self.toolbar
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addActions([self.action_generate_single, self.action_generate_all])
        tb.addAction(self.action_delete_all)
        tb.addSeparator()
        tb.addAction(self.action_refresh)
        tb.addSeparator()
        tb.addWidget(QLabel(" Size "))
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setObjectName("gridSizeSlider")
        self.size_slider.setRange(MIN_THUMB, MAX_THUMB)
        self.size_slider.setSingleStep(8)
        self.size_slider.setPageStep(32)
        self.size_slider.setMaximumWidth(200)
        self.size_slider.setToolTip("Thumbnail size (Ctrl+= / Ctrl+- / Ctrl+wheel)")
        self.size_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        tb.addWidget(self.size_slider)
        tb.addWidget(QLabel(" Show "))
        self.flag_filter = QComboBox()
        self.flag_filter.setObjectName("flagFilter")
        for label, value in FILTERS:
            self.flag_filter.addItem(label, value)
        self.flag_filter.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        tb.addWidget(self.flag_filter)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        tb.addAction(self.action_refresh)

    def _build_status_and_log(self) -> None:
        self.loaded_label = QLabel("Loaded 0 / 0")
        self.loaded_label.setObjectName("loadedLabel")
        self.flag_counts_label = QLabel("good 0 · bad 0")
        self.flag_counts_label.setObjectName("flagCountsLabel")
        self.statusBar().addPermanentWidget(self.loaded_label)
        self.statusBar().addPermanentWidget(self.flag_counts_label)

        self.log_view = QPlainTextEdit()
        self.log_view.setObjectName("logView")
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.log_dock.toggleViewAction())

        self._log_handler = QtLogHandler()
        self._log_handler.bridge.line_logged.connect(self.log_view.appendPlainText)
        self._app_logger = logging.getLogger("tdm_desktop")
        if self._app_logger.getEffectiveLevel() > logging.INFO:
            self._app_logger.setLevel(logging.INFO)
        self._app_logger.addHandler(self._log_handler)

    def _connect(self) -> None:
        self.actor_panel.actor_chosen.connect(self._load_actor)
        self.size_slider.valueChanged.connect(self._on_slider)
        self.grid.thumbnail_size_changed.connect(self._on_grid_size)
        self.flag_filter.currentIndexChanged.connect(self._on_filter)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self.grid.selectionModel().currentChanged.connect(self._on_current_changed)
        self.model.counts_changed.connect(self._show_counts)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._on_rows_changed)
        self.loader.thumbnail_ready.connect(self._on_thumbnail_ready)
        self.loader.thumbnail_failed.connect(self._on_thumbnail_failed)
        self.controller.error_reported.connect(self.show_error)
        self.controller.delete_finished.connect(self._on_delete_finished)
        self.controller.delete_all_started.connect(self._on_delete_all_started)
        self.controller.delete_all_finished.connect(self._on_delete_all_finished)
        self.controller.restore_finished.connect(self._on_restore_finished)
        self.watcher.files_changed.connect(self.reload_actor)
        self.controller.files_written.connect(self.watcher.remember_current_state)
        self.actor_list.activated.connect(lambda _index: self.grid.setFocus())
        self.generation.busy_changed.connect(self._on_generation_busy)
        self.generation.single_finished.connect(self._on_single_generated)
        self.generation.image_landed.connect(self._on_image_landed)
        self.generation.all_finished.connect(self._on_all_generated)
        self.generation.generation_failed.connect(self._on_generation_failed)

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
        size = _as_int(s.value("grid/thumbnailSize"), DEFAULT_THUMB)
        size = max(MIN_THUMB, min(MAX_THUMB, size))
        self.size_slider.setValue(size)
        self.grid.set_thumbnail_size(size)
        values = [value for _label, value in FILTERS]
        wanted = str(s.value("grid/flagFilter", "all"))
        self.flag_filter.setCurrentIndex(values.index(wanted) if wanted in values else 0)
        last = s.value("session/lastActor")
        self._pending_actor = self._settings_actor = str(last) if last else None
        if s.contains(KEY_BUDGET):
            self._apply_pixmap_budget(load_settings(s).thumbnail_budget_mib)

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("grid/thumbnailSize", self.size_slider.value())
        s.setValue("grid/flagFilter", self.flag_filter.currentData())
        if self._actor_id is not None:
            s.setValue("session/lastActor", self._actor_id)
        s.sync()

    # -- actors --------------------------------------------------------------------------------

    @property
    def actor_id(self) -> str | None:
        return self._actor_id

    def reload_actor_list(self) -> None:
        catalog = self._service.catalog
        self._jobs.run(catalog.list_actors, on_result=self._on_actors, on_error=self._on_list_error)

    def _on_actors(self, actors: list[Any]) -> None:
        self.actor_panel.set_actors(actors)
        self._actors_known = True
        pending, self._pending_actor = self._pending_actor, None
        known = {a.actor_id for a in actors}
        if pending is not None and pending not in known and self._settings_actor == pending:
            log.info("the last open actor %s is gone; opening the first one", pending)
            pending = None
        if pending is not None and pending != self._actor_id:
            self.open_actor(pending)
        elif self._actor_id is None and not pending:
            healthy = [a for a in actors if not a.problem]
            if healthy:
                self.actor_panel.select_actor(healthy[0].actor_id)
        self.actors_listed.emit()

    def _on_list_error(self, error: BaseException) -> None:
        self._actors_known = True
        self.show_error(f"Could not list the actors: {error}")
        self.actors_listed.emit()

    def open_actor(self, actor_id: str) -> None:
        """Open an actor by ID (``42`` or ``0042``); once the list is known, it is selected in it."""
        if not self._actors_known:
            self._pending_actor = actor_id
            return
        try:
            from tdm_desktop.core.names import normalize_actor_id

            actor_id = normalize_actor_id(actor_id)
        except TdmError as err:
            self.show_error(str(err))
            return
        if actor_id in self.actor_panel.actor_ids():
            if self.actor_panel.current_actor_id() == actor_id or not self.actor_panel.select_actor(
                actor_id
            ):
                self._load_actor(actor_id)
        else:
            self._load_actor(actor_id)

    @Slot(str)
    def _load_actor(self, actor_id: str) -> None:
        self._open_serial += 1
        serial = self._open_serial
        service = self._service

        self.statusBar().showMessage(f"Opening actor {actor_id}…")
        self._jobs.run(
            lambda: service.load_actor(actor_id),
            on_result=lambda data: self._on_actor_loaded(serial, data),
            on_error=lambda err: self._on_actor_failed(serial, actor_id, err),
        )

    def _on_actor_loaded(self, serial: int, data: ActorTrainingData) -> None:
        if serial != self._open_serial:
            return
        self._actor_id, self._actor_name = data.actor_id, data.actor_name
        self._select_after_refresh = None
        self.hide_error()
        self.loader.clear()
        self._loaded_keys.clear()
        self._failed_keys.clear()
        self.controller.set_actor(data.actor_id, data.actor_name)
        self.model.set_images(data.images)
        self.setWindowTitle(f"{data.actor_name} — {APP_TITLE}")
        self.actor_name_label.setText(data.actor_name)
        self._load_base_image(data.base_image)
        self.watcher.watch(
            [
                self._service.manifest_path(data.actor_id),
                self._service.prompt_metadata_path(data.actor_name),
            ]
        )
        self._settings.setValue("session/lastActor", data.actor_id)
        self.statusBar().showMessage(f"Opened {data.actor_name}", 3000)
        self._update_generation_actions()
        self._make_current_row(0)
        typing = self.search_box.hasFocus() and bool(self.search_box.text())
        if not (typing or self.actor_panel.browsing_with_keyboard()):
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        self.actor_opened.emit(data.actor_id)

    def _on_actor_failed(self, serial: int, actor_id: str, error: BaseException) -> None:
        if serial != self._open_serial:
            return
        self._actor_id, self._actor_name = None, ""
        self.controller.set_actor(None)
        self.loader.clear()
        self.model.set_images([])
        self.watcher.clear()
        self.setWindowTitle(f"{actor_id} — {APP_TITLE}")
        self.actor_name_label.setText(f"Actor {actor_id}")
        self.base_image_label.clear()
        self._update_generation_actions()
        message = f"Could not open actor {actor_id}: {_one_line(error)}"
        self.show_error(message)
        self.statusBar().clearMessage()
        self.actor_failed.emit(actor_id, message)

    def _load_base_image(self, path: Any) -> None:
        self.base_image_label.clear()
        if path is None:
            self.base_image_label.setText("no base\nimage")
            return
        serial = self._open_serial

        def work() -> QImage:
            image = QImage(str(path))
            if image.isNull():
                raise ValueError(f"{path}: not an image")
            return image.scaled(
                BASE_THUMB,
                BASE_THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )

        def done(image: QImage) -> None:
            if serial == self._open_serial:
                self.base_image_label.setPixmap(QPixmap.fromImage(image))

        self._jobs.run(work, on_result=done, on_error=lambda e: log.warning("base image: %s", e))

    # -- refresh -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """F5: re-list the actors, reload the open one keeping the place, retry failed thumbnails."""
        self.reload_actor_list()
        if self._failed_keys:
            self.loader.retry(sorted(self._failed_keys))
            self._failed_keys.clear()
            self._show_loaded()
        self.reload_actor()

    def reload_actor(self) -> None:
        """The file watcher (and F5): reload the open actor; the place and selection survive."""
        if self._actor_id is None:
            current = self.actor_panel.current_actor_id()
            if current is not None:
                self._load_actor(current)
            return
        self._refresh_serial += 1
        serial, open_serial = self._refresh_serial, self._open_serial
        writes = self.controller.write_serial
        actor_id = self._actor_id
        self._jobs.run(
            lambda: self._service.load_actor(actor_id),
            on_result=lambda data: self._on_refreshed(serial, open_serial, writes, data),
            on_error=lambda err: self._on_refresh_failed(open_serial, actor_id, err),
        )

    def _on_refreshed(
        self, serial: int, open_serial: int, writes: int, data: ActorTrainingData
    ) -> None:
        if serial != self._refresh_serial or open_serial != self._open_serial:
            return
        if writes != self.controller.write_serial or self.controller.is_busy():
            self.watcher.remember_current_state()
            self.reload_actor()  # one of our writes overtook this read: read again
            return
        self.hide_error()
        self.model.update_images(data.images)
        self.actor_panel.update_count(data.actor_id, data.actor_name, len(data.images))
        select, self._select_after_refresh = self._select_after_refresh, None
        if select is not None and self.select_filename(select):
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        elif not self.grid.currentIndex().isValid() and self.proxy.rowCount():
            self._make_current_row(0)
        self.refreshed.emit()

    def _on_refresh_failed(self, open_serial: int, actor_id: str, error: BaseException) -> None:
        if open_serial != self._open_serial:
            return
        self.show_error(f"Could not reload actor {actor_id}: {_one_line(error)}")
        self.refreshed.emit()

    # -- the grid's selection -------------------------------------------------------------------

    def selected_filenames(self) -> list[str]:
        """Selected images in grid order; the current one if nothing is selected."""
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        if not rows and self.grid.currentIndex().isValid():
            rows = [self.grid.currentIndex().row()]
        return [self._filename_at(row) for row in rows]

    def visible_filenames(self) -> list[str]:
        return [self._filename_at(row) for row in range(self.proxy.rowCount())]

    def current_filename(self) -> str | None:
        index = self.grid.currentIndex()
        return self._filename_at(index.row()) if index.isValid() else None

    def _filename_at(self, proxy_row: int) -> str:
        image = self.proxy.index(proxy_row, 0).data(ImageGridModel.ImageRole)
        return image.filename

    def select_filename(self, filename: str) -> bool:
        """Make ``filename`` the current, only selected image (if the filter shows it)."""
        row = self.model.row_of(filename)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self._set_current(index)
        return True

    def _make_current_row(self, proxy_row: int) -> None:
        count = self.proxy.rowCount()
        if count:
            self._set_current(self.proxy.index(max(0, min(proxy_row, count - 1)), 0))

    def _set_current(self, index: QModelIndex) -> None:
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.grid.selectionModel().setCurrentIndex(index, flags)
        self.grid.scrollTo(index)

    # -- curation ------------------------------------------------------------------------------

    def mark_good(self) -> None:
        self._flag(lambda names: self.controller.mark(names, True))

    def mark_bad(self) -> None:
        self._flag(lambda names: self.controller.mark(names, False))

    def toggle_flag(self) -> None:
        self._flag(self.controller.toggle)

    def _flag(self, act: Callable[[list[str]], bool]) -> None:
        names = self.selected_filenames()
        if not names:
            return
        position = self.grid.currentIndex().row()
        target = next_after(self.visible_filenames(), names)
        if not act(names):
            return
        moved = target is not None and self.select_filename(target)
        if not moved and not self.select_filename(names[-1]):
            self._make_current_row(position)

    def delete_selected(self) -> None:
        names = self.selected_filenames()
        if not names:
            return
        target = next_after(self.visible_filenames(), names)
        if self.controller.delete(names):
            self._after_delete = target
            self.statusBar().showMessage(f"Deleting {images_phrase(len(names))}…")

    def delete_all(self) -> None:
        self.controller.delete_all()

    def copy_s3_urls(self) -> None:
        urls = []
        for name in self.selected_filenames():
            image = self.model.image_at(self.model.row_of(name))
            if image is not None:
                urls.append(image.s3_url)
        if urls:
            QGuiApplication.clipboard().setText("\n".join(urls))
            self.statusBar().showMessage(f"Copied {len(urls)} S3 URL(s)", 3000)

    def _on_delete_finished(self, result: DeleteResult) -> None:
        target, self._after_delete = self._after_delete, None
        if result.deleted:
            self.statusBar().showMessage(f"Deleted {images_phrase(len(result.deleted))}", 5000)
        if target is not None:
            self.select_filename(target)
        elif not self.grid.currentIndex().isValid():
            self._make_current_row(self.proxy.rowCount() - 1)
        if result.problems:
            self._dialogs.show_problems("Delete", result.problems)

    def _on_delete_all_started(self, actor_name: str, count: int) -> None:
        progress = QProgressDialog(
            f"Deleting {images_phrase(count)} of {actor_name}…", "", 0, 0, self
        )
        progress.setObjectName("deleteAllProgress")
        progress.setCancelButton(None)
        progress.setWindowTitle("Delete All")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.show()
        self._progress = progress

    def _on_delete_all_finished(self, result: DeleteResult) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None
        self.statusBar().showMessage(f"Deleted {images_phrase(len(result.deleted))}", 5000)
        self._make_current_row(0)
        if result.problems:
            self._dialogs.show_problems("Delete All", result.problems)

    def _on_restore_finished(self, result: DeleteResult) -> None:
        if result.deleted:
            self.statusBar().showMessage(f"Restored {images_phrase(len(result.deleted))}", 5000)
            self.select_filename(result.deleted[0])

    # -- preview -------------------------------------------------------------------------------

    def show_preview(self) -> None:
        if self.preview is not None and self.preview.isVisible():
            self.preview.close()
            return
        index = self.grid.currentIndex()
        if not index.isValid():
            return
        self._set_current(index)
        if self.preview is None:
            self.preview = PreviewDialog(self._full_image_bytes, parent=self)
            for action in (
                self.action_mark_good,
                self.action_mark_bad,
                self.action_toggle,
                self.action_delete,
                self.action_undo,
                self.action_redo,
            ):
                self.preview.addAction(action)
            self.preview.navigate_requested.connect(self._step)
        self.preview.show_image(index.data(ImageGridModel.ImageRole))
        self.preview.show()
        self.preview.raise_()
        self.preview.activateWindow()

    def _step(self, delta: int) -> None:
        row = self.grid.currentIndex().row() + delta
        if 0 <= row < self.proxy.rowCount():
            self._set_current(self.proxy.index(row, 0))

    def _full_image_bytes(self, image: TrainingImage) -> bytes:
        cached = getattr(self.loader, "compressed_bytes", None)
        if callable(cached) and image.location is not None:
            data = cached(image.location.key)
            if data:
                return data
        return self._service.fetch_image_bytes(image)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.preview is not None and self.preview.isVisible():
            image = current.data(ImageGridModel.ImageRole) if current.isValid() else None
            self.preview.show_image(image)

    # -- view controls ---------------------------------------------------------------------------

    def _on_slider(self, value: int) -> None:
        self.grid.set_thumbnail_size(value)
        self._settings.setValue("grid/thumbnailSize", value)

    def _on_grid_size(self, value: int) -> None:
        if self.size_slider.value() != value:
            blocked = self.size_slider.blockSignals(True)
            self.size_slider.setValue(value)
            self.size_slider.blockSignals(blocked)
            self._settings.setValue("grid/thumbnailSize", value)

    def _on_filter(self, _index: int) -> None:
        value = self.flag_filter.currentData()
        keep = self.current_filename()
        self.proxy.set_flag_filter(value)
        self._settings.setValue("grid/flagFilter", value)
        if keep is None or not self.select_filename(keep):
            self._make_current_row(0)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if index.isValid() and not self.grid.selectionModel().isSelected(index):
            self._set_current(index)
        menu = QMenu(self)
        menu.addActions([self.action_mark_good, self.action_mark_bad, self.action_toggle])
        menu.addSeparator()
        menu.addActions([self.action_delete, self.action_copy_url, self.action_retry])
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    # -- generation ------------------------------------------------------------------------------

    def set_generation_handler(
        self,
        generate_single: Callable[[], None] | None,
        generate_all: Callable[[], None] | None = None,
    ) -> None:
        """Wire ✨ / 🎨 to these callbacks (None: disabled, "coming with the generation feature").

        The window wires its own (``generate_single`` / ``generate_all``); the actions are
        enabled while an actor is open and no generation runs.
        """
        self._generate_single, self._generate_all = generate_single, generate_all
        self._update_generation_actions()

    def _update_generation_actions(self) -> None:
        busy = self.generation.is_busy()
        for action, handler, tip in (
            (self.action_generate_single, self._generate_single, "one image from a prompt"),
            (self.action_generate_all, self._generate_all, "an image for every prompt"),
        ):
            if handler is None:
                action.setEnabled(False)
                action.setToolTip(GENERATION_TOOLTIP)
            else:
                action.setEnabled(self._actor_id is not None and not busy)
                note = "a generation is running" if busy else tip
                action.setToolTip(f"{action.text()}: {note}")
            action.setStatusTip(action.toolTip())

    def _on_generate_single(self) -> None:
        if self._generate_single is not None:
            self._generate_single()

    def _on_generate_all(self) -> None:
        if self._generate_all is not None:
            self._generate_all()

    def _generation_service(self) -> GenerationService | None:
        """A GenerationService over the window's data dir and store, with the generator the
        settings choose (built afresh, so a settings change counts from the next run)."""
        from tdm_desktop.core.generation import GenerationService

        try:
            generator: Generator = self._generator_factory(load_settings(self._settings))
        except (TdmError, ValueError) as err:
            self._generation_dialogs.show_error("Generator", one_line(err))
            return None
        return GenerationService(self._service.data_dir, self._service.store, generator)

    def generate_single(self) -> None:
        """✨: ask for a prompt, seed and negative prompt, then generate in the background."""
        actor_id, actor_name = self._actor_id, self._actor_name
        if actor_id is None or self.generation.is_busy():
            return
        service = self._generation_service()
        if service is None:
            return
        try:
            prompts = service.actor_prompts(actor_id)
        except TdmError as err:  # the dialog still lets the curator write a prompt
            log.warning("prompts of %s: %s", actor_name, err)
            prompts = []
        base = service.base_image_path(actor_name)
        dialog = GenerateSingleDialog(
            actor_name,
            prompts,
            base if base.is_file() else None,
            generator_label(service.generator),
            parent=self,
        )
        self.generate_single_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            self.generate_single_dialog = None
            if self._actor_id != actor_id:
                return
            request = dialog.request()
            if self.generation.generate_single(service, actor_id, request):
                self._show_generation_busy(actor_name, service.generator)

        dialog.accepted.connect(accepted)
        dialog.rejected.connect(lambda: setattr(self, "generate_single_dialog", None))
        dialog.open()

    def _show_generation_busy(self, actor_name: str, generator: Generator) -> None:
        busy = QProgressDialog(
            f"Generating an image for {actor_name} with {generator_label(generator)}…",
            "",
            0,
            0,
            self,
        )
        busy.setObjectName("generateSingleProgress")
        busy.setCancelButton(None)
        busy.setWindowTitle(SINGLE_TITLE)
        busy.setWindowModality(Qt.WindowModality.WindowModal)
        busy.setMinimumDuration(0)
        busy.show()
        self._generation_busy = busy
        self.statusBar().showMessage(f"Generating an image for {actor_name}…")

    def _close_generation_busy(self) -> None:
        if self._generation_busy is not None:
            self._generation_busy.close()
            self._generation_busy.deleteLater()
            self._generation_busy = None

    def generate_all(self) -> None:
        """🎨: confirm, then one image per prompt in the background with a progress dialog."""
        actor_id, actor_name = self._actor_id, self._actor_name
        if actor_id is None or self.generation.is_busy():
            return
        service = self._generation_service()
        if service is None:
            return
        try:
            prompts = service.actor_prompts(actor_id)
        except TdmError as err:
            self._generation_dialogs.show_error(ALL_TITLE, one_line(err))
            return
        name = generator_label(service.generator)
        if not prompts:
            self._generation_dialogs.show_error(ALL_TITLE, f"{actor_name} has no prompts")
            return
        if not self._generation_dialogs.confirm_all(actor_name, len(prompts), name):
            return
        if not self.generation.generate_all(service, actor_id, prompts):
            return
        progress = GenerateAllProgressDialog(
            self.generation, actor_name, name, len(prompts), parent=self
        )
        progress.destroyed.connect(lambda *_: setattr(self, "generate_all_progress", None))
        self.generate_all_progress = progress
        progress.show()
        self.statusBar().showMessage(f"Generating {len(prompts)} images for {actor_name}…")

    def _on_generation_busy(self, busy: bool) -> None:
        self._update_generation_actions()
        if not busy:
            self._close_generation_busy()

    def _show_landed(self, actor_id: str, select: str | None = None) -> None:
        """A generated image is in the manifest: re-read the actor (one job, newest read wins);
        ``update_images`` inserts only the new rows, so the watcher's own reload adds nothing."""
        if actor_id != self._actor_id:
            return
        if select is not None:
            self._select_after_refresh = select
        self.watcher.remember_current_state()
        self.reload_actor()

    def _on_single_generated(self, actor_id: str, image: GeneratedImage) -> None:
        self.statusBar().showMessage(
            f"Generated {image.filename} (seed {image.seed}, {image.size_mb:.2f} MB)", 8000
        )
        self._show_landed(actor_id, select=image.filename)
        if image.metadata_error:
            self.show_error(image.metadata_error)

    def _on_image_landed(self, actor_id: str, image: GeneratedImage) -> None:
        self._show_landed(actor_id)

    def _on_all_generated(self, actor_id: str, report: GenerationReport) -> None:
        self.statusBar().showMessage(report.summary(), 10_000)
        self._show_landed(actor_id)
        actor_name = self._actor_name if actor_id == self._actor_id else f"actor {actor_id}"
        self._generation_dialogs.show_report(actor_name, report)

    def _on_generation_failed(self, title: str, message: str) -> None:
        self.statusBar().showMessage(f"{title} failed", 8000)
        self._generation_dialogs.show_error(title, message)

    # -- settings dialog -------------------------------------------------------------------------

    def open_settings(self) -> None:
        """Settings… (Ctrl+,): generator, A1111 URL, steps, denoising, thumbnail cache budget."""
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return
        values = load_settings(self._settings)
        dialog = SettingsDialog(values, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_dialog = dialog

        def accepted() -> None:
            self.apply_settings(dialog.values())

        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _result: setattr(self, "settings_dialog", None))
        dialog.open()

    def apply_settings(self, values: AppSettings) -> None:
        """Keep ``values`` in the settings; the thumbnail budget applies at once, the generator
        from the next generation."""
        save_settings(self._settings, values)
        self._apply_pixmap_budget(values.thumbnail_budget_mib)
        self.statusBar().showMessage(f"Settings saved: generator {values.generator}", 5000)

    def _apply_pixmap_budget(self, mib: int) -> None:
        set_budget = getattr(self.loader, "set_pixmap_budget", None)
        if callable(set_budget):
            set_budget(mib * MIB)

    # -- status, errors, thumbnails --------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """A clear message over the grid (and in the log); the rest keeps working."""
        self.error_banner.setText(message)
        self.error_banner.show()
        log.error("%s", message)

    def hide_error(self) -> None:
        self.error_banner.clear()
        self.error_banner.hide()

    def error_text(self) -> str:
        return self.error_banner.text() if self.error_banner.isVisibleTo(self) else ""

    def _on_rows_changed(self, *_args: object) -> None:
        images = self.model.images()
        self._images_by_key = {img.location.key: img for img in images if img.location is not None}
        self._loaded_keys &= self._images_by_key.keys()
        self._failed_keys &= self._images_by_key.keys()
        self.image_count_label.setText(f"{len(images)} images in S3")
        self._show_loaded()

    def _show_counts(self, good: int, bad: int) -> None:
        self.flag_counts_label.setText(f"good {good} · bad {bad}")

    def _show_loaded(self) -> None:
        text = f"Loaded {len(self._loaded_keys)} / {self.model.rowCount()}"
        if self._failed_keys:
            text += f" ({len(self._failed_keys)} failed)"
        self.loaded_label.setText(text)

    def _on_thumbnail_ready(self, key: str) -> None:
        if key in self._images_by_key:
            self._loaded_keys.add(key)
            self._failed_keys.discard(key)
            self._show_loaded()

    def _on_thumbnail_failed(self, key: str, reason: str) -> None:
        if key in self._images_by_key:
            self._failed_keys.add(key)
            self._show_loaded()
            message = self._connection_problem(reason)
            if message is not None and message != self.error_text():
                self.show_error(message)

    def _connection_problem(self, reason: str) -> str | None:
        """A banner line for failures that hit every image (endpoint, credentials), else None."""
        store = getattr(self._service, "store", None)
        endpoint = getattr(store, "endpoint_url", None) or "AWS S3"
        if reason == "unreachable":
            return (
                f"S3 is unreachable at {endpoint}: thumbnails cannot load. Check the endpoint "
                "(--endpoint-url, AWS_ENDPOINT_URL_S3) and the network, then press F5."
            )
        if reason == "no credentials":
            return (
                "No AWS credentials found: set AWS_PROFILE (or --profile) or the AWS_ACCESS_KEY_ID "
                "variables, then press F5."
            )
        if reason == "timeout":
            return f"S3 at {endpoint} does not answer in time: press F5 to try again."
        return None

    def _fetch_key(self, key: str) -> bytes:
        """The loader's fetch (worker threads): S3 key → TrainingImage → service."""
        image = self._images_by_key.get(key)
        if image is None:
            raise KeyError(f"{key}: no longer listed")
        return self._service.fetch_image_bytes(image)

    # -- closing ---------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.preview is not None:
            self.preview.close()
        self.watcher.clear()
        self._app_logger.removeHandler(self._log_handler)
        self.loader.shutdown()
        self.generation.cancel()
        self.generation.wait_for_jobs(30_000)
        self.controller.wait_for_jobs(10_000)
        self._jobs.wait_for_done(10_000)
        super().closeEvent(event)


def _as_int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _one_line(error: BaseException) -> str:
    text = str(error) if isinstance(error, TdmError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())
