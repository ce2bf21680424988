"""The pixels the quality checks and the near-duplicate hash look at: one small grayscale copy.

Both work on an ``AnalysisImage``: the image as a grayscale ``uint8`` array (H×W) scaled so its
long side is exactly ``ANALYSIS_SIDE`` (256) pixels, plus the original width and height. A fixed
scale matters: an edge measure computed at 180 px and at 400 px gives different numbers for the
same picture, so every image is measured at one size, and below 256 px blur and fine detail blend.

Two ways in, so each caller pays only for what it does not already have:

- ``decode_for_analysis(data)``: from the encoded bytes (the CLI). Pillow's JPEG draft mode asks
  libjpeg for a DCT-scaled grayscale decode (1/2, 1/4 or 1/8 of the size, the smallest that still
  gives ≥ 256 px on the long side), so a 1024² JPEG is decoded as 256² without a full decode.
- ``analysis_image(gray, width, height)``: from grayscale pixels a decoder already made (the
  window's thumbnail workers), at any size with a long side ≥ 256: they are scaled down to 256
  by area averaging. Pixels from a DCT-scaled JPEG decode (``QImageReader.setScaledSize`` does
  one) or an area-averaged resize measure as the bytes do; pixels that went through a smoothing
  resize first (bilinear, bicubic) measure less sharp than they are.

The EXIF orientation is applied, so width and height are as a viewer (and a trainer) shows them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tdm_desktop.core.errors import TdmError

ANALYSIS_SIDE = 256
# Pillow refuses images above this many pixels (a decompression bomb); a training image is far
# smaller, so anything bigger is reported as not an image rather than decoded.
_MAX_PIXELS = 100_000_000


class NotAnImageError(TdmError):
    """The bytes are not an image Pillow can decode (truncated, another format, empty...)."""


@dataclass(frozen=True, eq=False)
class AnalysisImage:
    """An image as the checks see it: ``gray`` (H×W uint8, long side ``ANALYSIS_SIDE``, or the
    original size when the image is smaller) and the original ``width`` × ``height``."""

    gray: np.ndarray
    width: int
    height: int


def analysis_image(gray: np.ndarray, width: int, height: int) -> AnalysisImage:
    """Pixels a decoder already has, scaled to the analysis size (long side 256).

    ``gray``: a 2-D uint8 array of the image at any scale (its long side should be at least 256
    unless the original is smaller); ``width``/``height``: the original image's size.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 grayscale array, got {gray.dtype} {gray.shape}")
    if width < 1 or height < 1:
        raise ValueError(f"image size {width}x{height}: must be at least 1x1")
    rows, cols = gray.shape
    if max(rows, cols) > ANALYSIS_SIDE:
        target = _analysis_size(cols, rows)
        # Area averaging, as libjpeg's DCT scaling does: a smoothing filter (bilinear, bicubic)
        # would lower the edge measure by half and more (docs/REVIEW.md).
        gray = np.asarray(Image.fromarray(gray).resize(target, Image.Resampling.BOX))
    return AnalysisImage(np.ascontiguousarray(gray), int(width), int(height))


def decode_for_analysis(data: bytes) -> AnalysisImage:
    """Decode ``data`` (JPEG, PNG, WebP...) to the analysis size. Raises ``NotAnImageError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > _MAX_PIXELS:
                raise NotAnImageError(
                    f"{image.width}x{image.height} pixels is more than the "
                    f"{_MAX_PIXELS:,} this app decodes"
                )
            oriented = _oriented_size(image)
            if image.format == "JPEG":
                wanted = _analysis_size(image.width, image.height)
                image.draft("L", wanted)  # libjpeg scales while decoding (1/2, 1/4, 1/8)
            image = ImageOps.exif_transpose(image.convert("L"))
    except NotAnImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning) as err:
        raise NotAnImageError(_decode_problem(err)) from None
    except Image.DecompressionBombError as err:
        raise NotAnImageError(str(err)) from None
    return analysis_image(np.asarray(image), *oriented)


def _analysis_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) scaled so the long side is ``ANALYSIS_SIDE``; never below 1 px."""
    scale = ANALYSIS_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    """The size as shown: EXIF orientations 5–8 turn the picture by 90°."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block is not a reason to refuse the pixels
        orientation = 1
    if orientation in (5, 6, 7, 8):
        return image.height, image.width
    return image.width, image.height


def _decode_problem(err: BaseException) -> str:
    if isinstance(err, UnidentifiedImageError):
        return "not a recognised image format"
    text = " ".join(str(err).split()) or type(err).__name__
    return f"cannot be decoded: {text}"
