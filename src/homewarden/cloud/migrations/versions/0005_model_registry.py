"""The model registry: every trained verifier with its dataset, code, metrics, signature and state, the donations
each learned from, and the labelled items each label row gave (read once per copy).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "training_models",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("dataset_digest", sa.String(length=64), nullable=False),
        sa.Column("labels_digest", sa.String(length=64), nullable=False),
        sa.Column("manifest_key", sa.String(length=200), nullable=False),
        sa.Column("code_version", sa.String(length=32), nullable=False),
        sa.Column("features", sa.String(length=64), nullable=False),
        sa.Column("shards", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("clips", sa.Integer(), nullable=False),
        sa.Column("homes", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tainted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('candidate', 'promoted', 'tainted', 'retired')", name=op.f("ck_training_models_state_known")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_training_models")),
    )
    op.create_index(op.f("ix_training_models_state"), "training_models", ["state"])
    op.create_index(
        "uq_training_models_promoted",
        "training_models",
        ["state"],
        unique=True,
        sqlite_where=sa.text("state = 'promoted'"),
        postgresql_where=sa.text("state = 'promoted'"),
    )
    op.create_table(
        "training_model_donations",
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("home_id", sa.String(length=32), nullable=False),
        sa.Column("consent", sa.String(length=64), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["donation_id"],
            ["review_donations.donation_id"],
            name=op.f("fk_training_model_donations_donation_id_review_donations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version"],
            ["training_models.version"],
            name=op.f("fk_training_model_donations_model_version_training_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_version", "donation_id", name=op.f("pk_training_model_donations")),
    )
    op.create_index(op.f("ix_training_model_donations_donation_id"), "training_model_donations", ["donation_id"])
    op.create_table(
        "training_label_items",
        sa.Column("label_id", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("donation_id", sa.String(length=64), nullable=False),
        sa.Column("features", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["label_id"],
            ["review_labels.id"],
            name=op.f("fk_training_label_items_label_id_review_labels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("label_id", name=op.f("pk_training_label_items")),
    )
    op.create_index(op.f("ix_training_label_items_donation_id"), "training_label_items", ["donation_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_training_label_items_donation_id"), table_name="training_label_items")
    op.drop_table("training_label_items")
    op.drop_index(op.f("ix_training_model_donations_donation_id"), table_name="training_model_donations")
    op.drop_table("training_model_donations")
    op.drop_index("uq_training_models_promoted", table_name="training_models")
    op.drop_index(op.f("ix_training_models_state"), table_name="training_models")
    op.drop_table("training_models")
