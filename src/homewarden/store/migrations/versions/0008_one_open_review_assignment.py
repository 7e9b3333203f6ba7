"""One open review assignment per reviewer, held by a unique partial index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("completed_at IS NULL")


def upgrade() -> None:
    """Apply this revision."""
    # Assignments handed out twice by concurrent requests before this revision: the reviewer keeps the first; the
    # others go back to the queue (an open assignment has no labels, so nothing is lost).
    op.execute(
        "DELETE FROM review_assignment WHERE completed_at IS NULL AND id NOT IN "
        "(SELECT keep FROM (SELECT MIN(id) AS keep FROM review_assignment WHERE completed_at IS NULL "
        "GROUP BY reviewer_id) AS kept)"
    )
    op.create_index(
        "uq_review_assignment_open_per_reviewer",
        "review_assignment",
        ["reviewer_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_review_assignment_open_per_reviewer", table_name="review_assignment")
