"""The detector backends, chosen by the config's literal `type` key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homewarden.config.model import NanoDetConfig, YoloConfig
from homewarden.detect.base import ObjectDetector
from homewarden.detect.nanodet import NanoDetDetector
from homewarden.detect.yolo import YoloDetector

DETECTORS: dict[str, Callable[[Any], ObjectDetector]] = {
    NanoDetDetector.type_key: NanoDetDetector,
    YoloDetector.type_key: YoloDetector,
}


def create_detector(config: NanoDetConfig | YoloConfig) -> ObjectDetector:
    """Build the configured detector; raises DetectorLoadError when its model cannot load."""
    return DETECTORS[config.type](config)
