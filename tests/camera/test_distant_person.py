"""A distant person, a few pixels wide, becomes a person event.

Real footage throughout: an excerpt of a real IP camera's recording (tests/data/real/parking-lot-pedestrian.mp4) in
which a pedestrian 8-10 px wide and 22-26 px tall walks up a road, decoded by PyAV and looked at by the shipped
NanoDet. Before issue 16's detect16 work no sighting of them counted (min_area 400 px at detect size), and the crops
chasing them merged into crops 380-570 px wide in which NanoDet no longer found them.
"""

from __future__ import annotations

from typing import Any

import av
import pytest

from camera.replay import replay
from conftest import media_file
from homewarden.camera.analyzer import seen_scale
from homewarden.config.model import NanoDetConfig, ObjectsConfig
from homewarden.detect import create_detector
from homewarden.detect.base import Detection, Image, ObjectDetector

CLIP = "real/parking-lot-pedestrian.mp4"
CLIP_FPS = 15


class WatchedDetector(ObjectDetector):
    """Pass every crop to the real detector, noting each crop's size."""

    def __init__(self, real: ObjectDetector) -> None:
        self.real = real
        self.labels = real.labels
        self.input_size = real.input_size
        self.sizes: list[tuple[int, int]] = []

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        self.sizes.append((image.shape[1], image.shape[0]))
        return self.real.detect(image, min_score)


@pytest.fixture(scope="module")
def nanodet() -> ObjectDetector:
    return create_detector(NanoDetConfig())


@pytest.fixture(scope="module")
def frames() -> list[Any]:
    with av.open(str(media_file(CLIP))) as container:
        return list(container.decode(video=0))


def test_the_pedestrian_is_smaller_than_min_area_at_detect_size_but_not_as_the_detector_sees_it(
    nanodet: ObjectDetector, frames: list[Any]
) -> None:
    # A 240 px square around where the pedestrian walks at 2.5 s, as the analyser cuts for small motion.
    picture = frames[2 * CLIP_FPS + 8].to_ndarray(format="bgr24")
    crop = picture[10:250, 150:390]
    people = [d for d in nanodet.detect(crop, 0.35) if d.label == "person" and d.box[3] - d.box[1] < 40]
    assert people, "NanoDet should find the pedestrian in a 240 px crop"
    best = max(people, key=lambda d: d.score)
    assert best.score >= 0.5
    min_area = ObjectsConfig().filter_for("person").min_area
    assert best.area < min_area
    assert best.area * seen_scale(240, 240, nanodet.input_size) ** 2 >= min_area


def test_a_distant_pedestrian_becomes_one_person_event(nanodet: ObjectDetector, frames: list[Any]) -> None:
    detector = WatchedDetector(nanodet)
    analyzer, started = replay(detector, frames, CLIP_FPS)

    assert [change.obj.label for change in started] == ["person"]
    x1, y1, _x2, y2 = started[0].obj.box
    assert 15 <= y2 - y1 <= 35
    assert 200 <= x1 <= 320
    # Found within the clip's first 4 s (the walker is in view from its start).
    assert started[0].obj.first_seen < 4.0
    # Chased in crops of the minimum side, not in crops grown by merging.
    assert max(width for width, _ in detector.sizes[2:]) <= 240 + 1
    # Looking at one small walker costs at most one call per analysed frame.
    assert analyzer.stats.detector_calls <= analyzer.stats.frames + 2
