"""Where and how often the detector runs.

The detector here is scripted: it reports a person wherever the test drew one. That is a fake at the model's
boundary, used so the test controls exactly what is "seen"; the real model runs in test_one_by_one.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import av
import numpy as np
import pytest

from homewarden.camera.analyzer import FrameAnalyzer
from homewarden.camera.reader import Sample
from homewarden.config.model import CameraConfig, ObjectsConfig
from homewarden.detect.base import Detection, Image, ObjectDetector
from homewarden.events.lifecycle import EventEnded, EventStarted

WIDTH, HEIGHT = 640, 360


class ScriptedDetector(ObjectDetector):
    """Report a person where the frame has the bright test figure; record every crop it is given."""

    def __init__(self) -> None:
        self.labels = ("person",)
        self.crops: list[tuple[int, int]] = []

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        self.crops.append((image.shape[1], image.shape[0]))
        ys, xs = np.nonzero(image[:, :, 2] > 200)
        if len(xs) < 50:
            return []
        return [Detection("person", 0.8, (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))]


def scene(figure_x: int | None) -> Any:
    """Return a grey room with a red 40x120 figure at figure_x, as a PyAV frame."""
    image = np.full((HEIGHT, WIDTH, 3), 90, dtype=np.uint8)
    image[200:, :] = 60
    if figure_x is not None:
        image[150:270, figure_x : figure_x + 40] = (0, 0, 255)
    return av.VideoFrame.from_ndarray(image, format="bgr24")


def run(positions: list[int | None], fps: float = 5.0) -> tuple[ScriptedDetector, FrameAnalyzer, list[Any]]:
    detector = ScriptedDetector()
    analyzer = FrameAnalyzer(CameraConfig(source="test"), ObjectsConfig(track=["person"]), detector, (WIDTH, HEIGHT))
    changes = []
    for index, x in enumerate(positions):
        changes += analyzer.analyze(Sample(index / fps, scene(x), (WIDTH, HEIGHT)))
    return detector, analyzer, changes


def test_nothing_moves_nothing_is_detected_after_the_startup_sweep() -> None:
    detector, analyzer, changes = run([None] * 50)
    # One look at the whole picture (two square tiles) when the camera starts, then nothing.
    assert detector.crops == [(HEIGHT, HEIGHT), (HEIGHT, HEIGHT)]
    assert changes == []
    assert analyzer.stats.motion_frames == 0


def test_a_walker_is_detected_on_crops_not_the_whole_frame() -> None:
    detector, _, changes = run([None] * 10 + [100 + 8 * i for i in range(30)] + [None] * 40)
    after_sweep = detector.crops[2:]
    assert after_sweep
    assert all(width < WIDTH for width, _ in after_sweep)
    started = [c for c in changes if isinstance(c, EventStarted)]
    ended = [c for c in changes if isinstance(c, EventEnded)]
    assert len(started) == 1
    assert len(ended) == 1
    # The event starts at the first sighting (2.0 s), within one frame.
    assert abs(started[0].obj.first_seen - 2.0) <= 0.2 + 1e-9


def test_an_object_standing_still_is_refreshed_not_detected_every_frame() -> None:
    walk_in = [100 + 10 * i for i in range(10)]
    stand = [190] * 100  # 20 s without moving
    detector, analyzer, changes = run([None] * 10 + walk_in + stand)
    calls_while_standing = len(detector.crops) - 2 - len(walk_in)
    # A refresh every 2 s over 20 s, plus the walk-in and a few settling frames: far fewer than 100 frames.
    assert calls_while_standing <= 20
    assert len([c for c in changes if isinstance(c, EventStarted)]) == 1
    assert not [c for c in changes if isinstance(c, EventEnded)]
    assert next(iter(analyzer.lifecycle.active.values())).confirmed


def test_a_flicker_is_not_an_event() -> None:
    _, _, changes = run([None] * 10 + [300, None] + [None] * 40)
    assert not [c for c in changes if isinstance(c, EventStarted)]


def test_someone_already_standing_at_startup_is_found_by_the_sweep() -> None:
    _, _, changes = run([250] * 40)
    started = [c for c in changes if isinstance(c, EventStarted)]
    assert len(started) == 1
    assert started[0].obj.first_seen == 0.0


class CowOrPersonDetector(ScriptedDetector):
    """Report the test figure as a cow on most looks and as a person on some, as NanoDet does a distant cow."""

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        found = super().detect(image, min_score)
        label = "person" if len(self.crops) % 3 == 0 else "cow"
        return [Detection(label, d.score, d.box) for d in found]


def test_an_animal_that_is_not_a_pet_never_becomes_a_person_event() -> None:
    detector = CowOrPersonDetector()
    # The default tracked labels do not include cows: the analyser still keeps them as evidence.
    analyzer = FrameAnalyzer(CameraConfig(source="test"), ObjectsConfig(), detector, (WIDTH, HEIGHT))
    changes = []
    positions = [None] * 10 + [100 + 6 * i for i in range(40)] + [None] * 30
    for index, x in enumerate(positions):
        changes += analyzer.analyze(Sample(index / 5.0, scene(x), (WIDTH, HEIGHT)))
    assert changes == []
    assert analyzer.stats.detector_calls > 10


class DogDetector(ScriptedDetector):
    """Report the test figure as a dog."""

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        return [Detection("dog", d.score, d.box) for d in super().detect(image, min_score)]


def watch_the_sofa(sweep_interval: float) -> tuple[DogDetector, list[Any]]:
    """A dog lies down at 5 s where motion is masked (a sofa under a flickering TV) and stays; 60 s at 5 fps."""
    detector = DogDetector()
    sofa_masked = [[(200.0, 100.0), (400.0, 100.0), (400.0, 300.0), (200.0, 300.0)]]
    camera = CameraConfig.model_validate(
        {"source": "test", "detect": {"sweep_interval": sweep_interval}, "motion": {"mask": sofa_masked}}
    )
    analyzer = FrameAnalyzer(camera, ObjectsConfig(track=["person", "dog"]), detector, (WIDTH, HEIGHT))
    changes = []
    for index, x in enumerate([None] * 25 + [250] * 275):
        changes += analyzer.analyze(Sample(index / 5.0, scene(x), (WIDTH, HEIGHT)))
    return detector, changes


def test_a_periodic_sweep_finds_a_pet_at_rest_that_motion_cannot_show() -> None:
    detector, changes = watch_the_sofa(sweep_interval=20.0)
    started = [c for c in changes if isinstance(c, EventStarted)]
    assert [c.obj.label for c in started] == ["dog"]
    # Found by the sweep at 20 s, the first after the dog lay down; confirmed by the looks that follow the sighting.
    assert started[0].obj.first_seen == 20.0
    # The cost: the start-up sweep, the one at 20 s and a few looks to confirm; then the dog is followed (refreshed
    # every 2 s) and no further sweep runs while it is.
    assert len(detector.crops) <= 2 + 2 + 5 + 40 // 2 + 1


def test_without_periodic_sweeps_the_pet_at_rest_is_never_found() -> None:
    detector, changes = watch_the_sofa(sweep_interval=0.0)
    assert changes == []
    assert len(detector.crops) == 2


def test_an_empty_scene_costs_two_tiles_per_sweep_interval() -> None:
    detector = ScriptedDetector()
    camera = CameraConfig.model_validate({"source": "test", "detect": {"sweep_interval": 30.0}})
    analyzer = FrameAnalyzer(camera, ObjectsConfig(track=["person"]), detector, (WIDTH, HEIGHT))
    for index in range(600):  # 120 s
        analyzer.analyze(Sample(index / 5.0, scene(None), (WIDTH, HEIGHT)))
    # At 0, 30, 60 and 90 s: 8 calls, 0.067 per video second.
    assert len(detector.crops) == 8


def test_no_sweep_while_someone_is_followed_nor_soon_after() -> None:
    detector = ScriptedDetector()
    camera = CameraConfig.model_validate({"source": "test", "detect": {"sweep_interval": 10.0}})
    analyzer = FrameAnalyzer(camera, ObjectsConfig(track=["person"]), detector, (WIDTH, HEIGHT))
    # Empty for 2 s, a walker from 2 s to 14 s (followed until the event ends, about 4 s after), empty to 40 s.
    positions = [None] * 10 + [100 + 7 * i for i in range(60)] + [None] * 130
    sweeps = []
    for index, x in enumerate(positions):
        before = len(detector.crops)
        analyzer.analyze(Sample(index / 5.0, scene(x), (WIDTH, HEIGHT)))
        if detector.crops[before:] == [(HEIGHT, HEIGHT), (HEIGHT, HEIGHT)]:
            sweeps.append(index / 5.0)
    # At start; then the first 10 s after the walker stopped being followed (about 18 s), and 10 s later again.
    assert sweeps[0] == 0.0
    assert len(sweeps) == 3
    assert 27.0 <= sweeps[1] <= 30.0
    assert sweeps[2] == pytest.approx(sweeps[1] + 10.0)


class RelabellingReview:
    """A second look that calls every person a cat, recording what it was shown (the verifier's place, scripted)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, tuple[int, ...], int]] = []

    def review(self, now: float, image: Image, detections: list[Detection]) -> list[Detection]:
        self.seen.append((now, image.shape, len(detections)))
        return [Detection("cat", d.score, d.box) if d.label == "person" else d for d in detections]


def test_the_review_sees_whole_frames_and_what_it_relabels_to_an_untracked_label_makes_no_event() -> None:
    positions: list[int | None] = [None] * 5 + list(range(100, 400, 12))
    review = RelabellingReview()
    analyzer = FrameAnalyzer(
        CameraConfig(source="test"), ObjectsConfig(track=["person"]), ScriptedDetector(), (WIDTH, HEIGHT), review
    )
    changes = []
    for index, x in enumerate(positions):
        changes += analyzer.analyze(Sample(index / 5.0, scene(x), (WIDTH, HEIGHT)))
    assert changes == []
    assert review.seen
    assert all(shape == (HEIGHT, WIDTH, 3) for _, shape, _ in review.seen)
    assert any(count == 1 for _, _, count in review.seen)
    assert [now for now, _, _ in review.seen] == sorted({now for now, _, _ in review.seen})
    _, _, unreviewed = run(positions)
    assert any(isinstance(change, EventStarted) for change in unreviewed)


def still_person_appearing_at(seconds: float) -> list[Any]:
    """A person appears standing at ``seconds`` where motion cannot show them (masked) and stays; 12 s at 5 fps."""
    masked = [[(200.0, 100.0), (400.0, 100.0), (400.0, 300.0), (200.0, 300.0)]]
    camera = CameraConfig.model_validate(
        {"source": "test", "detect": {"sweep_interval": 2.0}, "motion": {"mask": masked}}
    )
    analyzer = FrameAnalyzer(camera, ObjectsConfig(track=["person"]), ScriptedDetector(), (WIDTH, HEIGHT))
    changes = []
    for index in range(60):
        at = index / 5.0
        changes += analyzer.analyze(Sample(at, scene(250 if at >= seconds else None), (WIDTH, HEIGHT)))
    return [change for change in changes if isinstance(change, EventStarted)]


def test_a_person_found_standing_while_the_camera_warms_up_is_an_event() -> None:
    # A live stream's first seconds arrive in one burst (seen as one instant) and motion is still learning: whether
    # someone found then moved cannot be told, so they count as in view at the start, like the start-up sweep's.
    assert [change.obj.label for change in still_person_appearing_at(1.0)] == ["person"]


def test_a_person_found_standing_later_must_show_life_first() -> None:
    # A shape the detector calls a person that never moves (the parking lot's bollard) raises nothing.
    assert still_person_appearing_at(6.0) == []


class CutScoredHigherDetector(ScriptedDetector):
    """Score the figure higher the less of it the crop shows, as NanoDet scored the fifth visitor's upper half."""

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        return [replace(d, score=0.9 - (d.box[2] - d.box[0]) / 1000) for d in super().detect(image, min_score)]


def test_someone_standing_across_the_seam_of_the_sweep_tiles_gets_a_whole_view_as_their_best() -> None:
    # The first sweep's two 360 px tiles meet at x 280-360: the left one cuts the figure (x 330-370) at its right
    # edge and scores that part higher than the right tile its whole; the cut view wins the overlap but is marked
    # cut, so the whole views of the looks that follow replace it as the event's box and snapshot.
    analyzer = FrameAnalyzer(
        CameraConfig(source="test"), ObjectsConfig(track=["person"]), CutScoredHigherDetector(), (WIDTH, HEIGHT)
    )
    changes = []
    for index in range(15):
        changes += analyzer.analyze(Sample(index / 5.0, scene(330), (WIDTH, HEIGHT)))
    [started] = [change for change in changes if isinstance(change, EventStarted)]
    obj = started.obj
    assert obj.best_box == (330.0, 150.0, 369.0, 269.0)
    assert not obj.best_cut
