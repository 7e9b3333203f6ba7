"""A person track keeps its few best head regions for face lookup."""

from __future__ import annotations

import numpy as np

from homewarden.detect.base import Detection
from homewarden.events.lifecycle import MAX_PERSON_VIEWS, TrackedObject, keep_person_view

FRAME = np.zeros((432, 768, 3), dtype=np.uint8)


def person(score: float, box: tuple[float, float, float, float] = (300, 40, 400, 340)) -> Detection:
    return Detection(label="person", score=score, box=box)


def test_keeps_the_best_few_spread_over_the_track() -> None:
    obj = TrackedObject(id="p", first_seen=0.0, last_seen=0.0, box=(300, 40, 400, 340))
    scores = [0.5, 0.9, 0.6, 0.7, 0.55, 0.8, 0.65, 0.95, 0.4, 0.75]
    for index, score in enumerate(scores):
        keep_person_view(obj, float(index), person(score), FRAME)

    kept = sorted((view.time, view.score) for view in obj.person_views)
    assert len(kept) == MAX_PERSON_VIEWS
    assert [score for _, score in kept] == [0.9, 0.7, 0.8, 0.65, 0.95, 0.75]


def test_one_view_per_half_second_the_better_one() -> None:
    obj = TrackedObject(id="p", first_seen=0.0, last_seen=0.0, box=(300, 40, 400, 340))
    keep_person_view(obj, 1.0, person(0.6), FRAME)
    keep_person_view(obj, 1.2, person(0.5), FRAME)
    keep_person_view(obj, 1.4, person(0.8), FRAME)

    assert [(view.time, view.score) for view in obj.person_views] == [(1.4, 0.8)]


def test_the_view_is_a_copy_of_the_head_region() -> None:
    frame = FRAME.copy()
    frame[40:100, 330:370] = 200  # the head
    obj = TrackedObject(id="p", first_seen=0.0, last_seen=0.0, box=(300, 40, 400, 340))
    keep_person_view(obj, 0.0, person(0.9), frame)
    frame[:] = 0

    view = obj.person_views[0]
    x, y = view.origin
    height, width = view.crop.shape[:2]
    # Down 45 % of the box's height (135 px, more than 1.2 widths), 15 % wider each side, 10 % above the head.
    assert (x, y, x + width, y + height) == (285, 26, 415, 175)
    assert view.crop[40 - y : 100 - y, 330 - x : 370 - x].min() == 200
