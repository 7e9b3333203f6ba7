"""`homewarden users list|remove|reset-password` on a real database."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cli.conftest import PASSWORD, accounts_of, run


@pytest.fixture
def household(hub_config: Path) -> Path:
    """Give the config's home an owner, a member with one camera and a member with none."""
    store, accounts = accounts_of(hub_config)
    with store:
        home = accounts.ensure_home("Home", ["front_door", "garden"])
        accounts.create_user("olga", PASSWORD, "owner", home)
        accounts.create_user("max", PASSWORD, "member", home, ["garden"])
        accounts.create_user("lena", PASSWORD, "member", home)
    return hub_config


def test_list_shows_every_account(household: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "users", "list", "--config", str(household))

    assert (code, err) == (0, "")
    assert [line.split(maxsplit=2)[:2] for line in out.splitlines()] == [
        ["olga", "owner"],
        ["max", "member"],
        ["lena", "member"],
    ]
    assert out.splitlines()[1].endswith("password only  garden")
    assert out.splitlines()[2].endswith("no cameras yet")


def test_list_as_json(household: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "users", "list", "--config", str(household), "--json")

    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert rows[1] == {
        "username": "max",
        "role": "member",
        "home_id": 1,
        "cameras": ["garden"],
        "two_factor": False,
        "password_set": True,
    }


def test_an_invited_member_is_listed_as_waiting_for_a_password(
    household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, accounts = accounts_of(household)
    with store:
        accounts.invite_member("nina", 1, ["front_door"], "olga")

    code, out, _ = run(capsys, "users", "list", "--config", str(household))

    assert code == 0
    nina = next(line for line in out.splitlines() if line.startswith("nina"))
    assert nina.split() == ["nina", "member", "no", "password", "yet", "front_door"]


def test_remove_a_member_ends_their_sessions(household: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store, accounts = accounts_of(household)
    with store:
        max_id = accounts.user_named("max").id  # type: ignore[union-attr]
        token, _ = accounts.create_session(max_id)

    code, out, _ = run(capsys, "users", "remove", "MAX", "--config", str(household))

    assert (code, out) == (0, "removed member max; their sessions and API tokens no longer work\n")
    store, accounts = accounts_of(household)
    with store:
        assert accounts.user_named("max") is None
        assert accounts.session_user(token) is None


def test_the_only_owner_is_not_removed(household: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "users", "remove", "olga", "--config", str(household))

    assert (code, err) == (2, "homewarden: error: olga is the home's only owner; nothing was removed\n")


def test_removing_nobody_is_an_error(household: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "users", "remove", "nobody", "--config", str(household))

    assert (code, err) == (2, "homewarden: error: no user named 'nobody' (`homewarden users list` shows them)\n")


def test_reset_password_signs_the_member_out(
    household: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, accounts = accounts_of(household)
    with store:
        max_id = accounts.user_named("max").id  # type: ignore[union-attr]
        token, _ = accounts.create_session(max_id)
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))

    code, out, _ = run(capsys, "users", "reset-password", "max", "--passphrase-stdin", "--config", str(household))

    assert (code, out) == (0, "new password set for member max: 1 session signed out, 0 API tokens revoked\n")
    store, accounts = accounts_of(household)
    with store:
        assert accounts.session_user(token) is None
        assert accounts.authenticate("max", PASSWORD) is None
        assert accounts.authenticate("max", "a brand new password") is not None


def test_an_owners_password_is_the_passphrase_and_is_not_reset_here(
    household: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "users", "reset-password", "olga", "--passphrase-stdin", "--config", str(household))

    assert code == 2
    assert err.startswith("homewarden: error: an owner's password is the home passphrase: use `homewarden keys")


def test_a_weak_new_password_changes_nothing(
    household: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))

    code, _, err = run(capsys, "users", "reset-password", "max", "--passphrase-stdin", "--config", str(household))

    assert code == 2
    assert err.startswith("homewarden: error: ")
    store, accounts = accounts_of(household)
    with store:
        assert accounts.authenticate("max", PASSWORD) is not None
