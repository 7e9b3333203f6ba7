"""H.264 copies of clips, made on demand for browsers that cannot play the camera's own codec (H.265)."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import av
import av.error

from homewarden.video.clip_writer import ClipWriteError, ClipWriter
from homewarden.video.source import SourcePacket

# Browsers ask for a video in several byte ranges: the latest copies are kept so that seeking converts nothing again.
KEPT_COPIES = 2


class TranscodeError(Exception):
    """A clip that could not be converted (corrupt, or no video in it)."""


def h264_copy(clip: bytes, name: str) -> bytes:
    """Return ``clip`` (an MP4) with its video encoded as H.264 and its sound copied; H.264 comes back unchanged."""
    try:
        with av.open(io.BytesIO(clip), mode="r", format="mp4") as container:
            if not container.streams.video:
                raise TranscodeError(f"{name} has no video")
            video = container.streams.video[0]
            if video.codec_context.name == "h264":
                return clip
            return _encode(container, video, name)
    except av.error.FFmpegError as exc:
        raise TranscodeError(f"cannot read {name}: {exc}") from None
    except ClipWriteError as exc:
        raise TranscodeError(str(exc)) from None


def _encode(container: Any, video: Any, name: str) -> bytes:
    audio = container.streams.audio[0] if container.streams.audio else None
    rate = video.average_rate or video.guessed_rate or 10
    writer = ClipWriter(
        None,
        encode_size=(video.codec_context.width, video.codec_context.height),
        fps=float(rate),
        name=name,
        audio=audio,
    )
    waiting: list[SourcePacket] = []  # sound demuxed before the first picture is decoded (the decoder holds some)
    try:
        streams = [video] if audio is None else [video, audio]
        for packet in container.demux(streams):
            if packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            if packet.stream is audio:
                if packet.pts is not None:
                    waiting.append(_sound(packet))
            else:
                for frame in video.codec_context.decode(packet):
                    writer.write_frame(frame, _time(frame, video))
            if writer.start is not None:
                for sound in waiting:
                    writer.write_audio(sound)
                waiting.clear()
        for frame in video.codec_context.decode(None):
            writer.write_frame(frame, _time(frame, video))
        for sound in waiting:
            writer.write_audio(sound)
        if not writer.close():
            raise TranscodeError(f"{name} has no picture to convert")
        return writer.take_bytes()
    finally:
        writer.abort()


def _time(frame: Any, video: Any) -> float:
    # A frame's pts is in its stream's time base (frames from a codec context carry none of their own); a frame
    # without one is written after the previous one by the writer, which drops none but repeated times.
    return float(frame.pts * video.time_base) if frame.pts is not None else 0.0


def _sound(packet: Any) -> SourcePacket:
    return SourcePacket(
        data=bytes(packet),
        pts=packet.pts,
        dts=packet.dts if packet.dts is not None else packet.pts,
        duration=packet.duration or 0,
        keyframe=True,
        time=float(packet.pts * packet.time_base),
        audio=True,
    )


class H264Copies:
    """The H.264 copies made lately, in memory; one conversion at a time, as it takes both cores for seconds."""

    def __init__(self, keep: int = KEPT_COPIES) -> None:
        """Keep the ``keep`` latest copies."""
        self._keep = keep
        self._copies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._converting = threading.Lock()

    def get(self, key: str, read_clip: Callable[[], bytes]) -> bytes:
        """Return the H.264 copy of the clip stored as ``key``, converting what ``read_clip`` returns if needed."""
        with self._lock:
            if key in self._copies:
                self._copies.move_to_end(key)
                return self._copies[key]
        with self._converting:
            with self._lock:
                if key in self._copies:  # converted while this request waited its turn
                    return self._copies[key]
            copy = h264_copy(read_clip(), key)
            with self._lock:
                self._copies[key] = copy
                while len(self._copies) > self._keep:
                    self._copies.popitem(last=False)
            return copy

    def forget(self) -> None:
        """Drop every copy (the recordings were locked)."""
        with self._lock:
            self._copies.clear()
