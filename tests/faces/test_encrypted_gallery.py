"""Embeddings encrypted at rest with the gallery key: no plaintext in the database, tampering fails loudly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from sqlalchemy import create_engine, text

from homewarden.errors import UserError
from homewarden.faces.dlib_models import Embedding
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import enrolment_face, photos_in, vector_bytes
from homewarden.faces.library import FaceLibrary, TamperedEmbeddingError
from homewarden.store.database import migration_config
from homewarden.store.gallery_key import GalleryKeyFile

Faces = dict[str, list[tuple[str, Embedding]]]


@pytest.fixture(scope="module")
def faces(faces_folder: Path, finder: FaceFinder) -> Faces:
    """Return the enrolment photos' embeddings of two members."""
    return {
        name: [
            (photo.name, enrolment_face(finder, photo).embedding) for photo in photos_in(faces_folder / "enroll" / name)
        ]
        for name in ("obama", "biden")
    }


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'homewarden.db'}"


def database_files(tmp_path: Path) -> bytes:
    """Return the bytes of the SQLite database and any journal beside it."""
    return b"".join(path.read_bytes() for path in sorted((tmp_path / "data").glob("homewarden.db*")))


def plaintext_windows(embedding: Embedding) -> list[bytes]:
    """Return 16-byte pieces of an embedding's stored form, so even part of it would be found."""
    data = vector_bytes(embedding)
    return [data[offset : offset + 16] for offset in range(0, len(data), 32)]


def execute(database_url: str, statement: str, **parameters: object) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), parameters)
    finally:
        engine.dispose()


def test_the_database_file_holds_no_plaintext_embedding(
    tmp_path: Path, gallery_key: GalleryKeyFile, faces: Faces
) -> None:
    url = sqlite_url(tmp_path)
    with FaceLibrary.open(url, gallery_key) as library:
        for name, photos in faces.items():
            library.enroll(name, photos)
        decrypted = library.gallery(0.55)

    for name, photos in faces.items():
        np.testing.assert_array_equal(decrypted.members[name], np.stack([embedding for _, embedding in photos]))
    stored = database_files(tmp_path)
    windows = [
        window for photos in faces.values() for _, embedding in photos for window in plaintext_windows(embedding)
    ]
    assert len(windows) == 4 * 16
    assert not [window for window in windows if window in stored]
    # The key is beside the home key, readable by the hub's user only, and not in the database.
    assert gallery_key.path.stat().st_mode & 0o777 == 0o600
    assert gallery_key.sealed_path.stat().st_mode & 0o777 == 0o600
    assert gallery_key.load().raw not in stored

    # Control: the same search finds the embedding once it is written plain.
    execute(url, "create table control (data blob)")
    execute(url, "insert into control (data) values (:data)", data=vector_bytes(faces["obama"][0][1]))
    assert all(window in database_files(tmp_path) for window in plaintext_windows(faces["obama"][0][1]))


