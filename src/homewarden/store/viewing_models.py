"""How the household's review of events is laid out: who has seen which event, and share links for one clip."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from homewarden.store.models import Base


class EventReview(Base):
    """One user has reviewed one event (per user: a member's review does not mark it for the owner)."""

    __tablename__ = "event_review"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True, index=True)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClipShare(Base):
    """An expiring link that serves one clip of one event to whoever holds it; stored as its SHA-256 digest."""

    __tablename__ = "clip_share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    clip_index: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
