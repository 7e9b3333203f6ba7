"""Merging motion into regions and cutting crops."""

from __future__ import annotations

from homewarden.camera.regions import (
    FINE_MIN_SIDE,
    FINE_TILE_SIDE,
    MIN_CROP_SIDE,
    Crop,
    crop_for,
    cut_by_crop,
    merge_boxes,
    plan_crops,
    plan_detection,
)


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


def test_small_motion_is_cut_from_the_full_resolution_frame_at_the_fine_side() -> None:
    # A 1920x1080 camera analysed at 1280x720: a walker 40 px tall at detect size is 60 px in the camera's frame.
    crops = plan_detection([(600, 300, 616, 340)], (1280, 720), (1920, 1080))
    assert len(crops) == 1
    crop = crops[0]
    assert crop.full
    x1, y1, x2, y2 = crop.box
    assert (x2 - x1, y2 - y1) == (FINE_MIN_SIDE, FINE_MIN_SIDE)
    # Centred on the motion, in full-resolution pixels.
    assert (x1 + x2) / 2 == 608 * 1.5
    assert (y1 + y2) / 2 == 320 * 1.5


def test_large_motion_keeps_its_detect_frame_crop() -> None:
    crops = plan_detection([(300, 50, 400, 400)], (768, 432), (1920, 1080))
    assert crops == [Crop(crop_for((300, 50, 400, 400), (768, 432)))]


def test_small_motion_large_at_full_resolution_is_cut_into_tiles() -> None:
    # A 4K camera analysed at 640x360: 120 px of motion there is 720 px in the camera's frame.
    region = (200, 100, 260, 220)
    crops = plan_detection([region], (640, 360), (3840, 2160))
    assert len(crops) == 4
    assert all(crop.full and crop.box[2] - crop.box[0] == FINE_TILE_SIDE for crop in crops)
    full_region = tuple(value * 6 for value in region)
    covered = (
        min(c.box[0] for c in crops),
        min(c.box[1] for c in crops),
        max(c.box[2] for c in crops),
        max(c.box[3] for c in crops),
    )
    assert covered[0] <= full_region[0]
    assert covered[1] <= full_region[1]
    assert covered[2] >= full_region[2]
    assert covered[3] >= full_region[3]


def test_fine_crops_of_one_walker_become_one() -> None:
    crops = plan_detection([(600, 300, 610, 330), (604, 336, 614, 360)], (1280, 720), (1920, 1080))
    assert len(crops) == 1
    assert crops[0].full


def test_many_small_movers_cost_no_more_calls_than_detect_frame_crops() -> None:
    # Five fish 100 px apart on a 1280x720 camera analysed at 640x360: five fine crops, 240 px of the camera's
    # frame each, where the 240 px crops of the detect frame merge into fewer.
    fish = [(100 + 100 * i, 200, 110 + 100 * i, 206) for i in range(5)]
    before = plan_crops(fish, (640, 360))
    assert len(before) < 5
    assert plan_detection(fish, (640, 360), (1280, 720)) == [Crop(box) for box in before]


def test_a_camera_analysed_at_its_own_size_keeps_the_detect_frame_crops() -> None:
    regions = [(600, 300, 616, 340), (100, 100, 400, 400)]
    assert plan_detection(regions, (1280, 720), (1280, 720)) == [Crop(box) for box in plan_crops(regions, (1280, 720))]


def test_crops_that_merge_are_cut_around_their_regions_not_around_the_crops() -> None:
    # Two distant people 9x25 px, 100 px apart: their 240 px crops overlap, and one 240 px crop holds both. Cut around
    # the union of the two crops it was 402x360 px, and a 9x25 px person in it shrank out of the detector's reach.
    crops = plan_crops([(272, 124, 281, 149), (172, 21, 190, 49)], (640, 360))

    assert len(crops) == 1
    x1, y1, x2, y2 = crops[0]
    assert (x2 - x1, y2 - y1) == (MIN_CROP_SIDE, MIN_CROP_SIDE)
    assert x1 <= 172
    assert y1 <= 21
    assert x2 >= 281
    assert y2 >= 149


