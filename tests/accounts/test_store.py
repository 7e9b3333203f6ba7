"""Accounts on a real SQLite database: sessions expire, passwords and names are checked, throttling forgets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import SESSION_IDLE, SESSION_LIFETIME, AccountError, AccountStore
from homewarden.accounts.throttle import FAILURES_PER_USER, WINDOW_SECONDS, SignInThrottle
from homewarden.store import EventStore

PASSWORD = "a long enough password"


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[AccountStore]:
    """Yield the account store of a fresh database with one home of two cameras."""
    store = EventStore.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        accounts = AccountStore(store.engine)
        accounts.ensure_home("Home", ["front", "garden"])
        yield accounts
    finally:
        store.close()


def test_sessions_end_when_idle_or_old(accounts: AccountStore) -> None:
    user = accounts.create_user("olivia", PASSWORD, "owner", 1)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    token, csrf = accounts.create_session(user.id, now=start)
    found = accounts.session_user(token, now=start + timedelta(hours=1))
    assert found is not None
    assert found[1] == csrf
    assert accounts.session_user(token, now=start + timedelta(hours=1) + SESSION_IDLE) is None
    assert accounts.session_user(token, now=start + timedelta(hours=2)) is None  # deleted, not only refused

    token, _ = accounts.create_session(user.id, now=start)
    moment = start
    while moment < start + SESSION_LIFETIME - timedelta(hours=11):
        moment += timedelta(hours=11)
        assert accounts.session_user(token, now=moment) is not None
    assert accounts.session_user(token, now=start + SESSION_LIFETIME) is None


def test_owners_see_every_camera_members_only_theirs(accounts: AccountStore) -> None:
    owner = accounts.create_user("olivia", PASSWORD, "owner", 1)
    member = accounts.create_user("max", PASSWORD, "member", 1, ["garden"])
    assert owner.cameras == ("front", "garden")
    assert member.cameras == ("garden",)
    assert accounts.set_cameras(member.id, ["front"]).cameras == ("front",)
    with pytest.raises(AccountError, match="no such camera"):
        accounts.set_cameras(member.id, ["shed"])
    with pytest.raises(AccountError, match="owners see every camera"):
        accounts.set_cameras(owner.id, ["front"])


def test_bad_names_passwords_and_roles_are_refused(accounts: AccountStore) -> None:
    accounts.create_user("olivia", PASSWORD, "owner", 1)
    with pytest.raises(AccountError, match="taken"):
        accounts.create_user("olivia", PASSWORD, "member", 1)
    with pytest.raises(AccountError, match="no spaces"):
        accounts.create_user("two words", PASSWORD, "member", 1)
    with pytest.raises(WeakPasswordError):
        accounts.create_user("max", "short", "member", 1)
    with pytest.raises(AccountError, match="cannot have a home"):
        accounts.create_user("rita", PASSWORD, "reviewer", 1)
    with pytest.raises(AccountError, match="needs a home"):
        accounts.create_user("max", PASSWORD, "member", None)
    assert accounts.authenticate("olivia", "wrong password here") is None
    assert accounts.authenticate("nobody", PASSWORD) is None
    assert accounts.authenticate("olivia", PASSWORD) is not None


def test_throttle_counts_per_name_and_address_and_forgets_after_the_window() -> None:
    now = [1000.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    for _ in range(FAILURES_PER_USER):
        assert throttle.retry_after("olivia", "10.0.0.1") == 0
        throttle.failed("olivia", "10.0.0.1")
    assert throttle.retry_after("Olivia", "10.0.0.9") == pytest.approx(WINDOW_SECONDS)
    assert throttle.retry_after("max", "10.0.0.1") == 0  # the address has 5 of its 20
    now[0] += WINDOW_SECONDS
    assert throttle.retry_after("olivia", "10.0.0.1") == 0
    for index in range(20):
        throttle.failed(f"user{index}", "10.0.0.2")
    assert throttle.retry_after("someone-else", "10.0.0.2") > 0
    throttle.succeeded("someone-else")
    assert throttle.retry_after("someone-else", "10.0.0.2") > 0
