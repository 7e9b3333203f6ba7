"""Reviewers' labels as training samples: one function turns a label row into labelled items.

A label row is what the workbench stores (``review_labels``): a verdict, a false alarm's cause, a class, and boxes.
Today reviewers give a verdict and a class for the whole clip and no boxes: every person detection NanoDet makes in
the clip (what the verifier is asked about on the hub) becomes one item of the clip's class. When the workbench
lets reviewers draw boxes, each box is one item of its own class, at its own time. A box is a JSON object:

    {"x1": 0.12, "y1": 0.30, "x2": 0.25, "y2": 0.81, "t": 4.2, "label": "cat"}

x1, y1, x2, y2 are fractions of the frame's width and height (0 ≤ x1 < x2 ≤ 1, 0 ≤ y1 < y2 ≤ 1), ``t`` is the
clip time in seconds, ``label`` a class of the review (``person``, ``cat``, ``dog``, another animal, a vehicle, or
``nothing``); a box without a label takes the row's class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homewarden.cloud.training.dataset import LabelledItem
from homewarden.detect.base import Detection

VEHICLE_NAMES = frozenset({"vehicle", "car", "truck", "bus", "motorcycle", "bicycle", "van"})
ANIMAL_NAMES = frozenset({"animal", "pet", "bird", "horse", "sheep", "cow", "fox", "deer", "hedgehog"})
# A false alarm's cause says what was there when the class does not.
CAUSE_CLASSES: dict[str | None, str] = {
    "vehicle": "vehicle",
    "shadow_or_light": "nothing",
    "insect": "nothing",
    "weather": "nothing",
}


class LabelRowError(ValueError):
    """A label row that cannot become samples (a malformed box); the message names the row."""


@dataclass(frozen=True)
class LabelRow:
    """One reviewer's labels of one donated copy, with the donation's provenance."""

    label_id: int
    donation_id: str
    home_id: str
    consent: str
    verdict: str
    cause: str | None
    label: str
    boxes: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ClipBox:
    """A box a reviewer drew: where (fractions of the frame), when (clip seconds) and what."""

    x1: float
    y1: float
    x2: float
    y2: float
    time: float
    label: str


@dataclass(frozen=True)
class SeenDetection:
    """A person detection NanoDet made in a donated copy, with the verifier's features of it."""

    time: float
    detection: Detection
    features: tuple[float, ...]


def class_of(name: str) -> str | None:
    """Return the review class a reviewer's word names (None: not one the verifier learns)."""
    word = name.strip().lower()
    if word in ("person", "cat", "dog", "nothing"):
        return word
    if word in VEHICLE_NAMES:
        return "vehicle"
    if word in ANIMAL_NAMES:
        return "animal"
    return None


def row_class(row: LabelRow) -> str | None:
    """Return the class a row gives its whole clip: a real event's class, or what a false alarm's cause says."""
    if row.verdict == "real_event":
        return class_of(row.label)
    if row.cause == "pet":
        # "the alarm was a pet": the species when the reviewer named it, else an animal.
        named = class_of(row.label)
        return named if named in ("cat", "dog", "animal") else "animal"
    if row.cause in CAUSE_CLASSES:
        return CAUSE_CLASSES[row.cause]
    # Another cause: what the reviewer named, but never a person (the verdict says the alarm was false).
    named = class_of(row.label)
    return named if named not in (None, "person") else "nothing"


def boxes_of(row: LabelRow) -> list[ClipBox]:
    """Read a row's boxes, refusing a malformed one with the row and the box named."""
    boxes = []
    for index, raw in enumerate(row.boxes):
        try:
            x1, y1, x2, y2, time = (float(raw[name]) for name in ("x1", "y1", "x2", "y2", "t"))
            label = str(raw.get("label") or row.label)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise LabelRowError(f"label {row.label_id}, box {index}: needs numbers x1, y1, x2, y2 and t") from None
        if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0 and time >= 0.0):
            raise LabelRowError(f"label {row.label_id}, box {index}: corners must be fractions with x1 < x2, y1 < y2")
        boxes.append(ClipBox(x1, y1, x2, y2, time, label))
    return boxes


def labelled_items(
    row: LabelRow, detections: list[SeenDetection], box_features: list[tuple[float, ...] | None]
) -> list[LabelledItem]:
    """Turn one label row into labelled items: one per drawn box, or one per person detection of the clip.

    ``box_features`` holds the features of each of ``boxes_of(row)`` in order (None: the clip has no frame there).
    """
    source = f"label:{row.label_id}"

    def item(suffix: str, label: str, features: tuple[float, ...]) -> LabelledItem:
        return LabelledItem(
            sample_id=f"{row.donation_id}/{row.label_id}/{suffix}",
            donation_id=row.donation_id,
            consent_id=f"{row.donation_id}:{row.consent}",
            home_id=row.home_id,
            label=label,
            label_source=source,
            features=features,
        )

    boxes = boxes_of(row)
    if boxes:
        items = []
        for index, (box, features) in enumerate(zip(boxes, box_features, strict=True)):
            label = class_of(box.label)
            if label is not None and features is not None:
                items.append(item(f"b{index:04d}", label, features))
        return items
    label = row_class(row)
    if label is None:
        return []
    return [item(f"d{index:04d}", label, seen.features) for index, seen in enumerate(detections)]
