"""Reviewed marks and share links in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select, text

from homewarden.accounts.store import AccountStore
from homewarden.store.database import EventStore
from homewarden.store.viewing import ClipShares, EventReviews, share_digest
from homewarden.store.viewing_models import ClipShare
from store.test_database import make_event

PASSWORD = "a password long enough"


def _people(store: EventStore) -> tuple[int, int]:
    accounts = AccountStore(store.engine)
    home = accounts.create_home("Home", ["front_door"])
    return (
        accounts.create_user("olivia", PASSWORD, "owner", home).id,
        accounts.create_user("max", PASSWORD, "member", home, ["front_door"]).id,
    )


def test_reviewed_marks_are_per_user_and_marking_twice_changes_nothing(database_url: str) -> None:
    with EventStore.open(database_url) as store:
        olivia, max_ = _people(store)
        first, second = make_event(), make_event()
        store.save_event(first)
        store.save_event(second)
        reviews = EventReviews(store.engine)
        reviews.mark(olivia, [first.id], True)
        reviews.mark(olivia, [first.id, second.id], True)
        assert reviews.reviewed(olivia, [first.id, second.id]) == {first.id, second.id}
        assert reviews.reviewed(max_, [first.id, second.id]) == set()
        reviews.mark(olivia, [second.id], False)
        assert reviews.reviewed(olivia, [first.id, second.id]) == {first.id}
        # Deleting the event deletes its marks (the database's cascade).
        assert store.delete_event(first.id)
        assert reviews.reviewed(olivia, [first.id]) == set()


def test_a_share_is_kept_as_a_digest_and_stops_when_revoked_or_expired(
    database_url: str, direct_engine: Engine
) -> None:
    with EventStore.open(database_url) as store:
        olivia, _ = _people(store)
        event = make_event()
        store.save_event(event)
        shares = ClipShares(store.engine)
        record, token = shares.create(event.id, 1, olivia, timedelta(hours=1))
        with direct_engine.connect() as connection:
            stored = connection.execute(select(ClipShare.token_digest)).scalars().all()
        assert stored == [share_digest(token)]
        assert token not in stored[0]
        assert shares.usable(token) == record
        assert shares.usable(token[:-1] + "x") is None
        expired, expired_token = shares.create(event.id, 0, olivia, timedelta(seconds=-1))
        assert shares.usable(expired_token) is None
        revoked = shares.revoke(event.id, record.id)
        assert revoked is not None
        assert revoked.revoked_at is not None
        assert shares.usable(token) is None
        assert shares.revoke("another-event", expired.id) is None
        assert [share.id for share in shares.of_event(event.id)] == [expired.id, record.id]
        assert store.delete_event(event.id)
        with direct_engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM clip_share")).scalar() == 0
