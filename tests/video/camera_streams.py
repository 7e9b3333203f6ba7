"""Stream layouts real cameras and phones send, made with PyAV: H.264 or H.265, with AAC, G.711, Opus or no sound,
and the data tracks phones add.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from video.synthetic import frame_image, read_index, stored_sideways

TONE_HZ = 440.0
# The sound is a short beep every few seconds, so a test can tell where in the picture's time a clip's sound is.
BEEP_PERIOD, BEEP_AT, BEEP_LENGTH = 3.0, 1.5, 0.3
# G.711 is 8 kHz by definition; the other codecs get the rate phones record at.
AUDIO_RATES = {"pcm_mulaw": 8000, "pcm_alaw": 8000, "libopus": 48000, "aac": 48000}
VIDEO_OPTIONS = {
    # A keyframe a second, as cameras send; x265 quiet, since it logs every encode to stderr.
    "libx264": lambda gop: {"g": gop, "keyint_min": gop, "preset": "veryfast", "sc_threshold": "0"},
    "libx265": lambda gop: {"preset": "ultrafast", "x265-params": f"log-level=error:keyint={gop}:min-keyint={gop}"},
    "libvpx-vp9": lambda gop: {"g": gop, "deadline": "realtime", "cpu-used": "8", "b": "0", "crf": "20"},
    "libsvtav1": lambda gop: {"preset": "8", "crf": "10", "svtav1-params": f"keyint={gop}"},
}


def beeps(start: int, count: int, rate: int) -> npt.NDArray[np.float32]:
    """Return ``count`` samples from sample ``start`` on: silence, with a 440 Hz beep at BEEP_AT every BEEP_PERIOD."""
    at = np.arange(start, start + count) / rate
    loud = (at % BEEP_PERIOD >= BEEP_AT) & (at % BEEP_PERIOD < BEEP_AT + BEEP_LENGTH)
    return (0.3 * loud * np.sin(2 * np.pi * TONE_HZ * at)).astype(np.float32)


def beep_onsets(path: Path) -> list[float]:
    """Return when each beep starts in a clip's sound, in seconds on the clip's clock."""
    onsets: list[float] = []
    last_loud = -math.inf
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            assert frame.time is not None
            samples = np.abs(frame.to_ndarray().astype(np.float64)).max(axis=0)
            for offset in np.flatnonzero(samples > 0.1):
                at = frame.time + offset / frame.sample_rate
                if at - last_loud > BEEP_PERIOD / 2:
                    onsets.append(at)
                last_loud = at
    return onsets


def first_picture(path: Path) -> tuple[int, float]:
    """Return the source frame number a clip shows first, and when on the clip's clock it shows it."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        assert frame.time is not None
        return read_index(frame), frame.time


def expected_onsets(path: Path, seconds: float, fps: int = 10) -> list[float]:
    """Return when the beeps should start in a clip of ``seconds``: where its pictures of that moment show."""
    first_frame, shown_at = first_picture(path)
    begin = first_frame / fps
    wanted = []
    beep = (begin // BEEP_PERIOD) * BEEP_PERIOD + BEEP_AT
    while beep < begin + seconds:
        if beep >= begin:
            wanted.append(beep - begin + shown_at)
        beep += BEEP_PERIOD
    return wanted


def write_camera_file(
    path: Path,
    frames: Iterable[npt.NDArray[np.uint8]],
    *,
    container_format: str,
    video_codec: str = "libx264",
    audio_codec: str | None = None,
    timecode: bool = False,
    fps: int = 10,
    turn: int = 0,
) -> Path:
    """Encode RGB ``frames`` with the camera's codecs; ``timecode`` adds a timecode (data) track, as phones do.

    ``turn`` stores them sideways under a display matrix that turns them upright again, as a phone held upright does.
    """
    with av.open(str(path), mode="w", format=container_format) as output:
        first: npt.NDArray[np.uint8] | None = None
        video: Any = None
        audio: Any = None
        sent = 0
        for index, upright in enumerate(frames):
            rgb = stored_sideways(upright, turn)
            if video is None:
                first = rgb
                video = output.add_stream(video_codec, rate=fps, options=VIDEO_OPTIONS[video_codec](str(fps)))
                video.height, video.width = first.shape[:2]
                video.pix_fmt = "yuv420p"
                if turn:
                    video.set_display_rotation(turn)
                if timecode:
                    # The MOV muxer writes a 'tmcd' track for this tag, which FFmpeg reads back as a data stream.
                    video.metadata["timecode"] = "00:00:00:00"
                if audio_codec is not None:
                    audio = output.add_stream(audio_codec, rate=AUDIO_RATES[audio_codec])
                    audio.layout = "mono"
            picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            picture.pts = index
            picture.time_base = Fraction(1, fps)
            output.mux(video.encode(picture))
            if audio is not None:
                rate = audio.rate
                count = (index + 1) * rate // fps - sent
                sound = av.AudioFrame.from_ndarray(beeps(sent, count, rate)[None, :], format="fltp", layout="mono")
                sound.sample_rate = rate
                sound.pts = sent
                sound.time_base = Fraction(1, rate)
                sent += count
                output.mux(audio.encode(sound))
        assert video is not None, "no frames"
        output.mux(video.encode(None))
        if audio is not None:
            output.mux(audio.encode(None))
    return path


def barcode_frames(seconds: float, fps: int = 10) -> Iterable[npt.NDArray[np.uint8]]:
    """Yield synthetic.frame_image frames (their number drawn as a barcode) for ``seconds``."""
    return (frame_image(index) for index in range(round(seconds * fps)))


def clip_streams(path: Path) -> dict[str, Any]:
    """Describe a clip by decoding it whole: codecs, video tag, frame count, sound length and loudness."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        found: dict[str, Any] = {
            "video": video.codec_context.name,
            "tag": video.codec_tag,
            "streams": [stream.type for stream in container.streams],
            "duration": container.duration / 1_000_000,
        }
        found["frames"] = sum(1 for _ in container.decode(video=0))
    if "audio" in found["streams"]:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            found["audio"] = stream.codec_context.name
            samples = [frame.to_ndarray().astype(np.float64).ravel() for frame in container.decode(audio=0)]
            sound = np.concatenate(samples) if samples else np.zeros(0)
            found["audio_seconds"] = sound.size / stream.rate / stream.codec_context.layout.nb_channels
            found["audio_rms"] = float(np.sqrt(np.mean(sound**2))) if sound.size else 0.0
    return found
