"""Held: one-time password links (invitations, resets) and the owner's recovery page, attacked over real HTTP.

A link works once, for its own account, until it expires or a newer one replaces it; a guessed token tells nothing
(the same 404 as a used one); the token never reaches the hub's log (it travels in request bodies, after '#' on the
page); a reset ends the member's sessions at once. The recovery page refuses what is not a recovery key and changes
nothing; guessing well-formed keys is throttled in tests/api/test_recovery.py, on a hub of its own, since its
failures also count against the shared hub owner's key file.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

from security.conftest import FRONT, OWNER, Caller, ServedHub

INVALID = {"detail": "this link is not valid: it was used, replaced by a newer one, or has expired"}


def invite(hub: ServedHub, owner: Caller) -> tuple[str, str]:
    """Invite a new member who may watch the front door; return their name and the link's token."""
    name = hub.unique_name("invited")
    answer = owner.post("/api/members/invite", json={"username": name, "cameras": [FRONT]})
    assert answer.status_code == 201, answer.text
    page, _, token = answer.json()["link"].partition("#")
    assert page == "/set-password"
    return name, token


def test_an_invitation_is_used_once_even_by_racing_requests(hub: ServedHub, owner: Caller) -> None:
    name, token = invite(hub, owner)

    def use(n: int) -> int:
        with hub.anonymous() as client:
            body = {"token": token, "password": f"racing password number {n}"}
            return client.post("/api/password-links/use", json=body).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(use, range(4)))

    assert statuses == [200, 404, 404, 404]
    with hub.anonymous() as client:
        assert client.post("/api/password-links/check", json={"token": token}).json() == INVALID
    signed_in = [hub.caller(name, f"racing password number {n}").sign_in().status_code for n in range(4)]
    assert sorted(signed_in) == [200, 401, 401, 401]


def test_a_guessed_token_answers_like_a_used_one(hub: ServedHub, owner: Caller) -> None:
    _name, used = invite(hub, owner)
    body = {"password": "a good long password"}
    with hub.anonymous() as client:
        assert client.post("/api/password-links/use", json={"token": used, **body}).is_success
        answers = [
            client.post("/api/password-links/use", json={"token": token, **body})
            for token in (used, secrets.token_urlsafe(32), "x", used.upper())
        ]

    assert [(answer.status_code, answer.json()) for answer in answers] == [(404, INVALID)] * 4


def test_link_tokens_never_reach_the_hubs_log(hub: ServedHub, owner: Caller) -> None:
    _name, token = invite(hub, owner)
    with hub.anonymous() as client:
        client.get("/set-password")
        client.post("/api/password-links/check", json={"token": token})

    assert token not in hub.log_text()


def test_a_reset_ends_the_members_session_and_old_password_at_once(hub: ServedHub, owner: Caller) -> None:
    victim = hub.new_member([FRONT])
    member_id = victim.get("/api/me").json()["id"]

    made = owner.post(f"/api/members/{member_id}/reset-link")

    assert made.status_code == 201, made.text
    assert victim.get("/api/me").status_code == 401
    assert hub.caller(victim.username, victim.password).sign_in().status_code == 401


def test_a_member_cannot_make_links_nor_reset_the_owner(hub: ServedHub, owner: Caller) -> None:
    intruder = hub.new_member([FRONT])
    owner_id = owner.get("/api/me").json()["id"]
    own_id = intruder.get("/api/me").json()["id"]

    answers = [
        intruder.post(f"/api/members/{owner_id}/reset-link"),
        intruder.post(f"/api/members/{own_id}/reset-link"),
        intruder.post("/api/members/invite", json={"username": hub.unique_name("planted"), "cameras": [FRONT]}),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert owner.get("/api/me").status_code == 200


def test_the_recovery_page_refuses_what_is_not_a_recovery_key_and_changes_nothing(
    hub: ServedHub, owner: Caller
) -> None:
    with hub.anonymous() as client:
        answers = [
            client.post("/api/recover", json={"recovery_key": key, "new_password": "an attacker's passphrase"})
            for key in ("", "AAAA-BBBB", "' OR 1=1 --", "A" * 300)
        ]

    assert [answer.status_code for answer in answers] == [422, 400, 400, 422]
    assert owner.get("/api/me").status_code == 200
    assert hub.caller(*OWNER).sign_in().status_code == 200
