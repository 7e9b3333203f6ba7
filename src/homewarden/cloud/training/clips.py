"""Read a donated copy in memory: the person detections NanoDet makes in it, and the features of reviewers' boxes.

The copy is opened with the program key in the worker's memory (as the watermark worker does) and decoded with PyAV
from bytes; nothing of it is written to disk. Frames are sampled at ``SAMPLE_FPS``; NanoDet looks at each in square
tiles as tall as the frame (on the whole of a wide frame it misses people, docs/detection.md), and every person
detection is kept with the verifier's features, computed exactly as the hub computes them. The hub runs NanoDet on
motion crops instead, so the cloud sees a person at other scales than the hub would: measured by the evaluation.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

import av
import numpy as np

from homewarden.cloud.training.features import feature_row
from homewarden.cloud.training.labels import ClipBox, SeenDetection
from homewarden.detect.base import Detection, Image, box_iou
from homewarden.detect.verifier import CropScorer

SAMPLE_FPS = 2.0
MIN_PERSON_SCORE = 0.3
# A long clip gives at most this many person detections (spread evenly over it), so one clip cannot outweigh others.
MAX_DETECTIONS = 60
# Two detections of one person in overlapping tiles: the second is dropped when they overlap this much.
SAME_OBJECT_IOU = 0.5


class ClipReadError(ValueError):
    """A donated copy that cannot be decoded; the message says why in one line."""


class PersonDetector(CropScorer, Protocol):
    """What the reading needs of NanoDet: detections in an image, and its class scores of a crop."""

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Return the objects in a BGR image scoring at least ``min_score``."""
        ...


@dataclass
class ClipReading:
    """What a donated copy showed: person detections with features, and each requested box's features."""

    detections: list[SeenDetection] = field(default_factory=list)
    box_features: list[tuple[float, ...] | None] = field(default_factory=list)
    frames: int = 0


def tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Return square tiles as tall as the frame covering its width (one tile for a frame taller than wide)."""
    side = min(width, height)
    count = max(1, -(-width // side)) if width > height else max(1, -(-height // side))
    spans = []
    for index in range(count):
        if width > height:
            left = 0 if count == 1 else round(index * (width - side) / (count - 1))
            spans.append((left, 0, left + side, side))
        else:
            top = 0 if count == 1 else round(index * (height - side) / (count - 1))
            spans.append((0, top, side, top + side))
    return spans


def people_in(detector: PersonDetector, image: Image) -> list[Detection]:
    """Return the person detections in a frame, tile by tile, boxes in the frame's pixels."""
    height, width = image.shape[:2]
    found: list[Detection] = []
    for left, top, right, bottom in tiles(width, height):
        for detection in detector.detect(image[top:bottom, left:right], MIN_PERSON_SCORE):
            if detection.label != "person":
                continue
            x1, y1, x2, y2 = detection.box
            moved = Detection("person", detection.score, (x1 + left, y1 + top, x2 + left, y2 + top))
            if all(box_iou(moved.box, other.box) < SAME_OBJECT_IOU for other in found):
                found.append(moved)
    return found


def read_clip(mp4: bytes, detector: PersonDetector, boxes: Sequence[ClipBox] = ()) -> ClipReading:
    """Decode a copy from memory; return its person detections and the features of each box at its time."""
    reading = ClipReading(box_features=[None] * len(boxes))
    nearest: list[float] = [float("inf")] * len(boxes)
    seen: list[SeenDetection] = []
    next_at = 0.0
    try:
        with av.open(io.BytesIO(mp4), mode="r") as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                at = float(frame.time or 0.0)
                if at + 1e-6 < next_at:
                    continue
                next_at = at + 1.0 / SAMPLE_FPS
                image = cast(Image, frame.to_ndarray(format="bgr24"))
                reading.frames += 1
                for detection in people_in(detector, image):
                    seen.append(SeenDetection(at, detection, feature_row(detector, image, detection)))
                _box_features(detector, image, at, boxes, nearest, reading.box_features)
    except (av.error.FFmpegError, IndexError) as error:
        raise ClipReadError(f"the donated copy cannot be decoded ({error})") from None
    if len(seen) > MAX_DETECTIONS:
        picks = np.linspace(0, len(seen) - 1, MAX_DETECTIONS).round().astype(int)
        seen = [seen[int(index)] for index in picks]
    reading.detections = seen
    return reading


def _box_features(
    detector: PersonDetector,
    image: Image,
    at: float,
    boxes: Sequence[ClipBox],
    nearest: list[float],
    into: list[tuple[float, ...] | None],
) -> None:
    """Compute each box's features on the sampled frame nearest its time (a box is seen as a person detection)."""
    height, width = image.shape[:2]
    for index, box in enumerate(boxes):
        distance = abs(box.time - at)
        if distance >= nearest[index]:
            continue
        nearest[index] = distance
        pixels = (box.x1 * width, box.y1 * height, box.x2 * width, box.y2 * height)
        # The geometry's score: NanoDet's best person detection on the box, as the hub would have had it.
        score = max(
            (d.score for d in people_in(detector, image) if box_iou(d.box, pixels) >= SAME_OBJECT_IOU), default=0.5
        )
        into[index] = feature_row(detector, image, Detection("person", score, pixels))
