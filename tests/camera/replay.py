"""Replay decoded frames through the analyser as a camera at the default 5 analysed frames a second would."""

from __future__ import annotations

from typing import Any

from homewarden.camera.analyzer import FrameAnalyzer
from homewarden.camera.reader import FramePacer, Sample
from homewarden.config.model import CameraConfig, ObjectsConfig
from homewarden.detect.base import ObjectDetector
from homewarden.events.lifecycle import EventStarted


def replay(
    detector: ObjectDetector, frames: list[Any], fps: float, camera: CameraConfig | None = None
) -> tuple[FrameAnalyzer, list[EventStarted]]:
    """Run the analyser over frames decoded at `fps` (as a camera configured so, if given); return it and the events
    that started."""
    size = (frames[0].width, frames[0].height)
    analyzer = FrameAnalyzer(camera or CameraConfig(source="test"), ObjectsConfig(), detector, size)
    pacer = FramePacer(5.0)
    started: list[EventStarted] = []
    for index, frame in enumerate(frames):
        at = index / fps
        if pacer.due(at):
            started += [c for c in analyzer.analyze(Sample(at, frame, size)) if isinstance(c, EventStarted)]
    return analyzer, started
