"""Camera and file sources through PyAV: open, demux, decode, and say clearly what went wrong."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from homewarden.i18n import _
from homewarden.video.display import AsDisplayed, display_size, display_turn, pixel_stretch

LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
# Codecs whose packets are copied into MP4 clips unchanged; any other video is encoded with libx264.
REMUXABLE_CODECS = frozenset({"h264", "hevc"})
SECRET_QUERY = re.compile(r"(?i)\b(pwd|pass|passwd|password|token|key|secret|auth)=[^&#]*")
# Demuxers whose timestamps are made up (MJPEG over HTTP counts frames at an assumed 25 fps): live, they are
# timed by when each frame arrives.
UNTIMED_FORMATS = frozenset({"mpjpeg", "mjpeg"})
# Demuxers of raw elementary streams (a camera's or a recorder's .h264 / .h265 dump): their packets carry no
# timestamps, so they are counted at the stream's frame rate, and clips encode the decoded pictures, whose display
# order the decoder knows, instead of copying packets whose presentation times nobody knows.
UNSTAMPED_FORMATS = frozenset({"h264", "hevc"})
MIN_FPS, MAX_FPS, FALLBACK_FPS = 1.0, 120.0, 10.0
# Demuxers of a single picture (a photo given where a video was meant): FFmpeg reads it as a one-frame video, in
# which nothing can move or be followed.
STILL_FORMATS = frozenset({"image2", "jpeg_pipe", "png_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "gif_pipe"})
# How many frames before its pts the first packet is taken to decode, when the demuxer does not say.
GUESSED_DTS_FRAMES = 16


class SourceError(Exception):
    """A source that cannot be opened or read; the message is one line for the user."""


@dataclass(frozen=True)
class StreamInfo:
    """What a source delivers, known once it is open."""

    codec: str
    width: int
    height: int
    fps: float
    time_base: Fraction
    live: bool  # times are Unix seconds (True) or seconds from the start of a file (False)
    audio: str | None = None  # the codec of the sound clips keep (None: no usable audio stream)
    stamped: bool = True  # the container gives packets their timestamps (see UNSTAMPED_FORMATS)
    # Counter-clockwise quarter turn a player gives the stored pictures (a phone held upright stores them sideways).
    # Frames are decoded as players show them (turned, and stretched to square pixels where the stream's pixels are
    # not square), and width and height are that picture's.
    turn: int = 0

    @property
    def remuxable(self) -> bool:
        """Tell whether clips can copy this stream's packets instead of re-encoding."""
        # A turned stream's clips are encoded from the upright frames, so every later reader (the browser copy,
        # redaction, screening, training) sees people upright without knowing of display matrices.
        return self.codec in REMUXABLE_CODECS and self.stamped and not self.turn


@dataclass(frozen=True)
class SourcePacket:
    """One demuxed video or audio packet kept as bytes, so it can be muxed into several clips."""

    data: bytes
    pts: int
    dts: int
    duration: int
    keyframe: bool
    time: float  # on the source's clock (see StreamInfo.live): what events and clips are timed by
    # Seconds on the stream's own timestamps since its first video packet. A live source's clock is re-anchored as
    # packets arrive (the first seconds come in a burst), so sound is lined up with pictures by this instead.
    stream_time: float | None = None
    audio: bool = False


def audible(stream: Any) -> bool:
    """Tell whether an audio stream can be decoded or copied (a known codec with a sample rate)."""
    ctx = stream.codec_context
    return ctx is not None and bool(ctx.name) and bool(ctx.sample_rate)


def is_live(url: str) -> bool:
    """Tell whether a source is a live stream rather than a file."""
    return url.startswith(LIVE_SCHEMES) or url.startswith("/dev/video")


def describe_url(url: str) -> str:
    """Return the URL with any password replaced, for messages and logs."""
    # Many cameras take credentials in the query string (?user=admin&pwd=...).
    url = SECRET_QUERY.sub(lambda match: f"{match.group(1)}=***", url)
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        authority, slash, path = rest.partition("/")
        # The last "@" ends the user info, as in FFmpeg's av_url_split: passwords may hold an unencoded "@".
        userinfo, host = authority.rsplit("@", 1)
        host += slash + path
        user = userinfo.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


