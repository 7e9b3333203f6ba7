"""Redaction on real footage: no face that dlib can find survives in any frame, and nothing of the source but the
picture is kept."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from conftest import media_file
from homewarden.config.model import NanoDetConfig
from homewarden.detect import create_detector
from homewarden.faces.dlib_models import load_face_models
from homewarden.privacy.redaction import MASK_COLOUR, RedactedClip, RedactionError, redact_clip

Image = npt.NDArray[np.uint8]

HEAD_POSE = "video/head-pose-face-detection-female-and-male.gif"
WALKING = "video/face-demographics-walking.gif"
SECRET_TITLE = "Front door, 12 Elm Street"


def decode_rgb(video: bytes | Path) -> list[Image]:
    """Decode every frame of a video as RGB."""
    with av.open(io.BytesIO(video) if isinstance(video, bytes) else str(video)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def faces_per_frame(frames: list[Image], upsample: int) -> list[int]:
    """Count the faces dlib's HOG detector finds (default threshold) in each frame."""
    detector = load_face_models().detector
    return [len(detector.run(np.ascontiguousarray(frame), upsample, 0.0)[0]) for frame in frames]


def write_mp4(path: Path, frames: list[Image], fps: int, *, audio: bool = False, title: str | None = None) -> Path:
    """Write RGB frames as H.264, optionally with a second of AAC tone per second of video and a title."""
    with av.open(str(path), mode="w", format="mp4") as output:
        if title is not None:
            output.metadata["title"] = title
            output.metadata["comment"] = "camera serial HW-0042"
        video = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = "yuv420p"
        video.metadata["handler_name"] = "Alice's doorbell"
        sound: Any = None
        if audio:
            sound = output.add_stream("aac", rate=44100)
            sound.layout = "mono"
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if sound is not None:
            seconds = len(frames) / fps
            samples = (np.sin(np.arange(round(44100 * seconds)) * 2 * np.pi * 440 / 44100) * 0.3).astype(np.float32)
            for start in range(0, len(samples), 1024):
                chunk = samples[start : start + 1024][np.newaxis]
                audio_frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                audio_frame.sample_rate, audio_frame.pts = 44100, start
                output.mux(sound.encode(audio_frame))
            output.mux(sound.encode(None))
    return path


