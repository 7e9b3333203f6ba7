"""Two cameras grouped as one area share their intrusions: people on either are one alarm."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

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


def run_side_by_side(areas: dict[str, list[str]], folder: Path, bus: HubBus | None = None) -> list[EventRecord]:
    """Analyse both clips frame by frame in step, as two live cameras of one hub would, sharing one board."""
    config = validate_config(
        {"cameras": {name: {"source": str(media_file(path))} for name, path in CLIPS.items()}, "areas": areas}
    )
    detector = create_detector(config.detector)
    board = IntrusionBoard(config.alarm.group_window, config.areas)
    stored: list[EventRecord] = []
    streams = []
    pipelines = []
    for name in CLIPS:
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