class VideoSource:
    """An open video stream: demuxes packets and decodes them into frames."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        wall_clock: bool | None = None,
        options: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self._extra_options = dict(options or {})  # FFmpeg options over the defaults, e.g. RTSP listen mode
        self.live = is_live(url)
        # Times are Unix seconds for live sources, and for a file played as a camera by `homewarden run`.
        self.wall_clock = self.live if wall_clock is None else wall_clock
        self._container: Any = None
        self._stream: Any = None
        self._audio: Any = None
        self._origin: float | None = None  # the first video packet's time on the container's clock, in seconds
        self._last_audio_dts: int | None = None
        self._time_offset = 0.0
        self._first_pts: int | None = None
        self._last_frame_time: float | None = None
        self._counted_from: tuple[float, int] | None = None  # (time, frames since) of frames timed by counting
        self._last_frame_pts: int | None = None
        self._unplaced = 0  # pictures of untimed packets the decoder was primed with, not yet dropped
        self._held: list[Any] = []  # frames that came out while priming, handed on by the next decode()
        self._last_dts: int | None = None
        self._frame_ticks = 1
        self._timeout = timeout
        self._as_displayed: AsDisplayed | None = None
        self.info: StreamInfo | None = None

    def open(self) -> StreamInfo:
        """Open the source and describe its video stream."""
        if not self.live and not Path(self.url).exists():
            raise SourceError(_("{source}: no such file").format(source=self.url))
        if not self.live and Path(self.url).is_dir():
            raise SourceError(_("{source}: is a folder, not a video file").format(source=self.url))
        started = time.monotonic()
        try:
            self._container = av.open(
                self.url, mode="r", format=self._format(), options=self._options(), timeout=self._timeout
            )
        except av.error.FFmpegError as exc:
            # PyAV's timeout aborts FFmpeg, which then reports "Immediate exit requested" or "Invalid data".
            if self.live and time.monotonic() - started >= self._timeout:
                name = describe_url(self.url)
                raise SourceError(
                    _("{source}: cannot connect (no answer within {seconds} s)").format(
                        source=name, seconds=f"{self._timeout:g}"
                    )
                ) from None
            raise SourceError(self._explain_open_error(exc)) from None
        except OSError as exc:
            raise SourceError(
                _("{source}: cannot open ({problem})").format(
                    source=describe_url(self.url), problem=exc.strerror or exc
                )
            ) from None
        if not self._container.streams.video:
            self.close()
            raise SourceError(_("{source}: has no video stream").format(source=describe_url(self.url)))
        if not self.live and self._container.format.name in STILL_FORMATS:
            self.close()
            raise SourceError(
                _("{source}: is a still picture, not a video (give a video file, a camera stream or a device)").format(
                    source=describe_url(self.url)
                )
            )
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        self._stream = stream
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            self.close()
            raise SourceError(
                _("{source}: the video stream has no picture size (corrupt?)").format(source=describe_url(self.url))
            )
        stamped = self._container.format.name not in UNSTAMPED_FORMATS
        # A raw stream's demuxer assumes 25 fps; the rate the encoder wrote in the stream (its VUI) is the real one.
        rate = (
            stream.average_rate or stream.guessed_rate or FALLBACK_FPS
            if stamped
            else ctx.framerate or stream.guessed_rate or FALLBACK_FPS
        )
        if not MIN_FPS <= float(rate) <= MAX_FPS:
            rate = FALLBACK_FPS  # a broken muxer's frame rate (2500 fps, 1/1000 fps) would wreck pacing
        # Only the first video stream and the first decodable audio stream are read: data, subtitle and timecode
        # tracks (phones add two or more) are never demuxed, so they cannot reach a clip's muxer.
        self._audio = next((audio for audio in self._container.streams.audio if audible(audio)), None)
        turn = 0 if self.live else display_turn(self.url)
        stretch = pixel_stretch(stream.sample_aspect_ratio or ctx.sample_aspect_ratio)
        self._as_displayed = AsDisplayed(turn, stretch) if turn or stretch else None
        width, height = display_size(ctx.width, ctx.height, stretch, turn)
        self.info = StreamInfo(
            codec=ctx.name,
            width=width,
            height=height,
            fps=float(rate),
            time_base=stream.time_base or Fraction(1, 90000),
            live=self.wall_clock,
            audio=self._audio.codec_context.name if self._audio is not None else None,
            stamped=stamped,
            turn=turn,
        )
        self._frame_ticks = max(1, round(1 / (self.info.fps * self.info.time_base)))
        # Live times are Unix seconds: the clock anchors the stream's own timestamps (see packets()).
        self._time_offset = time.time() if self.wall_clock else 0.0
        return self.info

    @property
    def duration(self) -> float:
        """Return a file's length in seconds (0 when unknown or live)."""
        if self._container is None or self.live or not self._container.duration:
            return 0.0
        return float(self._container.duration) / 1_000_000

    @property
    def stream(self) -> Any:
        """Return the PyAV video stream, a template for remuxing clips."""
        return self._stream

    @property
    def audio_stream(self) -> Any:
        """Return the PyAV audio stream clips take their sound from, or None."""
        return self._audio

    def packets(self) -> Iterator[tuple[SourcePacket, Any]]:
        """Yield each video and audio packet with its PyAV packet, which decode() takes (audio decodes to nothing)."""
        assert self._container is not None
        assert self.info is not None
        time_base = self.info.time_base
        streams = [self._stream] if self._audio is None else [self._stream, self._audio]
        try:
            for packet in self._container.demux(streams):
                if packet.size == 0:
                    continue
                if packet.stream is self._audio:
                    audio = self._audio_packet(packet)
                    if audio is not None:
                        yield audio, packet
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None:
                    if self.info.stamped:
                        # A stamped stream's packet without a time (RTSP's first keyframe, before the sender's clock
                        # report) has no place on its clock, but the frames after it are built on it: decode it
                        # so they can be, and drop its own picture (decode() knows it by its missing time).
                        self._prime_decoder(packet)
                        continue
                    # An unstamped packet (a raw .h264 file): one frame after the previous one, in decoding order.
                    pts = dts = 0 if self._last_dts is None else self._last_dts + self._frame_ticks
                else:
                    dts = packet.dts if packet.dts is not None else self._guess_dts(pts)
                if self._first_pts is None:
                    self._first_pts = pts
                    self._origin = float(pts * time_base)
                if self._last_dts is not None and dts <= self._last_dts:
                    # Timestamps that do not advance (a broken muxer or camera) would make clips unplayable:
                    # move the packet one frame past the previous one, keeping its pts-dts distance.
                    shift = self._last_dts + self._frame_ticks - dts
                    pts, dts = pts + shift, dts + shift
                self._last_dts = dts
                if self.live:
                    # Opening probes the stream, so its first seconds arrive buffered and the clock read at open
                    # is late: the smallest "arrival minus stream time" so far is the best anchor. A live time is
                    # then never later than its packet's arrival.
                    arrival = time.time() - float((pts - self._first_pts) * time_base)
                    untimed = self._container.format.name in UNTIMED_FORMATS
                    self._time_offset = arrival if untimed else min(self._time_offset, arrival)
                stream_seconds = float((pts - self._first_pts) * time_base)
                seconds = stream_seconds + self._time_offset
                yield (
                    SourcePacket(
                        data=bytes(packet),
                        pts=pts,
                        dts=dts,
                        duration=packet.duration or 0,
                        keyframe=bool(packet.is_keyframe),
                        time=seconds,
                        stream_time=stream_seconds,
                    ),
                    packet,
                )
        except av.error.FFmpegError as exc:
            raise SourceError(self._explain_read_error(exc)) from None

    def _guess_dts(self, pts: int) -> int:
        """Return a decoding time for a packet without one (Matroska's first packets when there are B-frames)."""
        # Just after the previous packet, and well before the real decoding times that follow: taking the pts
        # instead would make those look as if they went back in time, and shift every later packet.
        if self._last_dts is None:
            return pts - GUESSED_DTS_FRAMES * self._frame_ticks
        return min(pts, self._last_dts + 1)

    def _audio_packet(self, packet: Any) -> SourcePacket | None:
        """Place an audio packet on the video's clock; drop it before the first video packet or out of order."""
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is None or self._origin is None:
            return None  # clips begin at a video keyframe: sound from before the first picture has no place
        dts = packet.dts if packet.dts is not None else pts
        if self._last_audio_dts is not None and dts <= self._last_audio_dts:
            return None
        self._last_audio_dts = dts
        stream_seconds = float(pts * packet.time_base) - self._origin
        return SourcePacket(
            data=bytes(packet),
            pts=pts,
            dts=dts,
            duration=packet.duration or 0,
            keyframe=True,
            time=stream_seconds + self._time_offset,
            stream_time=stream_seconds,
            audio=True,
        )

    def decode(self, packet: Any) -> list[Any]:
        """Decode one video packet into zero or more frames; a damaged packet, or an audio one, gives none."""
        if packet.stream is not self._stream:
            return []
        try:
            frames = self._placed(self._stream.codec_context.decode(packet))
        except av.error.InvalidDataError:
            frames = []
        except av.error.FFmpegError as exc:
            raise SourceError(self._explain_read_error(exc)) from None
        if self._held:
            frames, self._held = self._held + frames, []
        return self._as_shown(frames)

    def _prime_decoder(self, packet: Any) -> None:
        """Decode an untimed packet of a stamped stream for the frames that refer to it, keeping none of its own."""
        try:
            shown = self._stream.codec_context.decode(packet)
        except av.error.InvalidDataError:
            return
        self._unplaced += 1
        # Frames of earlier packets the decoder held back come out with it: decode() hands them on next.
        self._held.extend(self._placed(shown))

    def _placed(self, frames: list[Any]) -> list[Any]:
        """Drop the pictures of untimed packets the decoder was primed with: they come out without a time."""
        if not self._unplaced:
            return frames
        kept = []
        for frame in frames:
            if self._unplaced and frame.pts is None:
                self._unplaced -= 1
            else:
                kept.append(frame)
        return kept

    def flush(self) -> list[Any]:
        """Return the frames the decoder still holds at the end of the stream."""
        try:
            frames = self._placed(self._stream.codec_context.decode(None))
        except av.error.FFmpegError:
            frames = []
        frames, self._held = self._held + frames, []
        return self._as_shown(frames)

    def _as_shown(self, frames: list[Any]) -> list[Any]:
        return list(frames) if self._as_displayed is None else [self._as_displayed(frame) for frame in frames]

    def frame_time(self, frame: Any) -> float:
        """Return a decoded frame's time on the source clock."""
        assert self.info is not None
        stamped_alike = self._last_frame_pts is not None and frame.pts is not None and frame.pts <= self._last_frame_pts
        if frame.pts is None or stamped_alike:
            # Some cameras and muxers stamp every frame alike; time must still move forward for pacing and events.
            # Counted from where counting began, so that rounding does not add up over a long stream.
            if self._counted_from is None:
                start = self._last_frame_time
                self._counted_from = (self._time_offset, 0) if start is None else (start, 1)
            origin, count = self._counted_from
            at = origin + count / self.info.fps
            self._counted_from = (origin, count + 1)
        else:
            # The same clock as the frame's packet got in packets(), so an event ends where its clip's footage does.
            # A live clock re-anchored since the previous frame (the first seconds arrive in a burst) would put this
            # frame before it: it then shares the previous frame's time, neither going back nor running ahead.
            self._counted_from = None
            at = float((frame.pts - (self._first_pts or 0)) * self.info.time_base) + self._time_offset
            if self._last_frame_time is not None:
                at = max(at, self._last_frame_time)
            self._last_frame_pts = frame.pts
        self._last_frame_time = at
        return at

    def close(self) -> None:
        """Release the source."""
        if self._container is not None:
            with contextlib.suppress(av.error.FFmpegError):
                self._container.close()
            self._container = None

    def _format(self) -> str | None:
        if self.url.startswith("/dev/video"):
            return "v4l2"
        return None

    def _options(self) -> dict[str, str]:
        return {**self._default_options(), **self._extra_options}

    def _default_options(self) -> dict[str, str]:
        if self.url.startswith(("rtsp://", "rtsps://")):
            # The connect and read timeouts are PyAV's `timeout` argument; FFmpeg 5 dropped `stimeout`.
            return {"rtsp_transport": "tcp"}
        if self.url.startswith(("http://", "https://")):
            return {"reconnect": "0", "rw_timeout": str(int(self._timeout * 1_000_000))}
        return {}

    def _explain_open_error(self, exc: av.error.FFmpegError) -> str:
        name = describe_url(self.url)
        if self.live:
            reason = exc.strerror or type(exc).__name__
            return f"{name}: cannot connect ({reason})"
        if isinstance(exc, av.error.InvalidDataError):
            return f"{name}: not a video file, or its data is corrupt"
        return f"{name}: cannot open ({exc.strerror or type(exc).__name__})"

    def _explain_read_error(self, exc: av.error.FFmpegError) -> str:
        name = describe_url(self.url)
        if self.live and isinstance(exc, av.error.ExitError):
            # PyAV's timeout aborts the read; FFmpeg then says only "Immediate exit requested".
            return f"{name}: the camera sent nothing for {self._timeout:g} s"
        if self.live:
            return f"{name}: stream interrupted ({exc.strerror or type(exc).__name__})"
        return f"{name}: video data is truncated or corrupt ({exc.strerror or type(exc).__name__})"