def face_crops() -> list[Image]:
    """Return one head-and-shoulders crop (RGB) from each enrolment photo, the face about half its width."""
    folder = media_file("faces/enroll/obama/obama.jpg").parents[1]
    models = load_face_models()
    crops = []
    for path in sorted(folder.glob("*/*.jpg")):
        bgr = cv2.imread(str(path))
        assert bgr is not None, path
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        (x1, y1, x2, y2), _ = max(models.detect(rgb, 0), key=lambda found: found[0][2] - found[0][0])
        side = x2 - x1
        crop = rgb[max(0, y1 - side) : y2 + side // 2, max(0, x1 - side // 2) : x2 + side // 2]
        crops.append(np.ascontiguousarray(crop))
    return crops


def composed_frames(seconds: float = 3.0, fps: int = 10) -> list[Image]:
    """Paste four real faces onto a room's frames, each moving down and sideways and growing."""
    room = decode_rgb(media_file("video/one-by-one-person-detection.mp4"))[0]
    room = cv2.resize(room, (640, 360), interpolation=cv2.INTER_AREA)
    crops = face_crops()[:4]
    frames = []
    count = round(seconds * fps)
    for index in range(count):
        frame = room.copy()
        progress = index / max(1, count - 1)
        for number, crop in enumerate(crops):
            width = round(100 + 40 * progress)
            height = round(width * crop.shape[0] / crop.shape[1])
            pasted = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
            x = 10 + number * 160 + round(15 * progress * (-1 if number % 2 else 1))
            y = round(20 + 100 * progress)
            height = min(height, 360 - y)
            frame[y : y + height, x : x + width] = pasted[:height]
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def composed_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the composed faces clip, with sound and a title, as an H.264 MP4."""
    path = tmp_path_factory.mktemp("composed") / "faces.mp4"
    return write_mp4(path, composed_frames(), fps=10, audio=True, title=SECRET_TITLE)


@pytest.fixture(scope="module")
def composed_redacted(composed_clip: Path) -> RedactedClip:
    """Redact the composed faces clip once for the tests that inspect it."""
    return redact_clip(composed_clip.read_bytes())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "upsample"),
    [
        (HEAD_POSE, 1),
        # Its faces are about 20 px wide: HOG finds them only with two upsamplings (none with one).
        (WALKING, 2),
    ],
)
def test_no_face_survives_in_real_footage(relative: str, upsample: int) -> None:
    source = media_file(relative)
    before = faces_per_frame(decode_rgb(source), upsample)
    assert sum(before) >= 10, f"control: HOG should find faces in {relative}"

    redacted = redact_clip(source)

    after = decode_rgb(redacted.mp4)
    assert len(after) == redacted.frames == len(before)
    assert faces_per_frame(after, upsample) == [0] * len(after)
    assert redacted.faces_blurred >= sum(before)
    assert (redacted.width, redacted.height) == (480, 270)


def test_no_face_survives_on_moving_photos(composed_clip: Path, composed_redacted: RedactedClip) -> None:
    before = faces_per_frame(decode_rgb(composed_clip), 1)
    assert min(before) >= 3, f"control: HOG should find most pasted faces in every frame: {before}"

    after = decode_rgb(composed_redacted.mp4)

    assert len(after) == len(before) == composed_redacted.frames == 30
    assert faces_per_frame(after, 1) == [0] * len(after)


def test_copy_keeps_picture_only(composed_clip: Path, composed_redacted: RedactedClip) -> None:
    with av.open(str(composed_clip)) as source:
        assert len(source.streams.audio) == 1
        assert source.metadata.get("title") == SECRET_TITLE
        source_rate = source.streams.video[0].average_rate
    source_values = {SECRET_TITLE, "camera serial HW-0042", "Alice's doorbell"}

    with av.open(io.BytesIO(composed_redacted.mp4)) as copy:
        assert len(copy.streams) == 1
        assert len(copy.streams.video) == 1
        assert not copy.streams.audio
        video = copy.streams.video[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.width, video.height) == (640, 360)
        assert video.average_rate == source_rate
        for metadata in (copy.metadata, video.metadata):
            assert not {"title", "comment", "creation_time", "encoder"} & set(metadata)
            assert not source_values & set(metadata.values())
        assert sum(1 for _ in copy.decode(video=0)) == 30
    assert composed_redacted.duration == pytest.approx(3.0, abs=0.05)
    # +faststart: the index comes before the media data, so a browser can start playing at once.
    assert composed_redacted.mp4.index(b"moov") < composed_redacted.mp4.index(b"mdat")


@pytest.mark.slow
def test_mask_people_fills_them() -> None:
    source = media_file("video/people-detection.gif")
    detector = create_detector(NanoDetConfig(threads=1))

    masked = redact_clip(source, mask_people=True, detector=detector)

    assert masked.people_masked > 0
    frames = decode_rgb(masked.mp4)
    originals = decode_rgb(source)
    assert len(frames) == len(originals) == masked.frames
    grey = np.array(MASK_COLOUR[::-1], dtype=np.int16)
    checked = 0
    for original, frame in zip(originals, frames, strict=True):
        for person in detector.detect(np.ascontiguousarray(original[:, :, ::-1]), 0.35):
            if person.label != "person":
                continue
            x1, y1, x2, y2 = (round(value) for value in person.box)
            body = frame[y1:y2, x1:x2].astype(np.int16)
            # The person's box is solid mask colour (x264 leaves a little ringing at the edges).
            assert (np.abs(body - grey).max(axis=2) <= 8).mean() > 0.9
            checked += 1
    assert checked >= 3
    assert redact_clip(source, detector=detector).people_masked == 0


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda mp4: b"\x00garbage, not a video" * 500, id="garbage"),
        pytest.param(lambda mp4: b"", id="empty"),
        pytest.param(lambda mp4: mp4[: len(mp4) // 2], id="truncated"),
    ],
)
def test_bad_input_raises_redaction_error(damage: Any, composed_clip: Path) -> None:
    data = damage(composed_clip.read_bytes())

    with pytest.raises(RedactionError) as raised:
        redact_clip(data)

    assert "\n" not in str(raised.value)
    assert str(raised.value)


def test_truncated_media_data_raises_redaction_error(composed_redacted: RedactedClip) -> None:
    # The index (moov) is at the front and intact; the frames it lists stop halfway.
    cut = composed_redacted.mp4[: len(composed_redacted.mp4) * 2 // 3]

    with pytest.raises(RedactionError, match=r"truncated|damaged"):
        redact_clip(cut)
