"""The outbox: what still has to reach the cloud, and what is there, in a SQLite file beside the vault it describes.

Why a SQLite file of its own (``<storage>/offsite/outbox.sqlite3``) and not the hub's database: the items name files
of the local vault, so they belong with it; the hub's database may be a PostgreSQL server that is away exactly when
the outbox must keep working; and the command line (deleting events, restoring) reaches the same file from another
process. WAL with ``synchronous=FULL`` makes every change durable once its transaction commits, so a power cut loses
nothing that was acknowledged.

Two tables. ``item`` holds the work: upload a vault object, an event record or the key file, delete an object,
send a donated copy (sealed to the review program's key, its sealed body kept in the row: the hub keeps no other
copy) or withdraw one; one row per cloud id, the latest intent winning (a delete replaces a waiting upload of the
same id). An upload cancelled while in flight becomes a delete, which the worker runs right after: every change of
intent bumps the item's ``version``, and the worker's "done" only removes the version it worked on. ``sent`` is the
ledger of what the cloud holds, so a deleted event's objects can be found and only what this hub sent is ever
deleted.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["object", "record", "key_file", "delete", "donation", "withdraw"]
UPLOAD_KINDS: tuple[Kind, ...] = ("object", "record", "key_file")

# Lower goes first: withdrawals of donations (the owner expects the cloud's confirmation within a minute), the key
# file (without it nothing can be restored), deletions (the owner asked), alarm footage, then the rest.
PRIORITY_WITHDRAWAL = -1
PRIORITY_KEY_FILE = 0
PRIORITY_DELETE = 1
PRIORITY_ALARM = 2
PRIORITY_OTHER = 3

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cloud_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('object', 'record', 'key_file', 'delete', 'donation', 'withdraw')),
    subject TEXT NOT NULL,
    event_id TEXT,
    priority INTEGER NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    failed INTEGER NOT NULL DEFAULT 0,
    upload_id TEXT,
    part_size INTEGER,
    body_sha256 TEXT,
    body BLOB,
    version INTEGER NOT NULL DEFAULT 0,
    meta TEXT
);
CREATE INDEX IF NOT EXISTS ix_item_order ON item (failed, priority, id);
CREATE INDEX IF NOT EXISTS ix_item_event ON item (event_id);
CREATE TABLE IF NOT EXISTS sent (
    cloud_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    event_id TEXT,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    key_id TEXT,
    sent_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_sent_event ON sent (event_id);
CREATE TABLE IF NOT EXISTS state (
    name TEXT PRIMARY KEY,
    value TEXT
);
"""


@dataclass(frozen=True)
class OutboxItem:
    """One piece of work for the cloud."""

    id: int
    cloud_id: str
    kind: Kind
    subject: str
    event_id: str | None
    priority: int
    created_at: float
    attempts: int
    next_attempt_at: float
    last_error: str | None
    failed: bool
    upload_id: str | None
    part_size: int | None
    body_sha256: str | None
    body: bytes | None
    version: int
    meta: str | None = None


@dataclass(frozen=True)
class Upload:
    """An upload to queue: what it is, its cloud id, the event it belongs to, how urgent it is."""

    kind: Kind
    cloud_id: str
    subject: str
    event_id: str | None
    priority: int


@dataclass(frozen=True)
class SentObject:
    """An object the cloud holds, as the ledger remembers it."""

    cloud_id: str
    kind: str
    subject: str
    event_id: str | None
    sha256: str
    size: int
    key_id: str | None
    sent_at: float


@dataclass(frozen=True)
class OutboxCounts:
    """How much waits, how much failed for good, and the oldest waiting item's age."""

    waiting: int
    failed: int
    oldest_waiting_at: float | None
    sent: int


