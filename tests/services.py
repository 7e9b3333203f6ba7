"""Real services the tests run against, started on demand."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=2"
POSTGRES_CONFIG_FOLDER = Path("/etc/postgresql")
POSTGRES_START_SECONDS = 30.0


def ensure_postgres() -> str:
    """Start the local PostgreSQL cluster unless it already accepts connections; return its base URL."""
    if _postgres_refusal() is None:
        return POSTGRES_URL
    versions = sorted(
        (folder.name for folder in POSTGRES_CONFIG_FOLDER.glob("*") if folder.name.replace(".", "").isdigit()),
        key=lambda name: tuple(int(part) for part in name.split(".")),
    )
    if not versions:
        pytest.fail(f"PostgreSQL is not installed: no cluster under {POSTGRES_CONFIG_FOLDER}", pytrace=False)
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    try:
        started = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"cannot start PostgreSQL with {' '.join(command)}: {error}", pytrace=False)
    if started.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited with {started.returncode}: {started.stderr.strip()}", pytrace=False)
    deadline = time.monotonic() + POSTGRES_START_SECONDS
    while (refusal := _postgres_refusal()) is not None:
        if time.monotonic() > deadline:
            pytest.fail(
                f"PostgreSQL started but refused connections for {POSTGRES_START_SECONDS:.0f} s: {refusal}",
                pytrace=False,
            )
        time.sleep(0.5)
    return POSTGRES_URL


def _postgres_refusal() -> str | None:
    """Return why the test database refuses a connection, or None when it accepts one."""
    try:
        with psycopg.connect(POSTGRES_CONNINFO):
            return None
    except psycopg.OperationalError as error:
        return " ".join(str(error).split())


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty, uniquely named database on the test server; drop it afterwards. Yields its URL."""
    base_url = make_url(ensure_postgres())
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
