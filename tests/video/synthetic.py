"""Synthetic video made with PyAV: a moving rectangle under a barcode of the frame number, so clips can be checked."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

WIDTH, HEIGHT = 320, 240
BARCODE_BITS = 12
CELL = 16  # barcode cells are 16x16 blocks, which survive JPEG, GIF palettes and x264 at default quality

# Per codec: the pixel format it encodes and the extra options that matter to the tests.
ENCODERS = {
    "libx264": "yuv420p",
    "gif": "rgb8",
    "mjpeg": "yuvj420p",
}


def frame_image(index: int, width: int = WIDTH, height: int = HEIGHT) -> npt.NDArray[np.uint8]:
    """Draw frame ``index``: a grey-blue room, a red rectangle moving right, the index in binary along the top."""
    image = np.full((height, width, 3), (40, 70, 110), np.uint8)
    x = (index * 4) % (width - 40)
    image[CELL * 3 : CELL * 3 + 60, x : x + 40] = (220, 30, 30)
    for bit in range(BARCODE_BITS):
        value = 235 if index >> bit & 1 else 16
        image[0:CELL, (bit + 1) * CELL : (bit + 2) * CELL] = value
    return image


def read_index(frame: Any) -> int:
    """Return the frame number drawn by frame_image, read back from a decoded PyAV frame."""
    image = frame.to_ndarray(format="rgb24")
    index = 0
    for bit in range(BARCODE_BITS):
        cell = image[4 : CELL - 4, (bit + 1) * CELL + 4 : (bit + 2) * CELL - 4]
        if cell.mean() > 128:
            index |= 1 << bit
    return index


def stored_sideways(image: npt.NDArray[np.uint8], turn: int) -> npt.NDArray[np.uint8]:
    """Return an upright picture as a file stores it when its display matrix turns it ``turn`` degrees back."""
    return np.ascontiguousarray(np.rot90(image, k=-turn // 90))


def write_video(
    path: Path,
    *,
    seconds: float,
    fps: int = 10,
    codec: str = "libx264",
    faststart: bool = False,
    container_format: str | None = None,
    keyframe_seconds: float = 1.0,
    turn: int = 0,
    sample_aspect_ratio: Fraction | None = None,
) -> Path:
    """Write ``seconds`` of frame_image frames; H.264 gets a keyframe every ``keyframe_seconds``.

    ``turn`` stores the pictures sideways with a display matrix that turns them back (counter-clockwise degrees), as a
    phone held upright records. ``sample_aspect_ratio`` marks the pixels as shown that much wider than tall (a DVR's
    480x360 shown as 640x360: 4/3).
    """
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", format=container_format, options=options) as output:
        gop = str(round(fps * keyframe_seconds))
        codec_options = {"g": gop, "keyint_min": gop, "preset": "veryfast"} if codec == "libx264" else {}
        stream = output.add_stream(codec, rate=fps, options=codec_options)
        stream.width, stream.height = (HEIGHT, WIDTH) if turn in (90, 270) else (WIDTH, HEIGHT)
        stream.pix_fmt = ENCODERS[codec]
        if turn:
            stream.set_display_rotation(turn)
        if sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(stored_sideways(frame_image(index), turn), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def decoded_indices(path: Path) -> list[int]:
    """Decode a whole file and return the frame numbers it shows, in display order."""
    with av.open(str(path)) as container:
        return [read_index(frame) for frame in container.decode(video=0)]


def mp4_top_level_boxes(path: Path) -> list[str]:
    """Return the names of an MP4 file's top-level boxes in file order (ftyp, moov, mdat, ...)."""
    data = path.read_bytes()
    names = []
    position = 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        names.append(data[position + 4 : position + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[position + 8 : position + 16], "big")
        elif size == 0:
            size = len(data) - position
        if size < 8:
            raise ValueError(f"{path}: box {names[-1]!r} at {position} has size {size}")
        position += size
    return names


def jpeg_frames(count: int, fps: int = 10) -> list[bytes]:
    """Encode ``count`` frame_image frames as standalone JPEG pictures (what an MJPEG camera sends)."""
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = WIDTH, HEIGHT
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, fps)
    pictures = []
    for index in range(count):
        frame = av.VideoFrame.from_ndarray(frame_image(index), format="rgb24").reformat(format="yuvj420p")
        frame.pts = index
        pictures.append(b"".join(bytes(packet) for packet in encoder.encode(frame)))
    return pictures


class MjpegCamera:
    """An HTTP MJPEG camera on 127.0.0.1 that drops each connection after ``frames_per_connection`` frames.

    Many cheap IP cameras serve exactly this (multipart/x-mixed-replace JPEGs). Closing the connection stands in
    for a camera that reboots or loses Wi-Fi; the next request is served again.
    """

    BOUNDARY = b"homewardenframe"

    def __init__(self, fps: int = 10, frames_per_connection: int = 20) -> None:
        self.fps = fps
        self.frames_per_connection = frames_per_connection
        self.connections = 0
        self.frames_sent = 0
        self._pictures = jpeg_frames(fps * 4, fps)
        self._stopping = threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                camera.serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mjpeg-camera", daemon=True)

    @property
    def url(self) -> str:
        """Return the camera's stream URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/video.mjpg"

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        """Send frames paced at ``fps`` until the connection's quota is used, then hang up."""
        self.connections += 1
        request.send_response(200)
        request.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={self.BOUNDARY.decode()}")
        request.end_headers()
        started = time.monotonic()
        try:
            for sent in range(self.frames_per_connection):
                if self._stopping.is_set():
                    break
                picture = self._pictures[self.frames_sent % len(self._pictures)]
                request.wfile.write(
                    b"--"
                    + self.BOUNDARY
                    + b"\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(picture)}\r\n\r\n".encode()
                    + picture
                    + b"\r\n"
                )
                request.wfile.flush()
                self.frames_sent += 1
                time.sleep(max(0.0, started + (sent + 1) / self.fps - time.monotonic()))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away first
        request.close_connection = True

    def __enter__(self) -> MjpegCamera:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
