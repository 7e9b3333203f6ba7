"""How the household's faces are laid out in the database: biometric data, in tables of their own.

Nothing here refers to an event and no event refers to it: deleting a member deletes every embedding of theirs
(ON DELETE CASCADE), and no table holds a stranger's face. Photos are not kept, only what was computed from them,
and that only encrypted with the gallery key, which is never in the database (``store/gallery_key.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homewarden.store.models import Base


class FaceMember(Base):
    """A household member who may be recognised."""

    __tablename__ = "face_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), server_default=func.now()
    )

    embeddings: Mapped[list[FaceEmbedding]] = relationship(
        back_populates="member",
        order_by="FaceEmbedding.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class FaceEmbedding(Base):
    """One enrolled photo's face embedding, encrypted, and which model computed it.

    ``ciphertext`` is AES-256-GCM of the embedding (float32 little-endian) under the gallery key ``key_id``, with
    this row's id, its member's id and name, and the model bound as associated data.
    """

    __tablename__ = "face_embedding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("face_member.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # The photo's file name only, so `faces list` can say what a member was enrolled from.
    photo: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC), server_default=func.now()
    )

    member: Mapped[FaceMember] = relationship(back_populates="embeddings")
