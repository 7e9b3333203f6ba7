"""Object detection: one interface, one file per backend."""

from homewarden.detect.base import Detection, DetectorLoadError, ObjectDetector
from homewarden.detect.registry import create_detector

__all__ = ["Detection", "DetectorLoadError", "ObjectDetector", "create_detector"]
