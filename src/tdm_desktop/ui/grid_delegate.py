"""Paints one thumbnail tile: image, filename, good/bad badge, loading and error states."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from tdm_desktop.ui.grid_model import ImageGridModel

PADDING = 6  # around the thumbnail, inside the tile
TEXT_GAP = 4
GOOD_COLOR = QColor("#2e9d4a")
BAD_COLOR = QColor("#d23c3c")
ERROR_BACKGROUND = QColor("#4a2a2a")
LOADING_BACKGROUND = QColor("#3a3a3a")


class PixmapSource(Protocol):
    """What the delegate needs from a ThumbnailLoader."""

    def pixmap(self, key: str, size: int) -> QPixmap | None: ...

    def error(self, key: str) -> str | None: ...


def tile_size(thumbnail_px: int, text_height: int) -> QSize:
    """The size of a whole tile (thumbnail, filename line and padding) for a thumbnail size."""
    return QSize(thumbnail_px + 2 * PADDING, thumbnail_px + 2 * PADDING + TEXT_GAP + text_height)


def request_size(thumbnail_px: int, device_pixel_ratio: float) -> int:
    """The pixel size asked of the loader, so thumbnails are sharp on high-DPI screens."""
    return max(1, round(thumbnail_px * device_pixel_ratio))


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws a tile from the loader's cache; never loads anything itself."""

    def __init__(self, loader: PixmapSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loader = loader

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return tile_size(_thumbnail_px(option), option.fontMetrics.height())

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        px = _thumbnail_px(option)
        tile = QRect(option.rect).adjusted(1, 1, -1, -1)
        thumb = QRect(tile.left() + PADDING, tile.top() + PADDING, tile.width() - 2 * PADDING, px)
        line = option.fontMetrics.height()
        text = QRect(thumb.left(), thumb.bottom() + TEXT_GAP, thumb.width(), line)
        good = index.data(ImageGridModel.GoodRole) is not False
        key = index.data(ImageGridModel.KeyRole) or ""
        foreign_error = index.data(ImageGridModel.ErrorRole)
        error = foreign_error or (self._loader.error(key) if key else None)
        dpr = option.widget.devicePixelRatioF() if option.widget is not None else 1.0

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._paint_background(painter, option, tile)
        painter.setOpacity(1.0 if good else 0.45)
        if error:
            self._paint_error(painter, option, thumb, error, retry=not foreign_error)
        else:
            pixmap = self._loader.pixmap(key, request_size(px, dpr)) if key else None
            if pixmap is None or pixmap.isNull():
                self._paint_loading(painter, option, thumb)
            else:
                painter.drawPixmap(_fit(pixmap.size(), thumb), pixmap, QRectF(pixmap.rect()))
        self._paint_filename(painter, option, text, str(index.data() or ""), good)
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # crisp frames
        if not good:
            painter.setPen(QPen(BAD_COLOR, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(tile.adjusted(1, 1, -2, -2))
        if option.state & QStyle.StateFlag.State_HasFocus:
            pen = QPen(option.palette.color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(tile.adjusted(3, 3, -4, -4))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_badge(painter, thumb, good)
        painter.restore()

    # -- pieces ------------------------------------------------------------------------------------

    @staticmethod
    def _paint_background(painter: QPainter, option: QStyleOptionViewItem, tile: QRect) -> None:
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(tile, option.palette.color(QPalette.ColorRole.Highlight))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(tile, option.palette.color(QPalette.ColorRole.AlternateBase))

    @staticmethod
    def _paint_loading(painter: QPainter, option: QStyleOptionViewItem, thumb: QRect) -> None:
        painter.fillRect(thumb, LOADING_BACKGROUND)
        painter.setPen(QColor("#bbbbbb"))
        painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, "Loading…")

    @staticmethod
    def _paint_error(
        painter: QPainter, option: QStyleOptionViewItem, thumb: QRect, reason: str, *, retry: bool
    ) -> None:
        painter.fillRect(thumb, ERROR_BACKGROUND)
        painter.setPen(QColor("#ffdddd"))
        message = f"⚠ {reason}\n\nR to retry" if retry else f"⚠ {reason}"
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(thumb.adjusted(4, 4, -4, -4), int(flags), message)

    @staticmethod
    def _paint_filename(
        painter: QPainter, option: QStyleOptionViewItem, rect: QRect, filename: str, good: bool
    ) -> None:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(option.palette.color(role))
        font = QFont(option.font)
        font.setStrikeOut(not good)
        painter.setFont(font)
        elided = option.fontMetrics.elidedText(filename, Qt.TextElideMode.ElideMiddle, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), elided)

    @staticmethod
    def _paint_badge(painter: QPainter, thumb: QRect, good: bool) -> None:
        diameter = max(18, min(28, thumb.width() // 6))
        circle = QRectF(thumb.right() - diameter - 3, thumb.top() + 3, diameter, diameter)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(GOOD_COLOR if good else BAD_COLOR)
        painter.drawEllipse(circle)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(diameter * 0.7))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, "✓" if good else "✗")


def _thumbnail_px(option: QStyleOptionViewItem) -> int:
    size = option.decorationSize
    return max(16, size.width()) if size.isValid() else 128


def _fit(source: QSize, box: QRect) -> QRectF:
    """``source`` scaled to fit ``box``, aspect kept, centred."""
    scaled = source.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    top_left = QPointF(
        box.left() + (box.width() - scaled.width()) / 2,
        box.top() + (box.height() - scaled.height()) / 2,
    )
    return QRectF(top_left, scaled.toSizeF())
