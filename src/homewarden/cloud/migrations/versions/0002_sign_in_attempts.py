"""Sign-in attempts in the database, so every API process counts the same failures.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "cloud_sign_in_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_sign_in_attempt")),
    )
    op.create_index(op.f("ix_cloud_sign_in_attempt_attempted_at"), "cloud_sign_in_attempt", ["attempted_at"])
    op.create_index("ix_cloud_sign_in_attempt_key_at", "cloud_sign_in_attempt", ["key_digest", "attempted_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_cloud_sign_in_attempt_key_at", table_name="cloud_sign_in_attempt")
    op.drop_index(op.f("ix_cloud_sign_in_attempt_attempted_at"), table_name="cloud_sign_in_attempt")
    op.drop_table("cloud_sign_in_attempt")
