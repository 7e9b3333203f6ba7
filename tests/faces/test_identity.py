"""The vote over a person's frames: a name needs most of the identifiable faces."""

from __future__ import annotations

import numpy as np
import pytest

from homewarden.faces.finder import FoundFace
from homewarden.faces.gallery import FaceMatch
from homewarden.faces.identity import FaceSighting, TrackFaces

FACE = FoundFace((0, 0, 40, 40), 1.0, np.zeros(128, dtype=np.float32))


def track(*names: str | None, small: int = 0) -> TrackFaces:
    """Return a track whose frames matched these names (None: unknown), plus faces too small to identify."""
    faces = TrackFaces()
    for index, name in enumerate(names):
        faces.sightings.append(FaceSighting(float(index), FACE, FaceMatch(name, name or "obama", 0.4 if name else 0.8)))
    for index in range(small):
        faces.sightings.append(FaceSighting(100.0 + index, FACE, None))
    return faces


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("obama",), "obama"),
        (("obama", "obama", None), "obama"),
        (("obama", None), "obama"),
        (("obama", None, None), "unknown"),
        ((None,), "unknown"),
        (("obama", "biden"), "unknown"),
        (("obama", "obama", "biden"), "obama"),
        (("obama", "biden", None, None), "unknown"),
    ],
)
def test_vote(names: tuple[str | None, ...], expected: str) -> None:
    assert track(*names).sub_label() == expected


def test_no_identifiable_face_is_no_sub_label() -> None:
    faces = track(small=3)

    assert faces.sub_label() is None
    assert faces.face_seen()
    assert not TrackFaces().face_seen()


def test_vote_up_to_a_time() -> None:
    faces = track(None, "obama", "obama")

    assert faces.sub_label(until=0.0) == "unknown"
    assert faces.sub_label() == "obama"
