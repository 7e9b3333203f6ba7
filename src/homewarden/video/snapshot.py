"""Open a camera once and return its first picture as a JPEG: the connection test before a camera is added."""

from __future__ import annotations

import time

import cv2

from homewarden.video.source import SourceError, VideoSource, describe_url

SNAPSHOT_QUALITY = 85


def take_snapshot(url: str, timeout: float) -> bytes:
    """Return the source's first decodable frame as JPEG; SourceError (one line for the user) when none comes."""
    source = VideoSource(url, timeout=timeout)
    deadline = time.monotonic() + timeout
    source.open()
    try:
        for _packet, raw in source.packets():
            for frame in source.decode(raw):
                return _jpeg(frame.to_ndarray(format="bgr24"))
            # Each read has its own timeout; the deadline caps a stream that sends packets but never a picture.
            if time.monotonic() > deadline:
                break
        for frame in source.flush():
            return _jpeg(frame.to_ndarray(format="bgr24"))
    finally:
        source.close()
    raise SourceError(f"{describe_url(url)}: connected, but no picture arrived within {timeout:g} s")


def _jpeg(pixels: object) -> bytes:
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])  # type: ignore[call-overload]
    if not ok:
        raise SourceError("the camera's picture could not be encoded as JPEG")
    return bytes(encoded)
