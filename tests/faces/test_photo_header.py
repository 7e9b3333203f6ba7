"""Photo headers: the size of JPEG, PNG, BMP and WebP photos read without decoding them, and anything else refused."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from homewarden.faces.gallery import EnrolmentError, PhotoTooLargeError, check_photo_header, read_photo
from homewarden.faces.photo_header import PhotoHeaderError, read_photo_header


def encoded(extension: str, width: int, height: int, params: list[int] | None = None) -> bytes:
    """Return a photo of ``width`` x ``height`` encoded by OpenCV, the decoder the hub uses."""
    pixels = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, data = cv2.imencode(extension, pixels, params or [])
    assert ok
    return data.tobytes()


def png_declaring(width: int, height: int) -> bytes:
    """Return the start of a PNG whose header declares ``width`` x ``height`` (its pixels are never needed)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize(
    ("extension", "params", "kind"),
    [
        (".jpg", [], "JPEG"),
        (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1], "JPEG"),
        (".png", [], "PNG"),
        (".bmp", [], "BMP"),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80], "WebP"),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101], "WebP"),  # above 100: lossless (VP8L)
    ],
)
def test_the_header_gives_the_size_the_decoder_finds(extension: str, params: list[int], kind: str) -> None:
    data = encoded(extension, 321, 123, params)
    header = read_photo_header(data)
    assert (header.format, header.width, header.height) == (kind, 321, 123)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (123, 321)


def test_a_jpeg_with_exif_before_its_frame_is_read() -> None:
    plain = encoded(".jpg", 64, 48)
    exif = b"Exif\x00\x00" + b"\x00" * 200
    with_exif = plain[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + plain[2:]
    assert read_photo_header(with_exif).width == 64


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a picture",
        b"\x89PNG\r\n\x1a\n",  # cut short
        png_declaring(0, 10),
        b"\xff\xd8\xff\xda",  # a scan before any frame header
        b"II*\x00" + b"\x00" * 100,  # TIFF: OpenCV decodes it, the hub does not take it
        b"P6\n16000 16000\n255\n",  # PPM
    ],
)
def test_what_is_not_a_photo_is_refused(data: bytes) -> None:
    with pytest.raises(PhotoHeaderError):
        read_photo_header(data)


@given(st.binary(max_size=64) | st.builds(bytes.__add__, st.sampled_from([b"\xff\xd8", b"BM", b"RIFF"]), st.binary()))
def test_no_input_raises_anything_but_a_header_error(data: bytes) -> None:
    try:
        header = read_photo_header(data)
    except PhotoHeaderError:
        return
    assert header.width > 0
    assert header.height > 0


def test_a_photo_declaring_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    """The attack's 16000x16000 PNG: its header alone is enough to refuse it."""
    with pytest.raises(PhotoTooLargeError, match=r"huge\.png: 16000x16000 pixels is more than 40 megapixels"):
        check_photo_header(png_declaring(16000, 16000), "huge.png")
    photo = tmp_path / "huge.png"
    photo.write_bytes(png_declaring(16000, 16000))
    with pytest.raises(PhotoTooLargeError):
        read_photo(photo)
    small = tmp_path / "small.png"
    small.write_bytes(encoded(".png", 40, 30))
    with pytest.raises(PhotoTooLargeError, match=r"more than 0\.001 megapixels"):
        read_photo(small, max_pixels=1000)
    assert read_photo(small).shape == (30, 40, 3)
    with pytest.raises(EnrolmentError, match=r"tiff: not a photo"):
        check_photo_header(b"II*\x00" + b"\x00" * 100, "tiff")
