"""The actor list's mark for an actor whose last check against S3 found something: a small badge
with the count at the row's right end (grey "?" for a check whose listing stopped early), and the
check's line ("3 findings at 23:10: 1 orphan, 2 dangling") under the row's own tooltip.

Painted beside whatever the row shows (text, icon, progress): the row is drawn as usual in the
space left of the badge. The marks come from ``CheckMarks`` (``IntegrityController``).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from tdm_desktop.ui.actors.list_widget import ActorIdRole
from tdm_desktop.ui.integrity.findings import CheckMark

FOUND_COLOR = QColor("#d9822b")
INCOMPLETE_COLOR = QColor("#8a8a8a")
BADGE_MARGIN = 4
ROW_PADDING = 10  # a row's height beyond its text's

Index = QModelIndex | QPersistentModelIndex


class CheckMarks(Protocol):
    def mark(self, actor_id: str) -> CheckMark | None: ...


class CheckMarkDelegate(QStyledItemDelegate):
    def __init__(self, marks: CheckMarks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._marks = marks

    def mark_at(self, index: Index) -> CheckMark | None:
        actor_id = index.data(ActorIdRole)
        return self._marks.mark(actor_id) if isinstance(actor_id, str) else None

    def tooltip(self, index: Index) -> str:
        """The row's tooltip with the check's line under it."""
        own = index.data(Qt.ItemDataRole.ToolTipRole) or ""
        mark = self.mark_at(index)
        if mark is None:
            return own
        return f"{own}\n{mark.text}" if own else mark.text

    @staticmethod
    def badge_rect(row: QRect, visible_right: int) -> QRect:
        """Where the badge goes: at the row's right end, or the view's when the row is wider
        than what is shown (its rows are as wide as the widest)."""
        side = max(12, row.height() - 2 * BADGE_MARGIN)
        width = side + 8  # a pill: room for two digits
        right = min(row.right(), visible_right) - BADGE_MARGIN
        return QRect(right - width, row.top() + (row.height() - side) // 2, width, side)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Rows tall enough for the badge (and as tall with an icon on some row as without)."""
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), option.fontMetrics.height() + ROW_PADDING))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        mark = self.mark_at(index)
        if mark is None:
            super().paint(painter, option, index)
            return
        full = QStyleOptionViewItem(option)
        self.initStyleOption(full, index)
        view = full.widget
        style = view.style() if view is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, full, painter, view)
        visible_right = option.rect.right()
        if isinstance(view, QAbstractItemView):
            visible_right = view.viewport().rect().right()
        badge = self.badge_rect(option.rect, visible_right)
        narrowed = QStyleOptionViewItem(option)
        narrowed.rect = QRect(option.rect)
        narrowed.rect.setRight(badge.left() - BADGE_MARGIN)
        super().paint(painter, narrowed, index)
        self._paint_badge(painter, badge, mark)

    @staticmethod
    def _paint_badge(painter: QPainter, badge: QRect, mark: CheckMark) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(FOUND_COLOR if mark.complete else INCOMPLETE_COLOR)
        radius = badge.height() / 2
        painter.drawRoundedRect(badge, radius, radius)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(max(8, badge.height() - 5))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        text = str(mark.count) if mark.complete else "?"
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text if len(text) < 3 else "99+")
        painter.restore()

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid() and self.mark_at(index):
            QToolTip.showText(event.globalPos(), self.tooltip(index), view)
            return True
        return super().helpEvent(event, view, option, index)
