"""Write one browser-playable H.264 MP4: remux the source's packets, or encode decoded frames."""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from homewarden.video.source import SourcePacket

MP4_OPTIONS = {"movflags": "+faststart"}
ENCODE_TIME_BASE = Fraction(1, 1000)


class ClipWriteError(Exception):
    """A clip that could not be written; the partial file has been removed."""


class ClipWriter:
    """One MP4 being written to a temporary path, or into memory; published only when closed cleanly."""

    def __init__(
        self,
        temp_path: Path | None,
        *,
        template: Any | None = None,
        encode_size: tuple[int, int] | None = None,
        fps: float = 10.0,
        name: str | None = None,
    ) -> None:
        """Write to ``temp_path``, or into memory when it is None (``name`` then names the clip in errors)."""
        self.temp_path = temp_path
        self.name = name or (temp_path.name if temp_path is not None else "clip")
        self._memory: int | None = None
        self.start: float | None = None
        self.end: float | None = None
        self._template = template
        self._encode_size = encode_size
        self._fps = fps
        self._output: Any = None
        self._stream: Any = None
        self._pts_origin: int | None = None
        self._last_dts: int | None = None
        self._time_base: Fraction | None = None

    @property
    def duration(self) -> float:
        """Return the seconds written so far."""
        if self.start is None or self.end is None:
            return 0.0
        return self.end - self.start

    def _open(self) -> None:
        try:
            if self.temp_path is None:
                # Sealed storage must never see plaintext on disk. An in-memory file (Linux memfd) has a path the
                # MP4 muxer can reopen for +faststart, which a BytesIO cannot offer.
                self._memory = os.memfd_create("homewarden-clip", os.MFD_CLOEXEC)
                target = f"/proc/self/fd/{self._memory}"
            else:
                self.temp_path.parent.mkdir(parents=True, exist_ok=True)
                target = str(self.temp_path)
            self._output = av.open(target, mode="w", format="mp4", options=MP4_OPTIONS)
            if self._template is not None:
                self._stream = self._output.add_stream_from_template(self._template)
                self._time_base = self._template.time_base
            else:
                assert self._encode_size is not None
                width, height = self._encode_size
                self._stream = self._output.add_stream(
                    "libx264",
                    rate=Fraction(round(self._fps * 1000), 1000),
                    options={"preset": "veryfast", "crf": "23", "tune": "zerolatency"},
                )
                # yuv420p needs even sizes; odd source sizes lose one line.
                self._stream.width = width - width % 2
                self._stream.height = height - height % 2
                self._stream.pix_fmt = "yuv420p"
                self._stream.time_base = ENCODE_TIME_BASE
                self._time_base = ENCODE_TIME_BASE
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise ClipWriteError(f"cannot create clip {self.name}: {exc}") from None

    def write_packet(self, item: SourcePacket) -> None:
        """Copy one source packet into the clip (the first must be a keyframe)."""
        if self._output is None:
            self._open()
            self._pts_origin = item.dts
            self.start = item.time
        assert self._pts_origin is not None
        dts = item.dts - self._pts_origin
        if self._last_dts is not None and dts <= self._last_dts:
            return  # a repeated or reordered packet would break the MP4 muxer
        packet = av.Packet(item.data)
        packet.pts = item.pts - self._pts_origin
        packet.dts = dts
        packet.duration = item.duration
        packet.is_keyframe = item.keyframe
        packet.time_base = self._time_base or ENCODE_TIME_BASE
        packet.stream = self._stream
        self._mux(packet)
        self._last_dts = dts
        frame_seconds = float(item.duration * self._time_base) if self._time_base and item.duration else 0.0
        self.end = item.time + frame_seconds

    def write_frame(self, frame: Any, time: float) -> None:
        """Encode one decoded frame into the clip."""
        if self._output is None:
            self._open()
            self.start = time
        assert self.start is not None
        pts = round((time - self.start) * 1000)
        if self._last_dts is not None and pts <= self._last_dts:
            return
        picture = frame.reformat(width=self._stream.width, height=self._stream.height, format="yuv420p")
        picture.pts = pts
        picture.time_base = ENCODE_TIME_BASE
        try:
            for packet in self._stream.encode(picture):
                self._mux(packet)
        except av.error.FFmpegError as exc:
            self.abort()
            raise ClipWriteError(f"cannot encode clip {self.name}: {exc}") from None
        self._last_dts = pts
        self.end = time + 1.0 / self._fps

    def _mux(self, packet: Any) -> None:
        try:
            self._output.mux(packet)
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise ClipWriteError(f"cannot write clip {self.name}: {exc}") from None

    def close(self) -> bool:
        """Finish the file; return False when nothing was written (and no file is left)."""
        if self._output is None:
            return False
        try:
            if self._template is None:
                for packet in self._stream.encode(None):
                    self._output.mux(packet)
            self._output.close()
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise ClipWriteError(f"cannot finish clip {self.name}: {exc}") from None
        self._output = None
        return True

    def take_bytes(self) -> bytes:
        """Return the finished clip written in memory, and free the memory."""
        if self._memory is None:
            raise ValueError("this clip was not written in memory, or was taken already")
        try:
            return os.pread(self._memory, os.fstat(self._memory).st_size, 0)
        finally:
            os.close(self._memory)
            self._memory = None

    def abort(self) -> None:
        """Drop the clip and its partial file."""
        if self._output is not None:
            with contextlib.suppress(av.error.FFmpegError, OSError):
                self._output.close()
            self._output = None
        if self._memory is not None:
            os.close(self._memory)
            self._memory = None
        if self.temp_path is not None:
            self.temp_path.unlink(missing_ok=True)
