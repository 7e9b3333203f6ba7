"""The review program: donations, assignments, labels, standing rules, notices, the audit log; reviewer pseudonyms.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "donation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("camera", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mask_people", sa.Boolean(), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("object_name", sa.String(length=255), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("donated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["home_id"], ["home.id"], name=op.f("fk_donation_home_id_home"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donation")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_donation_pseudonym")),
    )
    op.create_index(op.f("ix_donation_home_id"), "donation", ["home_id"])
    op.create_index(op.f("ix_donation_event_id"), "donation", ["event_id"])
    op.create_index(op.f("ix_donation_status"), "donation", ["status"])
    op.create_table(
        "review_assignment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("donation_id", sa.String(length=36), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donation.id"], name=op.f("fk_review_assignment_donation_id_donation"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_review_assignment_reviewer_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignment")),
    )
    op.create_index(op.f("ix_review_assignment_donation_id"), "review_assignment", ["donation_id"])
    op.create_index(op.f("ix_review_assignment_reviewer_id"), "review_assignment", ["reviewer_id"])
    op.create_table(
        "review_label",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("donation_id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("boxes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donation.id"], name=op.f("fk_review_label_donation_id_donation"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignment.id"],
            name=op.f("fk_review_label_assignment_id_review_assignment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_label")),
    )
    op.create_index(op.f("ix_review_label_donation_id"), "review_label", ["donation_id"])
    op.create_index(op.f("ix_review_label_assignment_id"), "review_label", ["assignment_id"])
    op.create_table(
        "donation_rule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("camera", sa.String(length=128), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("mask_people", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_id"], ["home.id"], name=op.f("fk_donation_rule_home_id_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donation_rule")),
    )
    op.create_index(op.f("ix_donation_rule_home_id"), "donation_rule", ["home_id"])
    op.create_table(
        "privacy_notice",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("donation_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["home_id"], ["home.id"], name=op.f("fk_privacy_notice_home_id_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_notice")),
    )
    op.create_index(op.f("ix_privacy_notice_home_id"), "privacy_notice", ["home_id"])
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=True),
        sa.Column("object", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
    )
    op.create_index(op.f("ix_audit_entry_home_id"), "audit_entry", ["home_id"])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("pseudonym", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("pseudonym")
    for table in ("audit_entry", "privacy_notice", "donation_rule", "review_label", "review_assignment", "donation"):
        op.drop_table(table)