# The one-by-one clip at 24.3 s (docs/benchmarks.md crop16): the second visitor, confirmed with the box below, and the
# motion of that frame left once the motion centred on the visitor is set aside.
VISITOR = (314.0, 91.0, 500.0, 432.0)
MOTION_BESIDE_VISITOR = [
    (550.0, 386.0, 706.0, 422.0),
    (211.0, 372.0, 355.0, 418.0),
    (629.0, 334.0, 746.0, 386.0),
    (547.0, 329.0, 612.0, 372.0),
    (142.0, 329.0, 168.0, 355.0),
    (175.0, 312.0, 293.0, 377.0),
    (554.0, 166.0, 583.0, 197.0),
    (574.0, 106.0, 600.0, 132.0),
    (574.0, 36.0, 600.0, 65.0),
]


def cuts(crop: tuple[int, int, int, int], box: tuple[float, float, float, float]) -> bool:
    """Tell whether a crop takes in part of a box but not all of it."""
    overlap = crop[0] < box[2] and box[0] < crop[2] and crop[1] < box[3] and box[1] < crop[3]
    inside = crop[0] <= box[0] and crop[1] <= box[1] and crop[2] >= box[2] and crop[3] >= box[3]
    return overlap and not inside


def test_a_crop_that_takes_in_part_of_a_known_person_takes_in_all_of_them() -> None:
    # Cut at its edge, the visitor's half was scored `person` 0.5 and replaced their box.
    assert any(cuts(crop, VISITOR) for crop in plan_crops(MOTION_BESIDE_VISITOR, (768, 432)))

    crops = plan_crops(MOTION_BESIDE_VISITOR, (768, 432), whole=[VISITOR])

    assert crops
    assert not any(cuts(crop, VISITOR) for crop in crops)
    for region in MOTION_BESIDE_VISITOR:
        assert any(crop[0] <= region[0] and crop[1] <= region[1] and crop[2] >= region[2] for crop in crops)


def test_crops_away_from_the_known_people_are_cut_as_before() -> None:
    far = [(600.0, 40.0, 640.0, 120.0)]
    assert plan_crops(far, (768, 432), whole=[(20.0, 100.0, 200.0, 432.0)]) == plan_crops(far, (768, 432))


def test_a_small_mover_beside_someone_near_the_camera_keeps_its_small_crop() -> None:
    # Taking in the whole near person would make the distant mover's crop more than twice its side, and the mover would
    # shrink out of the detector's reach: the crop stays as it was, cut person and all.
    mover = [(600.0, 300.0, 620.0, 340.0)]
    near = (500.0, 0.0, 700.0, 720.0)

    crops = plan_crops(mover, (1280, 720), whole=[near])

    assert crops == plan_crops(mover, (1280, 720))
    assert crops[0][2] - crops[0][0] == MIN_CROP_SIDE


def test_people_side_by_side_each_in_a_crop_of_their_own_keep_their_crops() -> None:
    # The head-pose clip at 2.33 s: each person's crop cuts the other's edge, and each is taken in whole by their own.
    # Grown to take in both, the one crop was the whole picture, where the detector scored the woman 0.23 and lost her.
    woman, man = (250.0, 41.0, 443.0, 268.0), (43.0, 60.0, 215.0, 270.0)

    assert plan_crops([woman, man], (480, 270), whole=[woman, man]) == plan_crops([woman, man], (480, 270))


def test_a_box_touching_an_inner_edge_of_its_crop_is_cut() -> None:
    # The one-by-one clip's fifth visitor, cut at the waist by the bottom of a 240 px crop: a box ending at 239.
    crop = (340, 0, 580, 240)
    assert cut_by_crop((37, 14, 185, 239), crop, (768, 432))
    # The same box clear of the crop's edges, and a box on the crop's top edge, which is the picture's own.
    assert not cut_by_crop((37, 14, 185, 200), crop, (768, 432))
    assert not cut_by_crop((37, 0, 185, 200), crop, (768, 432))
    # Any inner edge: left, top, right.
    inner = (200, 100, 440, 340)
    assert cut_by_crop((1, 50, 100, 200), inner, (768, 432))
    assert cut_by_crop((50, 2, 100, 200), inner, (768, 432))
    assert cut_by_crop((50, 50, 239, 200), inner, (768, 432))


def test_a_box_on_an_edge_of_the_picture_is_not_cut_by_its_crop() -> None:
    # A sweep tile the height of the picture: its top and bottom are the picture's, its right edge is not.
    tile = (0, 0, 432, 432)
    assert not cut_by_crop((100, 0, 200, 432), tile, (768, 432))
    assert cut_by_crop((300, 0, 432, 432), tile, (768, 432))
