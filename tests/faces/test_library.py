"""The enrolled household in the database: kept apart from events, deleted whole with the member."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, inspect, text

from homewarden.errors import UserError
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import enrolment_face
from homewarden.faces.library import FaceLibrary
from homewarden.store.gallery_key import GalleryKeyFile


def enrol_folder(library: FaceLibrary, finder: FaceFinder, folder: Path) -> int:
    faces = [(photo.name, enrolment_face(finder, photo).embedding) for photo in sorted(folder.glob("*.jpg"))]
    return library.enroll(folder.name, faces)


def row_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"select count(*) from {table}")).scalar_one()
                for table in ("face_member", "face_embedding", "event")
            }
    finally:
        engine.dispose()


def test_enrol_list_and_match(
    database_url: str, gallery_key: GalleryKeyFile, faces_folder: Path, finder: FaceFinder
) -> None:
    with FaceLibrary.open(database_url, gallery_key) as library:
        assert enrol_folder(library, finder, faces_folder / "enroll" / "obama") == 2
        assert enrol_folder(library, finder, faces_folder / "enroll" / "rose_leslie") == 2
        members = library.members()
        gallery = library.gallery(0.55)

    assert [(m.name, m.photos) for m in members] == [
        ("obama", ("obama.jpg", "obama2.jpg")),
        ("rose_leslie", ("img1.jpg", "img2.jpg")),
    ]
    assert all(member.enrolled_at.tzinfo is not None for member in members)
    probe = enrolment_face(finder, faces_folder / "probe" / "obama1.jpg")
    assert gallery.match(probe.embedding).name == "obama"
    assert gallery.members["obama"].shape == (2, 128)


def test_enrolling_more_photos_adds_to_the_member(
    database_url: str, gallery_key: GalleryKeyFile, faces_folder: Path, finder: FaceFinder
) -> None:
    photo = faces_folder / "enroll" / "biden" / "biden.jpg"
    embedding = enrolment_face(finder, photo).embedding
    with FaceLibrary.open(database_url, gallery_key) as library:
        assert library.enroll("biden", [(photo.name, embedding)]) == 1
        assert library.enroll(" biden ", [(photo.name, embedding)]) == 2
        stored = library.gallery(0.55).members["biden"]

    np.testing.assert_array_equal(stored[0], embedding)


def test_remove_deletes_the_member_and_every_embedding(
    database_url: str, gallery_key: GalleryKeyFile, faces_folder: Path, finder: FaceFinder
) -> None:
    with FaceLibrary.open(database_url, gallery_key) as library:
        enrol_folder(library, finder, faces_folder / "enroll" / "obama")
        enrol_folder(library, finder, faces_folder / "enroll" / "biden")
        assert row_counts(database_url) == {"face_member": 2, "face_embedding": 4, "event": 0}

        assert library.remove("obama") == 2
        assert library.remove("obama") is None

        assert [member.name for member in library.members()] == ["biden"]
        assert set(library.gallery(0.55).members) == {"biden"}
    assert row_counts(database_url) == {"face_member": 1, "face_embedding": 2, "event": 0}


def test_the_database_itself_deletes_embeddings_with_their_member(
    database_url: str, gallery_key: GalleryKeyFile, faces_folder: Path, finder: FaceFinder
) -> None:
    """ON DELETE CASCADE: even a member deleted behind the library's back leaves no embedding."""
    with FaceLibrary.open(database_url, gallery_key) as library:
        enrol_folder(library, finder, faces_folder / "enroll" / "rose_leslie")
        engine = library._engine
        with engine.begin() as connection:
            connection.execute(text("delete from face_member"))
    assert row_counts(database_url)["face_embedding"] == 0


def test_face_tables_stand_apart_from_the_event_tables(database_url: str, gallery_key: GalleryKeyFile) -> None:
    FaceLibrary.open(database_url, gallery_key).close()
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        for table in ("face_member", "face_embedding"):
            referred = {key["referred_table"] for key in inspector.get_foreign_keys(table)}
            assert referred <= {"face_member"}
        for table in ("event", "clip"):
            referred = {key["referred_table"] for key in inspector.get_foreign_keys(table)}
            assert not referred & {"face_member", "face_embedding"}
        columns = {column["name"] for column in inspector.get_columns("face_embedding")}
    finally:
        engine.dispose()
    # What is kept of a photo: its file name and the encrypted embedding, never the picture or a crop.
    assert columns == {"id", "member_id", "model", "key_id", "nonce", "ciphertext", "photo", "created_at"}


def test_enrolment_refuses_a_bad_name(database_url: str, gallery_key: GalleryKeyFile) -> None:
    with FaceLibrary.open(database_url, gallery_key) as library, pytest.raises(UserError, match="reserved"):
        library.enroll("unknown", [])


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot open the face library"):
        FaceLibrary.open(f"sqlite:///{blocker / 'sub' / 'x.db'}", GalleryKeyFile.in_folder(tmp_path))
