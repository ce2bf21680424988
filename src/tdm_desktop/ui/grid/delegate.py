"""Paints one thumbnail tile: image, filename, review badge, loading and error states.

The badge shows the review state: a green ✓ (decided good), a red ✗ (bad, the tile dimmed and
framed red), or an empty grey ring (unreviewed: nobody has decided yet). With ``TileMarks``
(what analysis found), a tile also shows "≈ 3" when it is one of 3 near-duplicates and an amber
"!" when a quality check flagged it; hovering either says which group, which check, which value.

A thumbnail cached at the requested size is drawn 1:1 at integer coordinates (no scaling, no
smoothing: the cheapest and sharpest draw); only a stand-in of another cached size (while the
size slider moves) is smooth-scaled into the tile.
"""

from __future__ import annotations

import functools
from typing import Protocol

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QStaticText,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)

from tdm_desktop.ui.grid.model import ImageGridModel, image_error, image_key

PADDING = 6  # around the thumbnail, inside the tile
TEXT_GAP = 4
GOOD_COLOR = QColor("#2e9d4a")
BAD_COLOR = QColor("#d23c3c")
UNREVIEWED_COLOR = QColor(60, 60, 60, 170)
DUPLICATE_COLOR = QColor(40, 90, 200, 220)
PROBLEM_COLOR = QColor("#f2b233")
ERROR_BACKGROUND = QColor("#4a2a2a")
LOADING_BACKGROUND = QColor("#3a3a3a")


class TileMarks(Protocol):
    """What analysis found about an image (``AnalysisController``)."""

    def problems(self, filename: str) -> list[str]: ...

    def duplicate_group(self, filename: str) -> tuple[int, int] | None:
        """(group number, images in the group), or None."""
        ...


