"""The EXIF orientation of a JPEG, read from its header without decoding anything.

A camera stores the picture as the sensor saw it and says in EXIF tag 0x0112 how to turn it for
viewing (1 upright, 2 mirrored, 3 upside down, 4 flipped, 5–8 the same turned a quarter). Pillow
and Qt read it too, through their whole header machinery (~75 µs a file here, in Python or
holding the GIL); a thumbnail decode that takes 2 ms wants only the one number: this walks the
JPEG's segments to APP1 and the first IFD of its TIFF block (a few µs).
"""

from __future__ import annotations

import struct

UPRIGHT = 1
_ORIENTATION_TAG = 0x0112
_SOI = b"\xff\xd8"
_APP1 = 0xE1
_SOS = 0xDA
_EXIF = b"Exif\x00\x00"


def jpeg_orientation(data: bytes) -> int:
    """The orientation (1–8) in a JPEG's EXIF; 1 when there is none, or it cannot be read."""
    if not data.startswith(_SOI):
        return UPRIGHT
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return UPRIGHT  # not a marker where one must be: a broken header
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == _SOS or 0xD0 <= marker <= 0xD9:
            return UPRIGHT  # the image data begins: no EXIF before it
        (length,) = struct.unpack_from(">H", data, pos + 2)
        body = pos + 4
        if marker == _APP1 and data[body : body + 6] == _EXIF:
            return _tiff_orientation(data, body + 6, min(end, pos + 2 + length))
        pos += 2 + length
    return UPRIGHT


def _tiff_orientation(data: bytes, tiff: int, end: int) -> int:
    """Tag 0x0112 of IFD0 in the TIFF block that starts at ``tiff`` (and ends before ``end``)."""
    try:
        order = {b"II": "<", b"MM": ">"}[data[tiff : tiff + 2]]
        (ifd,) = struct.unpack_from(order + "I", data, tiff + 4)
        start = tiff + ifd
        (count,) = struct.unpack_from(order + "H", data, start)
        for index in range(count):
            entry = start + 2 + 12 * index
            if entry + 12 > end:
                return UPRIGHT
            tag, kind, _n = struct.unpack_from(order + "HHI", data, entry)
            if tag == _ORIENTATION_TAG and kind == 3:  # SHORT
                (value,) = struct.unpack_from(order + "H", data, entry + 8)
                return value if 1 <= value <= 8 else UPRIGHT
    except (KeyError, struct.error):
        return UPRIGHT
    return UPRIGHT
