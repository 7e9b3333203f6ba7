"""Household accounts: sign-up (open, by invitation), sign-in and out, pairing codes that work once and expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from cloud.conftest import CloudUnderTest
from cloud_process import ACCOUNT_PASSWORD, CloudAccount, HubKey
from homewarden.cloud.models import PairingCode


def test_open_sign_up_makes_an_account_with_a_home_of_its_own(cloud: CloudUnderTest) -> None:
    first = cloud.account()
    second = cloud.account()

    overview = cloud.client.get("/api/v1/account", headers=first.auth).json()

    assert first.home_id != second.home_id
    assert first.home_id.startswith("h_")
    assert len(first.home_id) == 24
    assert overview["home"]["home_id"] == first.home_id
    assert overview["home"]["quota_bytes"] == cloud.config.homes.quota_bytes
    assert overview["hubs"] == []


def test_a_taken_name_a_weak_password_and_a_bad_name_are_refused(cloud: CloudUnderTest) -> None:
    account = cloud.account()

    taken = cloud.client.post(
        "/api/v1/accounts", json={"username": account.username.upper(), "password": ACCOUNT_PASSWORD}
    )
    weak = cloud.client.post("/api/v1/accounts", json={"username": "newname", "password": "short"})
    bad = cloud.client.post("/api/v1/accounts", json={"username": "no spaces", "password": ACCOUNT_PASSWORD})

    assert taken.status_code == 409
    assert weak.status_code == 400
    assert "12 characters" in weak.json()["detail"]
    assert bad.status_code == 400


def test_invitation_sign_up_needs_a_code_that_works_once(cloud: CloudUnderTest) -> None:
    cloud.services.config.signup = "invitation"
    code = cloud.services.accounts.new_invitation().code

    without = cloud.client.post("/api/v1/accounts", json={"username": "nocode", "password": ACCOUNT_PASSWORD})
    wrong = cloud.client.post(
        "/api/v1/accounts", json={"username": "wrongcode", "password": ACCOUNT_PASSWORD, "invitation": "AAAA-BBBB"}
    )
    # Typed in lower case without dashes: still the same code.
    invited = CloudAccount.sign_up(cloud.client, "invited", invitation=code.lower().replace("-", ""))
    reused = cloud.client.post(
        "/api/v1/accounts", json={"username": "second", "password": ACCOUNT_PASSWORD, "invitation": code}
    )

    assert without.status_code == 403
    assert wrong.status_code == 403
    assert invited.home_id.startswith("h_")
    assert reused.status_code == 403
    assert reused.json()["detail"] == "this invitation code is wrong, used or expired"


def test_sign_in_sign_out_and_a_wrong_password(cloud: CloudUnderTest) -> None:
    account = cloud.account()

    wrong = cloud.client.post("/api/v1/session", json={"username": account.username, "password": "wrong password!"})
    unknown = cloud.client.post("/api/v1/session", json={"username": "nobody-here", "password": ACCOUNT_PASSWORD})
    signed_out = cloud.client.delete("/api/v1/session", headers=account.auth)
    after = cloud.client.get("/api/v1/account", headers=account.auth)

    assert wrong.status_code == 401
    assert unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong user name or password"}
    assert signed_out.status_code == 204
    assert after.status_code == 401


def test_repeated_wrong_passwords_are_throttled_with_retry_after(cloud: CloudUnderTest) -> None:
    account = cloud.account()
    attempt = {"username": account.username, "password": "not the password"}

    answers = [cloud.client.post("/api/v1/session", json=attempt) for _ in range(6)]
    right = cloud.client.post("/api/v1/session", json={"username": account.username, "password": ACCOUNT_PASSWORD})

    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert right.status_code == 429


def test_a_pairing_code_works_once(cloud: CloudUnderTest) -> None:
    account = cloud.account()
    code = account.pairing_code()
    first, second = HubKey(), HubKey()

    paired = cloud.client.post(
        "/api/v1/hubs/pair", json={"code": code, "public_key": first.public_key_base64, "name": "hub"}
    )
    again = cloud.client.post(
        "/api/v1/hubs/pair", json={"code": code, "public_key": second.public_key_base64, "name": "thief"}
    )

    assert paired.status_code == 200
    assert paired.json()["home_id"] == account.home_id
    assert abs(paired.json()["server_time"] - datetime.now(UTC).timestamp()) < 60
    assert again.status_code == 403
    assert again.json() == {"detail": "this pairing code is wrong, used or expired"}


def test_an_expired_pairing_code_does_not_pair(cloud: CloudUnderTest) -> None:
    account = cloud.account()
    code = account.pairing_code()
    with cloud.services.database.session() as session:
        # The code's ten minutes passed (moving its expiry is how a test makes time pass for the database).
        session.execute(update(PairingCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    answer = cloud.client.post(
        "/api/v1/hubs/pair", json={"code": code, "public_key": HubKey().public_key_base64, "name": "late hub"}
    )

    assert answer.status_code == 403


def test_pairing_refuses_a_malformed_public_key(cloud: CloudUnderTest) -> None:
    code = cloud.account().pairing_code()

    answer = cloud.client.post("/api/v1/hubs/pair", json={"code": code, "public_key": "AAAA", "name": "hub"})

    assert answer.status_code == 400
    assert "32-byte Ed25519" in answer.json()["detail"]


def test_account_routes_need_a_session(cloud: CloudUnderTest) -> None:
    for method, path in (("GET", "/api/v1/account"), ("POST", "/api/v1/pairing-codes"), ("GET", "/api/v1/hubs")):
        answer = cloud.client.request(method, path, headers={"Authorization": "Bearer not-a-token"})
        assert answer.status_code == 401, path
        assert answer.headers["WWW-Authenticate"] == "Bearer"
