"""A thumbnail decodes right by either decoder: turned as its EXIF says, in its colours, fitted
to the box and never enlarged; JPEGs simplejpeg does not take (CMYK, truncated) and other formats
still decode, through Qt."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QImage

from tdm_desktop.core.exif import jpeg_orientation
from tdm_desktop.ui.common import images
from tdm_desktop.ui.common.images import NotAnImageError, decode_image, decode_jpeg, decode_with_qt

RED, GREEN, BLUE, WHITE = (220, 30, 30), (30, 200, 40), (30, 40, 220), (250, 250, 250)
# Pillow's transpose that turns the picture as viewed into the pixels a camera would store with
# each EXIF orientation (the inverse of what a viewer applies)
STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
DECODERS = {"simplejpeg": decode_jpeg, "qt": decode_with_qt}


def viewed() -> Image.Image:
    """120×80 as it should look: red, green on top; blue, white below."""
    picture = Image.new("RGB", (120, 80))
    for box, colour in (
        ((0, 0, 60, 40), RED),
        ((60, 0, 120, 40), GREEN),
        ((0, 40, 60, 80), BLUE),
        ((60, 40, 120, 80), WHITE),
    ):
        picture.paste(colour, box)
    return picture


def jpeg(picture: Image.Image, orientation: int = 1, **options) -> bytes:
    turn = STORED[orientation]
    stored = picture if turn is None else picture.transpose(turn)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=95, exif=exif.tobytes(), **options)
    return out.getvalue()


def colour_at(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = QColor(image.pixel(x, y))
    return c.red(), c.green(), c.blue()


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


def quadrants(image: QImage) -> list[tuple[int, int, int]]:
    w, h = image.width(), image.height()
    return [
        colour_at(image, x, y)
        for x, y in (
            (w // 4, h // 4),
            (3 * w // 4, h // 4),
            (w // 4, 3 * h // 4),
            (3 * w // 4, 3 * h // 4),
        )
    ]


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_thumbnail_is_turned_as_its_exif_says_and_keeps_its_colours(decoder, orientation):
    data = jpeg(viewed(), orientation)
    tile = DECODERS[decoder](data, 60)
    assert tile is not None
    assert (tile.width(), tile.height()) == (60, 40)  # fitted to 60×60, aspect kept, upright
    for got, want in zip(quadrants(tile), (RED, GREEN, BLUE, WHITE), strict=True):
        assert near(got, want), (decoder, orientation, got, want)


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_small_image_is_never_enlarged(decoder):
    tile = DECODERS[decoder](jpeg(viewed(), 6), 512)
    assert (tile.width(), tile.height()) == (120, 80)
    assert near(quadrants(tile)[0], RED)


def photo(width: int, height: int) -> Image.Image:
    """A picture with detail everywhere (gradients and a grid), so that a tile turned or scaled
    the wrong way differs from the right one nearly everywhere."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    grid = ((np.arange(width)[None, :] // 37 + np.arange(height)[:, None] // 23) % 2) * 60.0
    rgb = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2 + grid], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def pixels(image: QImage) -> np.ndarray:
    """The image's RGB values, height × width × 3."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., 2::-1]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fit", [64, 160, 512, None])
def test_the_pixels_come_out_as_qimagereader_gives_them(orientation, fit):
    data = jpeg(photo(1024, 683), orientation)
    ours, qt = decode_jpeg(data, fit), decode_with_qt(data, fit)
    assert ours.size() == qt.size()
    assert ours.format() == qt.format() == QImage.Format.Format_RGB32
    difference = np.abs(pixels(ours).astype(int) - pixels(qt).astype(int))
    assert difference.mean() < 1.0 and np.percentile(difference, 99.9) <= 8, (
        difference.mean(),
        difference.max(),
    )
    if orientation != 1:  # the test can fail: the tile as stored (EXIF ignored) differs
        turn = STORED[orientation]
        as_stored = decode_with_qt(jpeg(photo(1024, 683).transpose(turn), 1), fit)
        if as_stored.size() == qt.size():
            assert np.abs(pixels(as_stored).astype(int) - pixels(qt).astype(int)).mean() > 20


def test_corrupt_bytes_are_not_an_image_by_either_decoder(monkeypatch):
    good = jpeg(photo(400, 300), 1)
    for data in (good[:3] + b"garbage" * 40, b"\xff\xd8\xff\xe0", good[:3]):
        assert decode_jpeg(data, 100) is None
        for decoder in ("simplejpeg", "qt"):
            monkeypatch.setenv(images.JPEG_DECODER_ENV, decoder)
            with pytest.raises(NotAnImageError, match="not an image"):
                decode_image(data, 100)
            with pytest.raises(NotAnImageError, match="not an image"):
                decode_image(data)


def test_a_progressive_jpeg_decodes_by_simplejpeg_as_by_qt():
    data = jpeg(photo(800, 600), 6, progressive=True)
    ours, qt = decode_jpeg(data, 160), decode_with_qt(data, 160)
    assert ours is not None and ours.size() == qt.size() == QSize(160, 120)
    assert np.abs(pixels(ours).astype(int) - pixels(qt).astype(int)).mean() < 1.0


def test_thumbnails_take_simplejpeg_unless_told_qt(monkeypatch):
    data = jpeg(viewed(), 1)
    calls = []
    real = images.decode_jpeg
    monkeypatch.setattr(images, "decode_jpeg", lambda d, fit: calls.append(fit) or real(d, fit))
    decode_image(data, 64)
    assert calls == [64]
    monkeypatch.setenv(images.JPEG_DECODER_ENV, "qt")
    tile = decode_image(data, 64)
    assert calls == [64] and (tile.width(), tile.height()) == (64, 42)


def test_a_grey_jpeg_decodes_grey():
    grey = Image.new("L", (80, 80), 128)
    out = io.BytesIO()
    grey.save(out, "JPEG")
    tile = decode_jpeg(out.getvalue(), 40)
    assert (tile.width(), tile.height()) == (40, 40)
    assert near(colour_at(tile, 20, 20), (128, 128, 128), 4)


def test_a_cmyk_jpeg_goes_to_qt_and_keeps_its_colours():
    out = io.BytesIO()
    viewed().convert("CMYK").save(out, "JPEG", quality=95)
    data = out.getvalue()
    assert decode_jpeg(data, 60) is None
    tile = decode_image(data, 60)
    assert (tile.width(), tile.height()) == (60, 40)
    assert near(quadrants(tile)[1], GREEN, 40)


def test_a_truncated_jpeg_is_shown_as_far_as_qt_can():
    data = jpeg(viewed().resize((400, 300)), 1)[:2000]
    assert decode_jpeg(data, 100) is None  # simplejpeg is strict: Qt shows what arrived
    tile = decode_image(data, 100)
    assert not tile.isNull() and (tile.width(), tile.height()) == (100, 75)


def test_png_and_webp_decode_with_qt():
    for fmt in ("PNG", "WEBP"):
        out = io.BytesIO()
        viewed().save(out, fmt)
        tile = decode_image(out.getvalue(), 60)
        assert (tile.width(), tile.height()) == (60, 40), fmt
        assert near(quadrants(tile)[2], BLUE), fmt


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_orientation_is_read_as_pillow_reads_it(orientation):
    data = jpeg(viewed(), orientation)
    assert jpeg_orientation(data) == Image.open(io.BytesIO(data)).getexif()[0x0112] == orientation


def test_a_big_endian_exif_block_and_none_at_all():
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + tiff
    plain = jpeg(viewed(), 1)
    data = plain[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + plain[2:]
    assert jpeg_orientation(data) == 6
    out = io.BytesIO()
    viewed().save(out, "JPEG")
    assert jpeg_orientation(out.getvalue()) == 1
    assert jpeg_orientation(b"\xff\xd8\xff\xe1\x00") == 1
    assert jpeg_orientation(b"not a jpeg") == 1
