"""How the review program is laid out: donations, assignments, labels, standing rules, notices and the audit log.

A donation is a separate, redacted copy of an event's clip, sealed to the review program's key; nothing here points
into the household's own footage, so withdrawing a donation deletes its rows (labels and assignments cascade) and
shreds its copy without touching the original.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
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


class ReviewAssignment(Base):
    """A donated clip handed to one reviewer; done once they labelled or flagged it."""

    __tablename__ = "review_assignment"
    # A reviewer has at most one clip open at a time, held by the database itself so that many requests at once, of
    # one process or several, cannot hand out a second.
    __table_args__ = (
        Index(
            "uq_review_assignment_open_per_reviewer",
            "reviewer_id",
            unique=True,
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    donation_id: Mapped[str] = mapped_column(ForeignKey("donation.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewLabel(Base):
    """What a reviewer said about a donated clip: verdict, cause of a false alarm, corrected class, boxes."""

    __tablename__ = "review_label"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    donation_id: Mapped[str] = mapped_column(ForeignKey("donation.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignment.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    boxes: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


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
    # A household user's name, a reviewer's or admin's pseudonym, or "hub" / "command line".
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    home_id: Mapped[int | None] = mapped_column(Integer, index=True)
    object: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
