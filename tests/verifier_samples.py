"""Verifier samples from real footage: NanoDet's features of people and of the empty room in one-by-one."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import av
import numpy as np

from conftest import media_file
from homewarden.cloud.training.dataset import LabelledItem
from homewarden.cloud.training.features import feature_row
from homewarden.config.model import NanoDetConfig
from homewarden.detect.base import Detection, Image
from homewarden.detect.nanodet import NanoDetDetector

# Seconds into one-by-one-person-detection.mp4 (bench/manifests/video.json): the visits, and the empty room between.
VISIT_TIMES = {"visit-1": (10.0, 14.0), "visit-2": (30.0, 38.0), "visit-3": (56.0, 64.0), "visit-4": (78.0, 84.0)}
EMPTY_TIMES = {"empty-1": (1.0, 3.0, 5.0), "empty-2": (21.0, 46.5, 48.5), "empty-3": (71.0, 72.5, 89.0)}
# Where people stand in that room, as a box the empty room is judged in.
EMPTY_BOXES = ((330.0, 80.0, 440.0, 360.0), (200.0, 150.0, 300.0, 420.0))


@dataclass(frozen=True)
class FrameSamples:
    """A decoded frame, what NanoDet found in it, and the donation it is filed under."""

    donation: str
    time: float
    image: Image
    detections: tuple[Detection, ...]


@functools.cache
def detector() -> NanoDetDetector:
    """Return one NanoDet for every test that needs one."""
    return NanoDetDetector(NanoDetConfig(threads=1))


@functools.cache
def frames() -> tuple[FrameSamples, ...]:
    """Decode the chosen frames once; people are found by NanoDet on a crop of the room's left half."""
    wanted = {t: name for name, times in (VISIT_TIMES | EMPTY_TIMES).items() for t in times}
    wanted |= {t + 2.0: name for name, times in VISIT_TIMES.items() for t in times}
    found = []
    with av.open(str(media_file("video/one-by-one-person-detection.mp4"))) as container:
        for frame in container.decode(video=0):
            at = round(float(frame.time or 0.0), 1)
            if at not in wanted:
                continue
            image = frame.to_ndarray(format="bgr24")
            people = tuple(d for d in detector().detect(image[:, 100:532], 0.3) if d.label == "person")
            shifted = tuple(
                Detection(d.label, d.score, (d.box[0] + 100, d.box[1], d.box[2] + 100, d.box[3])) for d in people
            )
            found.append(FrameSamples(wanted.pop(at), at, np.ascontiguousarray(image), shifted))
    return tuple(found)


@functools.cache
def labelled_items() -> tuple[LabelledItem, ...]:
    """Return person crops of the visits and empty-room crops, each under its donation, with real features."""
    items = []
    for sample in frames():
        if sample.donation.startswith("visit"):
            boxes = [(d, "person") for d in sample.detections]
        else:
            boxes = [(Detection("person", 0.4, box), "nothing") for box in EMPTY_BOXES]
        for index, (detection, label) in enumerate(boxes):
            items.append(
                LabelledItem(
                    sample_id=f"{sample.donation}/{sample.time:06.1f}/{index}",
                    donation_id=sample.donation,
                    consent_id=f"consent-{sample.donation}",
                    home_id="home-1" if sample.time < 50 else "home-2",
                    label=label,
                    label_source="test:hand-checked interval",
                    features=feature_row(detector(), sample.image, detection),
                )
            )
    return tuple(items)
