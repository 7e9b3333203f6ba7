"""What a photo says it is before a pixel is decoded: its format, width and height, read from its header.

A few hundred kilobytes of PNG can declare 16000x16000 pixels, a gigabyte once decoded; reading the header first lets
the hub refuse it for the cost of reading 30 bytes. Only the four formats people upload are recognised (JPEG, PNG,
BMP, WebP): anything else OpenCV could decode (TIFF, PPM, OpenEXR...) is refused here, with its decoders' risks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from homewarden.i18n import _

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic): they hold the size. C4, C8 and
# CC share the range but are other segments.
JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM, RST0-7, SOI.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
JPEG_START_OF_SCAN, JPEG_END = 0xDA, 0xD9
VP8_START_CODE = b"\x9d\x01\x2a"
VP8L_SIGNATURE = 0x2F


class PhotoHeaderError(ValueError):
    """The data is not a JPEG, PNG, BMP or WebP photo whose header can be read."""


@dataclass(frozen=True)
class PhotoHeader:
    """A photo's format and the size its header declares."""

    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """Return width x height."""
        return self.width * self.height


def read_photo_header(data: bytes) -> PhotoHeader:
    """Return the format and size ``data`` declares, or raise PhotoHeaderError."""
    try:
        if data.startswith(PNG_SIGNATURE):
            header = _png(data)
        elif data.startswith(b"\xff\xd8"):
            header = _jpeg(data)
        elif data.startswith(b"BM"):
            header = _bmp(data)
        elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            header = _webp(data)
        else:
            raise PhotoHeaderError(_("not a photo (JPEG, PNG, BMP or WebP)"))
    except (struct.error, IndexError):
        raise PhotoHeaderError(_("the photo's header is cut short")) from None
    if header.width <= 0 or header.height <= 0:
        raise PhotoHeaderError(
            _("the {format} header declares no pixels ({width}x{height})").format(
                format=header.format, width=header.width, height=header.height
            )
        )
    return header


def _png(data: bytes) -> PhotoHeader:
    if data[12:16] != b"IHDR":
        raise PhotoHeaderError(_("a PNG whose first chunk is not its header"))
    width, height = struct.unpack(">II", data[16:24])
    return PhotoHeader("PNG", width, height)


def _jpeg(data: bytes) -> PhotoHeader:
    position = 2
    while True:
        if data[position] != 0xFF:
            raise PhotoHeaderError(_("a JPEG whose segments do not follow each other"))
        while data[position] == 0xFF:  # fill bytes may precede a marker
            position += 1
        marker = data[position]
        position += 1
        if marker in JPEG_STANDALONE:
            continue
        if marker in (JPEG_START_OF_SCAN, JPEG_END):
            raise PhotoHeaderError(_("a JPEG without a frame header"))
        (length,) = struct.unpack(">H", data[position : position + 2])
        if length < 2:
            raise PhotoHeaderError(_("a JPEG segment of impossible length"))
        if marker in JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", data[position + 3 : position + 7])
            return PhotoHeader("JPEG", width, height)
        position += length


def _bmp(data: bytes) -> PhotoHeader:
    (info_size,) = struct.unpack("<I", data[14:18])
    if info_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", data[18:22])
    elif info_size >= 40:
        width, height = struct.unpack("<ii", data[18:26])
        height = abs(height)  # negative: rows stored top-down
    else:
        raise PhotoHeaderError(_("a BMP with an unknown header"))
    return PhotoHeader("BMP", width, height)


def _webp(data: bytes) -> PhotoHeader:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != VP8_START_CODE:
            raise PhotoHeaderError(_("a lossy WebP without its start code"))
        width, height = struct.unpack("<HH", data[26:30])
        return PhotoHeader("WebP", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if data[20] != VP8L_SIGNATURE:
            raise PhotoHeaderError(_("a lossless WebP without its signature"))
        (bits,) = struct.unpack("<I", data[21:25])
        return PhotoHeader("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        if len(data) < 30:
            raise PhotoHeaderError(_("the photo's header is cut short"))
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return PhotoHeader("WebP", width, height)
    raise PhotoHeaderError(_("a WebP of an unknown kind"))
