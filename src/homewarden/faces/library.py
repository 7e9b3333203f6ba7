"""The enrolled household, kept in the hub's database in tables apart from the events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from alembic import command
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from homewarden.config.model import HomewardenConfig
from homewarden.errors import UserError
from homewarden.faces.dlib_models import EMBEDDING_MODEL, Embedding
from homewarden.faces.gallery import (
    Gallery,
    check_member_name,
    gallery_from_folder,
    vector_bytes,
    vector_from_bytes,
)
from homewarden.store.database import migration_config
from homewarden.store.face_models import FaceEmbedding, FaceMember


@dataclass(frozen=True)
class MemberSummary:
    """What `faces list` shows of a member: never the embeddings themselves."""

    name: str
    photos: tuple[str, ...]
    enrolled_at: datetime


class FaceLibrary:
    """Enrol, list and remove household members; hand out the gallery the pipeline matches against."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose database is already migrated; use ``FaceLibrary.open`` instead."""
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, database_url: str) -> FaceLibrary:
        """Connect to the hub's database and bring its schema up to date."""
        url = make_url(database_url)
        shown = url.render_as_string(hide_password=True)
        try:
            if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url)
            if url.get_backend_name() == "sqlite":
                event.listen(engine, "connect", _sqlite_foreign_keys)
            with engine.begin() as connection:
                command.upgrade(migration_config(connection), "head")
        except (SQLAlchemyError, OSError) as exc:
            raise UserError(f"cannot open the face library in {shown}: {_one_line(exc, url.password)}") from None
        return cls(engine)

    def enroll(self, name: str, faces: list[tuple[str, Embedding]]) -> int:
        """Add photos' embeddings to a member (created if new); return how many the member now has."""
        name = check_member_name(name)
        with self._session(f"enrol {name}") as session:
            member = session.scalar(select(FaceMember).where(FaceMember.name == name))
            if member is None:
                member = FaceMember(name=name)
                session.add(member)
            for photo, embedding in faces:
                member.embeddings.append(
                    FaceEmbedding(model=EMBEDDING_MODEL, vector=vector_bytes(embedding), photo=photo)
                )
            session.flush()
            return len(member.embeddings)

    def members(self) -> list[MemberSummary]:
        """Return every member, by name."""
        query = select(FaceMember).options(selectinload(FaceMember.embeddings)).order_by(FaceMember.name)
        with self._session("list members") as session:
            return [
                MemberSummary(
                    member.name,
                    tuple(e.photo for e in member.embeddings),
                    # SQLite hands back naive datetimes; they were written in UTC.
                    member.created_at if member.created_at.tzinfo else member.created_at.replace(tzinfo=UTC),
                )
                for member in session.scalars(query)
            ]

    def remove(self, name: str) -> int | None:
        """Delete a member and every embedding of theirs; return how many embeddings went, or None if unknown."""
        with self._session(f"remove {name}") as session:
            member = session.scalar(
                select(FaceMember).where(FaceMember.name == name.strip()).options(selectinload(FaceMember.embeddings))
            )
            if member is None:
                return None
            count = len(member.embeddings)
            session.delete(member)
            return count

    def gallery(self, threshold: float) -> Gallery:
        """Return every member's embeddings (from the current model only) as a gallery to match against."""
        query = select(FaceMember).options(selectinload(FaceMember.embeddings)).order_by(FaceMember.name)
        with self._session("read the household") as session:
            return Gallery(
                {
                    member.name: [vector_from_bytes(e.vector) for e in member.embeddings if e.model == EMBEDDING_MODEL]
                    for member in session.scalars(query)
                },
                threshold,
            )

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> FaceLibrary:
        """Use the library as a context manager that closes it on exit."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Close the library."""
        self.close()

    @contextmanager
    def _session(self, action: str) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise UserError(f"cannot {action}: {_one_line(exc, self._engine.url.password)}") from None


def household_gallery(config: HomewardenConfig) -> Gallery:
    """Return the gallery a run matches against: the one-run folder if configured, else the enrolled household."""
    threshold = config.faces.match_threshold
    if config.faces.gallery_folder is not None:
        return gallery_from_folder(config.faces.gallery_folder, threshold)
    url = make_url(config.storage.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).expanduser().exists():
        # Nobody was ever enrolled here; do not create a database just to find it empty.
        return Gallery({}, threshold)
    with FaceLibrary.open(str(config.storage.resolved_database_url())) as library:
        return library.gallery(threshold)


def _sqlite_foreign_keys(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Turn on foreign keys, off by default in SQLite, so embeddings cannot outlive their member."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _one_line(exc: Exception, password: str | object | None) -> str:
    """Describe a database error on one line, without SQL text or the URL's password."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
    return text.replace(str(password), "***") if password else text
