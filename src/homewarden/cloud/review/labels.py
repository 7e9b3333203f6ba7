"""A reviewer's labels of a copy: the verdict, the class and the boxes drawn on paused frames, checked and read back.

A box is a class and a rectangle on the frame shown at a moment of the clip: ``t`` in seconds from the clip's start,
corners ``x1 < x2`` and ``y1 < y2`` as fractions of the frame's width and height (0 at the left and top), so it does
not depend on the size the clip was played at. The classes are the verifier's (``homewarden.detect.verifier``), which
is what the training side learns from: ``labelled_copies`` is what it reads (verdict, class, boxes per copy).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from homewarden.cloud.models import ReviewDonation, ReviewLabel
from homewarden.errors import Refusal, RefusedError

# The verifier's classes, in its order (a test keeps the two the same); "animal" is any other animal, "nothing" a
# false alarm's empty frame.
CLASSES: tuple[str, ...] = ("person", "cat", "dog", "animal", "vehicle", "nothing")
VERDICTS = ("real_event", "false_alarm")
CAUSES = ("pet", "shadow_or_light", "insect", "weather", "vehicle", "other")
MAX_BOXES = 50
# A box narrower or lower than this (a click, not a drag) marks nothing.
MIN_SIDE = 0.005
# The clip's duration as the hub measured it may be a frame or two short of the last frame a player shows.
DURATION_SLACK_S = 0.5
MAX_CLIP_SECONDS = 3600.0
BOX_FIELDS = frozenset({"t", "x1", "y1", "x2", "y2", "label"})


class LabelsRefusedError(RefusedError):
    """Labels that cannot be stored; the message says which part and why."""


@dataclass(frozen=True)
class Labels:
    """A reviewer's verdict: a false alarm has a cause, a real event none; a class; boxes as fractions of the frame."""

    verdict: str
    cause: str | None
    label: str
    boxes: list[dict[str, Any]]


@dataclass(frozen=True)
class LabelledCopy:
    """A labelled copy as the training side reads it (no reviewer, no home's name: the opaque home id only)."""

    donation_id: str
    home_id: str
    verdict: str
    cause: str | None
    label: str
    boxes: list[dict[str, Any]]


def checked_labels(labels: Labels, duration_s: float | None) -> Labels:
    """Return the labels with their boxes in the stored form, or refuse them in one sentence."""
    if labels.verdict not in VERDICTS:
        raise LabelsRefusedError(f"the verdict is one of {', '.join(VERDICTS)}", Refusal.INVALID)
    if (labels.verdict == "false_alarm") != (labels.cause is not None) or (
        labels.cause is not None and labels.cause not in CAUSES
    ):
        raise LabelsRefusedError("a false alarm needs its cause, and a real event has none", Refusal.INVALID)
    if labels.label not in CLASSES:
        raise LabelsRefusedError(f"the class is one of {', '.join(CLASSES)}", Refusal.INVALID)
    if len(labels.boxes) > MAX_BOXES:
        raise LabelsRefusedError(f"at most {MAX_BOXES} boxes per clip", Refusal.INVALID)
    longest = MAX_CLIP_SECONDS if duration_s is None else duration_s + DURATION_SLACK_S
    boxes = [checked_box(number, box, longest) for number, box in enumerate(labels.boxes, start=1)]
    return Labels(verdict=labels.verdict, cause=labels.cause, label=labels.label, boxes=boxes)


def checked_box(number: int, box: dict[str, Any], longest_s: float) -> dict[str, Any]:
    """Return one box in the stored form, or refuse it naming it by its number."""
    if set(box) != BOX_FIELDS:
        raise LabelsRefusedError(f"box {number} has the fields {', '.join(sorted(BOX_FIELDS))}", Refusal.INVALID)
    if box["label"] not in CLASSES:
        raise LabelsRefusedError(f"box {number}: the class is one of {', '.join(CLASSES)}", Refusal.INVALID)
    values = {key: box[key] for key in ("t", "x1", "y1", "x2", "y2")}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values.values()):
        raise LabelsRefusedError(f"box {number}: its time and corners are numbers", Refusal.INVALID)
    t, x1, y1, x2, y2 = (float(values[key]) for key in ("t", "x1", "y1", "x2", "y2"))
    if not 0 <= t <= longest_s:
        raise LabelsRefusedError(f"box {number}: its time {t:g} s is outside the clip", Refusal.INVALID)
    if not all(0 <= v <= 1 for v in (x1, y1, x2, y2)):
        raise LabelsRefusedError(f"box {number}: its corners are fractions of the frame, from 0 to 1", Refusal.INVALID)
    if x2 - x1 < MIN_SIDE or y2 - y1 < MIN_SIDE:
        raise LabelsRefusedError(
            f"box {number}: its right and bottom edges come after its left and top ones (draw it by dragging)",
            Refusal.INVALID,
        )
    return {"t": t, "x1": x1, "y1": y1, "x2": x2, "y2": y2, "label": box["label"]}


def labelled_copies(session: Session, donation_ids: Collection[str] | None = None) -> list[LabelledCopy]:
    """Return the labels of copies still held (withdrawn ones have none left), oldest label first."""
    query = (
        select(ReviewLabel, ReviewDonation.home_id)
        .join(ReviewDonation, ReviewDonation.donation_id == ReviewLabel.donation_id)
        .order_by(ReviewLabel.id)
    )
    if donation_ids is not None:
        query = query.where(ReviewLabel.donation_id.in_(list(donation_ids)))
    return [
        LabelledCopy(
            donation_id=row.donation_id,
            home_id=home_id,
            verdict=row.verdict,
            cause=row.cause,
            label=row.label,
            boxes=list(row.boxes),
        )
        for row, home_id in session.execute(query)
    ]
