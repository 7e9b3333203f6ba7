"""Fixtures giving each store test an empty database on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from homewarden.store.database import EventStore
from services import ensure_postgres, fresh_postgres_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Return the URL of the running test server, starting it when needed."""
    return ensure_postgres()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a database no other test uses: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        # A folder that does not exist yet, to check the store creates it.
        yield f"sqlite:///{tmp_path / 'data' / 'events.db'}"
        return
    request.getfixturevalue("postgres_url")
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    """Return a store opened on the test's own database."""
    opened = EventStore.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def direct_engine(database_url: str) -> Iterator[Engine]:
    """Return an engine of its own on the test's database, to check rows without going through the store."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()
