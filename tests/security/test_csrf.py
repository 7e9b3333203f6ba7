"""Held: cross-site request forgery, replayed as a hostile page would send it to the real hub.

A page on another site can make the victim's browser send the session cookie (were it not SameSite=Strict) but cannot
read the CSRF token the hub gave the signed-in page, nor send a custom header cross-origin without a CORS preflight
the hub never answers. Each attack sends the real session cookie with no token, a wrong token, another user's token
or a token of an ended session; and the form posts a page could send without a preflight.
"""

from __future__ import annotations

import httpx2 as httpx

from security.conftest import FRONT, SESSION_COOKIE, Caller, ServedHub

EVIL_ORIGIN = "https://evil.example"


def session_token(person: Caller) -> str:
    """Return the session cookie a person's client sends (the one the harness set by hand, for any domain)."""
    token = person.client.cookies.get(SESSION_COOKIE, domain="")
    assert token is not None
    return token


def forged(hub: ServedHub, victim: Caller, csrf: str | None) -> httpx.Client:
    """Return a client that carries the victim's session cookie and ``csrf`` (or no token at all)."""
    client = hub.anonymous()
    client.cookies.set(SESSION_COOKIE, session_token(victim))
    client.headers["Origin"] = EVIL_ORIGIN
    if csrf is not None:
        client.headers["X-CSRF-Token"] = csrf
    return client


def test_a_state_change_with_the_session_cookie_but_no_or_a_wrong_csrf_token_is_refused(
    hub: ServedHub, owner: Caller, member: Caller
) -> None:
    """Held, CSRF: no token, an empty one, a wrong one, the member's token and a case-changed token of the owner."""
    mode = owner.get("/api/arming").json()["mode"]
    other_mode = "disarmed" if mode != "disarmed" else "away"
    members_before = owner.get("/api/members").json()
    tokens_before = owner.get("/api/tokens").json()
    for csrf in (None, "", "not-the-token", member.csrf, owner.csrf.swapcase(), owner.csrf + "x", owner.csrf[:-1]):
        with forged(hub, owner, csrf) as attacker:
            answers = [
                attacker.put("/api/arming", json={"mode": other_mode}),
                attacker.post(
                    "/api/members", json={"username": "csrf-planted", "password": "planted by a forged page"}
                ),
                attacker.post("/api/tokens", json={"name": "csrf-planted", "scopes": ["media:read"]}),
                attacker.post("/api/home/lock"),
                attacker.post("/api/auth/logout-everywhere"),
                attacker.post("/api/auth/logout"),
            ]
        for answer in answers:
            assert answer.status_code == 403, (csrf, answer.request.url, answer.status_code, answer.text[:200])
            assert answer.json()["detail"] == "missing or wrong CSRF token: reload the page"
            assert "set-cookie" not in answer.headers
    # Nothing changed, and the owner is still signed in with the recordings unlocked.
    assert owner.get("/api/arming").json()["mode"] == mode
    assert owner.get("/api/members").json() == members_before
    assert owner.get("/api/tokens").json() == tokens_before
    assert owner.get("/api/home").json()["unlocked"] is True


def test_the_right_token_is_accepted_so_the_refusals_are_about_the_token(hub: ServedHub) -> None:
    """Held, CSRF (control): the same forged client with the victim's own token does change state."""
    victim = hub.new_member([FRONT])
    with forged(hub, victim, victim.csrf) as same_page:
        made = same_page.post("/api/tokens", json={"name": "made with the right token", "scopes": ["events:read"]})
    assert made.status_code == 201, made.text
    assert [token["name"] for token in victim.get("/api/tokens").json()] == ["made with the right token"]


def test_a_csrf_token_of_an_ended_session_does_not_work_in_a_new_one(hub: ServedHub) -> None:
    """Held, CSRF: a token read from a page before sign-out is replayed against the victim's next session."""
    victim = hub.new_member([FRONT])
    old_csrf = victim.csrf
    assert victim.post("/api/auth/logout").status_code == 200
    assert victim.sign_in().status_code == 200
    assert victim.csrf != old_csrf
    with forged(hub, victim, old_csrf) as attacker:
        answer = attacker.post("/api/tokens", json={"name": "old token", "scopes": ["events:read"]})
    assert answer.status_code == 403
    assert victim.get("/api/tokens").json() == []


def test_cross_origin_form_posts_are_refused(hub: ServedHub, owner: Caller, front_event: dict[str, object]) -> None:
    """Held, CSRF: the bodies an HTML form can send cross-origin without a preflight (urlencoded, multipart, text)."""
    members_before = owner.get("/api/members").json()
    with forged(hub, owner, None) as page:
        form = {"username": "formplanted", "password": "planted by a cross-site form", "cameras": FRONT}
        answers = [
            page.post("/api/members", data=form),
            page.post(
                "/api/faces", data={"name": "Mallory"}, files={"photos": ("face.jpg", b"\xff\xd8", "image/jpeg")}
            ),
            page.post(
                "/api/tokens",
                content=b'{"name": "text plain", "scopes": ["media:read"]}',
                headers={"Content-Type": "text/plain"},
            ),
            page.delete(f"/api/events/{front_event['id']}"),
            page.post(f"/api/events/{front_event['id']}/false-alarm"),
        ]
    for answer in answers:
        assert answer.status_code == 403, (answer.request.url, answer.status_code, answer.text[:200])
    assert owner.get("/api/members").json() == members_before
    assert owner.get(f"/api/events/{front_event['id']}").json()["household_verdict"] == front_event["household_verdict"]


def test_a_cross_origin_page_cannot_sign_the_victim_in_to_the_attackers_account(hub: ServedHub) -> None:
    """Held, CSRF (login forgery): a form posts the attacker's name and password to the sign-in route."""
    attacker = hub.new_member([FRONT])
    with hub.anonymous() as page:
        page.headers["Origin"] = EVIL_ORIGIN
        credentials = {"username": attacker.username, "password": attacker.password}
        by_form = page.post("/api/auth/login", data=credentials)
        by_text = page.post(
            "/api/auth/login",
            content=f'{{"username": "{attacker.username}", "password": "{attacker.password}"}}'.encode(),
            headers={"Content-Type": "text/plain"},
        )
    for answer in (by_form, by_text):
        assert 400 <= answer.status_code < 500, answer.status_code
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_the_hub_grants_no_cross_origin_access(hub: ServedHub, owner: Caller) -> None:
    """Held, CSRF: a preflight from another origin, and a simple GET whose answer a page would like to read."""
    preflight = owner.client.options(
        "/api/tokens",
        headers={
            "Origin": EVIL_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-csrf-token, content-type",
        },
    )
    assert preflight.status_code >= 400
    read = owner.get("/api/me", headers={"Origin": EVIL_ORIGIN})
    for answer in (preflight, read):
        assert not any(name.startswith("access-control-") for name in answer.headers), dict(answer.headers)


def test_the_session_cookie_is_httponly_strict_and_secure(hub: ServedHub) -> None:
    """Held, CSRF: the cookie a browser would attach to a cross-site request: SameSite=Strict, HttpOnly, Secure."""
    person = hub.new_member([FRONT])
    with hub.anonymous() as browser:
        answer = browser.post("/api/auth/login", json={"username": person.username, "password": person.password})
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("httponly", "samesite=strict", "secure", "path=/"):
        assert attribute in [part.strip().split(";")[0] for part in cookie.split(";")], (attribute, cookie)
    # The page gets its CSRF token in the sign-in answer, never as a cookie a forged request would carry.
    assert answer.json()["csrf_token"] not in answer.headers["set-cookie"]
