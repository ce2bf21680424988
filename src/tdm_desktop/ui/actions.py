"""The window's actions, menus and toolbar, built from one declarative table.

Object names and shortcuts are what curators' scripts and the tests rely on. ``on_grid`` actions
(single letters, arrows' companions...) only fire while the grid has focus, so typing in a text field
never flags an image. The toolbar shows SVG icons and emoji-free labels (emoji need an emoji font);
the menus and tooltips keep the design's emoji names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPixmap, QUndoGroup
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMenu,
    QMenuBar,
    QSizePolicy,
    QSlider,
    QToolBar,
    QWidget,
)

from tdm_desktop.ui.generation.controller import ALL_TITLE, SINGLE_TITLE
from tdm_desktop.ui.grid.filter import FLAG_FILTERS, SORT_ORDERS
from tdm_desktop.ui.grid.view import MAX_THUMBNAIL, MIN_THUMBNAIL

Shortcut = QKeySequence | QKeySequence.StandardKey | str


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


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``attr`` names it on ``WindowActions``, ``slot`` in the handlers mapping."""

    attr: str
    name: str
    text: str
    slot: str | None = None
    shortcuts: tuple[Shortcut, ...] = ()
    on_grid: bool = False
    icon: str | None = None
    icon_text: str | None = None
    tooltip: str | None = None


_KEY = QKeySequence
ACTION_TABLE: tuple[ActionSpec, ...] = (
    ActionSpec("mark_good", "actionMarkGood", "Mark &Good", "mark_good", ("G", "P"), True),
    ActionSpec("mark_bad", "actionMarkBad", "Mark &Bad", "mark_bad", ("B", "X"), True),
    ActionSpec("toggle", "actionToggleFlag", "&Toggle Flag", "toggle_flag", ("T",), True),
    ActionSpec(
        "next_unreviewed",
        "actionNextUnreviewed",
        "Next &Unreviewed",
        "next_unreviewed",
        ("U",),
        True,
        tooltip="Go to the next image nobody has decided yet (U)",
    ),
    ActionSpec(
        "delete", "actionDelete", "&Delete", "delete_selected", (_KEY(Qt.Key.Key_Delete),), True
    ),
    ActionSpec(
        "preview",
        "actionPreview",
        "&Preview",
        "show_preview",
        (_KEY(Qt.Key.Key_Space), _KEY(Qt.Key.Key_Return), _KEY(Qt.Key.Key_Enter)),
        True,
    ),
    ActionSpec(
        "compare",
        "actionCompare",
        "&Compare Selected",
        "compare",
        ("C",),
        True,
        tooltip="Compare the 2–4 selected images side by side (C)",
    ),
    ActionSpec("retry", "actionRetry", "&Retry Loading", "retry_selected", ("R",), True),
    ActionSpec(
        "copy_url",
        "actionCopyS3Url",
        "&Copy S3 URL",
        "copy_s3_urls",
        (QKeySequence.StandardKey.Copy,),
        True,
    ),
    ActionSpec("select_all", "actionSelectAll", "Select &All", "select_all", ("Ctrl+A",), True),
    ActionSpec("zoom_in", "actionZoomIn", "Zoom &In", "zoom_in", ("Ctrl+=", "Ctrl++"), True),
    ActionSpec("zoom_out", "actionZoomOut", "Zoom &Out", "zoom_out", ("Ctrl+-",), True),
    ActionSpec(
        "refresh",
        "actionRefresh",
        "&Refresh",
        "refresh",
        (_KEY(Qt.Key.Key_F5),),
        icon="refresh.svg",
        icon_text="Refresh",
    ),
    ActionSpec(
        "delete_all",
        "actionDeleteAll",
        "🗑️ Delete All",
        "delete_all",
        icon="trash.svg",
        icon_text="Delete All",
        tooltip="🗑️ Delete All: delete every image of this actor",
    ),
    ActionSpec(
        "export",
        "actionExport",
        "&Export Good Set…",
        "export",
        ("Ctrl+E",),
        tooltip="Export the actor's training set (images and captions) in a trainer's layout",
    ),
    ActionSpec("quit", "actionQuit", "&Quit", "quit", ("Ctrl+Q",)),
    ActionSpec(
        "settings",
        "actionSettings",
        "&Settings…",
        "open_settings",
        ("Ctrl+,",),
        icon="settings.svg",
        icon_text="Settings",
    ),
    ActionSpec(
        "generate_single",
        "actionGenerateSingle",
        SINGLE_TITLE,
        icon="sparkle.svg",
        icon_text="Generate Single Image",
    ),
    ActionSpec(
        "generate_all",
        "actionGenerateAll",
        ALL_TITLE,
        icon="palette.svg",
        icon_text="Generate All Prompts",
    ),
    ActionSpec(
        "check_s3",
        "actionCheckAgainstS3",
        "&Check against S3…",
        tooltip="Compare the actor's manifest with its S3 prefix (orphans, dangling entries, "
        "sizes, duplicates, stale metadata) and fix what it finds, one kind at a time",
    ),
    ActionSpec(
        "migrate",
        "actionMigrate",
        "&Migrate…",
        tooltip="Turn a manifest written before the S3-only change into the S3-only structure "
        "(a dry run first; the original is kept beside it)",
    ),
)
"""In creation order (the order the window lists its actions)."""


