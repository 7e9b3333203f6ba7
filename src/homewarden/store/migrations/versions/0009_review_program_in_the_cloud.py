"""The review program moves to Homewarden Cloud: the hub keeps no reviewer, admin or review queue.

Reviewer and admin accounts go with their sessions, API tokens and two-factor seeds (their rows), and so do the
queue's tables (assignments, labels) and the accounts' pseudonym column, which only program accounts had. Household
accounts are untouched. A donation gains what the hub now follows of it in the cloud: the cloud's state, when its
sealed copy was sent, and when the cloud confirmed a withdrawal; receipts and checkpoints of the cloud's audit chain
get tables of their own, so `audit verify` can check them.

The donated copies themselves (``<storage>/review/``, sealed to the hub's old program key) are not reachable from a
migration: the hub re-seals them to the cloud's key, or withdraws them, when it starts (privacy/donations.py).

Downgrading brings back empty tables and columns; the removed accounts and labels do not come back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROGRAM_ACCOUNTS = "SELECT id FROM user_account WHERE role IN ('reviewer', 'admin')"
OPEN = sa.text("completed_at IS NULL")


def upgrade() -> None:
    """Apply this revision."""
    # Explicit deletes, not the foreign keys' cascades: SQLite enforces those only when a connection asks it to.
    op.execute("DELETE FROM review_label")
    op.execute("DELETE FROM review_assignment")
    for table in ("web_session", "api_token", "user_camera"):
        op.execute(f"DELETE FROM {table} WHERE user_id IN ({PROGRAM_ACCOUNTS})")
    op.execute(f"DELETE FROM user_account WHERE id IN ({PROGRAM_ACCOUNTS})")
    op.drop_index("uq_review_assignment_open_per_reviewer", table_name="review_assignment")
    op.drop_table("review_label")
    op.drop_table("review_assignment")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("pseudonym")
    with op.batch_alter_table("donation") as batch:
        batch.add_column(sa.Column("cloud_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawal_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "cloud_receipt",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_cloud_receipt")),
    )
    op.create_index(op.f("ix_cloud_receipt_donation_id"), "cloud_receipt", ["donation_id"])
    op.create_table(
        "cloud_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_checkpoint")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("cloud_checkpoint")
    op.drop_index(op.f("ix_cloud_receipt_donation_id"), table_name="cloud_receipt")
    op.drop_table("cloud_receipt")
    with op.batch_alter_table("donation") as batch:
        batch.drop_column("withdrawal_confirmed_at")
        batch.drop_column("sent_at")
        batch.drop_column("cloud_state")
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("pseudonym", sa.String(length=16), nullable=True))
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
    op.create_index(
        "uq_review_assignment_open_per_reviewer",
        "review_assignment",
        ["reviewer_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
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
