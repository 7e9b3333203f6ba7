"""Recognition on the real photos in tests/data: members are named, strangers unknown, enrolment refuses bad photos."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from faces.conftest import MEMBERS, PROBES
from homewarden.errors import UserError
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import (
    DEFAULT_MATCH_THRESHOLD,
    EnrolmentError,
    Gallery,
    check_member_name,
    enrolment_face,
    member_photos,
    read_photo,
)


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_every_probe_face_gets_the_right_answer(
    probe: str, faces_folder: Path, finder: FaceFinder, household: Gallery
) -> None:
    faces = finder.in_photo(read_photo(faces_folder / "probe" / probe))

    names = sorted(household.match(face.embedding).label for face in faces)

    assert names == PROBES[probe]


def test_the_stranger_in_the_group_photo_is_the_child_lower_right(
    faces_folder: Path, finder: FaceFinder, household: Gallery
) -> None:
    faces = finder.in_photo(read_photo(faces_folder / "probe" / "obama_and_biden.jpg"))
    lowest_right = max(faces, key=lambda face: face.box[0] + face.box[1])

    assert household.match(lowest_right.embedding).name is None


def test_threshold_sits_in_the_measured_gap(faces_folder: Path, finder: FaceFinder, household: Gallery) -> None:
    """Members' probes lie 0.34-0.44 from their own photos and strangers 0.71+ from everyone (docs/faces.md)."""
    same, strangers = [], []
    for probe in PROBES:
        for face in finder.in_photo(read_photo(faces_folder / "probe" / probe)):
            match = household.match(face.embedding)
            (same if match.name else strangers).append(match.distance)
    assert len(same) == 5
    assert len(strangers) == 3
    assert max(same) < 0.47 < DEFAULT_MATCH_THRESHOLD < 0.68 < min(strangers)


def test_members_are_far_from_each_other(household: Gallery) -> None:
    for first, second in itertools.combinations(MEMBERS, 2):
        a, b = household.members[first], household.members[second]
        nearest = min(float(np.linalg.norm(x - y)) for x in a for y in b)
        assert nearest > 0.7, (first, second, nearest)


def test_an_empty_gallery_knows_nobody(faces_folder: Path, finder: FaceFinder) -> None:
    face = finder.in_photo(read_photo(faces_folder / "probe" / "obama1.jpg"))[0]

    match = Gallery({}).match(face.embedding)

    assert (match.name, match.label, match.nearest) == (None, "unknown", None)


def test_enrolment_refuses_a_photo_without_a_face(tmp_path: Path, finder: FaceFinder) -> None:
    photo = tmp_path / "coffee.jpg"
    cv2.imwrite(str(photo), data.coffee()[:, :, ::-1])  # scikit-image's photo of a cup of coffee

    with pytest.raises(EnrolmentError, match=r"coffee\.jpg: no face found"):
        enrolment_face(finder, photo)


def test_enrolment_refuses_a_photo_with_several_faces(faces_folder: Path, finder: FaceFinder) -> None:
    with pytest.raises(EnrolmentError, match=r"obama_and_biden\.jpg: 3 faces found"):
        enrolment_face(finder, faces_folder / "probe" / "obama_and_biden.jpg")


def test_enrolment_refuses_a_face_too_small(tmp_path: Path, faces_folder: Path, finder: FaceFinder) -> None:
    small = tmp_path / "small.jpg"
    photo = cv2.imread(str(faces_folder / "enroll" / "obama" / "obama.jpg"))
    cv2.imwrite(str(small), cv2.resize(photo, None, fx=0.17, fy=0.17, interpolation=cv2.INTER_AREA))

    with pytest.raises(EnrolmentError, match=r"small\.jpg: the face is only \d+ px wide"):
        enrolment_face(finder, small)


def test_enrolment_refuses_what_is_not_a_photo(tmp_path: Path, finder: FaceFinder) -> None:
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")

    with pytest.raises(EnrolmentError, match=r"notes\.jpg: not a photo"):
        enrolment_face(finder, notes)
    with pytest.raises(EnrolmentError, match=r"missing\.jpg: cannot read"):
        enrolment_face(finder, tmp_path / "missing.jpg")


@pytest.mark.parametrize("name", ["", "  ", "unknown", "Unknown", "-dash", "a/b", "x" * 65])
def test_member_names_that_cannot_be(name: str) -> None:
    with pytest.raises(UserError):
        check_member_name(name)


@pytest.mark.parametrize("name", ["obama", "Rose Leslie", "alex_lacamoire", "Zoë", "O'Brien", "kid-2"])
def test_member_names_that_can_be(name: str) -> None:
    assert check_member_name(f" {name} ") == name


def test_hidden_files_and_folders_are_neither_photos_nor_members(tmp_path: Path, faces_folder: Path) -> None:
    """A folder copied from a Mac or a NAS carries `._` copies and hidden folders: they are not the household."""
    obama = tmp_path / "obama"
    obama.mkdir()
    photo = faces_folder / "enroll" / "obama" / "obama.jpg"
    (obama / "obama.jpg").write_bytes(photo.read_bytes())
    (obama / "._obama.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / ".thumbnails").mkdir()
    (tmp_path / ".thumbnails" / "obama.jpg").write_bytes(photo.read_bytes())

    assert member_photos(tmp_path) == {"obama": [obama / "obama.jpg"]}
