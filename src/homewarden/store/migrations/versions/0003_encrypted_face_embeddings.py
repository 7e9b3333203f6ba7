"""Encrypt face embeddings: replace the plaintext vector with AES-256-GCM ciphertext under the gallery key.

Plaintext embeddings cannot be encrypted here (the gallery key lives in the hub's key folder, not in the
database), so they are deleted: members enrolled before this revision keep their names and must be enrolled again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00.000000
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
    if op.get_bind().dialect.name == "sqlite":
        # Zero deleted content in the file, so the plaintext embeddings do not linger in free pages.
        op.execute("PRAGMA secure_delete = ON")
    op.execute("DELETE FROM face_embedding")
    with op.batch_alter_table("face_embedding") as batch:
        batch.drop_column("vector")
        batch.add_column(sa.Column("key_id", sa.String(length=16), nullable=False))
        batch.add_column(sa.Column("nonce", sa.LargeBinary(), nullable=False))
        batch.add_column(sa.Column("ciphertext", sa.LargeBinary(), nullable=False))


def downgrade() -> None:
    """Revert this revision (the encrypted embeddings are deleted: the old schema has no place for them)."""
    op.execute("DELETE FROM face_embedding")
    with op.batch_alter_table("face_embedding") as batch:
        batch.drop_column("ciphertext")
        batch.drop_column("nonce")
        batch.drop_column("key_id")
        batch.add_column(sa.Column("vector", sa.LargeBinary(), nullable=False))
