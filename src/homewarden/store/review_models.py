"""How the hub's side of the review program is laid out: donations, standing rules, notices, the audit log, and
the receipts and checkpoints of the cloud's audit chain.

A donation is a separate, redacted copy of an event's clip; the hub keeps its consent record, metadata and state,
while the copy itself travels sealed to the review program's key to Homewarden Cloud. Nothing here points into the
household's own footage.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from homewarden.store.models import Base


def _now() -> datetime:
    return datetime.now(UTC)


class Donation(Base):
    """A clip an owner donated (or is about to): its redacted copy, its state and its retention."""

    __tablename__ = "donation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    # The event the copy was made from; not a foreign key, because retention may delete the event while the
    # donation, which the owner consented to separately, stays until it is withdrawn or expires.
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    camera: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    mask_people: Mapped[bool] = mapped_column(Boolean)
    # What reviewers know the clip by: random, so it says nothing about the home or the event.
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    object_name: Mapped[str | None] = mapped_column(String(255))
    duration: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    retention_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    rule_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    donated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the cloud last said of the copy (screening, queued, withdrawn, ...); None before it arrived there.
    cloud_state: Mapped[str | None] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the cloud acknowledged the withdrawal (or expiry): only then is the owner told it is done.
    withdrawal_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DonationRule(Base):
    """A standing donation rule the owner made (there are none unless the owner makes one)."""

    __tablename__ = "donation_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    camera: Mapped[str | None] = mapped_column(String(128))
    trigger: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(64))
    mask_people: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PrivacyNotice(Base):
    """Something the owner must be told: a donation refused by screening, flagged by a reviewer, or expired."""

    __tablename__ = "privacy_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("home.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    donation_id: Mapped[str | None] = mapped_column(String(36))


class AuditEntry(Base):
    """One access to media (or a refused attempt), chained to the entry before it by its hash."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_role: Mapped[str] = mapped_column(String(16))
    # A household user's name, a cloud reviewer's pseudonym ("reviewer:r_..."), or "hub" / "command line" / "cloud".
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    home_id: Mapped[int | None] = mapped_column(Integer, index=True)
    object: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CloudReceipt(Base):
    """A receipt the cloud signed for one entry of its audit chain about this home's donation, as received."""

    __tablename__ = "cloud_receipt"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    home_id: Mapped[int] = mapped_column(Integer)
    donation_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    entry_hash: Mapped[str] = mapped_column(String(64))
    # The receipt exactly as the cloud sent it (canonical JSON), so its signature can be checked again at any time.
    document: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CloudCheckpoint(Base):
    """A signed checkpoint of the cloud's audit chain, with the links from the previous one kept to check it."""

    __tablename__ = "cloud_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    # JSON list of [seq, content_hash, entry_hash] from the previous checkpoint's seq + 1 to this one's seq.
    links: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
