"""Create the event and clip tables.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 15:15:33.761284
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("camera", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("sub_label", sa.String(length=128), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("alarm_reason", sa.String(length=256), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("clip_error", sa.Text(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        # Autogenerate renders SQLite's CURRENT_TIMESTAMP here; func.now() renders right on every backend.
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_event_end_not_before_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    op.create_index(op.f("ix_event_alarm"), "event", ["alarm"], unique=False)
    op.create_index(op.f("ix_event_camera"), "event", ["camera"], unique=False)
    op.create_index("ix_event_camera_start", "event", ["camera", "start"], unique=False)
    op.create_index(op.f("ix_event_label"), "event", ["label"], unique=False)
    op.create_table(
        "clip",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_clip_end_not_before_start")),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], name=op.f("fk_clip_event_id_event"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip")),
    )
    op.create_index(op.f("ix_clip_event_id"), "clip", ["event_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_clip_event_id"), table_name="clip")
    op.drop_table("clip")
    op.drop_index(op.f("ix_event_label"), table_name="event")
    op.drop_index("ix_event_camera_start", table_name="event")
    op.drop_index(op.f("ix_event_camera"), table_name="event")
    op.drop_index(op.f("ix_event_alarm"), table_name="event")
    op.drop_table("event")
