"""An event's box time: the moment of its best view, when its box and snapshot were seen (None for older events).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("box_time", sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("event") as batch:
        batch.drop_column("box_time")
