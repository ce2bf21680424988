"""The compare view: 2 to 4 panes side by side (4 as 2 × 2) sharing one zoom, and its keys.

Arrows move the focus between panes, ``Z`` toggles 100 % at the point under the pointer (else
where the panes are), ``Esc`` asks to go back to the grid. The flag keys are actions the
presenter adds to this widget, so they act here only while it has the keyboard.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from tdm_desktop.ui.compare.controller import MAX_IMAGES, columns_for
from tdm_desktop.ui.compare.pane import ImagePaneWidget, toggle_zoom_at_pointer
from tdm_desktop.ui.compare.zoom import SharedZoom

HINT = (
    "← → ↑ ↓ focus · G good · B bad · T toggle · Z 100 % / fit · drag to pan · Esc back to the grid"
)


class CompareWidget(QWidget):
    """Panes for up to four images; ``pane_clicked(slot)``, ``focus_moved(dx, dy)``,
    ``close_requested()``."""

    pane_clicked = Signal(int)
    focus_moved = Signal(int, int)
    close_requested = Signal()

    def __init__(self, zoom: SharedZoom, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._zoom = zoom
        self.panes = [ImagePaneWidget(zoom, self) for _ in range(MAX_IMAGES)]
        for slot, pane in enumerate(self.panes):
            pane.setObjectName(f"comparePane{slot + 1}")
            pane.clicked.connect(lambda slot=slot: self.pane_clicked.emit(slot))
        self._grid = QGridLayout()
        self._grid.setSpacing(6)
        hint = QLabel(HINT)
        hint.setObjectName("compareHint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._grid, 1)
        layout.addWidget(hint)
        self._count = 0

    def set_count(self, count: int) -> None:
        """Lay out ``count`` panes; the others are hidden."""
        for pane in self.panes:
            self._grid.removeWidget(pane)
            pane.hide()
        columns = columns_for(count)
        for slot in range(count):
            self._grid.addWidget(self.panes[slot], slot // columns, slot % columns)
            self.panes[slot].show()
        self._count = count

    def shown_panes(self) -> list[ImagePaneWidget]:
        return self.panes[: self._count]

    def show_focus(self, slot: int) -> None:
        for index, pane in enumerate(self.shown_panes()):
            pane.set_focused(index == slot)

    def toggle_zoom(self) -> None:
        """``Z``: 100 % at the point under the pointer, or back to fit."""
        toggle_zoom_at_pointer(self._zoom, self.shown_panes())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        moves = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
        elif key in moves:
            self.focus_moved.emit(*moves[key])
        elif key == Qt.Key.Key_Z:
            self.toggle_zoom()
        elif key == Qt.Key.Key_Escape:
            self.close_requested.emit()
        else:
            super().keyPressEvent(event)
