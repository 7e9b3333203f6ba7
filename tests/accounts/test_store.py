"""Accounts on a real SQLite database: sessions expire, passwords and names are checked, throttling forgets."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import create_engine, text

from homewarden.accounts.passwords import WeakPasswordError
from homewarden.accounts.store import (
    SESSION_IDLE,
    SESSION_LIFETIME,
    AccountError,
    AccountStore,
    WrongCredentialsError,
)
from homewarden.accounts.throttle import FAILURES_PER_USER, WINDOW_SECONDS, SignInThrottle
from homewarden.i18n import use_language
from homewarden.store.account_secrets import ACCOUNT_SECRETS_KEY_NAME, AccountSecretKeyFile
from homewarden.store.database import EventStore

PASSWORD = "a long enough password"


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[AccountStore]:
    """Yield the account store of a fresh database with one home of two cameras."""
    store = EventStore.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        accounts = AccountStore(store.engine, AccountSecretKeyFile.in_folder(tmp_path))
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
    with pytest.raises(AccountError, match="taken"):
        accounts.create_user("OLIVIA", PASSWORD, "member", 1)
    with pytest.raises(AccountError, match="spaces"):
        accounts.create_user("two words", PASSWORD, "member", 1)
    with pytest.raises(WeakPasswordError):
        accounts.create_user("max", "short", "member", 1)
    with pytest.raises(AccountError, match="needs a home"):
        accounts.create_user("max", PASSWORD, "member", None)
    assert accounts.authenticate("olivia", "wrong password here") is None
    assert accounts.authenticate("nobody", PASSWORD) is None
    assert accounts.authenticate("olivia", PASSWORD) is not None
    assert accounts.authenticate("  ＯＬＩＶＩＡ ", PASSWORD) is not None  # the one canonical name


def test_household_names_stay_out_of_the_review_programs_old_name_space(accounts: AccountStore) -> None:
    with pytest.raises(AccountError, match="belong to review-program accounts"):
        accounts.create_user("Review.max", PASSWORD, "member", 1)
    assert accounts.create_user("max", PASSWORD, "member", 1).username == "max"


def test_a_new_password_ends_the_other_sessions_and_renews_this_one(accounts: AccountStore) -> None:
    user = accounts.create_user("olivia", PASSWORD, "owner", 1)
    current, _ = accounts.create_session(user.id)
    other, _ = accounts.create_session(user.id)
    _, token = accounts.create_token(user.id, "ha", ["events:read"])
    with pytest.raises(WrongCredentialsError):
        accounts.change_password(user.id, "not the password", "another long password", session_token=current)
    assert accounts.session_user(other) is not None

    changed = accounts.change_password(user.id, PASSWORD, "another long password", session_token=current)
    assert (changed.sessions_ended, changed.tokens_revoked) == (1, 0)
    assert changed.session is not None
    assert accounts.session_user(changed.session[0]) is not None
    assert accounts.session_user(current) is None  # rotated: a copied cookie stops working
    assert accounts.session_user(other) is None
    assert accounts.token_user(token) is not None

    reset = accounts.reset_password(user.id, "a third long password", revoke_tokens=True)
    assert (reset.sessions_ended, reset.tokens_revoked, reset.session) == (1, 1, None)
    assert accounts.token_user(token) is None
    assert accounts.authenticate("olivia", "a third long password") is not None


def test_totp_changes_need_the_password_and_a_current_code(accounts: AccountStore, tmp_path: Path) -> None:
    user = accounts.create_user("olivia", PASSWORD, "owner", 1)
    with pytest.raises(WrongCredentialsError, match="password"):
        accounts.start_totp(user.id, "not the password")
    secret = accounts.start_totp(user.id, PASSWORD)
    accounts.confirm_totp(user.id, pyotp.TOTP(secret).now())
    with pytest.raises(WrongCredentialsError, match="current code"):
        accounts.start_totp(user.id, PASSWORD)  # replacing needs a code of the secret in use
    with pytest.raises(WrongCredentialsError, match="password"):
        accounts.disable_totp(user.id, "not the password", pyotp.TOTP(secret).now())
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    replacement = accounts.start_totp(user.id, PASSWORD, next_code)
    assert replacement != secret
    assert (tmp_path / ACCOUNT_SECRETS_KEY_NAME).stat().st_mode & 0o777 == 0o600


def test_seeds_are_sealed_bound_to_their_row_and_old_clear_ones_sealed_once(
    accounts: AccountStore, tmp_path: Path
) -> None:
    first = accounts.create_user("olivia", PASSWORD, "owner", 1)
    second = accounts.create_user("max", PASSWORD, "member", 1)
    secret = pyotp.random_base32()
    accounts.set_totp_secret(first.id, secret)
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with engine.begin() as connection:
            stored = connection.execute(text("SELECT totp_secret FROM user_account WHERE id = :id"), {"id": first.id})
            sealed = stored.scalar_one()
            assert secret not in sealed
            # Copied into another row, the sealed seed does not open.
            moved = {"value": sealed, "id": second.id}
            connection.execute(text("UPDATE user_account SET totp_secret = :value WHERE id = :id"), moved)
        with pytest.raises(AccountError, match="cannot be read"):
            accounts.check_totp(second.id, pyotp.TOTP(secret).now())
        with engine.begin() as connection:
            clear = {"value": secret, "id": second.id}
            connection.execute(text("UPDATE user_account SET totp_secret = :value WHERE id = :id"), clear)
        assert accounts.seal_clear_secrets() == 1
        assert accounts.seal_clear_secrets() == 0
        assert accounts.check_totp(second.id, pyotp.TOTP(secret).now())
    finally:
        engine.dispose()


def test_throttle_counts_per_name_and_address_and_forgets_after_the_window() -> None:
    now = [1000.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    for _ in range(FAILURES_PER_USER):
        assert throttle.retry_after("olivia", "10.0.0.1") == 0
        throttle.failed("olivia", "10.0.0.1")
    assert throttle.retry_after("Olivia", "10.0.0.9") == pytest.approx(WINDOW_SECONDS)
    assert throttle.retry_after("ＯＬＩＶＩＡ", "10.0.0.9") == pytest.approx(WINDOW_SECONDS)
    assert throttle.retry_after("max", "10.0.0.1") == 0  # the address has 5 of its 20
    now[0] += WINDOW_SECONDS
    assert throttle.retry_after("olivia", "10.0.0.1") == 0
    for index in range(20):
        throttle.failed(f"user{index}", "10.0.0.2")
    assert throttle.retry_after("someone-else", "10.0.0.2") > 0
    throttle.succeeded("someone-else")
    assert throttle.retry_after("someone-else", "10.0.0.2") > 0


def test_a_password_link_is_used_once_even_by_two_requests_at_the_same_moment(accounts: AccountStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user = accounts.create_user("max", None, "member", 1, ["front"])
    token, _ = accounts.new_password_link(user.id, "invite", "olivia")

    def use(password: str) -> str:
        try:
            accounts.use_password_link(token, password)
        except AccountError:
            return "refused"
        return password

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(use, [f"racing password number {n}" for n in range(4)]))

    winners = [outcome for outcome in outcomes if outcome != "refused"]
    assert len(winners) == 1, outcomes
    assert accounts.authenticate("max", winners[0]) is not None
    assert accounts.password_link(token) is None


def test_a_link_is_only_a_digest_in_the_database_and_dies_with_its_user(accounts: AccountStore, tmp_path: Path) -> None:
    user = accounts.create_user("max", None, "member", 1, ["front"])
    token, _ = accounts.new_password_link(user.id, "invite", "olivia")
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT token_hash FROM password_link")).scalars().all()
        assert stored == [hashlib.sha256(token.encode()).hexdigest()]
        accounts.delete_user(user.id)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM password_link")).scalar() == 0
    finally:
        engine.dispose()


def test_an_account_without_a_password_signs_in_with_none(accounts: AccountStore) -> None:
    accounts.create_user("max", None, "member", 1, ["front"])

    assert [accounts.authenticate("max", guess) for guess in ("!", "", PASSWORD)] == [None, None, None]
    assert accounts.user_named("max").password_set is False  # type: ignore[union-attr]


def test_an_unknown_language_is_refused_in_the_callers_language(accounts: AccountStore) -> None:
    user = accounts.create_user("olivia", PASSWORD, "owner", 1)
    with pytest.raises(AccountError, match=r"^unknown language 'fr': choose one of en, de$"):
        accounts.set_language(user.id, "fr")
    with (
        use_language("de"),
        pytest.raises(AccountError, match=r"^unbekannte Sprache 'fr': wählen Sie eine von en, de$"),
    ):
        accounts.set_language(user.id, "fr")
    assert accounts.language_of(user.id) is None
