"""The review program's one hash-chained audit log (all homes), its receipts and its links.

Every process that appends (API processes, workers) takes the chain's lock first: on PostgreSQL a transaction-level
advisory lock, held until the appending transaction ends, so the next writer reads the head this one wrote and no two
entries ever share a seq or a prev_hash. The seq primary key and the unique entry_hash are the last line behind it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.models import ReviewAuditEntry, ReviewCheckpoint
from homewarden.cloud.review.signatures import Signer, canonical_json, iso, signed

ACTIONS = frozenset(
    {
        "received",
        "screened",
        "refused",
        "queued",
        "view",
        "label",
        "flag",
        "withdrawn",
        "expired",
        "deleted",
        # A model that learned from the donation left the hubs (replaced by one trained without it): docs/training.md.
        "model_replaced",
    }
)
CLOUD_ACTOR = "cloud"
REVIEWER_ACTOR = re.compile(r"^reviewer:r_[0-9a-f]{8}$")
GENESIS_HASH = "0" * 64
# One fixed 63-bit number names the chain's advisory lock (derived from its name, so no other lock collides by chance).
CHAIN_LOCK = int.from_bytes(hashlib.sha256(b"homewarden.cloud.review_audit").digest()[:8], "big") >> 1


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the chain, as stored and as a receipt shows it."""

    seq: int
    at: datetime
    home_id: str
    donation_id: str
    action: str
    actor: str
    details: dict[str, Any]
    content_hash: str
    prev_hash: str
    entry_hash: str

    def content(self) -> dict[str, Any]:
        """Return the content the hashes cover."""
        return entry_content(self.seq, self.at, self.home_id, self.donation_id, self.action, self.actor, self.details)


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the chain."""

    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str

    def public(self) -> dict[str, Any]:
        """Return the checkpoint as hubs receive it."""
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": iso(self.at),
            "key_id": self.key_id,
            "signature": self.signature,
        }


def entry_content(
    seq: int, at: datetime, home_id: str, donation_id: str, action: str, actor: str, details: dict[str, Any]
) -> dict[str, Any]:
    """Return an entry's content (docs/cloud-protocol.md, "Receipts and the cloud's audit chain")."""
    return {
        "seq": seq,
        "at": iso(at),
        "home_id": home_id,
        "donation_id": donation_id,
        "action": action,
        "actor": actor,
        "details": details,
    }


def content_hash_of(content: dict[str, Any]) -> str:
    """Return the SHA-256 hex of an entry's canonical content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def link_hash(prev_hash: str, content_hash: str) -> str:
    """Return an entry's hash: SHA-256 of the previous entry's hash and this content's hash, as bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + bytes.fromhex(content_hash)).hexdigest()


