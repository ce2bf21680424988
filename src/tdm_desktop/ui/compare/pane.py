"""One pane of a comparison: a full-size picture drawn with the shared zoom, a caption line under
it, a frame when it has the focus. Dragging pans (at 100 %), a double click toggles 100 % there.

The picture arrives as a ``QImage`` decoded in a worker; the pane makes the ``QPixmap`` (on the
GUI thread). In fit mode the scaled picture is kept until the pane's size changes, so a repaint
is a plain draw.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from tdm_desktop.ui.compare.zoom import SharedZoom, fraction_at, placement

BACKGROUND = QColor("#202020")
CAPTION_BAD = QColor("#d23c3c")
FOCUS_WIDTH = 3
CAPTION_PADDING = 4


class ImagePaneWidget(QWidget):
    """Shows one picture with ``zoom``; ``clicked`` when pressed (the view gives it the focus)."""

    clicked = Signal()

    def __init__(self, zoom: SharedZoom, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imagePane")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._zoom = zoom
        self._pixmap: QPixmap | None = None
        self._fitted: QPixmap | None = None  # the fit-mode picture at the current size
        self._message = ""
        self._caption = ""
        self._bad = False
        self._focused = False
        self._drag_from: QPointF | None = None
        zoom.changed.connect(self._zoom_changed)

    # -- what it shows -------------------------------------------------------------------------

    def set_picture(self, image: QImage | None) -> None:
        self._pixmap = (
            QPixmap.fromImage(image) if image is not None and not image.isNull() else None
        )
        self._fitted = None
        self._message = ""
        self.update()

    def set_message(self, text: str) -> None:
        """``Loading…`` or why there is no picture (the picture goes)."""
        self._pixmap = self._fitted = None
        self._message = text
        self.update()

    def set_caption(self, text: str, *, bad: bool = False) -> None:
        if (text, bad) == (self._caption, self._bad):
            return
        self._caption, self._bad = text, bad
        self.setToolTip(text)
        self.update()

    def set_focused(self, focused: bool) -> None:
        if focused != self._focused:
            self._focused = focused
            self.update()

    def caption(self) -> str:
        return self._caption

    def message(self) -> str:
        return self._message

    def has_picture(self) -> bool:
        return self._pixmap is not None

    def is_focused(self) -> bool:
        return self._focused

    def picture_size(self) -> QSize:
        return self._pixmap.size() if self._pixmap is not None else QSize()

    # -- geometry ------------------------------------------------------------------------------

    def image_area(self) -> QRect:
        """Where the picture may be drawn: the pane less its frame and caption line (if any)."""
        caption = self.fontMetrics().height() + 2 * CAPTION_PADDING if self._caption else 0
        inset = FOCUS_WIDTH
        return self.rect().adjusted(inset, inset, -inset, -inset - caption)

    def drawn_rect(self) -> QRectF:
        """Where the picture is drawn now, in the pane's coordinates (empty without one)."""
        if self._pixmap is None:
            return QRectF()
        area = self.image_area()
        rect = placement(
            QSizeF(self._pixmap.size()),
            QSizeF(area.size()),
            self._zoom.zoom,
            self.devicePixelRatioF(),
        )
        return rect.translated(area.topLeft())

    def fraction_under(self, pos: QPointF) -> tuple[float, float]:
        return fraction_at(self.drawn_rect(), pos)

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        area = self.image_area()
        painter.save()
        painter.setClipRect(area)
        if self._pixmap is not None:
            self._draw_picture(painter)
        elif self._message:
            painter.setPen(QColor("#cccccc"))
            painter.drawText(
                area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message
            )
        painter.restore()
        if self._caption:
            self._draw_caption(painter, area)
        if self._focused:
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_WIDTH)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            half = FOCUS_WIDTH / 2
            painter.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
        painter.end()

    def _draw_picture(self, painter: QPainter) -> None:
        assert self._pixmap is not None
        rect = self.drawn_rect()
        if self._zoom.zoom.loupe:  # 1:1 in device pixels: no scaling at all
            self._pixmap.setDevicePixelRatio(self.devicePixelRatioF())
            painter.drawPixmap(rect.topLeft(), self._pixmap)
            return
        dpr = self.devicePixelRatioF()
        wanted = QSize(max(1, round(rect.width() * dpr)), max(1, round(rect.height() * dpr)))
        if self._fitted is None or self._fitted.size() != wanted:
            self._fitted = self._pixmap.scaled(
                wanted,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._fitted.setDevicePixelRatio(dpr)
        painter.drawPixmap(rect.topLeft(), self._fitted)

    def _draw_caption(self, painter: QPainter, area: QRect) -> None:
        line = QRect(
            area.left(), area.bottom() + 1, area.width(), self.rect().bottom() - area.bottom()
        )
        color = CAPTION_BAD if self._bad else QColor("#e0e0e0")
        painter.setPen(color)
        text = self.fontMetrics().elidedText(
            self._caption, Qt.TextElideMode.ElideLeft, line.width() - 2 * CAPTION_PADDING
        )
        painter.drawText(line, Qt.AlignmentFlag.AlignCenter, text)

    # -- mouse ---------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()
        if event.button() == Qt.MouseButton.LeftButton and self._zoom.zoom.loupe:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is None or self._pixmap is None:
            return
        delta = event.position() - self._drag_from
        self._drag_from = event.position()
        area = self.image_area()
        self._zoom.pan(
            QSizeF(self._pixmap.size()),
            QSizeF(area.size()),
            delta.x(),
            delta.y(),
            self.devicePixelRatioF(),
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        self._update_cursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._zoom.toggle_loupe(self.fraction_under(event.position()))

    def _zoom_changed(self) -> None:
        self._update_cursor()
        self.update()

    def _update_cursor(self) -> None:
        if self._zoom.zoom.loupe:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()


def toggle_zoom_at_pointer(zoom: SharedZoom, panes: Iterable[ImagePaneWidget]) -> None:
    """``Z``: 100 % at the image point under the pointer (if it is over one of ``panes``' pictures,
    else where they are), or back to fit."""
    at = None
    for pane in panes:
        pos = QPointF(pane.mapFromGlobal(QCursor.pos()))
        if pane.isVisible() and pane.has_picture() and pane.rect().contains(pos.toPoint()):
            at = pane.fraction_under(pos)
            break
    zoom.toggle_loupe(at)
