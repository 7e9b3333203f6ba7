"""First-run setup, sign-in, two-factor codes, sessions, CSRF, rate limiting and API tokens."""

from __future__ import annotations

import pyotp

from api.conftest import OWNER_PASSWORD, Hub, csrf_of, set_up_owner, sign_in
from homewarden.accounts.store import digest
from homewarden.api.deps import SESSION_COOKIE
from homewarden.api.language import LANGUAGE_COOKIE


def test_setup_link_works_once_and_makes_the_home_key(hub: Hub) -> None:
    token = hub.services.setup.token
    assert token is not None
    assert hub.client().get("/api/setup/status").json() == {"needs_setup": True}
    assert not hub.services.storage.key_file.exists()

    client = hub.client()
    refused = client.post("/api/setup", json={"token": "wrong", "username": "olivia", "password": OWNER_PASSWORD})
    assert refused.status_code == 403
    weak = client.post("/api/setup", json={"token": token, "username": "olivia", "password": "short"})
    assert weak.status_code == 400
    assert "12 characters" in weak.json()["detail"]
    done = client.post("/api/setup", json={"token": token, "username": "olivia", "password": OWNER_PASSWORD})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["user"]["role"] == "owner"
    assert len(body["recovery_key"].replace("-", "")) >= 56
    # The password is the home passphrase: it opens the key that was just made, and the hub holds it.
    hub.services.storage.key_file.unlock(OWNER_PASSWORD)
    assert hub.services.keys.keyring is not None
    again = hub.client().post("/api/setup", json={"token": token, "username": "mallory", "password": OWNER_PASSWORD})
    assert again.status_code == 403
    assert hub.client().get("/api/setup/status").json() == {"needs_setup": False}


