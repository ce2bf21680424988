"""``errorBanner``: the one clear line over the grid when something failed (the rest keeps working)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

BANNER_STYLE = (
    "QLabel#errorBanner { background: #fdecea; color: #611a15; border: 1px solid #f5c2c0;"
    " padding: 6px; border-radius: 4px; }"
)


class ErrorBannerWidget(QLabel):
    """A clear message over the grid, hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet(BANNER_STYLE)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.show()

    def dismiss(self) -> None:
        self.clear()
        self.hide()

    def shown_text(self, ancestor: QWidget) -> str:
        return self.text() if self.isVisibleTo(ancestor) else ""
