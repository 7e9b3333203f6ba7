"""How events and their clips are laid out in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names keep migrations reproducible: without them each backend invents its own, and
# a later migration could not drop or alter a constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base holding the store's metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Event(Base):
    """A finished event: one tracked object from its first to its last detection."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_camera_start", "camera", "start"),
        CheckConstraint('"end" >= start', name="end_not_before_start"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera: Mapped[str] = mapped_column(String(128), index=True)
    label: Mapped[str] = mapped_column(String(64), index=True)
    sub_label: Mapped[str | None] = mapped_column(String(128))
    score: Mapped[float] = mapped_column(Float)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    # When the box and the snapshot were seen, on the clock of start and end (migration 0014; None before it).
    box_time: Mapped[float | None] = mapped_column(Float)
    live: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    box: Mapped[list[int]] = mapped_column(JSON)
    zones: Mapped[list[str]] = mapped_column(JSON)
    snapshot: Mapped[str | None] = mapped_column(Text)
    alarm: Mapped[bool] = mapped_column(Boolean, index=True)
    alarm_reason: Mapped[str | None] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(Text)
    clip_error: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON)
    # The intrusion a person event belongs to (migration 0010); an intrusion outlives none of its events' deletions.
    intrusion_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("intrusion.id", ondelete="SET NULL"), index=True
    )
    # Set in Python as well because SQLite's CURRENT_TIMESTAMP has whole-second resolution, and events
    # stored within the same second must still list in the order they were stored.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), server_default=func.now()
    )

    clips: Mapped[list[Clip]] = relationship(
        back_populates="event",
        order_by="Clip.seq",
        cascade="all, delete-orphan",
        # The database's ON DELETE CASCADE removes the clips; loading them only to delete them wastes a query.
        passive_deletes=True,
    )


class Clip(Base):
    """One MP4 file covering part of an event."""

    __tablename__ = "clip"
    __table_args__ = (CheckConstraint('"end" >= start', name="end_not_before_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), ForeignKey("event.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)

    event: Mapped[Event] = relationship(back_populates="clips")


class Intrusion(Base):
    """People seen close together in time on one camera or area: one alarm, its events linked to it."""

    __tablename__ = "intrusion"
    __table_args__ = (CheckConstraint('"end" >= start', name="end_not_before_start"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    live: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    alarm: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), server_default=func.now(), index=True
    )