class Outbox:
    """The persistent queue and ledger; safe to use from several threads and processes."""

    def __init__(self, path: Path) -> None:
        """Open (creating when missing) the outbox file at ``path``."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._local = threading.local()
        # executescript commits on its own; every statement in SCHEMA may run again harmlessly.
        self._connection().executescript(SCHEMA)
        self._upgrade()
        path.chmod(0o600)

    def _upgrade(self) -> None:
        """Bring an outbox made before donations went to the cloud to this schema (new kinds, the meta column)."""
        db = self._connection()
        if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        with self._transaction() as tx:
            columns = {row["name"] for row in tx.execute("PRAGMA table_info(item)")}
            if "meta" not in columns:
                # SQLite cannot change a CHECK constraint: the table is rebuilt under the new one, rows kept.
                tx.execute("ALTER TABLE item RENAME TO item_before_donations")
                tx.execute("DROP INDEX IF EXISTS ix_item_order")
                tx.execute("DROP INDEX IF EXISTS ix_item_event")
                for statement in SCHEMA.split(";"):
                    if "TABLE IF NOT EXISTS item" in statement or "ON item" in statement:
                        tx.execute(statement)
                names = ", ".join(sorted(columns))
                tx.execute(f"INSERT INTO item ({names}) SELECT {names} FROM item_before_donations")
                tx.execute("DROP TABLE item_before_donations")
            tx.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # One connection per thread; isolation_level=None so transactions are begun explicitly below.
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=True)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            self._local.connection = connection
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def enqueue_donation(self, donation_id: str, body: bytes, sha256: str, meta: str, now: float | None = None) -> None:
        """Queue a donated copy, sealed already (its body is kept here: the hub keeps no other copy)."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "INSERT INTO item (cloud_id, kind, subject, priority, created_at, body, body_sha256, meta) "
                "VALUES (?, 'donation', ?, ?, ?, ?, ?, ?) ON CONFLICT (cloud_id) DO NOTHING",
                (donation_cloud_id(donation_id), donation_id, PRIORITY_OTHER, now, body, sha256, meta),
            )

    def enqueue_withdrawal(self, donation_id: str, now: float | None = None) -> None:
        """Queue a donation's withdrawal ahead of everything, replacing its upload if that has not gone yet."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "INSERT INTO item (cloud_id, kind, subject, priority, created_at) VALUES (?, 'withdraw', ?, ?, ?) "
                "ON CONFLICT (cloud_id) DO UPDATE SET kind = 'withdraw', priority = excluded.priority, attempts = 0, "
                "next_attempt_at = 0, failed = 0, last_error = NULL, upload_id = NULL, part_size = NULL, "
                "body_sha256 = NULL, body = NULL, meta = NULL, version = item.version + 1",
                (donation_cloud_id(donation_id), donation_id, PRIORITY_WITHDRAWAL, now),
            )

    def close(self) -> None:
        """Close this thread's connection."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # Queueing

    def enqueue(self, uploads: list[Upload], now: float | None = None) -> int:
        """Queue uploads not already sent or waiting; return how many were queued."""
        now = time.time() if now is None else now
        added = 0
        with self._transaction() as db:
            for upload in uploads:
                if db.execute("SELECT 1 FROM sent WHERE cloud_id = ?", (upload.cloud_id,)).fetchone():
                    continue
                cursor = db.execute(
                    "INSERT INTO item (cloud_id, kind, subject, event_id, priority, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cloud_id) DO NOTHING",
                    (upload.cloud_id, upload.kind, upload.subject, upload.event_id, upload.priority, now),
                )
                added += cursor.rowcount
        return added

    def enqueue_replacement(self, upload: Upload, now: float | None = None) -> None:
        """Queue an upload of a changed body under an id the cloud may hold already (the key file, a re-sealed key)."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "INSERT INTO item (cloud_id, kind, subject, event_id, priority, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (cloud_id) DO UPDATE SET kind = excluded.kind, subject = excluded.subject, "
                "attempts = 0, next_attempt_at = 0, failed = 0, last_error = NULL, upload_id = NULL, part_size = NULL, "
                "body_sha256 = NULL, body = NULL, version = item.version + 1",
                (upload.cloud_id, upload.kind, upload.subject, upload.event_id, upload.priority, now),
            )

    def enqueue_delete(self, cloud_id: str, event_id: str | None = None, now: float | None = None) -> None:
        """Queue the deletion of ``cloud_id`` (replacing a waiting upload of it)."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            self._delete_in(db, cloud_id, event_id, now)

    @staticmethod
    def _delete_in(db: sqlite3.Connection, cloud_id: str, event_id: str | None, now: float) -> None:
        db.execute(
            "INSERT INTO item (cloud_id, kind, subject, event_id, priority, created_at) "
            "VALUES (?, 'delete', ?, ?, ?, ?) "
            "ON CONFLICT (cloud_id) DO UPDATE SET kind = 'delete', priority = excluded.priority, attempts = 0, "
            "next_attempt_at = 0, failed = 0, last_error = NULL, upload_id = NULL, part_size = NULL, "
            "body_sha256 = NULL, body = NULL, version = item.version + 1",
            (cloud_id, cloud_id, event_id, PRIORITY_DELETE, now),
        )

    def enqueue_event_deletion(self, event_id: str, now: float | None = None) -> int:
        """Queue the deletion of everything of an event that was sent or is on its way; return how many ids."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            ids = {row["cloud_id"] for row in db.execute("SELECT cloud_id FROM sent WHERE event_id = ?", (event_id,))}
            ids |= {row["cloud_id"] for row in db.execute("SELECT cloud_id FROM item WHERE event_id = ?", (event_id,))}
            for cloud_id in sorted(ids):
                self._delete_in(db, cloud_id, event_id, now)
        return len(ids)

    # The worker's side

    def next_due(self, now: float | None = None) -> OutboxItem | None:
        """Return the most urgent item that may be tried now, or None."""
        now = time.time() if now is None else now
        row = (
            self._connection()
            .execute(
                "SELECT * FROM item WHERE failed = 0 AND next_attempt_at <= ? ORDER BY priority, id LIMIT 1", (now,)
            )
            .fetchone()
        )
        return None if row is None else _item(row)

    def next_attempt_at(self) -> float | None:
        """Return when the earliest waiting item may be tried, or None when nothing waits."""
        row = self._connection().execute("SELECT MIN(next_attempt_at) FROM item WHERE failed = 0").fetchone()
        return None if row[0] is None else float(row[0])

    def get(self, item_id: int) -> OutboxItem | None:
        """Return an item as it is now."""
        row = self._connection().execute("SELECT * FROM item WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else _item(row)

    def remember_body(self, item: OutboxItem, body: bytes, sha256: str) -> None:
        """Keep a built body (a sealed record) so retries send the very same bytes."""
        with self._transaction() as db:
            db.execute(
                "UPDATE item SET body = ?, body_sha256 = ? WHERE id = ? AND version = ?",
                (body, sha256, item.id, item.version),
            )

    def remember_upload(self, item: OutboxItem, upload_id: str, part_size: int, sha256: str) -> None:
        """Keep a multipart upload's id, part size and body hash, so a restarted hub asks which parts arrived."""
        with self._transaction() as db:
            db.execute(
                "UPDATE item SET upload_id = ?, part_size = ?, body_sha256 = ? WHERE id = ? AND version = ?",
                (upload_id, part_size, sha256, item.id, item.version),
            )

    def uploaded(self, item: OutboxItem, sha256: str, size: int, key_id: str | None, now: float | None = None) -> None:
        """Record an upload as done: the ledger gains it and the item goes (unless it became a delete meanwhile)."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sent (cloud_id, kind, subject, event_id, sha256, size, key_id, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cloud_id) DO UPDATE SET sha256 = excluded.sha256, "
                "size = excluded.size, key_id = excluded.key_id, sent_at = excluded.sent_at",
                (item.cloud_id, item.kind, item.subject, item.event_id, sha256, size, key_id, now),
            )
            db.execute("DELETE FROM item WHERE id = ? AND version = ?", (item.id, item.version))
            self._set_in(db, "last_success_at", str(now))

    def deleted(self, item: OutboxItem, now: float | None = None) -> None:
        """Record a deletion as done: the ledger forgets the id, the item goes (unless re-queued meanwhile)."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            db.execute("DELETE FROM item WHERE id = ? AND version = ?", (item.id, item.version))
            db.execute("DELETE FROM sent WHERE cloud_id = ?", (item.cloud_id,))
            self._set_in(db, "last_success_at", str(now))

    def drop(self, item: OutboxItem) -> None:
        """Forget an item that has nothing left to send (its object was shredded before it went)."""
        with self._transaction() as db:
            db.execute("DELETE FROM item WHERE id = ? AND version = ?", (item.id, item.version))

    def retry_later(self, item: OutboxItem, error: str, at: float) -> None:
        """Count a failed attempt and set when to try again."""
        with self._transaction() as db:
            db.execute(
                "UPDATE item SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                (at, error, item.id),
            )
            self._set_in(db, "last_error", error)
            self._set_in(db, "last_error_at", str(time.time()))

    def fail(self, item: OutboxItem, error: str) -> None:
        """Stop trying an item the cloud refused for good; it stays, shown in the status, until re-queued."""
        with self._transaction() as db:
            db.execute(
                "UPDATE item SET attempts = attempts + 1, failed = 1, last_error = ? WHERE id = ?", (error, item.id)
            )
            self._set_in(db, "last_error", error)
            self._set_in(db, "last_error_at", str(time.time()))

    def postpone_all(self, until: float) -> None:
        """Hold every waiting item until ``until`` (the cloud is unreachable: trying each one would only fail)."""
        with self._transaction() as db:
            db.execute("UPDATE item SET next_attempt_at = MAX(next_attempt_at, ?) WHERE failed = 0", (until,))

    def retry_failed(self) -> int:
        """Try the items that failed for good again (after a new pairing, say); return how many."""
        with self._transaction() as db:
            return db.execute("UPDATE item SET failed = 0, attempts = 0, next_attempt_at = 0 WHERE failed = 1").rowcount

    # What is known

    def sent_objects(self) -> list[SentObject]:
        """Return the whole ledger."""
        rows = self._connection().execute("SELECT * FROM sent ORDER BY cloud_id").fetchall()
        return [
            SentObject(
                row["cloud_id"],
                row["kind"],
                row["subject"],
                row["event_id"],
                row["sha256"],
                row["size"],
                row["key_id"],
                row["sent_at"],
            )
            for row in rows
        ]

    def sent(self, cloud_id: str) -> SentObject | None:
        """Return the ledger's entry for ``cloud_id``."""
        return next((entry for entry in self.sent_objects() if entry.cloud_id == cloud_id), None)

    def queued_ids(self) -> set[str]:
        """Return the cloud ids that have an item (waiting or failed)."""
        return {row[0] for row in self._connection().execute("SELECT cloud_id FROM item")}

    def items(self) -> list[OutboxItem]:
        """Return every item, most urgent first."""
        rows = self._connection().execute("SELECT * FROM item ORDER BY failed, priority, id").fetchall()
        return [_item(row) for row in rows]

    def counts(self) -> OutboxCounts:
        """Return how much waits and how much failed."""
        db = self._connection()
        waiting, oldest = db.execute("SELECT COUNT(*), MIN(created_at) FROM item WHERE failed = 0").fetchone()
        failed = db.execute("SELECT COUNT(*) FROM item WHERE failed = 1").fetchone()[0]
        sent = db.execute("SELECT COUNT(*) FROM sent").fetchone()[0]
        return OutboxCounts(int(waiting), int(failed), None if oldest is None else float(oldest), int(sent))

    def record_sent(self, entries: list[SentObject]) -> None:
        """Put objects the cloud holds already into the ledger (a restore: they need not go again)."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO sent (cloud_id, kind, subject, event_id, sha256, size, key_id, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cloud_id) DO NOTHING",
                [(e.cloud_id, e.kind, e.subject, e.event_id, e.sha256, e.size, e.key_id, e.sent_at) for e in entries],
            )

    def forget_everything(self) -> None:
        """Empty the queue and the ledger (unpairing: the next cloud holds none of it)."""
        with self._transaction() as db:
            db.execute("DELETE FROM item")
            db.execute("DELETE FROM sent")
            db.execute("DELETE FROM state")

    def state(self, name: str) -> str | None:
        """Return a remembered value (last success, last error, the cloud's usage)."""
        row = self._connection().execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def set_state(self, name: str, value: str | None) -> None:
        """Remember a value."""
        with self._transaction() as db:
            self._set_in(db, name, value)

    @staticmethod
    def _set_in(db: sqlite3.Connection, name: str, value: str | None) -> None:
        db.execute(
            "INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        cloud_id=row["cloud_id"],
        kind=row["kind"],
        subject=row["subject"],
        event_id=row["event_id"],
        priority=row["priority"],
        created_at=row["created_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        failed=bool(row["failed"]),
        upload_id=row["upload_id"],
        part_size=row["part_size"],
        body_sha256=row["body_sha256"],
        body=row["body"],
        version=row["version"],
        meta=row["meta"],
    )


def donation_cloud_id(donation_id: str) -> str:
    """Return the outbox's name for a donation's work (apart from every object id, which is hex)."""
    return f"donation:{donation_id}"
