"""Two cameras grouped as one area share their intrusions: people on either are one alarm."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from camera.test_small_visitor import VISIT, visitor_clip
from conftest import media_file
from homewarden.camera.reader import FramePacer, read_samples
from homewarden.camera.runner import CameraRunner
from homewarden.config.loader import validate_config
from homewarden.detect import create_detector
from homewarden.events.intrusions import IntrusionBoard
from homewarden.events.record import EventRecord
from homewarden.notify.bus import HubBus, IntrusionChanged, Message
from homewarden.notify.payloads import AlarmMemory, outgoing
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource

pytestmark = pytest.mark.slow

CLIPS = {"hall": "video/people-detection.gif", "stairs": "video/face-demographics-walking.gif"}


def run_side_by_side(
    areas: dict[str, list[str]], folder: Path, bus: HubBus | None = None, clips: dict[str, Path] | None = None
) -> list[EventRecord]:
    """Analyse both clips frame by frame in step, as two live cameras of one hub would, sharing one board."""
    sources = clips or {name: media_file(path) for name, path in CLIPS.items()}
    config = validate_config(
        {"cameras": {name: {"source": str(path)} for name, path in sources.items()}, "areas": areas}
    )
    detector = create_detector(config.detector)
    board = IntrusionBoard(config.alarm.group_window, config.areas)
    stored: list[EventRecord] = []
    streams = []
    pipelines = []
    for name in sources:
        runner = CameraRunner(name, config, detector, MediaFolder(folder), stored.append, bus=bus, intrusions=board)
        source = VideoSource(config.cameras[name].source)
        source.open()
        # run_file would play one file to its end before the other starts; the hub runs cameras side by side.
        pipeline = runner._pipeline_for(source)
        pacer = FramePacer(config.cameras[name].detect.fps)
        streams.append(read_samples(source, pipeline.recorder, pacer, pipeline.analyzer.frame_size))
        pipelines.append((pipeline, source))
    for samples in itertools.zip_longest(*streams):
        for (pipeline, _), sample in zip(pipelines, samples, strict=True):
            if sample is not None:
                pipeline.process(sample)
    for pipeline, source in pipelines:
        pipeline.finish()
        source.close()
    return stored


def test_people_on_two_cameras_of_one_area_are_one_intrusion(tmp_path: Path) -> None:
    bus = HubBus()
    told: list[Message] = []
    bus.subscribe("test", told.append)
    bus.start()
    try:
        stored = run_side_by_side({"house": list(CLIPS)}, tmp_path, bus)
        bus.flush()
    finally:
        bus.stop()
    events = [event for event in stored if event.label == "person"]

    assert {event.camera for event in events} == set(CLIPS)
    assert all(event.alarm for event in events)
    assert len({event.intrusion_id for event in events}) == 1
    changes = [message for message in told if isinstance(message, IntrusionChanged)]
    assert [change.kind for change in changes][-1] == "end"
    assert changes[-1].intrusion.cameras == tuple(sorted(CLIPS))
    # The end told when the streams are over carries the last frame's time, which webhooks can write down.
    assert all(math.isfinite(change.at) for change in changes)
    assert [item.kind for item in outgoing(changes[-1], AlarmMemory())] == ["intrusion"]


def test_without_an_area_each_camera_has_its_own(tmp_path: Path) -> None:
    events = [event for event in run_side_by_side({}, tmp_path) if event.label == "person"]

    by_camera = {camera: {e.intrusion_id for e in events if e.camera == camera} for camera in CLIPS}
    assert all(len(ids) == 1 for ids in by_camera.values())
    assert by_camera["hall"].isdisjoint(by_camera["stairs"])


def test_a_camera_whose_stream_ends_leaves_another_areas_intrusion_open(tmp_path: Path) -> None:
    # The garden's front camera saw someone leave 1 s before the hall's file is over; the garden's side camera plays
    # on. Before switch16 the hall's end closed every intrusion whose people had all left, the garden's too: someone
    # on the side camera a few seconds later opened a second intrusion (a second alarm) for the same visit.
    config = validate_config(
        {
            "cameras": {
                "hall": {"source": str(media_file(CLIPS["hall"]))},
                "front": {"source": "rtsp://front.invalid/stream"},
                "side": {"source": "rtsp://side.invalid/stream"},
            },
            "areas": {"garden": ["front", "side"]},
        }
    )
    board = IntrusionBoard(config.alarm.group_window, config.areas)
    garden = board.join("front", "a", 0.0)
    board.end("a", 1.0)
    runner = CameraRunner(
        "hall", config, create_detector(config.detector), MediaFolder(tmp_path), lambda _: None, intrusions=board
    )
    source = VideoSource(config.cameras["hall"].source)
    source.open()
    runner.run_file(source)

    assert board.summary_of("a") is not None
    assert board.join("side", "b", 5.0).id == garden.id


def test_two_night_cameras_side_by_side_each_find_their_visitor(tmp_path: Path) -> None:
    # Two infrared cameras of one hub, analysed frame by frame in step with one detector: a 30 px visitor that only
    # the finer night motion sees walking in, and a 45 px one; each camera keeps its own motion models and night state,
    # so each finds its visitor as it does alone (tests/camera/test_small_visitor.py).
    clips = {"yard": tmp_path / "yard.mp4", "drive": tmp_path / "drive.mp4"}
    visitor_clip(clips["yard"], 30, at_night=True, seconds=12)
    visitor_clip(clips["drive"], 45, at_night=True, seconds=12)
    events = [event for event in run_side_by_side({}, tmp_path, clips=clips) if event.label == "person"]

    assert sorted(event.camera for event in events) == ["drive", "yard"]
    assert all(VISIT[0] <= event.start <= VISIT[1] for event in events)
    assert len({event.intrusion_id for event in events}) == 2
