"""Feature rows for the verifier, computed exactly as the hub computes them (homewarden.detect.verifier)."""

from __future__ import annotations

from homewarden.detect.base import Detection, Image
from homewarden.detect.verifier import BODY_PARTS, CLASS_SCORES, FEATURES, GEOMETRY, CropScorer, detection_features

FEATURE_NAMES: tuple[str, ...] = CLASS_SCORES + GEOMETRY + BODY_PARTS


def feature_row(scorer: CropScorer, image: Image, detection: Detection) -> tuple[float, ...]:
    """Return one labelled box's features as plain floats, ready for a dataset."""
    return tuple(float(value) for value in detection_features(scorer, image, detection))


__all__ = ["FEATURES", "FEATURE_NAMES", "feature_row"]
