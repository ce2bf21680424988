"""Zoom and pan kept in step between panes: fit, or 100 % (one image pixel per screen pixel).

Every pane of a comparison draws its own image with one shared ``Zoom``: in fit mode each image
fills its pane (aspect kept), at 100 % each shows the same spot, as a fraction of its width and
height, at the pane's centre. Using fractions keeps a 95 % resize or a crop of the same picture
in step with its original. ``placement`` is pure, so a test checks the geometry without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QPointF, QRectF, QSizeF, Signal


@dataclass(frozen=True)
class Zoom:
    """``loupe``: 100 % (else fit). ``center``: the image point shown at the pane's centre, as a
    fraction (0..1) of the image's width and height."""

    loupe: bool = False
    center: tuple[float, float] = (0.5, 0.5)


def scale_of(image: QSizeF, pane: QSizeF, zoom: Zoom, device_pixel_ratio: float = 1.0) -> float:
    """Widget pixels per image pixel: the fit scale, or 100 % of the screen's pixels."""
    if zoom.loupe:
        return 1.0 / device_pixel_ratio
    if image.isEmpty():
        return 1.0
    return min(pane.width() / image.width(), pane.height() / image.height())


def clamped_center(image: QSizeF, pane: QSizeF, zoom: Zoom, scale: float) -> tuple[float, float]:
    """``zoom.center`` kept where the image still covers the pane; centred along a side where the
    drawn image is smaller than the pane."""

    def axis(fraction: float, drawn: float, room: float) -> float:
        if drawn <= room or drawn <= 0:
            return 0.5
        half = room / 2 / drawn
        return min(max(fraction, half), 1 - half)

    x, y = zoom.center
    return (
        axis(x, image.width() * scale, pane.width()),
        axis(y, image.height() * scale, pane.height()),
    )


def placement(image: QSizeF, pane: QSizeF, zoom: Zoom, device_pixel_ratio: float = 1.0) -> QRectF:
    """Where the image is drawn in a pane of size ``pane`` (widget coordinates)."""
    scale = scale_of(image, pane, zoom, device_pixel_ratio)
    width, height = image.width() * scale, image.height() * scale
    cx, cy = (0.5, 0.5) if not zoom.loupe else clamped_center(image, pane, zoom, scale)
    return QRectF(pane.width() / 2 - cx * width, pane.height() / 2 - cy * height, width, height)


def fraction_at(drawn: QRectF, pos: QPointF) -> tuple[float, float]:
    """The image point under ``pos``, as fractions of the image (clamped to it)."""
    if drawn.isEmpty():
        return (0.5, 0.5)
    x = (pos.x() - drawn.left()) / drawn.width()
    y = (pos.y() - drawn.top()) / drawn.height()
    return (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))


class SharedZoom(QObject):
    """The one ``Zoom`` the panes of a comparison draw with; ``changed`` when it changes."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._zoom = Zoom()

    @property
    def zoom(self) -> Zoom:
        return self._zoom

    def reset(self) -> None:
        """Back to fit."""
        self._set(Zoom())

    def toggle_loupe(self, at: tuple[float, float] | None = None) -> None:
        """Fit ↔ 100 %; entering 100 % shows ``at`` (fractions of the image) at the centre."""
        if self._zoom.loupe:
            self._set(replace(self._zoom, loupe=False))
        else:
            self._set(Zoom(loupe=True, center=at if at is not None else self._zoom.center))

    def pan(self, image: QSizeF, pane: QSizeF, dx: float, dy: float, dpr: float = 1.0) -> None:
        """A drag of ``(dx, dy)`` widget pixels in a pane showing ``image``: the picture follows
        the pointer there, and every other pane moves by the same fraction of its image."""
        if not self._zoom.loupe or image.isEmpty():
            return
        scale = scale_of(image, pane, self._zoom, dpr)
        cx, cy = clamped_center(image, pane, self._zoom, scale)
        moved = Zoom(True, (cx - dx / (image.width() * scale), cy - dy / (image.height() * scale)))
        self._set(replace(moved, center=clamped_center(image, pane, moved, scale)))

    def _set(self, zoom: Zoom) -> None:
        if zoom != self._zoom:
            self._zoom = zoom
            self.changed.emit()
