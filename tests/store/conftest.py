"""Fixtures giving each store test an empty database on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from homewarden.store import EventStore
from services import ensure_postgres

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
    base_url = make_url(request.getfixturevalue("postgres_url"))
    name = f"homewarden_test_{uuid.uuid4().hex}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield base_url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


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
