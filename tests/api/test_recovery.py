"""Invitations and password resets by one-time link, and the owner's recovery with the recovery key, over the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.conftest import MEMBER_PASSWORD, OWNER_PASSWORD, Hub, csrf_of, sign_in
from homewarden.accounts.store import LINK_LIFETIMES
from homewarden.api.recovery import INVALID_LINK
from homewarden.store.keys import HomeKeyFile

NEW_PASSWORD = "the member's own password"


@pytest.fixture
def owner(hub: Hub) -> tuple[TestClient, str]:
    """Set up the owner; return their client and the recovery key setup showed once."""
    client = hub.client()
    answer = client.post(
        "/api/setup", json={"token": hub.services.setup.token, "username": "olivia", "password": OWNER_PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return client, answer.json()["recovery_key"]


def invite(client: TestClient, username: str, cameras: list[str], **extra: object) -> dict[str, object]:
    answer = client.post(
        "/api/members/invite", json={"username": username, "cameras": cameras, **extra}, headers=csrf_of(client)
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def token_of(link: object) -> str:
    page, _, token = str(link).partition("#")
    assert page == "/set-password"
    return token


def test_an_invited_member_picks_a_password_on_the_link_once(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    invited = invite(client, "max", ["garden"])
    token = token_of(invited["link"])
    assert invited["user"] == {  # type: ignore[comparison-overlap]
        "id": invited["user"]["id"],  # type: ignore[index]
        "username": "max",
        "role": "member",
        "home_id": 1,
        "totp_enabled": False,
        "cameras": ["garden"],
        "password_set": False,
    }
    anonymous = hub.client()

    shown = anonymous.post("/api/password-links/check", json={"token": token})
    weak = anonymous.post("/api/password-links/use", json={"token": token, "password": "short"})
    used = anonymous.post("/api/password-links/use", json={"token": token, "password": NEW_PASSWORD})
    again = anonymous.post("/api/password-links/use", json={"token": token, "password": "another password here"})

    assert shown.status_code == 200
    assert {key: shown.json()[key] for key in ("username", "purpose", "invited_by")} == {
        "username": "max",
        "purpose": "invite",
        "invited_by": "olivia",
    }
    assert weak.status_code == 400, "a weak password does not use the link up"
    assert (used.status_code, used.json()["detail"]) == (200, "password set: sign in as max")
    assert (again.status_code, again.json()["detail"]) == (404, INVALID_LINK)
    member = sign_in(hub, "max", NEW_PASSWORD)
    assert member.get("/api/me").json()["cameras"] == ["garden"]
    actions = [entry.action for entry in hub.services.audit.entries(home_id=1)]  # type: ignore[union-attr]
    assert {"member_invited", "invite_accepted"} <= set(actions)


def test_the_token_is_stored_only_as_a_digest(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    token = token_of(invite(client, "max", ["garden"])["link"])

    database = (Path(hub.folder) / "data" / "homewarden.db").read_bytes()

    assert token.encode() not in database


def test_before_choosing_a_password_an_invited_member_cannot_sign_in(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    invite(client, "max", ["garden"])

    for password in ("!", "", MEMBER_PASSWORD):
        refused = hub.client().post("/api/auth/login", json={"username": "max", "password": password})
        assert refused.status_code == 401


def test_inviting_without_cameras_asks_to_confirm(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner

    refused = client.post("/api/members/invite", json={"username": "lena", "cameras": []}, headers=csrf_of(client))
    confirmed = invite(client, "lena", [], confirm_no_cameras=True)

    assert refused.status_code == 400
    assert refused.json()["detail"] == (
        "no camera picked: lena would see nothing until you give access; pick cameras, or confirm that they start "
        "with none"
    )
    assert confirmed["user"]["cameras"] == []  # type: ignore[index]
    home = client.get("/api/home").json()
    assert home["owners"] == ["olivia"]


def test_adding_a_member_with_a_password_and_no_cameras_asks_to_confirm(
    hub: Hub, owner: tuple[TestClient, str]
) -> None:
    client, _ = owner
    body = {"username": "lena", "password": MEMBER_PASSWORD, "cameras": []}

    refused = client.post("/api/members", json=body, headers=csrf_of(client))
    nobody = [user["username"] for user in client.get("/api/members").json()]
    confirmed = client.post("/api/members", json={**body, "confirm_no_cameras": True}, headers=csrf_of(client))

    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("no camera picked: lena would see nothing until you give access")
    assert "lena" not in nobody
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["cameras"] == []
    member = sign_in(hub, "lena", MEMBER_PASSWORD)
    assert member.get("/api/home").json()["cameras"] == []


def test_a_reset_link_ends_the_members_sessions_and_password_at_once(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    invited = invite(client, "max", ["garden"])
    hub.client().post("/api/password-links/use", json={"token": token_of(invited["link"]), "password": NEW_PASSWORD})
    member = sign_in(hub, "max", NEW_PASSWORD)
    member_id = invited["user"]["id"]  # type: ignore[index]

    reset = client.post(f"/api/members/{member_id}/reset-link", headers=csrf_of(client))

    assert reset.status_code == 201, reset.text
    assert member.get("/api/me").status_code == 401, "the member's session ended with the reset"
    assert hub.client().post("/api/auth/login", json={"username": "max", "password": NEW_PASSWORD}).status_code == 401
    token = token_of(reset.json()["link"])
    assert hub.client().post("/api/password-links/check", json={"token": token}).json()["purpose"] == "reset"
    used = hub.client().post("/api/password-links/use", json={"token": token, "password": "a fresh start password"})
    assert used.status_code == 200
    sign_in(hub, "max", "a fresh start password")


def test_a_newer_link_replaces_the_older_one(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    invited = invite(client, "max", ["garden"])
    first = token_of(invited["link"])

    second = client.post(f"/api/members/{invited['user']['id']}/reset-link", headers=csrf_of(client))  # type: ignore[index]

    assert hub.client().post("/api/password-links/check", json={"token": first}).status_code == 404
    assert hub.client().post("/api/password-links/check", json={"token": token_of(second.json()["link"])}).is_success


def test_an_expired_link_is_refused(hub: Hub, owner: tuple[TestClient, str]) -> None:
    from datetime import UTC, datetime

    accounts = hub.services.accounts
    user = accounts.create_user("max", None, "member", 1, ["garden"])
    token, expires_at = accounts.new_password_link(
        user.id, "invite", "olivia", now=datetime.now(UTC) - LINK_LIFETIMES["invite"]
    )

    assert expires_at <= datetime.now(UTC)
    assert hub.client().post("/api/password-links/check", json={"token": token}).status_code == 404
    refused = hub.client().post("/api/password-links/use", json={"token": token, "password": NEW_PASSWORD})
    assert (refused.status_code, refused.json()["detail"]) == (404, INVALID_LINK)


def test_a_members_reset_link_is_the_owners_to_make(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    invited = invite(client, "max", ["garden"])
    hub.client().post("/api/password-links/use", json={"token": token_of(invited["link"]), "password": NEW_PASSWORD})
    member = sign_in(hub, "max", NEW_PASSWORD)
    owner_id = client.get("/api/me").json()["id"]

    refused = member.post(f"/api/members/{owner_id}/reset-link", headers=csrf_of(member))
    owners_own = client.post(f"/api/members/{owner_id}/reset-link", headers=csrf_of(client))

    assert refused.status_code == 403
    assert owners_own.status_code == 404, "an owner's password is the home passphrase: recovered, not reset"


def test_the_owner_recovers_with_the_recovery_key_in_the_browser(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, recovery_key = owner
    new = "a new passphrase after losing mine"

    recovered = hub.client().post("/api/recover", json={"recovery_key": recovery_key, "new_password": new})

    assert (recovered.status_code, recovered.json()["detail"]) == (
        200,
        "new passphrase set: sign in with it; the recovery key still works",
    )
    assert client.get("/api/me").status_code == 401, "every session of the owner ended"
    again = sign_in(hub, "olivia", new)
    assert again.get("/api/home").json()["unlocked"] is True
    hub.services.storage.key_file.unlock(new)
    entry = hub.services.audit.entries(home_id=1)[0]  # type: ignore[union-attr]
    assert (entry.action, entry.outcome, entry.actor) == ("key_recovered", "ok", "recovery page")


def test_a_weak_new_passphrase_changes_nothing(hub: Hub, owner: tuple[TestClient, str]) -> None:
    client, recovery_key = owner

    refused = hub.client().post("/api/recover", json={"recovery_key": recovery_key, "new_password": "short"})

    assert refused.status_code == 400
    assert refused.json()["detail"].endswith("; nothing was changed")
    assert client.get("/api/me").status_code == 200
    hub.services.storage.key_file.unlock(OWNER_PASSWORD)


def test_guessing_recovery_keys_is_throttled_and_audited(
    hub: Hub, owner: tuple[TestClient, str], tmp_path: Path
) -> None:
    _client, recovery_key = owner
    key_file = hub.services.storage.key_file.path
    before = key_file.read_bytes()
    # Keys of the right form (their checksums match), but of another home.
    guesses = [HomeKeyFile.in_folder(tmp_path / f"other-{n}").create(OWNER_PASSWORD) for n in range(6)]
    new = "a thief's chosen passphrase"

    statuses = [
        hub.client().post("/api/recover", json={"recovery_key": guess, "new_password": new}).status_code
        for guess in guesses
    ]
    right_key_now = hub.client().post("/api/recover", json={"recovery_key": recovery_key, "new_password": new})

    assert statuses[0] == 400
    assert statuses[-1] == 429
    assert right_key_now.status_code == 429, "while throttled, even the right key waits"
    assert key_file.read_bytes() == before, "nothing changed"
    entries = hub.services.audit.entries(home_id=1)  # type: ignore[union-attr]
    assert [entry.outcome for entry in entries if entry.action == "key_recovered"] == ["refused"] * 5
