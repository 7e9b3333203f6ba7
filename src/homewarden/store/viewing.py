"""The household's review of events: which events each user has reviewed, and expiring share links for one clip."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import sessionmaker

from homewarden.store.transactions import transaction
from homewarden.store.viewing_models import ClipShare, EventReview

# 32 random bytes: a link cannot be guessed, and it is stored only as its SHA-256 digest (a database leak shares
# nothing).
SHARE_TOKEN_BYTES = 32


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def share_digest(token: str) -> str:
    """Return what the database keeps of a share link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


class EventReviews:
    """Which events each user has marked reviewed (a user's own mark; nobody else's changes)."""

    def __init__(self, engine: Engine) -> None:
        """Use ``engine``, whose database the event store has already migrated."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def mark(self, user_id: int, event_ids: Sequence[str], reviewed: bool) -> None:
        """Mark the events reviewed (or not) for ``user_id``; marking twice changes nothing."""
        with transaction(self._sessions, "mark events reviewed") as session:
            session.execute(
                delete(EventReview).where(EventReview.user_id == user_id, EventReview.event_id.in_(list(event_ids)))
            )
            if reviewed:
                at = _now()
                session.add_all(
                    EventReview(user_id=user_id, event_id=event_id, reviewed_at=at) for event_id in event_ids
                )

    def reviewed(self, user_id: int, event_ids: Sequence[str]) -> set[str]:
        """Return which of the events ``user_id`` has reviewed."""
        if not event_ids:
            return set()
        with transaction(self._sessions, "read reviewed events") as session:
            rows = session.scalars(
                select(EventReview.event_id).where(
                    EventReview.user_id == user_id, EventReview.event_id.in_(list(event_ids))
                )
            )
            return set(rows)


@dataclass(frozen=True)
class ShareRecord:
    """A share link as the owner sees it (never its token, which is shown once)."""

    id: int
    event_id: str
    clip_index: int
    created_by: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        """Return whether the link still serves its clip."""
        return self.revoked_at is None and now < self.expires_at


def _record(row: ClipShare) -> ShareRecord:
    return ShareRecord(
        row.id,
        row.event_id,
        row.clip_index,
        row.created_by,
        _aware(row.created_at),
        _aware(row.expires_at),
        _aware(row.revoked_at) if row.revoked_at is not None else None,
    )


class ClipShares:
    """Expiring, revocable links that each serve one clip of one event."""

    def __init__(self, engine: Engine) -> None:
        """Use ``engine``, whose database the event store has already migrated."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, event_id: str, clip_index: int, user_id: int, lifetime: timedelta) -> tuple[ShareRecord, str]:
        """Make a link to one clip for ``lifetime``; return it and its token (shown this once, kept as a digest)."""
        token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
        now = _now()
        with transaction(self._sessions, "create a share link") as session:
            row = ClipShare(
                token_digest=share_digest(token),
                event_id=event_id,
                clip_index=clip_index,
                created_by=user_id,
                created_at=now,
                expires_at=now + lifetime,
            )
            session.add(row)
            session.flush()
            return _record(row), token

    def usable(self, token: str) -> ShareRecord | None:
        """Return the link a token opens, or None when it is unknown, expired or revoked."""
        with transaction(self._sessions, "read a share link") as session:
            row = session.scalars(select(ClipShare).where(ClipShare.token_digest == share_digest(token))).first()
            record = _record(row) if row is not None else None
        return record if record is not None and record.usable(_now()) else None

    def of_event(self, event_id: str) -> list[ShareRecord]:
        """Return an event's links, newest first (revoked and expired ones too, for the record)."""
        with transaction(self._sessions, "list share links") as session:
            rows = session.scalars(
                select(ClipShare).where(ClipShare.event_id == event_id).order_by(ClipShare.id.desc())
            )
            return [_record(row) for row in rows]

    def revoke(self, event_id: str, share_id: int) -> ShareRecord | None:
        """Stop one of an event's links at once; return it, or None when the event has no such link."""
        with transaction(self._sessions, "revoke a share link") as session:
            session.execute(
                update(ClipShare)
                .where(ClipShare.id == share_id, ClipShare.event_id == event_id, ClipShare.revoked_at.is_(None))
                .values(revoked_at=_now())
            )
            row = session.scalars(
                select(ClipShare).where(ClipShare.id == share_id, ClipShare.event_id == event_id)
            ).first()
            return _record(row) if row is not None else None