class PixmapSource(Protocol):
    """What the delegate needs from a ThumbnailLoader."""

    def pixmap(self, key: str, size: int) -> QPixmap | None: ...

    def is_cached(self, key: str, size: int) -> bool: ...

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
        self._elided: dict[tuple[str, int], QStaticText] = {}  # (filename, width) -> text
        self._marks: TileMarks | None = None

    def set_marks(self, marks: TileMarks | None) -> None:
        """Draw near-duplicate and quality marks from ``marks``."""
        self._marks = marks

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
        rect = option.rect
        tile = rect.adjusted(1, 1, -1, -1)
        thumb = QRect(rect.left() + PADDING, rect.top() + PADDING, px, px)
        text = QRect(thumb.left(), thumb.bottom() + TEXT_GAP, px, option.fontMetrics.height())
        image = index.data(ImageGridModel.ImageRole)
        decided = True
        if image is not None:  # one lookup for what the roles below would each fetch
            good, key, foreign_error = image.good is not False, image_key(image), image_error(image)
            filename, decided = image.filename, image.review.decided or not good
        else:
            good = index.data(ImageGridModel.GoodRole) is not False
            key = index.data(ImageGridModel.KeyRole) or ""
            foreign_error = index.data(ImageGridModel.ErrorRole)
            filename = str(index.data() or "")
        error = foreign_error or (self._loader.error(key) if key else None)
        dpr = option.widget.devicePixelRatioF() if option.widget is not None else 1.0
        state = option.state.value  # an int: a Python enum's & costs µs, and a grid paints many

        painter.save()
        self._paint_background(painter, option, tile, state)
        if not good:
            painter.setOpacity(0.45)
        if error:
            self._paint_error(painter, option, thumb, error, retry=not foreign_error)
        else:
            size = request_size(px, dpr)
            pixmap = self._loader.pixmap(key, size) if key else None
            if pixmap is None or pixmap.isNull():
                painter.drawPixmap(thumb.topLeft(), _loading(px, dpr))
            elif self._loader.is_cached(key, size):
                painter.drawPixmap(_centred(pixmap.size(), thumb, dpr), pixmap)
            else:  # a stand-in of another size: scale it, smoothly, into the tile
                painter.setRenderHint(_SMOOTH)
                painter.drawPixmap(_fit(pixmap.size(), thumb), pixmap, QRectF(pixmap.rect()))
                painter.setRenderHint(_SMOOTH, False)
        self._paint_filename(
            painter, option, text, self._elide(option, filename, px), good, state & _SELECTED
        )
        if not good:
            painter.setOpacity(1.0)
            painter.setPen(_BAD_PEN)
            painter.setBrush(_NO_BRUSH)
            painter.drawRect(tile.adjusted(1, 1, -2, -2))
        if state & _HAS_FOCUS:
            pen = QPen(option.palette.color(_HIGHLIGHT), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(_NO_BRUSH)
            painter.drawRect(tile.adjusted(3, 3, -4, -4))
        self._paint_badge(painter, thumb, ("good" if good else "bad") if decided else "", dpr)
        if self._marks is not None:
            self._paint_marks(painter, option, thumb, filename)
        painter.restore()

    def _paint_marks(
        self, painter: QPainter, option: QStyleOptionViewItem, thumb: QRect, filename: str
    ) -> None:
        assert self._marks is not None
        group = self._marks.duplicate_group(filename)
        if group is not None:
            rect = duplicate_rect(thumb, option.fontMetrics, group[1])
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(DUPLICATE_COLOR)
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
            painter.setPen(QColor("white"))
            painter.setFont(option.font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, duplicate_text(group[1]))
        if self._marks.problems(filename):
            rect = problem_rect(thumb)
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(PROBLEM_COLOR)
            painter.drawEllipse(QRectF(rect))
            painter.setFont(_badge_font(int(rect.height() * 0.7)))
            painter.setPen(QColor("#222222"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "!")

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        """Over a mark, its tooltip says what it means; elsewhere the image's own tooltip."""
        if event.type() == QEvent.Type.ToolTip and self._marks is not None:
            text = self.mark_tooltip(option, index, event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, view)
                return True
        return super().helpEvent(event, view, option, index)

    def mark_tooltip(
        self,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        pos: QPoint,
    ) -> str | None:
        """The tooltip of the mark at ``pos`` (view coordinates), or None."""
        image = index.data(ImageGridModel.ImageRole)
        if self._marks is None or image is None:
            return None
        rect = option.rect
        px = _thumbnail_px(option)
        thumb = QRect(rect.left() + PADDING, rect.top() + PADDING, px, px)
        problems = self._marks.problems(image.filename)
        if problems and problem_rect(thumb).contains(pos):
            return "\n".join(problems)
        group = self._marks.duplicate_group(image.filename)
        if group is not None and duplicate_rect(thumb, option.fontMetrics, group[1]).contains(pos):
            return f"Near-duplicates: group {group[0]}, {group[1]} images alike"
        return None

    def _elide(self, option: QStyleOptionViewItem, filename: str, width: int) -> QStaticText:
        """The filename elided to ``width``, laid out once (cached per filename and width)."""
        cache_key = (filename, width)
        static = self._elided.get(cache_key)
        if static is None:
            if len(self._elided) > 20_000:
                self._elided.clear()
            elided = option.fontMetrics.elidedText(filename, Qt.TextElideMode.ElideMiddle, width)
            static = QStaticText(elided)
            static.setTextFormat(Qt.TextFormat.PlainText)
            self._elided[cache_key] = static
        return static

    # -- pieces ------------------------------------------------------------------------------------

    @staticmethod
    def _paint_background(
        painter: QPainter, option: QStyleOptionViewItem, tile: QRect, state: int
    ) -> None:
        if state & _SELECTED:
            painter.fillRect(tile, option.palette.color(QPalette.ColorRole.Highlight))
        elif state & _MOUSE_OVER:
            painter.fillRect(tile, option.palette.color(QPalette.ColorRole.AlternateBase))

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
        painter: QPainter,
        option: QStyleOptionViewItem,
        rect: QRect,
        text: QStaticText,
        good: bool,
        selected: int,
    ) -> None:
        painter.setPen(option.palette.color(_SELECTED_TEXT if selected else _TEXT))
        if not good:  # a static text's strike-out line lands beside it: draw it as text
            painter.setFont(_struck_font(option.font))
            painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter, text.text())
            return
        painter.setFont(option.font)
        width = text.size().width()
        painter.drawStaticText(QPointF(rect.left() + (rect.width() - width) / 2, rect.top()), text)

    @staticmethod
    def _paint_badge(painter: QPainter, thumb: QRect, state: str, dpr: float) -> None:
        diameter = badge_diameter(thumb)
        badge = _badge(diameter, state, dpr)
        painter.drawPixmap(thumb.right() - diameter - 3, thumb.top() + 3, badge)