def flip_a_ciphertext_byte(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            stored = bytearray(
                connection.execute(text("select ciphertext from face_embedding where id = 2")).scalar_one()
            )
            stored[9] ^= 0x01
            connection.execute(text("update face_embedding set ciphertext = :c where id = 2"), {"c": bytes(stored)})
    finally:
        engine.dispose()


def swap_ciphertexts(first: int, second: int) -> str:
    return (
        "update face_embedding set (nonce, ciphertext) = "
        f"(select nonce, ciphertext from face_embedding where id = {second}) where id = {first}"
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(flip_a_ciphertext_byte, id="ciphertext"),
        pytest.param("update face_embedding set nonce = zeroblob(12) where id = 2", id="nonce"),
        pytest.param("update face_embedding set member_id = 1 where id = 3", id="row-moved-to-another-member"),
        pytest.param(swap_ciphertexts(1, 4), id="ciphertext-swapped-between-members"),
        pytest.param(swap_ciphertexts(1, 2), id="ciphertext-swapped-between-rows"),
        pytest.param("update face_member set name = 'biden2' where name = 'biden'", id="member-renamed"),
        pytest.param("update face_embedding set model = 'other' where id = 1", id="no-model-spoofing"),
    ],
)
def test_a_changed_row_stops_loading_the_gallery(
    tmp_path: Path,
    gallery_key: GalleryKeyFile,
    faces: Faces,
    change: str | Callable[[str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = sqlite_url(tmp_path)
    with FaceLibrary.open(url, gallery_key) as library:
        library.enroll("obama", faces["obama"])  # member 1, rows 1 and 2
        library.enroll("biden", faces["biden"])  # member 2, rows 3 and 4
        library.gallery(0.55)
        if callable(change):
            change(url)
        else:
            execute(url, change)

        if "model = 'other'" in str(change):
            # A row of another model is skipped, never matched: changing the model cannot swap in a face.
            assert library.gallery(0.55).members["obama"].shape == (1, 128)
            return
        with caplog.at_level(logging.WARNING), pytest.raises(TamperedEmbeddingError, match="failed authentication"):
            library.gallery(0.55)
    assert "failed authentication" in caplog.text


def test_enrolment_needs_the_home_key_and_writes_nothing_without_it(
    tmp_path: Path, faces: Faces, capsys: pytest.CaptureFixture[str]
) -> None:
    gallery_key = GalleryKeyFile.in_folder(tmp_path / "keys")
    url = sqlite_url(tmp_path)
    with (
        FaceLibrary.open(url, gallery_key, " --config x.yaml") as library,
        pytest.raises(UserError, match=r"no home key in .* run `homewarden keys init --config x.yaml` first"),
    ):
        library.enroll("obama", faces["obama"])
    assert not (tmp_path / "keys").exists()
    with FaceLibrary.open(url, gallery_key) as library:
        assert library.members() == []


def test_a_missing_gallery_key_is_not_replaced_while_rows_need_it(
    tmp_path: Path, gallery_key: GalleryKeyFile, faces: Faces
) -> None:
    url = sqlite_url(tmp_path)
    with FaceLibrary.open(url, gallery_key) as library:
        library.enroll("obama", faces["obama"])
        gallery_key.path.unlink()

        for action in (lambda: library.gallery(0.55), lambda: library.enroll("biden", faces["biden"])):
            with pytest.raises(UserError, match=r"gallery key .* is missing, but 2 face embedding"):
                action()
        assert not gallery_key.exists()
        assert [member.name for member in library.members()] == ["obama"]  # listing needs no key

        # Once every member is gone, enrolling again makes a new key.
        assert library.remove("obama") == 2
        assert library.enroll("biden", faces["biden"]) == 2
        assert set(library.gallery(0.55).members) == {"biden"}


def test_a_wrong_gallery_key_is_named(tmp_path: Path, gallery_key: GalleryKeyFile, faces: Faces) -> None:
    url = sqlite_url(tmp_path)
    with FaceLibrary.open(url, gallery_key) as library:
        library.enroll("obama", faces["obama"])
        old = gallery_key.load().key_id
        gallery_key.path.unlink()
        new = gallery_key.create()

        with pytest.raises(
            TamperedEmbeddingError, match=f"encrypted with gallery key {old}, but the hub holds {new.key_id}"
        ):
            library.gallery(0.55)


def test_the_upgrade_deletes_plaintext_embeddings_and_keeps_the_members(
    tmp_path: Path, gallery_key: GalleryKeyFile
) -> None:
    url = sqlite_url(tmp_path)
    (tmp_path / "data").mkdir()
    vector = np.random.default_rng(7).random(128, dtype=np.float32)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(migration_config(connection), "0002")
            connection.execute(text("insert into face_member (id, name) values (1, 'obama')"))
            connection.execute(
                text("insert into face_embedding (member_id, model, vector, photo) values (1, 'm', :v, 'a.jpg')"),
                {"v": vector_bytes(vector)},
            )
    finally:
        engine.dispose()
    assert all(window in database_files(tmp_path) for window in plaintext_windows(vector))

    with FaceLibrary.open(url, gallery_key) as library:
        members = library.members()

    assert [(member.name, member.photos) for member in members] == [("obama", ())]
    stored = database_files(tmp_path)
    assert not [window for window in plaintext_windows(vector) if window in stored]
