"""Tests that the migrations build exactly the schema the models describe."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from homewarden.accounts.store import AccountStore
from homewarden.events.record import EventRecord
from homewarden.store.database import SCHEMA_HEAD, EventStore, migration_config, schema_revision
from homewarden.store.models import Base
from homewarden.store.viewing_models import ClipShare, EventReview  # noqa: F401  (their tables in Base)


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
            "donation_rule",
            "cloud_receipt",
            "cloud_checkpoint",
            "privacy_notice",
            "audit_entry",
            "webhook",
            "webhook_delivery",
            "push_subscription",
            "password_link",
            "event_review",
            "clip_share",
            "intrusion",
        }


def test_migrations_form_a_single_line_of_revisions() -> None:
    """Two heads would make "upgrade head" ambiguous."""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            scripts = ScriptDirectory.from_config(migration_config(connection))
    finally:
        engine.dispose()

    assert scripts.get_heads() == ["0014"]
    # The shortcut that opens a current database without Alembic must name the same head.
    assert scripts.get_heads() == [SCHEMA_HEAD]


def test_names_that_clash_case_blind_are_renamed_oldest_first(database_url: str, direct_engine: Engine) -> None:
    """0007: one account per canonical name; a later clashing one becomes <name>-<id>, nobody is locked out."""
    EventStore.open(database_url).close()
    with direct_engine.begin() as connection:
        config = migration_config(connection)
        command.downgrade(config, "0006")
        connection.execute(text("INSERT INTO home (id, name) VALUES (1, 'Home')"))
        for user_id, name, role, home in [
            (1, "victim2", "member", 1),
            (2, "olivia", "owner", 1),
            (3, "VICTIM2", "member", 1),
            (4, "review.bob", "member", 1),
            (5, "Ｖｉｃｔｉｍ２", "member", 1),
            (6, "victim2-3", "member", 1),
            (7, "rosa", "reviewer", None),
        ]:
            connection.execute(
                text(
                    "INSERT INTO user_account (id, username, role, home_id, password_hash, totp_secret) "
                    "VALUES (:id, :name, :role, :home, 'hash', :secret)"
                ),
                {"id": user_id, "name": name, "role": role, "home": home, "secret": "JBSWY3DPEHPK3PXP" * 2},
            )
        command.upgrade(config, "0007")
        rows = connection.execute(text("SELECT id, username, canonical_name FROM user_account ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [
        (1, "victim2", "victim2"),
        (2, "olivia", "olivia"),
        (3, "VICTIM2-3-2", "victim2-3-2"),  # victim2-3 is someone else's name
        (4, "member-4", "member-4"),
        (5, "Ｖｉｃｔｉｍ２-5", "victim2-5"),
        (6, "victim2-3", "victim2-3"),
        (7, "rosa", "rosa"),
    ]


def test_going_back_below_0007_is_refused_while_seeds_are_sealed(database_url: str, direct_engine: Engine) -> None:
    """An older hub cannot read a sealed seed: the downgrade says so instead of leaving unreadable rows."""
    EventStore.open(database_url).close()
    with direct_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (username, canonical_name, role, password_hash, totp_secret) "
                "VALUES ('rosa', 'rosa', 'reviewer', 'hash', 'v1.c2VhbGVk')"
            )
        )
    with direct_engine.begin() as connection, pytest.raises(RuntimeError, match="sealed two-factor seed"):
        command.downgrade(migration_config(connection), "0006")


def test_0009_removes_the_review_programs_accounts_and_queue_and_keeps_the_household(
    database_url: str, direct_engine: Engine
) -> None:
    """Revision 0009: reviewers and admins go with their sessions, tokens and seeds; assignments and labels go."""
    store = EventStore.open(database_url)
    try:
        accounts = AccountStore(store.engine)
        home = accounts.create_home("A", ["front_door"])
        owner = accounts.create_user("olivia", "a password for migration tests", "owner", home).id
        owner_session = accounts.create_session(owner)[0]
        with direct_engine.begin() as connection:
            command.downgrade(migration_config(connection), "0008")
        now = datetime.now(UTC)
        with direct_engine.begin() as connection:
            for user_id, name, role in ((900, "review.rita", "reviewer"), (901, "review.adam", "admin")):
                connection.execute(
                    text(
                        "INSERT INTO user_account (id, username, canonical_name, role, home_id, password_hash, "
                        "totp_secret, pseudonym, created_at) VALUES (:id, :name, :name, :role, NULL, 'x', 'v1.seed', "
                        ":pseudonym, :now)"
                    ),
                    {"id": user_id, "name": name, "role": role, "pseudonym": f"{role[:2]}-abc", "now": now},
                )
                connection.execute(
                    text(
                        "INSERT INTO web_session (token_hash, user_id, csrf_token, created_at, last_seen_at, "
                        "expires_at) VALUES (:hash, :id, 'csrf', :now, :now, :now)"
                    ),
                    {"hash": f"{user_id:064d}", "id": user_id, "now": now},
                )
                connection.execute(
                    text(
                        "INSERT INTO api_token (user_id, name, token_hash, prefix, scopes, created_at) "
                        "VALUES (:id, 'script', :hash, 'hw_', '[]', :now)"
                    ),
                    {"id": user_id, "hash": f"{user_id:064x}", "now": now},
                )
            connection.execute(
                text(
                    "INSERT INTO donation (id, home_id, event_id, camera, label, status, mask_people, pseudonym, "
                    "retention_days, created_at, donated_at) VALUES ('d1', :home, 'e1', 'front_door', 'person', "
                    "'donated', false, 'clip-1', 90, :now, :now)"
                ),
                {"home": home, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO review_assignment (id, donation_id, reviewer_id, assigned_at, completed_at) "
                    "VALUES (1, 'd1', 900, :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO review_label (donation_id, assignment_id, verdict, label, boxes, created_at) "
                    "VALUES ('d1', 1, 'real_event', 'person', '[]', :now)"
                ),
                {"now": now},
            )
        with direct_engine.begin() as connection:
            command.upgrade(migration_config(connection), "head")
        with direct_engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert not {"review_assignment", "review_label"} & tables
            assert {"cloud_receipt", "cloud_checkpoint"} <= tables
            assert "pseudonym" not in {column["name"] for column in inspect(connection).get_columns("user_account")}
            users = connection.execute(text("SELECT username, role FROM user_account")).all()
            assert users == [("olivia", "owner")]
            sessions = connection.execute(text("SELECT user_id FROM web_session")).scalars().all()
            assert sessions == [owner]
            assert connection.execute(text("SELECT count(*) FROM api_token")).scalar() == 0
            donation = connection.execute(text("SELECT status, cloud_state FROM donation")).one()
            assert tuple(donation) == ("donated", None)
        assert accounts.session_user(owner_session) is not None
    finally:
        store.close()


def test_password_links_come_and_go_with_revision_0011(database_url: str, direct_engine: Engine) -> None:
    """0011 adds the one-time password links; going back to 0008 drops them (they are short-lived anyway)."""
    EventStore.open(database_url).close()
    with direct_engine.begin() as connection:
        config = migration_config(connection)
        connection.execute(text("INSERT INTO home (id, name) VALUES (1, 'Home')"))
        connection.execute(
            text(
                "INSERT INTO user_account (id, username, canonical_name, role, home_id, password_hash) "
                "VALUES (1, 'max', 'max', 'member', 1, '!invited')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO password_link (token_hash, user_id, purpose, created_by, created_at, expires_at) "
                "VALUES (:digest, 1, 'invite', 'olivia', :now, :now)"
            ),
            {"digest": "a" * 64, "now": datetime(2026, 12, 6, tzinfo=UTC)},
        )
        command.downgrade(config, "0008")
        assert "password_link" not in inspect(connection).get_table_names()
        command.upgrade(config, "head")
        assert connection.execute(text("SELECT count(*) FROM password_link")).scalar() == 0
        connection.execute(text("DELETE FROM user_account"))


def test_account_language_comes_and_goes_with_revision_0013(database_url: str, direct_engine: Engine) -> None:
    """0013 adds the account's language (None for existing accounts); going back to 0012 drops only that column."""
    EventStore.open(database_url).close()
    with direct_engine.begin() as connection:
        config = migration_config(connection)
        command.downgrade(config, "0012")
        assert "language" not in {column["name"] for column in inspect(connection).get_columns("user_account")}
        connection.execute(text("INSERT INTO home (id, name) VALUES (1, 'Home')"))
        connection.execute(
            text(
                "INSERT INTO user_account (id, username, canonical_name, role, home_id, password_hash) "
                "VALUES (1, 'max', 'max', 'member', 1, '!invited')"
            )
        )
        command.upgrade(config, "head")
        assert connection.execute(text("SELECT username, language FROM user_account")).one() == ("max", None)
        connection.execute(text("UPDATE user_account SET language = 'de'"))
        command.downgrade(config, "0012")
        assert connection.execute(text("SELECT username FROM user_account")).scalar() == "max"
        command.upgrade(config, "head")
        connection.execute(text("DELETE FROM user_account"))
        connection.execute(text("DELETE FROM home"))


