"""Intrusions: person events close in time on one camera or area, linked to one row (one alarm).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
# 0009 is another branch's (issue 16 detect-small) at the time of writing: rechain on merge.
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "intrusion",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_intrusion_end_not_before_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intrusion")),
    )
    op.create_index(op.f("ix_intrusion_started_at"), "intrusion", ["started_at"])
    op.create_index(op.f("ix_intrusion_created_at"), "intrusion", ["created_at"])
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("intrusion_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            op.f("fk_event_intrusion_id_intrusion"), "intrusion", ["intrusion_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(op.f("ix_event_intrusion_id"), ["intrusion_id"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("event") as batch:
        batch.drop_index(op.f("ix_event_intrusion_id"))
        batch.drop_constraint(op.f("fk_event_intrusion_id_intrusion"), type_="foreignkey")
        batch.drop_column("intrusion_id")
    op.drop_index(op.f("ix_intrusion_created_at"), table_name="intrusion")
    op.drop_index(op.f("ix_intrusion_started_at"), table_name="intrusion")
    op.drop_table("intrusion")
