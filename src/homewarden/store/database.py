"""The event database: the one place that reads and writes stored events."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, case, create_engine, delete, event, func, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from homewarden.events.record import ClipRecord, EventRecord, IntrusionRecord
from homewarden.i18n import _
from homewarden.store.durable_files import PRIVATE_FILE, PRIVATE_FOLDER, make_private
from homewarden.store.errors import StoreError
from homewarden.store.migration_lock import migrating
from homewarden.store.models import Clip, Event, Intrusion

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_FOLDER = Path(__file__).with_name("migrations")
# The newest migration's revision. A database already there is opened without importing Alembic (about 0.3 s of
# CPU at every start of `analyze`); tests/store/test_migrations.py checks it against the migrations folder. A stale
# value costs only that time: the migrations then run and find nothing to do.
SCHEMA_HEAD = "0014"

# Without a timeout, a server that drops packets instead of refusing them would hang start-up for minutes.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


class SchemaError(Exception):
    """The database cannot be migrated, e.g. it names a revision this version does not know (after a downgrade)."""


def migration_config(connection: Connection) -> Config:
    """Build the Alembic configuration that migrates the database behind ``connection``."""
    from alembic.config import Config

    config = Config()
    # Config options go through configparser, which treats "%" as interpolation.
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def schema_revision(connection: Connection) -> str | None:
    """Return the migration the database is at (None before the first)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate_to_head(connection: Connection) -> None:
    """Run the migrations the database lacks; Alembic is imported only when there are some."""
    if schema_revision(connection) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(migration_config(connection), "head")
    except CommandError as error:
        raise SchemaError(str(error)) from error