def test_event_box_time_comes_and_goes_with_revision_0014(database_url: str, direct_engine: Engine) -> None:
    """0014 adds the event's box time (None for events stored before); going back to 0013 keeps the events."""
    with EventStore.open(database_url) as store:
        store.save_event(
            EventRecord("new", "door", "person", 0.9, 10.0, 12.0, False, (0, 0, 1, 1), None, box_time=11.5)
        )
    with direct_engine.begin() as connection:
        config = migration_config(connection)
        command.downgrade(config, "0013")
        assert "box_time" not in {column["name"] for column in inspect(connection).get_columns("event")}
        connection.execute(
            text(
                'INSERT INTO event (id, camera, label, score, start, "end", live, box, zones, alarm, source, '
                "attributes) VALUES ('old', 'door', 'cat', 0.5, 1.0, 2.0, false, '[0, 0, 1, 1]', '[]', false, '', '{}')"
            )
        )
        command.upgrade(config, "head")
    with EventStore.open(database_url) as store:
        assert {record.id: record.box_time for record in store.list_events()} == {"old": None, "new": None}
        store.save_event(EventRecord("newer", "door", "dog", 0.7, 3.0, 9.0, False, (0, 0, 1, 1), None, box_time=4.25))
        assert store.get_event("newer") == EventRecord(
            "newer", "door", "dog", 0.7, 3.0, 9.0, False, (0, 0, 1, 1), None, box_time=4.25
        )


