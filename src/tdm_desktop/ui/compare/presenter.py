"""``C`` on the grid with 2–4 images selected: the compare view in place of the grid.

The flag keys act on the focused pane through the same ``CurationController`` (so the same undo
stack) as the grid; the panes follow the model, so a flag shows at once. ``Esc`` goes back to the
grid with its selection as it was; the grid's current image becomes the one focused last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QItemSelectionModel, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import QListView, QStackedWidget, QWidget

from tdm_desktop.ui.common.full_image import FetchImage
from tdm_desktop.ui.common.messages import describe_image
from tdm_desktop.ui.compare.controller import MAX_IMAGES, CompareController, compare_problem
from tdm_desktop.ui.compare.widget import CompareWidget
from tdm_desktop.ui.grid.filter import GridFilter
from tdm_desktop.ui.grid.selection import GridSelection


class FlagWrites(Protocol):
    """The curator's flag decisions (``CurationController``)."""

    def mark(self, filenames: Sequence[str], good: bool) -> bool: ...

    def toggle(self, filenames: Sequence[str]) -> bool: ...


@dataclass(frozen=True)
class FlagKeys:
    """The window's flag shortcuts (``actionMarkGood``...), so compare uses the same keys."""

    good: Sequence[QKeySequence]
    bad: Sequence[QKeySequence]
    toggle: Sequence[QKeySequence]


class ComparePresenter(QObject):
    """Puts a ``CompareWidget`` on ``stack`` beside ``grid``; ``status_message(text, ms)``."""

    status_message = Signal(str, int)
    opened = Signal(list)
    closed = Signal()

    def __init__(
        self,
        window: QWidget,
        stack: QStackedWidget,
        grid: QListView,
        rows: GridFilter,
        selection: GridSelection,
        flags: FlagWrites,
        fetch: FetchImage,
        keys: FlagKeys,
        *,
        group_of: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        super().__init__(window)
        self._stack = stack
        self._grid = grid
        self._rows = rows
        self._model = model = rows.model
        self._selection = selection
        self._flags = flags
        self._group_of = group_of
        self.controller = CompareController(fetch, parent=self)
        self.widget = CompareWidget(self.controller.zoom)
        stack.addWidget(self.widget)
        self._sizes: dict[int, QSize] = {}
        self.actions = self._make_actions(keys)

        controller, widget = self.controller, self.widget
        controller.focus_changed.connect(widget.show_focus)
        controller.picture_ready.connect(self._on_picture)
        controller.picture_failed.connect(self._on_failed)
        widget.pane_clicked.connect(controller.set_focus)
        widget.focus_moved.connect(controller.move_focus)
        widget.close_requested.connect(self.close)
        model.dataChanged.connect(lambda *_: self._refresh_captions())
        model.rowsRemoved.connect(lambda *_: self._refresh_captions())
        model.modelReset.connect(self.close)  # another actor

    def is_open(self) -> bool:
        return self._stack.currentWidget() is self.widget

    # -- opening and closing -------------------------------------------------------------------

    def open_selection(self) -> None:
        """``C``: compare the selected images (one image of a near-duplicate group: its group,
        up to four), or say why not."""
        names = self._selection.selected_filenames()
        if len(names) == 1 and self._group_of is not None:
            group = list(self._group_of(names[0]))
            if len(group) > MAX_IMAGES:  # the image itself and the ones after it, wrapping
                start = group.index(names[0])
                group = [group[(start + i) % len(group)] for i in range(MAX_IMAGES)]
            if len(group) >= 2:
                names = group
        problem = compare_problem(len(names))
        if problem:
            self.status_message.emit(problem, 5000)
            return
        current = self._selection.current_filename()
        self.open_filenames(names, focus=names.index(current) if current in names else 0)

    def open_filenames(self, names: Sequence[str], focus: int = 0) -> bool:
        images = [self._model.image_at(self._model.row_of(name)) for name in names]
        listed = [image for image in images if image is not None]
        if compare_problem(len(listed)):
            return False
        self.widget.set_count(len(listed))
        for pane in self.widget.shown_panes():
            pane.set_message("Loading…")
        self._sizes = {}
        self.controller.open(listed, focus)
        self._refresh_captions()
        self._stack.setCurrentWidget(self.widget)
        self.widget.setFocus(Qt.FocusReason.OtherFocusReason)
        self.opened.emit([image.filename for image in listed])
        return True

    def close(self) -> None:
        """Back to the grid: the selection as it was, the focused image current."""
        if not self.is_open():
            return
        focused = self.controller.focused_filename()
        self.controller.clear()
        self._stack.setCurrentWidget(self._grid)
        if focused is not None:
            self._make_current_keeping_selection(focused)
        self._grid.setFocus(Qt.FocusReason.OtherFocusReason)
        self.closed.emit()

    def _make_current_keeping_selection(self, filename: str) -> None:
        index = self._rows.view_index(self._model.row_of(filename))
        if index.isValid():
            flag = QItemSelectionModel.SelectionFlag.NoUpdate
            self._grid.selectionModel().setCurrentIndex(index, flag)
            self._grid.scrollTo(index)

    # -- flags on the focused pane -------------------------------------------------------------

    def _make_actions(self, keys: FlagKeys) -> list[QAction]:
        specs: list[tuple[str, Sequence[QKeySequence], Callable[[str], object]]] = [
            ("compareMarkGood", keys.good, lambda name: self._flags.mark([name], True)),
            ("compareMarkBad", keys.bad, lambda name: self._flags.mark([name], False)),
            ("compareToggleFlag", keys.toggle, lambda name: self._flags.toggle([name])),
        ]
        actions = []
        for object_name, shortcuts, act in specs:
            action = QAction(object_name, self.widget)
            action.setObjectName(object_name)
            action.setShortcuts(list(shortcuts))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, act=act: self._on_focused(act))
            self.widget.addAction(action)
            actions.append(action)
        return actions

    def _on_focused(self, act: Callable[[str], object]) -> None:
        name = self.controller.focused_filename()
        if name is not None and self._model.row_of(name) >= 0:
            act(name)

    # -- what the panes show -------------------------------------------------------------------

    def _on_picture(self, slot: int, picture: QImage) -> None:
        panes = self.widget.shown_panes()
        if slot < len(panes):
            panes[slot].set_picture(picture)
            self._sizes[slot] = picture.size()
            self._refresh_captions()

    def _on_failed(self, slot: int, message: str) -> None:
        panes = self.widget.shown_panes()
        if slot < len(panes):
            panes[slot].set_message(f"Could not show this image:\n{message}")

    def _refresh_captions(self) -> None:
        if not self.controller.filenames:
            return
        for slot, (name, pane) in enumerate(
            zip(self.controller.filenames, self.widget.shown_panes(), strict=False)
        ):
            image = self._model.image_at(self._model.row_of(name))
            if image is None:
                pane.set_caption(f"{name} · no longer listed")
                continue
            size = self._sizes.get(slot)
            pane.set_caption(describe_image(image, size), bad=not image.good)
