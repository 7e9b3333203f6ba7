"""Merging motion into regions and cutting crops."""

from __future__ import annotations

from homewarden.camera.regions import MIN_CROP_SIDE, crop_for, merge_boxes, plan_crops


def test_overlapping_boxes_merge_and_separate_ones_do_not() -> None:
    merged = merge_boxes([(0, 0, 10, 10), (15, 0, 30, 10), (200, 200, 210, 210)])
    assert sorted(merged) == [(0, 0, 30, 10), (200, 200, 210, 210)]


def test_a_small_region_gets_a_square_crop_of_the_minimum_side_inside_the_frame() -> None:
    x1, y1, x2, y2 = crop_for((5, 5, 25, 25), (768, 432))
    assert (x2 - x1, y2 - y1) == (MIN_CROP_SIDE, MIN_CROP_SIDE)
    assert (x1, y1) == (0, 0)


def test_a_tall_region_grows_by_a_fifth_but_never_beyond_the_frame() -> None:
    x1, y1, x2, y2 = crop_for((300, 50, 400, 400), (768, 432))
    assert x2 - x1 == 420
    assert y2 - y1 == 420
    assert y1 >= 0
    assert y2 <= 432
    x1, y1, x2, y2 = crop_for((0, 0, 768, 432), (768, 432))
    assert (x1, y1, x2, y2) == (0, 0, 768, 432)


def test_crops_covering_each_other_become_one() -> None:
    crops = plan_crops([(100, 100, 140, 200), (180, 100, 220, 200)], (768, 432))
    assert len(crops) == 1
