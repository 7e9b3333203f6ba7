"""The review program: donated copies, its hash-chained audit log and the log's signed checkpoints.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "review_donations",
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=19), nullable=True),
        sa.Column("object_key", sa.String(length=200), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("size IS NULL OR size >= 0", name=op.f("ck_review_donations_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["home_id"], ["cloud_home.id"], name=op.f("fk_review_donations_home_id_cloud_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("donation_id", name=op.f("pk_review_donations")),
    )
    op.create_index(op.f("ix_review_donations_home_id"), "review_donations", ["home_id"])
    op.create_index(op.f("ix_review_donations_key_id"), "review_donations", ["key_id"])
    op.create_index("ix_review_donations_state_expires_at", "review_donations", ["state", "expires_at"])
    op.create_table(
        "review_audit",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_review_audit")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_review_audit_entry_hash")),
    )
    op.create_index(op.f("ix_review_audit_donation_id"), "review_audit", ["donation_id"])
    op.create_index("ix_review_audit_home_id_seq", "review_audit", ["home_id", "seq"])
    op.create_table(
        "review_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=19), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_review_checkpoints")),
    )
    op.create_index(op.f("ix_review_checkpoints_at"), "review_checkpoints", ["at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_review_checkpoints_at"), table_name="review_checkpoints")
    op.drop_table("review_checkpoints")
    op.drop_index("ix_review_audit_home_id_seq", table_name="review_audit")
    op.drop_index(op.f("ix_review_audit_donation_id"), table_name="review_audit")
    op.drop_table("review_audit")
    op.drop_index("ix_review_donations_state_expires_at", table_name="review_donations")
    op.drop_index(op.f("ix_review_donations_key_id"), table_name="review_donations")
    op.drop_index(op.f("ix_review_donations_home_id"), table_name="review_donations")
    op.drop_table("review_donations")
