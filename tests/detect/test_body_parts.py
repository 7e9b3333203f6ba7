"""NudeNet's body-part detector as verifier features: a face scores as a face, an empty room as no body at all."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from conftest import media_file
from homewarden.detect.body_parts import BODY_PART_GROUPS, body_part_scorer
from homewarden.detect.verifier import feature_crop
from verifier_samples import EMPTY_BOXES, frames

FACE = list(BODY_PART_GROUPS).index("face")


def test_faces_in_photos_score_as_faces() -> None:
    for name in ("faces/probe/obama1.jpg", "faces/probe/kit_with_rose.jpg", "faces/enroll/biden/biden.jpg"):
        image = cv2.imread(str(media_file(name)))
        scores = body_part_scorer().group_scores(image)
        assert scores.shape == (len(BODY_PART_GROUPS),)
        assert scores[FACE] > 0.5, (name, scores)


def test_the_empty_room_shows_no_body_part_where_people_stand() -> None:
    empty = [f for f in frames() if f.donation.startswith("empty")]
    assert empty
    for frame in empty:
        for box in EMPTY_BOXES:
            scores = body_part_scorer().group_scores(feature_crop(frame.image, box))
            assert np.all((scores >= 0) & (scores < 0.2)), (frame.time, box, scores)


def test_the_scorer_is_loaded_once_and_gives_the_same_scores_twice() -> None:
    image = cv2.imread(str(media_file("faces/probe/obama1.jpg")))
    assert body_part_scorer() is body_part_scorer()
    assert np.array_equal(body_part_scorer().group_scores(image), body_part_scorer().group_scores(image))


def test_cameras_scoring_at_once_get_what_each_would_get_alone() -> None:
    names = ("faces/probe/obama1.jpg", "faces/probe/kit_with_rose.jpg", "faces/enroll/biden/biden.jpg")
    images = [cv2.imread(str(media_file(name))) for name in names] * 4
    alone = [body_part_scorer().group_scores(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(body_part_scorer().group_scores, images))
    for one, other in zip(alone, together, strict=True):
        assert np.array_equal(one, other)
