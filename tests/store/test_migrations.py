"""Tests that the migrations build exactly the schema the models describe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect

from homewarden.store import EventStore
from homewarden.store.database import SCHEMA_HEAD, migration_config, schema_revision
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
    # The shortcut that opens a current database without Alembic must name the same head.
    assert scripts.get_heads() == [SCHEMA_HEAD]


def test_a_database_behind_the_head_is_migrated_when_opened(database_url: str, direct_engine: Engine) -> None:
    """A database one migration behind is brought up to date (the skip applies only at the head)."""
    EventStore.open(database_url).close()
    with direct_engine.begin() as connection:
        command.downgrade(migration_config(connection), "0005")
        assert schema_revision(connection) == "0005"

    EventStore.open(database_url).close()

    with direct_engine.connect() as connection:
        assert schema_revision(connection) == SCHEMA_HEAD
        assert "push_subscription" in inspect(connection).get_table_names()


def test_opening_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    """Every start of `analyze` opens the database: one already at the head is opened with SQLAlchemy alone."""
    url = f"sqlite:///{tmp_path / 'events.db'}"
    EventStore.open(url).close()
    check = (
        "import sys; from homewarden.store import EventStore; "
        f"EventStore.open({url!r}).close(); print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