@dataclass(frozen=True)
class WindowActions:
    """Every action of the window, by what it does."""

    mark_good: QAction
    mark_bad: QAction
    toggle: QAction
    next_unreviewed: QAction
    delete: QAction
    preview: QAction
    compare: QAction
    retry: QAction
    copy_url: QAction
    select_all: QAction
    zoom_in: QAction
    zoom_out: QAction
    refresh: QAction
    delete_all: QAction
    export: QAction
    quit: QAction
    settings: QAction
    generate_single: QAction
    generate_all: QAction
    check_s3: QAction
    migrate: QAction
    undo: QAction
    redo: QAction

    def preview_actions(self) -> list[QAction]:
        """What the full-size preview carries, so the same keys flag, delete and undo there."""
        return [self.mark_good, self.mark_bad, self.toggle, self.delete, self.undo, self.redo]


def make_action(
    owner: QWidget,
    grid: QWidget,
    spec: ActionSpec,
    slot: Callable[[], object] | None,
) -> QAction:
    """An action owned by ``owner``; ``on_grid`` ones are added to ``grid`` with a widget context."""
    action = QAction(spec.text, owner)
    action.setObjectName(spec.name)
    keys = [k if isinstance(k, QKeySequence) else QKeySequence(k) for k in spec.shortcuts]
    if keys:
        action.setShortcuts(keys)
        tip = " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
        action.setToolTip(f"{spec.text.replace('&', '')} ({tip})")
    if spec.on_grid:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        grid.addAction(action)
    else:
        owner.addAction(action)
    if slot is not None:
        action.triggered.connect(lambda _checked=False: slot())
    return action


