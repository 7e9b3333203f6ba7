"""A reviewer's labels on PostgreSQL: classes and boxes checked by the API and by the workbench, read back whole."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from sqlalchemy import func, select

from cloud.conftest import CloudUnderTest
from cloud.review.conftest import make_staff, queue_rows
from homewarden.cloud.api.review_workbench import ReviewClass
from homewarden.cloud.models import ReviewAssignment, ReviewLabel
from homewarden.cloud.review.labels import CLASSES, MAX_BOXES, Labels, LabelsRefusedError, labelled_copies
from homewarden.detect.verifier import CLASSES as VERIFIER_CLASSES

CAT = {"t": 0.5, "x1": 0.1, "y1": 0.2, "x2": 0.4, "y2": 0.6, "label": "cat"}


def test_the_classes_are_the_verifiers() -> None:
    assert CLASSES == VERIFIER_CLASSES
    assert get_args(ReviewClass) == CLASSES


def labels_rows(cloud: CloudUnderTest) -> int:
    """Return how many label rows the cloud holds."""
    with cloud.services.database.session() as session:
        return session.scalar(select(func.count()).select_from(ReviewLabel)) or 0


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"label": "ghost"}, "label"),
        ({"boxes": [{**CAT, "label": "unicorn"}]}, "boxes.0.label"),
        ({"boxes": [{**CAT, "x2": 1.5}]}, "boxes.0.x2"),
        ({"boxes": [{**CAT, "y1": -0.1}]}, "boxes.0.y1"),
        ({"boxes": [{**CAT, "t": -1}]}, "boxes.0.t"),
        ({"boxes": [{**CAT, "colour": "red"}]}, "boxes.0.colour"),
        ({"boxes": [CAT] * (MAX_BOXES + 1)}, "boxes"),
        # Past the API's schema, the workbench's own check: the box's time is inside this clip (2 s long).
        ({"boxes": [{**CAT, "t": 30.0}]}, "box 1: its time 30 s is outside the clip"),
        ({"boxes": [CAT, {**CAT, "x1": 0.4, "x2": 0.1}]}, "box 2: its right and bottom edges come after"),
    ],
)
def test_bad_labels_are_refused_in_a_sentence_and_nothing_is_stored(
    cloud: CloudUnderTest, change: dict[str, Any], said: str
) -> None:
    queue_rows(cloud.services.database, cloud.account().home_id, 1)
    reviewer = make_staff(cloud.services, cloud.client)
    assignment = reviewer.call("POST", "/api/v1/workbench/next").json()

    answer = reviewer.call(
        "POST",
        f"/api/v1/workbench/assignments/{assignment['id']}/labels",
        {"verdict": "real_event", "label": "cat", "boxes": [CAT], **change},
    )

    assert answer.status_code == 400, answer.text
    assert said in answer.json()["detail"]
    assert labels_rows(cloud) == 0
    # The assignment stays open: the reviewer corrects the boxes and saves again.
    assert reviewer.call("GET", "/api/v1/workbench").json()["assignment"]["id"] == assignment["id"]


def test_the_workbench_checks_labels_that_do_not_come_through_the_api(cloud: CloudUnderTest) -> None:
    queue_rows(cloud.services.database, cloud.account().home_id, 1)
    reviewer = make_staff(cloud.services, cloud.client)
    view = cloud.services.staff.staff_for_token(reviewer.token)
    assignment = cloud.services.workbench.next(view)

    for boxes, said in (
        ([{**CAT, "x1": float("nan")}], "box 1: its time and corners are numbers"),
        ([{**CAT, "x1": True}], "box 1: its time and corners are numbers"),
        ([{**CAT, "label": "ghost"}], "box 1: the class is one of person, cat, dog, animal, vehicle, nothing"),
        ([{"t": 0.5}], "box 1 has the fields"),
        ([CAT] * (MAX_BOXES + 1), f"at most {MAX_BOXES} boxes"),
    ):
        with pytest.raises(LabelsRefusedError, match=said):
            cloud.services.workbench.label(view, assignment.id, Labels("real_event", None, "cat", boxes))
    with pytest.raises(LabelsRefusedError, match="the class is one of"):
        cloud.services.workbench.label(view, assignment.id, Labels("real_event", None, "a cat", []))
    assert labels_rows(cloud) == 0


def test_stored_boxes_are_what_the_training_side_reads(cloud: CloudUnderTest) -> None:
    home_id = cloud.account().home_id
    queue_rows(cloud.services.database, home_id, 1)
    reviewer = make_staff(cloud.services, cloud.client)
    assignment = reviewer.call("POST", "/api/v1/workbench/next").json()
    dog = {"t": 1.25, "x1": 0.5, "y1": 0.5, "x2": 1, "y2": 1, "label": "dog"}

    saved = reviewer.call(
        "POST",
        f"/api/v1/workbench/assignments/{assignment['id']}/labels",
        {"verdict": "real_event", "label": "cat", "boxes": [CAT, dog]},
    )

    assert saved.status_code == 200, saved.text
    with cloud.services.database.session() as session:
        donation_id = session.scalar(
            select(ReviewAssignment.donation_id).where(ReviewAssignment.id == assignment["id"])
        )
        [copy] = labelled_copies(session)
        assert labelled_copies(session, ["d_not_there"]) == []
    assert (copy.donation_id, copy.home_id, copy.verdict, copy.cause, copy.label) == (
        donation_id,
        home_id,
        "real_event",
        None,
        "cat",
    )
    assert copy.boxes == [
        {"t": 0.5, "x1": 0.1, "y1": 0.2, "x2": 0.4, "y2": 0.6, "label": "cat"},
        {"t": 1.25, "x1": 0.5, "y1": 0.5, "x2": 1.0, "y2": 1.0, "label": "dog"},
    ]
