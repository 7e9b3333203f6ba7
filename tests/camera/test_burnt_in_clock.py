"""A camera's clock costs detector calls only while it is learnt: real H.264 with a clock drawn in, real NanoDet.

Nearly every IP camera burns its date and time into the picture; the one-by-one clip's first 45 s (its first two
visitors) are drawn with one here and encoded as such a camera's stream.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camera.replay import replay
from camera.test_interlaced import decoded, encode, one_by_one_frames
from homewarden.config.model import CameraConfig, MotionConfig, NanoDetConfig
from homewarden.detect.nanodet import NanoDetDetector
from motion.test_overlay import clocked

CLIP_FPS = 10
SECONDS = 45

pytestmark = pytest.mark.slow


def test_the_clock_is_learnt_and_costs_fewer_calls_with_the_same_events(tmp_path: Path) -> None:
    frames = one_by_one_frames(0, SECONDS * CLIP_FPS - 1)
    path = tmp_path / "clocked.mp4"
    pictures = [clocked(frame, index / CLIP_FPS) for index, frame in enumerate(frames)]
    encode(path, pictures, False, "yuv420p", size=(pictures[0].shape[1], pictures[0].shape[0]))
    clip = decoded(path)
    detector = NanoDetDetector(NanoDetConfig())

    learning, started = replay(detector, clip, CLIP_FPS)
    unlearnt, started_without = replay(
        detector, clip, CLIP_FPS, CameraConfig(source="test", motion=MotionConfig(burnt_in_text=False))
    )

    assert learning.burnt_in_text is not None
    assert any(line.changing and line.box[1] < 50 for line in learning.burnt_in_text.lines)
    assert [(event.obj.label, round(event.obj.first_seen)) for event in started] == [
        (event.obj.label, round(event.obj.first_seen)) for event in started_without
    ]
    assert [event.obj.label for event in started] == ["person", "person"]
    assert learning.stats.detector_calls < unlearnt.stats.detector_calls
