"""Tests that the migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect

from homewarden.store import EventStore
from homewarden.store.database import migration_config
from homewarden.store.models import Base


def test_migrated_schema_matches_the_models(database_url: str, direct_engine: Engine) -> None:
    """After upgrading to head, autogenerate finds nothing left to migrate."""
    EventStore.open(database_url).close()

    with direct_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_migrated_schema_has_the_check_constraints(database_url: str, direct_engine: Engine) -> None:
    """Autogenerate ignores check constraints, so check the migration created them."""
    EventStore.open(database_url).close()

    inspector = inspect(direct_engine)
    for table in ("event", "clip"):
        names = {constraint["name"] for constraint in inspector.get_check_constraints(table)}
        assert names == {f"ck_{table}_end_not_before_start"}


def test_downgrade_to_base_removes_the_tables_and_upgrade_restores_them(
    database_url: str, direct_engine: Engine
) -> None:
    """Every revision can be reverted and re-applied."""
    EventStore.open(database_url).close()

    with direct_engine.begin() as connection:
        config = migration_config(connection)
        command.downgrade(config, "base")
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        command.upgrade(config, "head")
        assert set(inspect(connection).get_table_names()) == {
            "alembic_version",
            "event",
            "clip",
            "face_member",
            "face_embedding",
            "home",
            "home_camera",
            "user_account",
            "user_camera",
            "web_session",
            "api_token",
            "donation",
            "review_assignment",
            "review_label",
            "donation_rule",
            "privacy_notice",
            "audit_entry",
            "webhook",
            "webhook_delivery",
            "push_subscription",
        }


def test_migrations_form_a_single_line_of_revisions() -> None:
    """Two heads would make "upgrade head" ambiguous."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            scripts = ScriptDirectory.from_config(migration_config(connection))
    finally:
        engine.dispose()

    assert scripts.get_heads() == ["0006"]
