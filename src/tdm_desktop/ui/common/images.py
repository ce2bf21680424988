"""Decoding image bytes: the one helper every part of the window uses (thumbnails, the preview,
the header's base image, the ✨ dialog's base image), and fitting a picture into a fixed box.

Safe in a worker thread: it makes a ``QImage``, never a ``QPixmap`` (only the GUI thread may).
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from tdm_desktop.core.errors import TdmError


class NotAnImageError(TdmError, ValueError):
    """The bytes could not be decoded as an image."""


def decode_image(data: bytes, fit: int | None = None) -> QImage:
    """Decode ``data``; with ``fit``, scaled while decoding to fit ``fit``×``fit`` (aspect kept,
    never enlarged), so a large JPEG decodes at reduced scale. EXIF orientation is applied.

    Raises ``NotAnImageError`` when the bytes are not an image Qt can read.
    """
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    native = reader.size()
    if fit is not None and native.isValid() and (native.width() > fit or native.height() > fit):
        scaled = native.scaled(QSize(fit, fit), Qt.AspectRatioMode.KeepAspectRatio)
        reader.setScaledSize(scaled.expandedTo(QSize(1, 1)))
    image = reader.read()
    if image.isNull():
        raise NotAnImageError(f"not an image ({reader.errorString()})")
    return image


def decode_fitted(data: bytes, size: int) -> QImage:
    """Decode ``data`` and fit it to ``size``×``size`` exactly (aspect kept; a smaller image is
    enlarged, smoothly): a picture shown in a fixed box, such as a base image."""
    return decode_image(data, size).scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