def build_actions(
    owner: QWidget,
    grid: QWidget,
    slots: Mapping[str, Callable[[], object]],
    undo_group: QUndoGroup,
) -> WindowActions:
    """All actions from ``ACTION_TABLE`` plus Undo/Redo from ``undo_group``.

    ``slots`` maps each spec's ``slot`` name to a callable; generation actions have none (the
    generation presenter connects them).
    """
    made = {spec.attr: make_action(owner, grid, spec, _slot(slots, spec)) for spec in ACTION_TABLE}
    for spec in ACTION_TABLE:
        action = made[spec.attr]
        if spec.icon is not None:
            action.setIcon(load_icon(spec.icon))
            action.setIconText(spec.icon_text or spec.text)
        if spec.tooltip is not None:
            action.setToolTip(spec.tooltip)

    undo = undo_group.createUndoAction(owner, "&Undo")
    undo.setObjectName("actionUndo")
    undo.setShortcuts([QKeySequence("Ctrl+Z")])
    redo = undo_group.createRedoAction(owner, "&Redo")
    redo.setObjectName("actionRedo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    owner.addAction(undo)
    owner.addAction(redo)
    return WindowActions(**made, undo=undo, redo=redo)


def _slot(
    slots: Mapping[str, Callable[[], object]], spec: ActionSpec
) -> Callable[[], object] | None:
    if spec.slot is None:
        return None
    return slots[spec.slot]


def build_menus(bar: QMenuBar, a: WindowActions) -> QMenu:
    """File, Edit, View, Actor, Image; returns the View menu (the log dock adds its toggle
    there)."""
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.refresh, a.export])
    file_menu.addSeparator()
    file_menu.addAction(a.quit)
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([a.undo, a.redo])
    edit_menu.addSeparator()
    edit_menu.addActions([a.select_all, a.copy_url])
    edit_menu.addSeparator()
    edit_menu.addActions([a.delete, a.delete_all])
    edit_menu.addSeparator()
    edit_menu.addAction(a.settings)
    view_menu = bar.addMenu("&View")
    view_menu.addActions([a.zoom_in, a.zoom_out, a.preview, a.compare])
    image_menu = bar.addMenu("&Image")
    image_menu.addActions([a.mark_good, a.mark_bad, a.toggle, a.next_unreviewed])
    image_menu.addSeparator()
    image_menu.addActions([a.retry, a.copy_url])
    image_menu.addSeparator()
    image_menu.addActions([a.generate_single, a.generate_all])
    actor_menu = QMenu("&Actor", bar)
    actor_menu.addActions([a.check_s3, a.migrate])
    bar.insertMenu(image_menu.menuAction(), actor_menu)  # File, Edit, View, Actor, Image
    return view_menu


def build_actor_context_menu(parent: QWidget, a: WindowActions) -> QMenu:
    """The actor list's right-click menu (it acts on the row clicked, which becomes current)."""
    menu = QMenu(parent)
    menu.addActions([a.check_s3, a.migrate])
    menu.addSeparator()
    menu.addAction(a.refresh)
    return menu


def build_context_menu(parent: QWidget, a: WindowActions) -> QMenu:
    """The grid's right-click menu."""
    menu = QMenu(parent)
    menu.addActions([a.mark_good, a.mark_bad, a.toggle])
    menu.addSeparator()
    menu.addActions([a.delete, a.copy_url, a.retry])
    return menu


def build_toolbar(tb: QToolBar, a: WindowActions) -> tuple[QSlider, QComboBox, QComboBox]:
    """Fill the toolbar; returns the thumbnail size slider, the review filter and the sort it
    holds."""
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tb.addActions([a.generate_single, a.generate_all])
    tb.addAction(a.delete_all)
    tb.addSeparator()
    tb.addWidget(QLabel(" Size "))
    size_slider = QSlider(Qt.Orientation.Horizontal)
    size_slider.setObjectName("gridSizeSlider")
    size_slider.setRange(MIN_THUMBNAIL, MAX_THUMBNAIL)
    size_slider.setSingleStep(8)
    size_slider.setPageStep(32)
    size_slider.setMaximumWidth(200)
    size_slider.setToolTip("Thumbnail size (Ctrl+= / Ctrl+- / Ctrl+wheel)")
    size_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    tb.addWidget(size_slider)
    tb.addWidget(QLabel(" Show "))
    flag_filter = QComboBox()
    flag_filter.setObjectName("flagFilter")
    for label, value in FLAG_FILTERS:
        flag_filter.addItem(label, value)
    flag_filter.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    flag_filter.setToolTip(
        "Unreviewed: nobody decided yet · Good / Bad: decided · Problems: a quality check "
        "flagged it · Near-duplicates: images alike, group by group (C compares a group)"
    )
    tb.addWidget(flag_filter)
    tb.addWidget(QLabel(" Sort "))
    sort_order = QComboBox()
    sort_order.setObjectName("sortOrder")
    for label, order in SORT_ORDERS:
        sort_order.addItem(label, str(order))
    sort_order.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    tb.addWidget(sort_order)
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tb.addWidget(spacer)
    tb.addAction(a.refresh)
    return size_slider, flag_filter, sort_order
