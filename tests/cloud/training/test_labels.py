"""A label row becomes labelled items: a clip-wide verdict labels every person detection, drawn boxes label
themselves, and a malformed box is refused naming the row and the box."""

from __future__ import annotations

import pytest

from homewarden.cloud.training.features import FEATURE_NAMES
from homewarden.cloud.training.labels import LabelRow, LabelRowError, SeenDetection, labelled_items, row_class
from homewarden.detect.base import Detection

FEATURES = (0.5,) * len(FEATURE_NAMES)


def row(verdict: str, cause: str | None, label: str, boxes: tuple[dict[str, object], ...] = ()) -> LabelRow:
    """Return a label row of donation d_1 in home h_1."""
    return LabelRow(7, "d_1", "h_1", "review-consent-v1", verdict, cause, label, boxes)


@pytest.mark.parametrize(
    ("verdict", "cause", "label", "expected"),
    [
        ("real_event", None, "person", "person"),
        ("real_event", None, "Car", "vehicle"),
        ("real_event", None, "parcel", None),
        ("false_alarm", "pet", "cat", "cat"),
        ("false_alarm", "pet", "person", "animal"),
        ("false_alarm", "shadow_or_light", "person", "nothing"),
        ("false_alarm", "vehicle", "person", "vehicle"),
        ("false_alarm", "other", "person", "nothing"),
        ("false_alarm", "other", "dog", "dog"),
    ],
)
def test_a_verdict_gives_the_clip_its_class(verdict: str, cause: str | None, label: str, expected: str | None) -> None:
    assert row_class(row(verdict, cause, label)) == expected


def test_a_row_without_boxes_labels_each_person_detection_with_its_provenance() -> None:
    seen = [SeenDetection(t, Detection("person", 0.6, (1, 2, 30, 90)), FEATURES) for t in (0.5, 1.0)]
    items = labelled_items(row("false_alarm", "pet", "dog"), seen, [])
    assert [(i.sample_id, i.label) for i in items] == [("d_1/7/d0000", "dog"), ("d_1/7/d0001", "dog")]
    assert {(i.donation_id, i.home_id, i.consent_id, i.label_source) for i in items} == {
        ("d_1", "h_1", "d_1:review-consent-v1", "label:7")
    }


def test_drawn_boxes_label_themselves_and_a_malformed_box_is_refused() -> None:
    boxes = (
        {"x1": 0.1, "y1": 0.2, "x2": 0.3, "y2": 0.9, "t": 1.5, "label": "cat"},
        {"x1": 0.5, "y1": 0.2, "x2": 0.7, "y2": 0.9, "t": 2.0},  # no label: the row's class word
        {"x1": 0.5, "y1": 0.2, "x2": 0.7, "y2": 0.9, "t": 9.0, "label": "cat"},  # past the clip's end: no frame
    )
    items = labelled_items(row("real_event", None, "person", boxes), [], [FEATURES, FEATURES, None])
    assert [(i.sample_id, i.label) for i in items] == [("d_1/7/b0000", "cat"), ("d_1/7/b0001", "person")]
    with pytest.raises(LabelRowError, match=r"label 7, box 0: corners must be fractions"):
        labelled_items(row("real_event", None, "person", ({"x1": 0.5, "y1": 0, "x2": 0.2, "y2": 1, "t": 0},)), [], [])
    with pytest.raises(LabelRowError, match=r"label 7, box 0: needs numbers"):
        labelled_items(row("real_event", None, "person", ({"x1": "left"},)), [], [])