def badge_diameter(thumb: QRect) -> int:
    return max(18, min(28, thumb.width() // 6))


def duplicate_text(size: int) -> str:
    """The near-duplicate badge: ``"≈ 3"`` on each of 3 images alike."""
    return f"≈ {size}"


def duplicate_rect(thumb: QRect, metrics: QFontMetrics, size: int) -> QRect:
    """Where the "≈ 3" badge goes: the thumbnail's top-left corner."""
    height = metrics.height() + 4
    width = metrics.horizontalAdvance(duplicate_text(size)) + 12
    return QRect(thumb.left() + 3, thumb.top() + 3, width, height)


def problem_rect(thumb: QRect) -> QRect:
    """Where the quality mark goes: the thumbnail's bottom-left corner."""
    side = badge_diameter(thumb)
    return QRect(thumb.left() + 3, thumb.bottom() - side - 2, side, side)


@functools.cache
def _badge(diameter: int, state: str, dpr: float) -> QPixmap:
    """The review badge, drawn once per size: a green disc with ✓ (``"good"``), a red one with
    ✗ (``"bad"``), an empty grey ring (``""``: unreviewed)."""
    side = diameter + 2
    pixmap = QPixmap(round(side * dpr), round(side * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    circle = QRectF(1, 1, diameter, diameter)
    if not state:
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(UNREVIEWED_COLOR)
        painter.drawEllipse(circle)
        painter.setPen(QPen(QColor("#dddddd"), 2))
        painter.setBrush(_NO_BRUSH)
        painter.drawEllipse(circle.adjusted(5, 5, -5, -5))
        painter.end()
        return pixmap
    painter.setPen(QPen(QColor("white"), 1.5))
    painter.setBrush(GOOD_COLOR if state == "good" else BAD_COLOR)
    painter.drawEllipse(circle)
    painter.setFont(_badge_font(int(diameter * 0.7)))
    painter.setPen(QColor("white"))
    painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, "✓" if state == "good" else "✗")
    painter.end()
    return pixmap


@functools.lru_cache(maxsize=64)
def _loading(side: int, dpr: float) -> QPixmap:
    """The stand-in of a thumbnail not loaded yet ("Loading…" on grey), drawn once per size."""
    pixmap = QPixmap(round(side * dpr), round(side * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(LOADING_BACKGROUND)
    painter = QPainter(pixmap)
    painter.setPen(QColor("#bbbbbb"))
    painter.drawText(QRect(0, 0, side, side), Qt.AlignmentFlag.AlignCenter, "Loading…")
    painter.end()
    return pixmap


@functools.cache
def _badge_font(pixel_size: int) -> QFont:
    font = QFont()
    font.setBold(True)
    font.setPixelSize(pixel_size)
    return font


def _struck_font(font: QFont) -> QFont:
    key = font.key()
    struck = _STRUCK_FONTS.get(key)
    if struck is None:
        struck = QFont(font)
        struck.setStrikeOut(True)
        _STRUCK_FONTS[key] = struck
    return struck


_STRUCK_FONTS: dict[str, QFont] = {}
_SMOOTH = QPainter.RenderHint.SmoothPixmapTransform
_BAD_PEN = QPen(BAD_COLOR, 3)
_NO_BRUSH = Qt.BrushStyle.NoBrush
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus.value
_SELECTED = QStyle.StateFlag.State_Selected.value
_MOUSE_OVER = QStyle.StateFlag.State_MouseOver.value
_HIGHLIGHT = QPalette.ColorRole.Highlight
_SELECTED_TEXT = QPalette.ColorRole.HighlightedText
_TEXT = QPalette.ColorRole.Text


def _thumbnail_px(option: QStyleOptionViewItem) -> int:
    size = option.decorationSize
    return max(16, size.width()) if size.isValid() else 128


def _centred(source: QSize, box: QRect, dpr: float) -> QRect:
    """Where a pixmap of ``source`` device pixels goes 1:1, centred in ``box`` on whole pixels."""
    width, height = round(source.width() / dpr), round(source.height() / dpr)
    left = box.left() + (box.width() - width) // 2
    return QRect(left, box.top() + (box.height() - height) // 2, width, height)


def _fit(source: QSize, box: QRect) -> QRectF:
    """``source`` scaled to fit ``box``, aspect kept, centred."""
    scaled = source.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
    top_left = QPointF(
        box.left() + (box.width() - scaled.width()) / 2,
        box.top() + (box.height() - scaled.height()) / 2,
    )
    return QRectF(top_left, scaled.toSizeF())
