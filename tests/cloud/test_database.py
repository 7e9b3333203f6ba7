"""The cloud's own migrations: they build exactly the models' schema, and go down and up, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from at_once import run_at_once
from homewarden.cloud.database import VERSION_TABLE, CloudDatabase, migration_config
from homewarden.cloud.models import CloudBase
from homewarden.cloud.services import check_migrated
from homewarden.errors import UserError
from services import fresh_postgres_database

TABLES = {
    "cloud_account",
    "cloud_blob_deletion",
    "cloud_home",
    "cloud_hub",
    "cloud_hub_nonce",
    "cloud_invitation",
    "cloud_multipart_upload",
    "cloud_object",
    "cloud_pairing_code",
    "cloud_session",
    "cloud_sign_in_attempt",
    "review_assignments",
    "review_audit",
    "review_checkpoints",
    "review_donations",
    "review_labels",
    "review_media_links",
    "review_staff",
    "review_staff_sessions",
    "training_label_items",
    "training_model_donations",
    "training_models",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return an empty database: a new SQLite file (in a folder still to make), or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud' / 'cloud.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    database = CloudDatabase.open(database_url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            differences = compare_metadata(context, CloudBase.metadata)
    finally:
        database.close()

    assert differences == []


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    database = CloudDatabase.open(database_url)
    try:
        with database.engine.begin() as connection:
            config = migration_config(connection)
            command.downgrade(config, "base")
            assert set(inspect(connection).get_table_names()) == {VERSION_TABLE}
            command.upgrade(config, "head")
            assert set(inspect(connection).get_table_names()) == TABLES | {VERSION_TABLE}
    finally:
        database.close()


def test_an_unmigrated_database_is_refused_with_the_command_to_run(database_url: str) -> None:
    database = CloudDatabase.open(database_url, migrate=False)
    try:
        with pytest.raises(UserError, match="run `homewarden cloud migrate"):
            check_migrated(database)
        database.migrate()
        check_migrated(database)
    finally:
        database.close()


def test_the_migrations_form_one_line() -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            heads = ScriptDirectory.from_config(migration_config(connection)).get_heads()
    finally:
        engine.dispose()

    assert heads == ["0005"]


def test_a_database_that_cannot_be_reached_is_one_line() -> None:
    with pytest.raises(UserError, match=r"cannot migrate database postgresql\+psycopg://nobody:\*\*\*@127.0.0.1:1/x"):
        CloudDatabase.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/x")


def test_a_held_lock_is_refused_to_another_process_until_released(database_url: str) -> None:
    # Two opened databases stand for two worker processes (their own engines, connections and, on SQLite, files).
    first = CloudDatabase.open(database_url)
    second = CloudDatabase.open(database_url, migrate=False)
    try:
        with first.held("homewarden.test") as held:
            assert held
            with second.held("homewarden.test") as also:
                assert not also
            with second.held("homewarden.other") as other:
                assert other  # another name is another lock
        with second.held("homewarden.test") as after:
            assert after
    finally:
        first.close()
        second.close()


def test_cloud_processes_started_at_once_on_a_new_database_all_find_it_migrated(
    database_url: str, tmp_path: Path
) -> None:
    # Several API processes and workers started together, each migrating at start.
    code = f"from homewarden.cloud.database import CloudDatabase; CloudDatabase.open({database_url!r}).close()"

    results = run_at_once(code, 6, tmp_path)

    assert [returncode for returncode, _ in results] == [0] * 6, [error for _, error in results if error]
    database = CloudDatabase.open(database_url, migrate=False)
    try:
        check_migrated(database)
    finally:
        database.close()
