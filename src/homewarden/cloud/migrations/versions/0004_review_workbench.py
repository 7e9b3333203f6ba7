"""The review workbench: reviewer and admin accounts, their sessions, assignments, labels and media links.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "review_staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pseudonym", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_seed", sa.LargeBinary(length=200), nullable=False),
        sa.Column("totp_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('reviewer', 'admin')", name=op.f("ck_review_staff_role_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_staff")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_review_staff_pseudonym")),
        sa.UniqueConstraint("username_key", name=op.f("uq_review_staff_username_key")),
    )
    op.create_table(
        "review_staff_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["review_staff.id"],
            name=op.f("fk_review_staff_sessions_staff_id_review_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_review_staff_sessions")),
    )
    op.create_index(op.f("ix_review_staff_sessions_staff_id"), "review_staff_sessions", ["staff_id"])
    op.create_index(op.f("ix_review_staff_sessions_expires_at"), "review_staff_sessions", ["expires_at"])
    op.create_table(
        "review_assignments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["donation_id"],
            ["review_donations.donation_id"],
            name=op.f("fk_review_assignments_donation_id_review_donations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["review_staff.id"],
            name=op.f("fk_review_assignments_reviewer_id_review_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignments")),
    )
    op.create_index(op.f("ix_review_assignments_donation_id"), "review_assignments", ["donation_id"])
    op.create_index("ix_review_assignments_home_assigned", "review_assignments", ["home_id", "assigned_at"])
    op.create_index("ix_review_assignments_reviewer_assigned", "review_assignments", ["reviewer_id", "assigned_at"])
    op.create_index(
        "uq_review_assignments_open_reviewer",
        "review_assignments",
        ["reviewer_id"],
        unique=True,
        sqlite_where=sa.text("completed_at IS NULL"),
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.create_table(
        "review_labels",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("boxes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignments.id"],
            name=op.f("fk_review_labels_assignment_id_review_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["donation_id"],
            ["review_donations.donation_id"],
            name=op.f("fk_review_labels_donation_id_review_donations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_labels")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_review_labels_assignment_id")),
    )
    op.create_index(op.f("ix_review_labels_donation_id"), "review_labels", ["donation_id"])
    op.create_table(
        "review_media_links",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("media_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignments.id"],
            name=op.f("fk_review_media_links_assignment_id_review_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["review_staff.id"],
            name=op.f("fk_review_media_links_reviewer_id_review_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_review_media_links")),
    )
    op.create_index(op.f("ix_review_media_links_assignment_id"), "review_media_links", ["assignment_id"])
    op.create_index(op.f("ix_review_media_links_expires_at"), "review_media_links", ["expires_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_review_media_links_expires_at"), table_name="review_media_links")
    op.drop_index(op.f("ix_review_media_links_assignment_id"), table_name="review_media_links")
    op.drop_table("review_media_links")
    op.drop_index(op.f("ix_review_labels_donation_id"), table_name="review_labels")
    op.drop_table("review_labels")
    op.drop_index("uq_review_assignments_open_reviewer", table_name="review_assignments")
    op.drop_index("ix_review_assignments_reviewer_assigned", table_name="review_assignments")
    op.drop_index("ix_review_assignments_home_assigned", table_name="review_assignments")
    op.drop_index(op.f("ix_review_assignments_donation_id"), table_name="review_assignments")
    op.drop_table("review_assignments")
    op.drop_index(op.f("ix_review_staff_sessions_expires_at"), table_name="review_staff_sessions")
    op.drop_index(op.f("ix_review_staff_sessions_staff_id"), table_name="review_staff_sessions")
    op.drop_table("review_staff_sessions")
    op.drop_table("review_staff")
