"""The household's review of events: a reviewed mark per user and event, and expiring share links for one clip.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
# 0009-0011 are other branches' of this session; the merge chains this one after the last of them.
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "event_review",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_event_review_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_review_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "event_id", name=op.f("pk_event_review")),
    )
    op.create_index(op.f("ix_event_review_event_id"), "event_review", ["event_id"])
    op.create_table(
        "clip_share",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("clip_index", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_clip_share_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_clip_share_created_by_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip_share")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_clip_share_token_digest")),
    )
    op.create_index(op.f("ix_clip_share_event_id"), "clip_share", ["event_id"])
    op.create_index(op.f("ix_clip_share_created_by"), "clip_share", ["created_by"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_clip_share_created_by"), table_name="clip_share")
    op.drop_index(op.f("ix_clip_share_event_id"), table_name="clip_share")
    op.drop_table("clip_share")
    op.drop_index(op.f("ix_event_review_event_id"), table_name="event_review")
    op.drop_table("event_review")
