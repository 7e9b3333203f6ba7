"""Screening with the real NudeNet model: clean footage passes; a class it does report refuses the clip."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import pytest

from conftest import media_file
from homewarden.privacy.screening import EXPOSED_CLASSES, ScreeningError, ScreeningPolicy, screen_clip

HEAD_POSE = "video/head-pose-face-detection-female-and-male.gif"


def first_seconds(path: Path, seconds: float) -> bytes:
    """Return the first ``seconds`` of a video, re-encoded as H.264 MP4 bytes."""
    buffer = io.BytesIO()
    with av.open(str(path)) as source, av.open(buffer, mode="w", format="mp4") as output:
        stream = source.streams.video[0]
        rate = stream.average_rate or Fraction(10)
        video = output.add_stream("libx264", rate=rate, options={"preset": "ultrafast"})
        video.width, video.height = stream.codec_context.width, stream.codec_context.height
        video.pix_fmt = "yuv420p"
        for index, frame in enumerate(source.decode(stream)):
            if index >= round(seconds * rate):
                break
            picture = frame.reformat(format="yuv420p")
            picture.pts, picture.time_base = index, 1 / Fraction(rate)
            output.mux(video.encode(picture))
        output.mux(video.encode(None))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "relative",
    ["video/face-demographics-walking.gif", HEAD_POSE, "video/people-detection.gif"],
)
def test_clean_footage_passes(relative: str) -> None:
    result = screen_clip(media_file(relative).read_bytes(), ScreeningPolicy())

    assert result.passed, result.hits
    assert result.hits == []
    assert result.frames_checked >= 4


@pytest.mark.slow
def test_clean_room_with_visitors_passes() -> None:
    clip = first_seconds(media_file("video/one-by-one-person-detection.mp4"), 20)

    result = screen_clip(clip)

    assert result.passed, result.hits
    # Two a second over 20 s (0, 0.5, ... 19.5) and the last frame (19.9 s).
    assert result.frames_checked == 41


def test_a_reported_class_refuses_the_clip_with_times() -> None:
    # NudeNet reports the woman's face in this clip (about 0.75-0.84); a policy refusing faces takes the same path
    # an exposed class would.
    policy = ScreeningPolicy(classes=frozenset({"FACE_FEMALE"}), min_score=0.5)

    result = screen_clip(media_file(HEAD_POSE).read_bytes(), policy)

    assert not result.passed
    assert {hit.label for hit in result.hits} == {"FACE_FEMALE"}
    assert all(hit.score >= 0.5 for hit in result.hits)
    times = [hit.time for hit in result.hits]
    assert times == sorted(times)
    assert times[0] == 0.0  # the first frame is always checked
    assert times[-1] > 4.0  # ... and the last one (4.6 s)
    assert result.frames_checked >= 10


def test_default_policy_refuses_exposed_classes_only() -> None:
    policy = ScreeningPolicy()

    assert policy.classes == EXPOSED_CLASSES
    assert all(label.endswith("_EXPOSED") for label in policy.classes)
    assert "FACE_FEMALE" not in policy.classes
    assert 0.2 < policy.min_score < 0.5


def test_unreadable_copy_raises() -> None:
    with pytest.raises(ScreeningError):
        screen_clip(b"not a video at all" * 100)
