"""The audit log: every access to media, and every refused attempt, as a hash chain the owner can read.

Each entry's hash covers its own fields and the previous entry's hash, so editing an entry, removing one from the
middle or swapping two breaks the chain at that point. Removing the newest entries would leave a shorter but
consistent chain, so the hub also keeps the newest sequence number and hash in a checkpoint file beside the home key
(outside the database): `homewarden audit verify` compares the chain with it. An attacker who controls both the
database and the hub's files can rewrite everything; the log is evidence against a database edited on its own
(a backup restored, a row deleted by hand, an insider with database access), not against a compromised hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, and_, desc, func, select
from sqlalchemy.orm import Session, sessionmaker

from homewarden.store.durable_files import write_durably
from homewarden.store.review_models import AuditEntry
from homewarden.store.transactions import transaction
from homewarden.store.utc import as_utc

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
CHECKPOINT_FILE_NAME = "audit-checkpoint.json"
# Forget the quiet periods that ended once this many are remembered (people × cameras stays far below it).
QUIET_PERIODS_KEPT = 1024


@dataclass(frozen=True)
class Actor:
    """Who acted: a role and how owners see them (a household name, a reviewer's pseudonym, or the hub itself)."""

    role: str
    name: str


HUB = Actor("hub", "hub")
COMMAND_LINE = Actor("owner", "command line")


@dataclass(frozen=True)
class FoldedViews:
    """Allowed views by some roles (the household's own), shown as counts rather than one entry each."""

    roles: frozenset[str]
    actions: frozenset[str]

    def condition(self) -> ColumnElement[bool]:
        """Return the SQL condition that picks these views."""
        return and_(
            AuditEntry.actor_role.in_(sorted(self.roles)),
            AuditEntry.action.in_(sorted(self.actions)),
            AuditEntry.outcome == "ok",
        )


@dataclass(frozen=True)
class ViewCount:
    """How often one person made one kind of view, and when last."""

    actor_role: str
    actor: str
    action: str
    count: int
    last_at: datetime


@dataclass(frozen=True)
class AuditRecord:
    """An entry as read back."""

    seq: int
    at: datetime
    actor_role: str
    actor: str
    action: str
    home_id: int | None
    object: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class Verification:
    """What `audit verify` found: how many entries, and every place the chain is broken."""

    entries: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        """Tell whether the log is as written."""
        return not self.problems


def entry_hash(
    seq: int,
    at: datetime,
    actor_role: str,
    actor: str,
    action: str,
    home_id: int | None,
    object_: str,
    outcome: str,
    detail: str,
    prev_hash: str,
) -> str:
    """Return the SHA-256 an entry is chained by (a canonical JSON of its fields and the previous hash)."""
    moment = as_utc(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [seq, moment, actor_role, actor, action, home_id, object_, outcome, detail, prev_hash]
    return hashlib.sha256(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


class AuditLog:
    """Append entries to the chain and read or verify it."""

    def __init__(self, engine: Engine, checkpoint_folder: Path) -> None:
        """Use the hub's database and keep the checkpoint in ``checkpoint_folder`` (the storage folder)."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.checkpoint = checkpoint_folder / CHECKPOINT_FILE_NAME
        self._lock = threading.Lock()
        # (actor, action, object, home) -> monotonic time until which the same access is not written again.
        self._quiet_until: dict[tuple[str, str, str, str, int | None], float] = {}
        self._quiet_lock = threading.Lock()

    def record(
        self,
        actor: Actor,
        action: str,
        object_: str,
        *,
        home_id: int | None,
        outcome: str = "ok",
        detail: str = "",
    ) -> int:
        """Append an entry and return its sequence number (entries are never changed afterwards)."""
        with self._lock, self._session("write the audit log") as session:
            last = session.scalars(select(AuditEntry).order_by(desc(AuditEntry.seq)).limit(1)).first()
            seq = 1 if last is None else last.seq + 1
            prev = GENESIS_HASH if last is None else last.hash
            # Whole microseconds in UTC: what the database gives back must hash the same as what was written.
            at = datetime.now(UTC)
            digest = entry_hash(seq, at, actor.role, actor.name, action, home_id, object_, outcome, detail, prev)
            session.add(
                AuditEntry(
                    seq=seq,
                    at=at,
                    actor_role=actor.role,
                    actor=actor.name[:64],
                    action=action,
                    home_id=home_id,
                    object=object_[:128],
                    outcome=outcome,
                    detail=detail,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            session.flush()
            self._write_checkpoint(seq, digest)
            return seq

    def record_once_per(
        self,
        window: float,
        actor: Actor,
        action: str,
        object_: str,
        *,
        home_id: int | None,
        detail: str = "",
    ) -> int | None:
        """Append an entry unless the same actor did the same to the same object in the last ``window`` seconds.

        For accesses that repeat by the second (a live page refreshing its picture): the log shows who watched
        which camera and when, without one entry per frame burying every other access. Return the entry's sequence
        number, or None when it fell in the quiet period of an earlier one (this process's memory: after a restart
        the first access is written again).
        """
        key = (actor.role, actor.name, action, object_, home_id)
        now = time.monotonic()
        with self._quiet_lock:
            if self._quiet_until.get(key, 0.0) > now:
                return None
            if len(self._quiet_until) >= QUIET_PERIODS_KEPT:
                self._quiet_until = {known: until for known, until in self._quiet_until.items() if until > now}
            self._quiet_until[key] = now + window
        try:
            return self.record(actor, action, object_, home_id=home_id, detail=detail)
        except Exception:
            with self._quiet_lock:  # not written: the next access must try again
                self._quiet_until.pop(key, None)
            raise

    def entries(
        self, *, home_id: int | None = None, limit: int = 200, folded: FoldedViews | None = None
    ) -> list[AuditRecord]:
        """Return the newest entries (about one home, if given), newest first, leaving out the ``folded`` views."""
        query = select(AuditEntry).order_by(desc(AuditEntry.seq)).limit(limit)
        if home_id is not None:
            query = query.where(AuditEntry.home_id == home_id)
        if folded is not None:
            query = query.where(~folded.condition())
        with self._session("read the audit log") as session:
            return [
                AuditRecord(
                    row.seq,
                    as_utc(row.at),
                    row.actor_role,
                    row.actor,
                    row.action,
                    row.home_id,
                    row.object,
                    row.outcome,
                    row.detail,
                )
                for row in session.scalars(query)
            ]

    def count_views(self, home_id: int, folded: FoldedViews) -> list[ViewCount]:
        """Count a home's ``folded`` views by who and what, most recent first."""
        query = (
            select(AuditEntry.actor_role, AuditEntry.actor, AuditEntry.action, func.count(), func.max(AuditEntry.at))
            .where(AuditEntry.home_id == home_id, folded.condition())
            .group_by(AuditEntry.actor_role, AuditEntry.actor, AuditEntry.action)
            .order_by(func.max(AuditEntry.at).desc())
        )
        with self._session("count views") as session:
            return [
                ViewCount(str(role), str(actor), str(action), int(count), as_utc(last))
                for role, actor, action, count, last in session.execute(query)
            ]

    def count_by_object(self, home_id: int, action: str, prefix: str) -> dict[str, int]:
        """Return how many allowed entries of an action each object (named with ``prefix``) of a home has."""
        query = (
            select(AuditEntry.object, func.count())
            .where(
                AuditEntry.home_id == home_id,
                AuditEntry.action == action,
                AuditEntry.outcome == "ok",
                AuditEntry.object.startswith(prefix),
            )
            .group_by(AuditEntry.object)
        )
        with self._session("count audit entries") as session:
            return {str(name): int(count) for name, count in session.execute(query)}

    def verify(self) -> Verification:
        """Walk the chain from the first entry and report every edited, missing or reordered entry."""
        problems: list[str] = []
        count = 0
        expected_prev = GENESIS_HASH
        expected_seq = 1
        last_hash = GENESIS_HASH
        with self._session("read the audit log") as session:
            for row in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
                count += 1
                if row.seq != expected_seq:
                    problems.append(f"entries {expected_seq}–{row.seq - 1} are missing")
                if row.prev_hash != expected_prev:
                    problems.append(f"entry {row.seq} does not follow the entry before it (removed or reordered)")
                recomputed = entry_hash(
                    row.seq,
                    row.at,
                    row.actor_role,
                    row.actor,
                    row.action,
                    row.home_id,
                    row.object,
                    row.outcome,
                    row.detail,
                    row.prev_hash,
                )
                if recomputed != row.hash:
                    problems.append(f"entry {row.seq} was changed after it was written")
                expected_prev, expected_seq, last_hash = row.hash, row.seq + 1, row.hash
        checkpoint = self._read_checkpoint()
        if checkpoint is None:
            if count:
                problems.append(f"the checkpoint {self.checkpoint} is missing")
        elif checkpoint != (expected_seq - 1, last_hash):
            problems.append(
                f"the log ends at entry {expected_seq - 1} but the checkpoint says {checkpoint[0]}: "
                "the newest entries were removed or the log was replaced"
            )
        return Verification(count, problems)

    def _write_checkpoint(self, seq: int, digest: str) -> None:
        write_durably(self.checkpoint, [json.dumps({"seq": seq, "hash": digest}).encode()])

    def _read_checkpoint(self) -> tuple[int, str] | None:
        try:
            data = json.loads(self.checkpoint.read_text())
            return int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return (-1, "unreadable")

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)