def test_session_cookie_is_secure_httponly_strict_and_stored_hashed(hub: Hub) -> None:
    client = hub.client()
    response = client.post(
        "/api/setup", json={"token": hub.services.setup.token, "username": "olivia", "password": OWNER_PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=strict" in cookie
    token = client.cookies[SESSION_COOKIE]
    assert hub.services.accounts.session_user(token) is not None
    from sqlalchemy import text

    with hub.services.events.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM web_session")).scalars().all()
    assert stored == [digest(token)]


def test_state_changes_need_the_csrf_token(hub: Hub) -> None:
    owner = set_up_owner(hub)
    body = {"name": "ha", "scopes": ["events:read"]}
    assert owner.post("/api/tokens", json=body).status_code == 403
    assert owner.post("/api/tokens", json=body, headers={"X-CSRF-Token": "guess"}).status_code == 403
    assert owner.post("/api/tokens", json=body, headers=csrf_of(owner)).status_code == 201


def test_sign_in_out_and_everywhere(hub: Hub) -> None:
    set_up_owner(hub)
    assert (
        hub.client().post("/api/auth/login", json={"username": "olivia", "password": "wrong password!"}).status_code
        == 401
    )
    first = sign_in(hub, "olivia", OWNER_PASSWORD)
    second = sign_in(hub, "olivia", OWNER_PASSWORD)
    assert first.get("/api/me").json()["username"] == "olivia"
    assert first.post("/api/auth/logout", headers=csrf_of(first)).status_code == 200
    assert first.get("/api/me").status_code == 401
    assert second.get("/api/me").status_code == 200
    third = sign_in(hub, "olivia", OWNER_PASSWORD)
    assert third.post("/api/auth/logout-everywhere", headers=csrf_of(third)).status_code == 200
    assert second.get("/api/me").status_code == 401
    assert third.get("/api/me").status_code == 401


def test_failed_sign_ins_are_rate_limited(hub: Hub) -> None:
    set_up_owner(hub)
    client = hub.client()
    for _ in range(5):
        assert (
            client.post("/api/auth/login", json={"username": "olivia", "password": "not the password"}).status_code
            == 401
        )
    limited = client.post("/api/auth/login", json={"username": "olivia", "password": OWNER_PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


def test_totp_enrolment_then_sign_in_needs_a_fresh_code(hub: Hub) -> None:
    owner = set_up_owner(hub)
    started = owner.post("/api/me/totp", json={"password": OWNER_PASSWORD}, headers=csrf_of(owner)).json()
    assert started["otpauth_uri"].startswith("otpauth://totp/")
    assert started["qr_svg"].lstrip().startswith("<svg")
    secret = started["secret"]
    wrong = owner.post("/api/me/totp/confirm", json={"code": "000000"}, headers=csrf_of(owner))
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).now()
    assert owner.post("/api/me/totp/confirm", json={"code": code}, headers=csrf_of(owner)).status_code == 200

    client = hub.client()
    asked = client.post("/api/auth/login", json={"username": "olivia", "password": OWNER_PASSWORD})
    assert asked.status_code == 401
    assert asked.json()["detail"] == "totp_required"
    # The code that confirmed enrolment cannot be replayed.
    replay = client.post("/api/auth/login", json={"username": "olivia", "password": OWNER_PASSWORD, "totp_code": code})
    assert replay.status_code == 401
    next_code = pyotp.TOTP(secret).at(int(__import__("time").time()) + 30)
    ok = client.post("/api/auth/login", json={"username": "olivia", "password": OWNER_PASSWORD, "totp_code": next_code})
    assert ok.status_code == 200, ok.text


def test_api_token_scopes_and_revocation(hub: Hub) -> None:
    owner = set_up_owner(hub)
    created = owner.post(
        "/api/tokens", json={"name": "home assistant", "scopes": ["events:read"]}, headers=csrf_of(owner)
    )
    assert created.status_code == 201
    token = created.json()["token"]
    integration = hub.client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert integration.get("/api/events", headers=bearer).status_code == 200
    assert integration.put("/api/arming", json={"mode": "home"}, headers=bearer).status_code == 403
    assert integration.get("/api/tokens", headers=bearer).status_code == 403
    listed = owner.get("/api/tokens").json()
    assert [item["name"] for item in listed] == ["home assistant"]
    assert "token" not in listed[0]
    assert owner.delete(f"/api/tokens/{listed[0]['id']}", headers=csrf_of(owner)).status_code == 200
    assert integration.get("/api/events", headers=bearer).status_code == 401
    assert integration.get("/api/events", headers={"Authorization": "Bearer hw_made_up"}).status_code == 401


def test_the_account_language_is_stored_sent_as_a_cookie_at_sign_in_and_cleared_to_follow_the_browser(
    hub: Hub,
) -> None:
    owner = set_up_owner(hub)
    assert owner.get("/api/me").json()["language"] is None
    refused = owner.patch("/api/me", json={"language": "fr"}, headers=csrf_of(owner))
    assert refused.status_code == 422
    chosen = owner.patch("/api/me", json={"language": "de"}, headers=csrf_of(owner))
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["language"] == "de"
    cookie = chosen.headers["set-cookie"]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=de;")
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Max-Age=31536000" in cookie
    assert "HttpOnly" not in cookie
    # The notifiers ask the store, not a request.
    user_id = owner.get("/api/me").json()["id"]
    assert hub.services.accounts.language_of(user_id) == "de"
    assert hub.services.accounts.language_of(user_id + 1000) is None

    # Another browser (English) gets the account's language when it signs in.
    elsewhere = sign_in(hub, "olivia", OWNER_PASSWORD)
    assert elsewhere.cookies[LANGUAGE_COOKIE] == "de"
    assert elsewhere.get("/api/me").json()["language"] == "de"

    cleared = owner.patch("/api/me", json={"language": None}, headers=csrf_of(owner))
    assert cleared.json()["language"] is None
    assert f'{LANGUAGE_COOKIE}=""' in cleared.headers["set-cookie"]
    assert "Max-Age=0" in cleared.headers["set-cookie"]
    assert hub.services.accounts.language_of(user_id) is None
    again = sign_in(hub, "olivia", OWNER_PASSWORD)
    assert LANGUAGE_COOKIE not in again.cookies