class EventStore:
    """Stores finished events and their clips, and hands them back as ``EventRecord`` values."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose database is already migrated; use ``EventStore.open`` instead."""
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Told the id of every event deleted through this store, after the deletion is committed (the off-site
        # copies delete it in the cloud too).
        self.deletion_listeners: list[Callable[[str], None]] = []

    @property
    def engine(self) -> Engine:
        """Return the engine, for the other stores that share this database (accounts, faces)."""
        return self._engine

    @classmethod
    def open(cls, database_url: str) -> EventStore:
        """Connect to ``database_url``, bring its schema up to date and return the store."""
        url = _parse_url(database_url)
        shown = url.render_as_string(hide_password=True)
        try:
            create_private_sqlite_file(url)
        except OSError as error:
            raise StoreError(
                _("cannot create the folder or file for database {database}: {problem}").format(
                    database=shown, problem=error
                )
            ) from error
        try:
            engine = create_engine(url, connect_args=_connect_args(url))
        except (SQLAlchemyError, ImportError) as error:
            raise StoreError(
                _("cannot use database {database}: {problem}").format(database=shown, problem=_one_line(error, url))
            ) from error
        if url.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _configure_sqlite_connection)
        try:
            with migrating(engine, "migrate") as connection:
                migrate_to_head(connection)
        except (SQLAlchemyError, SchemaError) as error:
            engine.dispose()
            raise StoreError(
                _("cannot open database {database}: {problem}").format(database=shown, problem=_one_line(error, url))
            ) from error
        return cls(engine)

    def save_event(self, record: EventRecord) -> None:
        """Store ``record`` and its clips in one transaction: either all of it is saved or none of it."""
        row = Event(
            id=record.id,
            camera=record.camera,
            label=record.label,
            score=record.score,
            start=record.start,
            end=record.end,
            box_time=record.box_time,
            live=record.live,
            started_at=datetime.fromtimestamp(record.start, tz=UTC) if record.live else None,
            box=list(record.box),
            zones=list(record.zones),
            snapshot=record.snapshot,
            alarm=record.alarm,
            alarm_reason=record.alarm_reason,
            sub_label=record.sub_label,
            source=record.source,
            clip_error=record.clip_error,
            attributes=dict(record.attributes),
            intrusion_id=record.intrusion_id,
            clips=[
                Clip(seq=seq, path=clip.path, start=clip.start, end=clip.end) for seq, clip in enumerate(record.clips)
            ],
        )
        with self._session(_("save event {id}").format(id=repr(record.id))) as session:
            if record.intrusion_id is not None:
                self._extend_intrusion(session, record)
            session.add(row)

    def _extend_intrusion(self, session: Session, record: EventRecord) -> None:
        """Create the event's intrusion, or widen it to the event and raise its alarm (safe against a race)."""
        values = {
            "id": record.intrusion_id,
            "start": record.start,
            "end": record.end,
            "live": record.live,
            "started_at": datetime.fromtimestamp(record.start, tz=UTC) if record.live else None,
            "alarm": record.alarm,
            "created_at": datetime.now(UTC),
        }
        # Two cameras of one area may save events of the same intrusion at once: the second insert is skipped,
        # and the update below widens the row either way.
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(Intrusion).values(**values).on_conflict_do_nothing(index_elements=["id"]))
        session.execute(
            update(Intrusion)
            .where(Intrusion.id == record.intrusion_id)
            .values(
                start=case((Intrusion.start > record.start, record.start), else_=Intrusion.start),
                end=case((Intrusion.end < record.end, record.end), else_=Intrusion.end),
                started_at=case((Intrusion.start > record.start, values["started_at"]), else_=Intrusion.started_at),
                alarm=Intrusion.alarm | record.alarm,
            )
        )

    def list_intrusions(
        self,
        *,
        cameras: Sequence[str] | None = None,
        limit: int = 50,
        alarm: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[IntrusionRecord]:
        """Return up to ``limit`` intrusions, newest first, each with only its events on ``cameras`` (all if None).

        An intrusion with no event on those cameras is left out, so a caller learns nothing of cameras they may not
        see; ``alarm`` filters on those visible events too.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        visible: list[ColumnElement[bool]] = [Event.intrusion_id == Intrusion.id]
        if cameras is not None:
            visible.append(Event.camera.in_(list(cameras)))
        if alarm is not None:
            visible.append(Event.alarm == alarm)
        happened = func.coalesce(Intrusion.started_at, Intrusion.created_at)
        conditions: list[ColumnElement[bool]] = [select(Event.id).where(*visible).exists()]
        if since is not None:
            conditions.append(happened >= since)
        if until is not None:
            conditions.append(happened < until)
        query = select(Intrusion.id).where(*conditions).order_by(happened.desc(), Intrusion.start.desc()).limit(limit)
        with self._session(_("list intrusions")) as session:
            ids = list(session.scalars(query))
            return self._intrusions(session, ids, cameras)

    def get_intrusion(self, intrusion_id: str, cameras: Sequence[str] | None = None) -> IntrusionRecord | None:
        """Return an intrusion with its events on ``cameras`` (all if None); None if it has none there."""
        with self._session(_("read intrusion {id}").format(id=repr(intrusion_id))) as session:
            found = self._intrusions(session, [intrusion_id], cameras)
            return found[0] if found else None

    @staticmethod
    def _intrusions(session: Session, ids: list[str], cameras: Sequence[str] | None) -> list[IntrusionRecord]:
        if not ids:
            return []
        query = select(Event).where(Event.intrusion_id.in_(ids)).options(selectinload(Event.clips))
        if cameras is not None:
            query = query.where(Event.camera.in_(list(cameras)))
        events: dict[str, list[EventRecord]] = {}
        for row in session.scalars(query.order_by(Event.start, Event.id)):
            events.setdefault(row.intrusion_id or "", []).append(_to_record(row))
        return [IntrusionRecord(id, tuple(events[id])) for id in ids if id in events]

    def get_event(self, event_id: str) -> EventRecord | None:
        """Return the event stored under ``event_id``, or None when there is none."""
        with self._session(_("read event {id}").format(id=repr(event_id))) as session:
            row = session.get(Event, event_id, options=[selectinload(Event.clips)])
            return None if row is None else _to_record(row)

    def list_events(
        self,
        *,
        camera: str | None = None,
        label: str | None = None,
        limit: int = 100,
        cameras: Sequence[str] | None = None,
        sub_label: str | None = None,
        alarm: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[EventRecord]:
        """Return up to ``limit`` events, newest first, filtered by camera(s), label, person, alarm and time."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        happened = func.coalesce(Event.started_at, Event.created_at)
        conditions: list[ColumnElement[bool]] = []
        if camera is not None:
            conditions.append(Event.camera == camera)
        if cameras is not None:
            conditions.append(Event.camera.in_(list(cameras)))
        if label is not None:
            conditions.append(Event.label == label)
        if sub_label is not None:
            conditions.append(Event.sub_label == sub_label)
        if alarm is not None:
            conditions.append(Event.alarm == alarm)
        if since is not None:
            conditions.append(happened >= since)
        if until is not None:
            conditions.append(happened < until)
        query = (
            select(Event)
            .where(*conditions)
            .options(selectinload(Event.clips))
            # Live events sort by when they started; events from video files, whose start is only an
            # offset into the file, by when they were stored.
            .order_by(happened.desc(), Event.start.desc(), Event.id)
            .limit(limit)
        )
        with self._session(_("list events")) as session:
            return [_to_record(row) for row in session.scalars(query)]

    def neighbours(self, event_id: str, cameras: Sequence[str]) -> tuple[str | None, str | None]:
        """Return the ids of the events just newer and just older than ``event_id`` in the timeline's order."""
        happened = func.coalesce(Event.started_at, Event.created_at)
        with self._session(_("find the neighbours of event {id}").format(id=repr(event_id))) as session:
            here = session.execute(
                select(happened, Event.start).where(Event.id == event_id, Event.camera.in_(list(cameras)))
            ).first()
            if here is None:
                return None, None
            moment, start = here
            # The timeline's order is (happened desc, start desc, id asc): "older" comes after this event in it.
            older_than = (happened < moment) | ((happened == moment) & (Event.start < start))
            older_than |= (happened == moment) & (Event.start == start) & (Event.id > event_id)
            newer_than = (happened > moment) | ((happened == moment) & (Event.start > start))
            newer_than |= (happened == moment) & (Event.start == start) & (Event.id < event_id)
            mine = Event.camera.in_(list(cameras))
            older = session.scalar(
                select(Event.id).where(mine, older_than).order_by(happened.desc(), Event.start.desc(), Event.id)
            )
            newer = session.scalar(
                select(Event.id).where(mine, newer_than).order_by(happened, Event.start, Event.id.desc())
            )
            return newer, older

    def set_attribute(self, event_id: str, key: str, value: str) -> bool:
        """Set one of an event's attributes (the household's feedback, say); return whether the event exists."""
        with self._session(_("update event {id}").format(id=repr(event_id))) as session:
            row = session.get(Event, event_id)
            if row is None:
                return False
            row.attributes = {**row.attributes, key: value}
            return True

    def delete_event(self, event_id: str) -> bool:
        """Delete the event and its clip rows; return whether there was one to delete."""
        with self._session(_("delete event {id}").format(id=repr(event_id))) as session:
            intrusion_id = session.scalar(select(Event.intrusion_id).where(Event.id == event_id))
            deleted = session.scalar(delete(Event).where(Event.id == event_id).returning(Event.id))
            if (
                intrusion_id is not None
                and session.scalar(select(Event.id).where(Event.intrusion_id == intrusion_id).limit(1)) is None
            ):
                # Its last event is gone: nothing is left to show of it.
                session.execute(delete(Intrusion).where(Intrusion.id == intrusion_id))
        if deleted is not None:
            for listener in self.deletion_listeners:
                try:
                    listener(event_id)
                except Exception:  # the event is gone either way; a listener's failure is its own to report
                    log.exception("after deleting event %s", event_id)
        return deleted is not None

    def count_events(self, cameras: Sequence[str] | None = None) -> int:
        """Return how many events are stored (of some cameras only, if given)."""
        query = select(func.count()).select_from(Event)
        if cameras is not None:
            query = query.where(Event.camera.in_(list(cameras)))
        with self._session(_("count events")) as session:
            return session.scalar(query) or 0

    def close(self) -> None:
        """Close every pooled connection; the store cannot be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> EventStore:
        """Use the store as a context manager that closes it on exit."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    @contextmanager
    def _session(self, action: str) -> Iterator[Session]:
        """Run a session in one transaction, committed on success; report database errors as StoreError."""
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as error:
            raise StoreError(
                _("cannot {action}: {problem}").format(action=action, problem=_one_line(error, self._engine.url))
            ) from error


def _to_record(row: Event) -> EventRecord:
    """Copy a stored event into the immutable record callers work with."""
    left, top, right, bottom = row.box
    return EventRecord(
        id=row.id,
        camera=row.camera,
        label=row.label,
        score=row.score,
        start=row.start,
        end=row.end,
        live=row.live,
        box=(left, top, right, bottom),
        snapshot=row.snapshot,
        clips=tuple(ClipRecord(path=clip.path, start=clip.start, end=clip.end) for clip in row.clips),
        zones=tuple(row.zones),
        alarm=row.alarm,
        alarm_reason=row.alarm_reason,
        sub_label=row.sub_label,
        source=row.source,
        clip_error=row.clip_error,
        attributes=dict(row.attributes),
        intrusion_id=row.intrusion_id,
        box_time=row.box_time,
    )


def _parse_url(database_url: str) -> URL:
    """Parse ``database_url``, reporting a malformed one without revealing its password."""
    try:
        return make_url(database_url)
    except (SQLAlchemyError, ValueError) as error:
        shown = _URL_PASSWORD.sub(r"\1***@", database_url)
        raise StoreError(
            _("invalid database URL {database}: {problem}").format(database=shown, problem=error)
        ) from error


def create_private_sqlite_file(url: URL) -> None:
    """Create the file of a SQLite URL (and its folder) readable by this user only, or make an existing one so.

    SQLite gives its -wal and -shm files the database file's permissions, so they follow. Accounts, sessions and
    audit entries live in it: whatever the umask, no other user of the machine may read them. Other URLs: nothing.
    """
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    # O_EXCL: an existing database is never opened here. Closing any descriptor of a file drops every POSIX lock the
    # process holds on it, so opening and closing the hub's live database beside its engine corrupts it.
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        make_private(file, PRIVATE_FILE)


def _connect_args(url: URL) -> dict[str, Any]:
    """Return driver arguments that keep connecting to ``url`` from hanging."""
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
    return {}


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    """Turn on foreign keys (off by default in SQLite, so clips would outlive their event) and WAL."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets the web interface read events while the pipeline writes new ones.
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _one_line(error: Exception, url: URL) -> str:
    """Describe ``error`` on one line, without SQL text or the URL's password."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    text = " ".join(str(cause).split()) or type(cause).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
