"""Write one MP4 clip: remux the source's H.264 / H.265 packets or encode decoded frames, with the camera's sound."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from homewarden.video.source import SourcePacket

log = logging.getLogger(__name__)

MP4_OPTIONS = {"movflags": "+faststart"}
ENCODE_TIME_BASE = Fraction(1, 1000)
# Apple players (and browsers that use the platform's decoder) play H.265 in MP4 only as 'hvc1', whose parameter
# sets live in the header; FFmpeg's default 'hev1' would also carry them in-band.
VIDEO_TAGS = {"hevc": "hvc1"}
COPIED_AUDIO = frozenset({"aac"})
# G.711 is 8 kHz: AAC is encoded at no less than this rate, which every browser decodes.
MIN_AAC_RATE = 16000
AAC_RATES = (16000, 22050, 24000, 32000, 44100, 48000)
AAC_BIT_RATE = 64000


class ClipWriteError(Exception):
    """A clip that could not be written; the partial file has been removed."""


class ClipFile:
    """The file PyAV writes a clip to, on a descriptor the hub owns.

    Left to FFmpeg, a clip whose header cannot be written (a full disk) keeps its file open for good: PyAV closes
    only files whose header was written. Here the hub closes it, and a write error reaches FFmpeg as an error code.
    """

    def __init__(self, fd: int, name: str, *, owned: bool = True) -> None:
        """Write to ``fd``; ``name`` is the path the MP4 muxer reopens to move its index to the front."""
        self.fd: int | None = fd
        self.name = name
        self._owned = owned

    def write(self, data: bytes) -> int:
        """Write all of ``data`` and return its length; a failed write raises its OSError (a full disk: ENOSPC).

        PyAV hands the exception to FFmpeg as an error and raises it again from the muxer call, message and errno
        intact. (A negative errno returned instead, FFmpeg's own convention, reaches FFmpeg through PyAV up to 18.1.0;
        18.1.1 reads any count under 1 as "write() accepted no bytes" and the cause is lost.)
        """
        assert self.fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            if written <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]
        return len(data)

    def seek(self, offset: int, whence: int) -> int:
        """Move to ``offset`` (as os.lseek)."""
        assert self.fd is not None
        return os.lseek(self.fd, offset, whence)

    def tell(self) -> int:
        """Return the position."""
        assert self.fd is not None
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def close(self) -> None:
        """Release the descriptor, if this file owns it (PyAV calls this too)."""
        fd, self.fd = self.fd, None
        if fd is not None and self._owned:
            os.close(fd)


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
        audio: Any | None = None,
    ) -> None:
        """Write to ``temp_path``, or into memory when it is None (``name`` then names the clip in errors).

        ``audio`` is the source's audio stream: AAC is copied, any other codec is decoded and encoded to AAC.
        """
        self.temp_path = temp_path
        self.name = name or (temp_path.name if temp_path is not None else "clip")
        self._memory: int | None = None
        self.start: float | None = None
        self.end: float | None = None
        self._template = template
        self._encode_size = encode_size
        self._fps = fps
        self._file: ClipFile | None = None
        self._output: Any = None
        self._stream: Any = None
        self._pts_origin: int | None = None
        # Where the first picture is shown in the clip: copied packets keep their decoding delay (B-frames), so
        # the first one shows at pts - dts after the clip's start, and the sound must begin there too.
        self._lead = 0.0
        self._stream_start: float | None = None  # the first copied packet's SourcePacket.stream_time
        self._stream_end: float | None = None
        self._last_dts: int | None = None
        self._time_base: Fraction | None = None
        self._audio_template = audio
        self._audio_time_base: Fraction = audio.time_base if audio is not None else ENCODE_TIME_BASE
        self._audio: Any = None  # the clip's audio stream
        self._audio_decoder: Any = None  # set when the sound is converted to AAC
        self._audio_origin: int | None = None
        self._audio_last_dts: int | None = None
        self.audio_time: float | None = None  # the last sound packet handed to write_audio, on the sound clock

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
                self._file = ClipFile(self._memory, f"/proc/self/fd/{self._memory}", owned=False)
            else:
                self.temp_path.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
                self._file = ClipFile(os.open(self.temp_path, flags, 0o666), str(self.temp_path))
            self._output = av.open(self._file, mode="w", format="mp4", options=MP4_OPTIONS)
            if self._template is not None:
                self._stream = self._output.add_stream_from_template(self._template)
                tag = VIDEO_TAGS.get(self._template.codec_context.name)
                if tag is not None:
                    self._stream.codec_tag = tag
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
            if self._audio_template is not None:
                self._add_audio(self._audio_template)
        except (av.error.FFmpegError, OSError, ValueError) as exc:  # ValueError: a stream the muxer cannot hold
            self.abort()
            raise ClipWriteError(f"cannot create clip {self.name}: {exc}") from None

    def _add_audio(self, template: Any) -> None:
        """Add the clip's sound: a copy of AAC, or an AAC encoder fed by a decoder of the camera's codec."""
        source = template.codec_context
        if source.name in COPIED_AUDIO:
            self._audio = self._output.add_stream_from_template(template)
            return
        try:
            decoder = av.CodecContext.create(source.name, "r")
            decoder.sample_rate = source.sample_rate
            decoder.layout = source.layout
            if source.extradata:
                decoder.extradata = source.extradata
            decoder.open()
        except (av.error.FFmpegError, ValueError) as exc:
            # The clip still shows what happened: sound the hub cannot decode is left out, not the clip.
            log.warning("clip %s: leaving out the %s sound, which cannot be decoded (%s)", self.name, source.name, exc)
            return
        rate = next((rate for rate in AAC_RATES if rate >= max(source.sample_rate, MIN_AAC_RATE)), AAC_RATES[-1])
        self._audio = self._output.add_stream("aac", rate=rate)
        self._audio.layout = "stereo" if source.layout.nb_channels > 1 else "mono"
        self._audio.bit_rate = AAC_BIT_RATE
        self._audio_decoder = decoder

    @property
    def has_audio(self) -> bool:
        """Tell whether the clip has a sound track (known once the first packet is written)."""
        return self._audio is not None

    def write_audio(self, item: SourcePacket) -> None:
        """Add one audio packet of the source; sound before the clip's first picture is left out."""
        self.audio_time = self.sound_clock(item) if self.start is not None else None
        if self._output is None or self._audio is None or self.start is None:
            return
        at = self._place(item)
        if at < self._lead:
            return
        template_base = self._audio_time_base
        if self._audio_decoder is not None:
            self._encode_audio(item, at)
            return
        if self._audio_origin is None:
            # The first sound packet is placed at its own time in the clip, so picture and sound stay in step.
            self._audio_origin = item.dts - round(at / template_base)
        dts = item.dts - self._audio_origin
        if self._audio_last_dts is not None and dts <= self._audio_last_dts:
            return
        packet = av.Packet(item.data)
        packet.pts = item.pts - self._audio_origin
        packet.dts = dts
        packet.duration = item.duration
        packet.time_base = template_base
        packet.stream = self._audio
        self._mux(packet)
        self._audio_last_dts = dts

    def sound_clock(self, item: SourcePacket) -> float:
        """Return a sound packet's time on the clock this clip's pictures are placed by."""
        if self._stream_start is not None and item.stream_time is not None:
            # Copied pictures keep the stream's own timestamps; a live source's clock may have moved since.
            return item.stream_time
        return item.time  # encoded pictures are timed by the source's clock

    @property
    def sound_from(self) -> float | None:
        """Return when the clip's first picture is, on the sound clock (None before the first packet)."""
        return self._stream_start if self._stream_start is not None else self.start

    @property
    def sound_until(self) -> float | None:
        """Return when the clip's last picture ends, on the sound clock."""
        return self._stream_end if self._stream_start is not None else self.end

    def _place(self, item: SourcePacket) -> float:
        """Return where a sound packet goes in the clip, in seconds from the clip's zero."""
        start = self.sound_from
        assert start is not None
        return self.sound_clock(item) - start + self._lead

    def _encode_audio(self, item: SourcePacket, at: float) -> None:
        packet = av.Packet(item.data)
        packet.pts = packet.dts = item.pts
        packet.time_base = self._audio_time_base
        try:
            frames = self._audio_decoder.decode(packet)
        except av.error.FFmpegError:
            return  # a damaged sound packet is a moment of silence, not a broken clip
        for frame in frames:
            rate = frame.sample_rate
            pts = round(at * rate)
            if self._audio_last_dts is not None and pts <= self._audio_last_dts:
                continue
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            at += frame.samples / rate
            self._audio_last_dts = pts
            try:
                packets = self._audio.encode(frame)
            except av.error.FFmpegError as exc:
                self.abort()
                raise ClipWriteError(f"cannot encode the sound of clip {self.name}: {exc}") from None
            for encoded in packets:
                self._mux(encoded)

    def write_packet(self, item: SourcePacket) -> None:
        """Copy one source packet into the clip (the first must be a keyframe)."""
        if self._output is None:
            self._open()
            self._pts_origin = item.dts
            self.start = item.time
            self._stream_start = item.stream_time
            assert self._time_base is not None
            self._lead = float((item.pts - item.dts) * self._time_base)
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
        # Packets come in decoding order: with B-frames the last one written is not the last one shown.
        self.end = max(self.end or item.time, item.time + frame_seconds)
        if item.stream_time is not None:
            self._stream_end = max(self._stream_end or item.stream_time, item.stream_time + frame_seconds)

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
            if self._audio_decoder is not None:
                for packet in self._audio.encode(None):
                    self._output.mux(packet)
            self._output.close()
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise ClipWriteError(f"cannot finish clip {self.name}: {exc}") from None
        self._output = None
        if self._file is not None:
            self._file.close()
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
        if self._file is not None:
            self._file.close()
        if self._memory is not None:
            os.close(self._memory)
            self._memory = None
        if self.temp_path is not None:
            self.temp_path.unlink(missing_ok=True)