def lock_chain(session: Session) -> None:
    """Hold the chain's lock until ``session``'s transaction ends (SQLite: its one writer lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    else:
        # An UPDATE takes SQLite's write lock at once, even when it matches no row: writers queue behind it.
        session.execute(update(ReviewCheckpoint).where(ReviewCheckpoint.seq < 0).values(seq=ReviewCheckpoint.seq))


def record(
    session: Session, *, home_id: str, donation_id: str, action: str, actor: str, details: dict[str, Any]
) -> AuditEntry:
    """Append an entry to the chain in the caller's transaction (the chain stays locked until it ends)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown review action {action!r}")
    if actor != CLOUD_ACTOR and not REVIEWER_ACTOR.fullmatch(actor):
        raise ValueError(f"an actor is 'cloud' or 'reviewer:r_' and 8 hex digits, not {actor!r}")
    lock_chain(session)
    head = session.execute(
        select(ReviewAuditEntry.seq, ReviewAuditEntry.entry_hash).order_by(ReviewAuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.entry_hash) if head is not None else (1, GENESIS_HASH)
    at = utc_now()
    content_hash = content_hash_of(entry_content(seq, at, home_id, donation_id, action, actor, details))
    entry = AuditEntry(
        seq=seq,
        at=at,
        home_id=home_id,
        donation_id=donation_id,
        action=action,
        actor=actor,
        details=details,
        content_hash=content_hash,
        prev_hash=prev_hash,
        entry_hash=link_hash(prev_hash, content_hash),
    )
    session.add(
        ReviewAuditEntry(
            seq=entry.seq,
            at=entry.at,
            home_id=home_id,
            donation_id=donation_id,
            action=action,
            actor=actor,
            details=details,
            content_hash=entry.content_hash,
            prev_hash=entry.prev_hash,
            entry_hash=entry.entry_hash,
        )
    )
    session.flush()
    return entry


def entry_of(row: ReviewAuditEntry) -> AuditEntry:
    """Return a stored entry."""
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        home_id=row.home_id,
        donation_id=row.donation_id,
        action=row.action,
        actor=row.actor,
        details=row.details,
        content_hash=row.content_hash,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


def receipt(entry: AuditEntry, signer: Signer) -> dict[str, Any]:
    """Return the signed receipt of ``entry`` for the donating hub."""
    return signed(
        {
            "content": entry.content(),
            "content_hash": entry.content_hash,
            "prev_hash": entry.prev_hash,
            "entry_hash": entry.entry_hash,
        },
        signer,
    )


def checkpoint(session: Session, signer: Signer) -> Checkpoint:
    """Return the checkpoint of the chain's head, signing a new one when the head moved since the last."""
    lock_chain(session)
    head = session.execute(
        select(ReviewAuditEntry.seq, ReviewAuditEntry.entry_hash).order_by(ReviewAuditEntry.seq.desc()).limit(1)
    ).first()
    seq, head_hash = (head.seq, head.entry_hash) if head is not None else (0, GENESIS_HASH)
    latest = session.scalar(select(ReviewCheckpoint).order_by(ReviewCheckpoint.seq.desc()).limit(1))
    if latest is not None and latest.seq == seq:
        return checkpoint_of(latest)
    at = utc_now()
    fields = signed({"seq": seq, "head_hash": head_hash, "at": iso(at)}, signer)
    row = ReviewCheckpoint(seq=seq, head_hash=head_hash, at=at, key_id=fields["key_id"], signature=fields["signature"])
    session.add(row)
    session.flush()
    return checkpoint_of(row)


def checkpoint_of(row: ReviewCheckpoint) -> Checkpoint:
    """Return a stored checkpoint."""
    return Checkpoint(seq=row.seq, head_hash=row.head_hash, at=row.at, key_id=row.key_id, signature=row.signature)


def entries_of_home(session: Session, home_id: str, after: int, limit: int) -> list[AuditEntry]:
    """Return a home's entries after ``after``, by seq (what its receipts are made of)."""
    rows = session.scalars(
        select(ReviewAuditEntry)
        .where(ReviewAuditEntry.home_id == home_id, ReviewAuditEntry.seq > after)
        .order_by(ReviewAuditEntry.seq)
        .limit(limit)
    )
    return [entry_of(row) for row in rows]


def links_after(session: Session, after: int, limit: int) -> list[tuple[int, str, str]]:
    """Return ``(seq, content_hash, entry_hash)`` of every home's entries after ``after``: hashes, no content."""
    rows = session.execute(
        select(ReviewAuditEntry.seq, ReviewAuditEntry.content_hash, ReviewAuditEntry.entry_hash)
        .where(ReviewAuditEntry.seq > after)
        .order_by(ReviewAuditEntry.seq)
        .limit(limit)
    )
    return [(row.seq, row.content_hash, row.entry_hash) for row in rows]


def first_broken_link(links: list[tuple[int, str, str]], prev_hash: str = GENESIS_HASH, after: int = 0) -> int | None:
    """Return the seq of the first ``(seq, content_hash, entry_hash)`` that does not extend the chain, else None."""
    expected_seq = after + 1
    for seq, content_hash, entry_hash in links:
        if seq != expected_seq or link_hash(prev_hash, content_hash) != entry_hash:
            return seq
        prev_hash, expected_seq = entry_hash, seq + 1
    return None