def test_intrusions_revision_0010_links_events_and_goes_back_without_losing_them(
    database_url: str, direct_engine: Engine
) -> None:
    """Revision 0010: events link to their intrusion; going back drops the link and the table, never the events."""
    with EventStore.open(database_url) as store:
        store.save_event(
            EventRecord("e1", "door", "person", 0.9, 10.0, 12.0, False, (0, 0, 1, 1), None, intrusion_id="i1")
        )
        store.save_event(
            EventRecord(
                "e2", "door", "person", 0.8, 5.0, 20.0, False, (0, 0, 1, 1), None, alarm=True, intrusion_id="i1"
            )
        )
    inspector = inspect(direct_engine)
    assert {c["name"] for c in inspector.get_check_constraints("intrusion")} == {"ck_intrusion_end_not_before_start"}
    with direct_engine.connect() as connection:
        assert connection.execute(text('SELECT start, "end", alarm FROM intrusion')).one() == (5.0, 20.0, True)

    with direct_engine.begin() as connection:
        command.downgrade(migration_config(connection), "0008")
        assert "intrusion" not in inspect(connection).get_table_names()
        assert "intrusion_id" not in {c["name"] for c in inspect(connection).get_columns("event")}
        assert connection.execute(text("SELECT count(*) FROM event")).scalar() == 2
        command.upgrade(migration_config(connection), "head")
        assert connection.execute(text("SELECT count(*) FROM event WHERE intrusion_id IS NULL")).scalar() == 2


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
        "import sys; from homewarden.store.database import EventStore; "
        f"EventStore.open({url!r}).close(); print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
