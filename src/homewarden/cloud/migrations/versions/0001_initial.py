"""The cloud's first schema: accounts, sessions, invitations, pairing codes, homes, hubs, nonces, objects, uploads.

Revision ID: 0001
Revises:
Create Date: 2026-12-06 03:47:12.274314
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
        "cloud_blob_deletion",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cloud_blob_deletion")),
    )
    op.create_index(op.f("ix_cloud_blob_deletion_requested_at"), "cloud_blob_deletion", ["requested_at"])
    op.create_table(
        "cloud_home",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_home")),
    )
    op.create_table(
        "cloud_invitation",
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_digest", name=op.f("pk_cloud_invitation")),
    )
    op.create_table(
        "cloud_account",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_id"], ["cloud_home.id"], name=op.f("fk_cloud_account_home_id_cloud_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_account")),
        sa.UniqueConstraint("home_id", name=op.f("uq_cloud_account_home_id")),
        sa.UniqueConstraint("username_key", name=op.f("uq_cloud_account_username_key")),
    )
    op.create_table(
        "cloud_hub",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("paired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["home_id"], ["cloud_home.id"], name=op.f("fk_cloud_hub_home_id_cloud_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_hub")),
    )
    op.create_index(op.f("ix_cloud_hub_home_id"), "cloud_hub", ["home_id"])
    op.create_table(
        "cloud_multipart_upload",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("store_upload_id", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_id"],
            ["cloud_home.id"],
            name=op.f("fk_cloud_multipart_upload_home_id_cloud_home"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_multipart_upload")),
    )
    op.create_index(op.f("ix_cloud_multipart_upload_created_at"), "cloud_multipart_upload", ["created_at"])
    op.create_index(op.f("ix_cloud_multipart_upload_home_id"), "cloud_multipart_upload", ["home_id"])
    op.create_table(
        "cloud_object",
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_cloud_object_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["home_id"], ["cloud_home.id"], name=op.f("fk_cloud_object_home_id_cloud_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("home_id", "id", name=op.f("pk_cloud_object")),
    )
    op.create_index(op.f("ix_cloud_object_home_uploaded"), "cloud_object", ["home_id", "uploaded_at"])
    op.create_table(
        "cloud_pairing_code",
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["home_id"], ["cloud_home.id"], name=op.f("fk_cloud_pairing_code_home_id_cloud_home"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("code_digest", name=op.f("pk_cloud_pairing_code")),
    )
    op.create_index(op.f("ix_cloud_pairing_code_home_id"), "cloud_pairing_code", ["home_id"])
    op.create_table(
        "cloud_hub_nonce",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("hub_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["cloud_hub.id"], name=op.f("fk_cloud_hub_nonce_hub_id_cloud_hub"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_hub_nonce")),
        sa.UniqueConstraint("hub_id", "nonce", name="uq_cloud_hub_nonce_hub_id_nonce"),
    )
    op.create_index(op.f("ix_cloud_hub_nonce_seen_at"), "cloud_hub_nonce", ["seen_at"])
    op.create_table(
        "cloud_session",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["cloud_account.id"],
            name=op.f("fk_cloud_session_account_id_cloud_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_cloud_session")),
    )
    op.create_index(op.f("ix_cloud_session_account_id"), "cloud_session", ["account_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_cloud_session_account_id"), table_name="cloud_session")
    op.drop_table("cloud_session")
    op.drop_index(op.f("ix_cloud_hub_nonce_seen_at"), table_name="cloud_hub_nonce")
    op.drop_table("cloud_hub_nonce")
    op.drop_index(op.f("ix_cloud_pairing_code_home_id"), table_name="cloud_pairing_code")
    op.drop_table("cloud_pairing_code")
    op.drop_index(op.f("ix_cloud_object_home_uploaded"), table_name="cloud_object")
    op.drop_table("cloud_object")
    op.drop_index(op.f("ix_cloud_multipart_upload_home_id"), table_name="cloud_multipart_upload")
    op.drop_index(op.f("ix_cloud_multipart_upload_created_at"), table_name="cloud_multipart_upload")
    op.drop_table("cloud_multipart_upload")
    op.drop_index(op.f("ix_cloud_hub_home_id"), table_name="cloud_hub")
    op.drop_table("cloud_hub")
    op.drop_table("cloud_account")
    op.drop_table("cloud_invitation")
    op.drop_table("cloud_home")
    op.drop_index(op.f("ix_cloud_blob_deletion_requested_at"), table_name="cloud_blob_deletion")
    op.drop_table("cloud_blob_deletion")
