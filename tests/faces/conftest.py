"""Fixtures for the face tests: the photos in tests/data/faces (enrolment set and probes) and the real dlib models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import media_file
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import Gallery, enrolment_face, photos_in
from homewarden.store.gallery_key import GalleryKeyFile
from homewarden.store.keys import Argon2Parameters, HomeKeyFile
from services import ensure_postgres, fresh_postgres_database

# What tests/data/README.md says each probe shows: the names of its faces, "unknown" for strangers.
PROBES = {
    "alex_lacamoire1.jpg": ["alex_lacamoire"],
    "obama1.jpg": ["obama"],
    "obama_and_biden.jpg": ["biden", "obama", "unknown"],
    "kit_with_rose.jpg": ["rose_leslie", "unknown"],
    "johnsnow_test1.jpg": ["unknown"],
}
MEMBERS = ["alex_lacamoire", "biden", "obama", "rose_leslie"]
# Cheap Argon2: these tests are about the gallery key, not the passphrase's cost.
FAST_ARGON2 = Argon2Parameters(time_cost=1, memory_cost_kib=64, parallelism=1)
KEY_PASSPHRASE = "a passphrase only face tests use"


@pytest.fixture(scope="session")
def faces_folder() -> Path:
    """Return tests/data/faces (enroll/<person>/*.jpg and probe/*.jpg)."""
    return media_file("faces/probe/obama1.jpg").parents[1]


@pytest.fixture(scope="session")
def finder() -> FaceFinder:
    """Return a face finder on the real dlib models."""
    return FaceFinder()


@pytest.fixture(scope="session")
def household(faces_folder: Path, finder: FaceFinder) -> Gallery:
    """Return a gallery with every person in enroll/ enrolled from all their photos."""
    members = {
        folder.name: [enrolment_face(finder, photo).embedding for photo in photos_in(folder)]
        for folder in sorted((faces_folder / "enroll").iterdir())
    }
    assert sorted(members) == MEMBERS
    return Gallery(members)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a database no other test uses: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'homewarden.db'}"
        return
    ensure_postgres()
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def gallery_key(tmp_path: Path) -> GalleryKeyFile:
    """Return the gallery key file of a key folder whose home key exists (the gallery key is made at enrolment)."""
    folder = tmp_path / "keys"
    HomeKeyFile.in_folder(folder).create(KEY_PASSPHRASE, FAST_ARGON2)
    return GalleryKeyFile.in_folder(folder)
