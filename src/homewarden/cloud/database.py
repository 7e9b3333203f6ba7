"""The cloud's database: opening it, migrating it, and the session every other module works in."""

from __future__ import annotations

import fcntl
import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, CursorResult, Result, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from homewarden.errors import UserError
from homewarden.store.migration_lock import migrating

MIGRATIONS_FOLDER = Path(__file__).with_name("migrations")
# The cloud's revisions are its own line; a table of its own keeps them apart should one database hold both.
VERSION_TABLE = "cloud_alembic_version"
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
# An API process runs at most 40 requests at once (AnyIO's thread pool); SQLAlchemy's default pool (5 + 10) made a
# burst of reviewers wait for a connection. 20 kept, 20 more for a burst: 40 at most per process (PostgreSQL's
# max_connections, 100 by default, bounds how many processes one database serves).
POSTGRES_POOL_SIZE = 20
POSTGRES_POOL_OVERFLOW = 20
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def migration_config(connection: Connection) -> Config:
    """Build the Alembic configuration that migrates the cloud database behind ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


class CloudDatabase:
    """The engine and session factory of the cloud's database."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine; use ``CloudDatabase.open`` instead."""
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str, *, migrate: bool = True) -> CloudDatabase:
        """Connect to ``database_url`` and (unless told not to) bring its schema up to date."""
        url = _parse_url(database_url)
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() == "sqlite":
            _create_sqlite_folder(url, shown)
        try:
            # pool_pre_ping: a worker that idled through a PostgreSQL restart must not fail its next task.
            engine = create_engine(url, connect_args=_connect_args(url), pool_pre_ping=True, **_pool_args(url))
        except (SQLAlchemyError, ImportError) as error:
            raise UserError(f"cannot use database {shown}: {one_line(error, url)}") from error
        if url.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _configure_sqlite_connection)
        database = cls(engine)
        if migrate:
            database.migrate()
        return database

    def migrate(self) -> None:
        """Apply every migration not yet applied."""
        try:
            with migrating(self.engine, "migrate") as connection:
                command.upgrade(migration_config(connection), "head")
        except (SQLAlchemyError, CommandError) as error:
            shown = self.engine.url.render_as_string(hide_password=True)
            raise UserError(f"cannot migrate database {shown}: {one_line(error, self.engine.url)}") from error

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session whose work is committed when the block ends, rolled back when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def held(self, name: str) -> Iterator[bool]:
        """Hold the named lock across processes for the block, or yield False at once when another holds it.

        PostgreSQL: a session-level advisory lock on a connection of its own (released by the server should this
        process die); SQLite: an exclusive ``flock`` on a file beside the database (a lock in this process for a
        database in memory).
        """
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1
            with self.engine.connect() as connection:
                got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
                connection.commit()
                try:
                    yield got
                finally:
                    if got:
                        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                        connection.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            lock = _MEMORY_LOCKS.setdefault(name, threading.Lock())
            got = lock.acquire(blocking=False)
            try:
                yield got
            finally:
                if got:
                    lock.release()
            return
        with Path(f"{database}.{name}.lock").open("a") as file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


_MEMORY_LOCKS: dict[str, threading.Lock] = {}


def rows_affected(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE changed (a DML result is a cursor result)."""
    return int(cast(CursorResult[Any], result).rowcount)


def one_line(error: Exception, url: URL) -> str:
    """Describe a database error on one line, without SQL text or the URL's password."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = " ".join(str(cause).split()) or type(cause).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def _parse_url(database_url: str) -> URL:
    """Parse ``database_url``, reporting a malformed one without revealing its password."""
    try:
        return make_url(database_url)
    except (SQLAlchemyError, ValueError) as error:
        shown = _URL_PASSWORD.sub(r"\1***@", database_url)
        raise UserError(f"invalid database URL {shown}: {error}") from error


def _create_sqlite_folder(url: URL, shown: str) -> None:
    """Create the folder of a SQLite file, so a trial can start in an empty folder."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the folder for database {shown}: {error}") from error


def _pool_args(url: URL) -> dict[str, Any]:
    """Size PostgreSQL's pool for the API's thread pool, so a burst of requests does not queue for connections."""
    if url.get_backend_name() != "postgresql":
        return {}
    return {"pool_size": POSTGRES_POOL_SIZE, "max_overflow": POSTGRES_POOL_OVERFLOW}


def _connect_args(url: URL) -> dict[str, Any]:
    """Keep connecting to ``url`` from hanging, and let SQLite wait for a writer instead of failing."""
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    if url.get_backend_name() == "sqlite":
        return {"timeout": 30}
    return {}


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Turn on foreign keys (off by default in SQLite) and WAL (the API reads while the worker writes)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()
