"""Decoding image bytes: the one helper every part of the window uses (thumbnails, the preview,
the header's base image, the ✨ dialog's base image), and fitting a picture into a fixed box.

A JPEG goes through ``simplejpeg`` (libjpeg-turbo with its SIMD code, which Qt's bundled
libjpeg lacks); fitted to a box (a thumbnail), at the largest DCT scale still at least the box,
then Qt's smooth scaling to the exact size, as ``QImageReader.setScaledSize`` does; the EXIF
orientation applied as Qt applies it. Everything else, and any JPEG it refuses (CMYK / YCCK,
a recoverable error such as a truncated file, which Qt shows as far as it can), goes through
``QImageReader``. ``TDM_JPEG_DECODER=qt`` sends JPEGs to Qt too (to compare the two).
docs/PERFORMANCE.md has the figures behind the choice.

Safe in a worker thread: it makes a ``QImage``, never a ``QPixmap`` (only the GUI thread may).
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QImage, QImageReader, QTransform

from tdm_desktop.core.errors import TdmError
from tdm_desktop.core.exif import jpeg_orientation

try:
    import simplejpeg
except ImportError:  # a platform without its wheel: Qt decodes every JPEG
    simplejpeg = None

log = logging.getLogger(__name__)

JPEG_DECODER_ENV = "TDM_JPEG_DECODER"
"""``qt``: JPEGs are decoded by ``QImageReader`` too (the default is ``simplejpeg``)."""
_JPEG_START = b"\xff\xd8\xff"
_COLOURS = ("YCbCr", "Gray")  # what libjpeg-turbo turns into RGB itself (not CMYK, YCCK)
# EXIF orientation -> (mirror left-right, flip top-bottom, then a quarter turn clockwise): Qt's
# own order (QImageIOHandler::Transformations)
_ORIENTATIONS = {
    2: (True, False, False),
    3: (True, True, False),
    4: (False, True, False),
    5: (False, True, True),
    6: (False, False, True),
    7: (True, False, True),
    8: (True, True, True),
}


class NotAnImageError(TdmError, ValueError):
    """The bytes could not be decoded as an image."""


def jpeg_decoder() -> str:
    """Which decoder thumbnails' JPEGs get: ``"simplejpeg"`` or ``"qt"``."""
    if simplejpeg is None or os.environ.get(JPEG_DECODER_ENV, "").strip().lower() == "qt":
        return "qt"
    return "simplejpeg"


def decode_image(data: bytes, fit: int | None = None) -> QImage:
    """Decode ``data``; with ``fit``, scaled while decoding to fit ``fit``×``fit`` (aspect kept,
    never enlarged), so a large JPEG decodes at reduced scale. EXIF orientation is applied.

    Raises ``NotAnImageError`` when the bytes are not an image Qt can read.
    """
    if data[:3] == _JPEG_START and jpeg_decoder() == "simplejpeg":
        image = decode_jpeg(data, fit)
        if image is not None:
            return image
    return decode_with_qt(data, fit)


def decode_with_qt(data: bytes, fit: int | None = None) -> QImage:
    """``decode_image`` by ``QImageReader`` alone (every format Qt reads)."""
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


def decode_jpeg(data: bytes, fit: int | None = None) -> QImage | None:
    """A JPEG decoded by ``simplejpeg`` as ``decode_with_qt`` would (same size, same pixels up to
    rounding, EXIF orientation applied); with ``fit``, at the largest DCT scale still at least
    the fitted size, then smoothly scaled to it. None when it is one ``simplejpeg`` does not take
    (``decode_with_qt`` then does)."""
    if simplejpeg is None:
        return None
    try:
        height, width, colours, _subsampling = simplejpeg.decode_jpeg_header(data)
        if colours not in _COLOURS or width < 1 or height < 1:
            return None
        target = QSize(width, height)
        if fit is not None and (width > fit or height > fit):
            target = target.scaled(QSize(fit, fit), Qt.AspectRatioMode.KeepAspectRatio)
            target = target.expandedTo(QSize(1, 1))
        tw, th = target.width(), target.height()
        dh, dw, _c, _s = simplejpeg.decode_jpeg_header(data, min_height=th, min_width=tw)
        image = QImage(dw, dh, QImage.Format.Format_RGB32)  # BGRX in memory: Qt's own JPEGs'
        simplejpeg.decode_jpeg(
            data, colorspace="BGRX", min_height=th, min_width=tw, buffer=image.bits()
        )
    except ValueError as err:  # corrupt, truncated, unsupported: Qt's reader does what it can
        log.debug("simplejpeg refused a JPEG (%s); decoding it with Qt", err)
        return None
    if (dw, dh) != (tw, th):
        image = image.scaled(
            tw, th, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return _oriented(image, jpeg_orientation(data))


def _oriented(image: QImage, orientation: int) -> QImage:
    turn = _ORIENTATIONS.get(orientation)
    if turn is None:
        return image
    mirror, flip, quarter = turn
    if mirror or flip:
        image = _mirrored(image, mirror, flip)
    if quarter:
        image = image.transformed(QTransform().rotate(90))
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


def _mirrored(image: QImage, horizontally: bool, vertically: bool) -> QImage:
    """``QImage.mirrored`` under its Qt 6.9 name, ``flipped`` (the old name is deprecated)."""
    if not _HAS_FLIPPED:
        return image.mirrored(horizontally, vertically)
    directions = Qt.Orientation(0)
    if horizontally:
        directions |= Qt.Orientation.Horizontal
    if vertically:
        directions |= Qt.Orientation.Vertical
    return image.flipped(directions)


_HAS_FLIPPED = hasattr(QImage, "flipped")  # Qt 6.9 and later
