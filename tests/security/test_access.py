"""Held: object-level access and API token scopes, replayed over HTTP against the real hub's recorded footage.

tests/api/test_authorization.py checks every route's policy in-process with made-up events. These replay what the
red team did to a running hub: a member guessing the garden camera's real event ids, clip indexes and live
snapshot; the review program's staff asking for household routes (even with the owner's passphrase); tokens whose
scopes are one notch short of what they ask for, or paired with someone else's session cookie.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx
import pytest

from security.conftest import FRONT, GARDEN, SESSION_COOKIE, Caller, ServedHub

MEDIA_TYPES = ("image/", "video/", "multipart/")


def media_paths(event: dict[str, Any]) -> list[str]:
    """Return every path that serves an event's footage: snapshot, each clip and its H.264 copy."""
    paths = [f"/api/events/{event['id']}/snapshot.jpg"]
    for clip in event["clips"]:
        paths += [clip["url"], clip["h264_url"]]
    return paths


def assert_no_footage(answer: httpx.Response) -> None:
    """Fail if an answer carries footage (a picture, a clip or a stream) rather than a refusal."""
    kind = answer.headers.get("content-type", "")
    assert not kind.startswith(MEDIA_TYPES), f"{answer.request.url} served {kind}"
    assert b"ftyp" not in answer.content[:16]
    assert not answer.content.startswith(b"\xff\xd8")


def session_token(person: Caller) -> str:
    """Return the session cookie a person's client sends (the one the harness set by hand, for any domain)."""
    token = person.client.cookies.get(SESSION_COOKIE, domain="")
    assert token is not None
    return token


def bearer(token: str) -> dict[str, str]:
    """Return the header that presents an API token."""
    return {"Authorization": f"Bearer {token}"}


def test_a_member_asking_for_the_garden_cameras_real_events_gets_what_a_made_up_id_gets(
    member: Caller, garden_event: dict[str, Any]
) -> None:
    """Held, object-level access: the front-door member replays the garden event's id on every event route."""
    made_up = uuid.uuid4().hex
    paths = [f"/api/events/{garden_event['id']}", *media_paths(garden_event)]
    for path in paths:
        real = member.get(path, headers={"Range": "bytes=0-99"})
        invented = member.get(path.replace(garden_event["id"], made_up), headers={"Range": "bytes=0-99"})
        assert real.status_code == 404, (path, real.status_code, real.text[:200])
        assert_no_footage(real)
        # Nothing tells a real id from an invented one: same status, same words.
        assert real.text.replace(garden_event["id"], made_up) == invented.text
    for index in (len(garden_event["clips"]), -1, 10**30):
        answer = member.get(f"/api/events/{garden_event['id']}/clips/{index}.mp4")
        assert answer.status_code in (404, 422), (index, answer.status_code)
        assert_no_footage(answer)


def test_a_member_finds_no_garden_event_by_searching(member: Caller, garden_event: dict[str, Any]) -> None:
    """Held, object-level access: the member filters the timeline by the garden camera, its label and its time."""
    for query in (
        {"camera": GARDEN},
        {"camera": GARDEN, "limit": "500"},
        {"label": garden_event["label"], "limit": "500"},
        {"since": garden_event["started_at"], "limit": "500"},
    ):
        answer = member.get("/api/events", params=query)
        assert answer.status_code == 200, answer.text
        cameras = {event["camera"] for event in answer.json()["events"]}
        assert GARDEN not in cameras, query
        assert garden_event["id"] not in answer.text
    assert [camera["name"] for camera in member.get("/api/cameras").json()] == [FRONT]


def test_a_member_cannot_watch_the_garden_camera_live(hub: ServedHub, member: Caller, owner: Caller) -> None:
    """Held, object-level access: live snapshots and the MJPEG stream of a camera the member may not watch."""
    # The control: the same member watches the front door (the cameras run, so a frame is there).
    front = member.get(f"/api/cameras/{FRONT}/snapshot.jpg")
    assert front.status_code == 200, front.text
    assert front.content.startswith(b"\xff\xd8")
    for path in (
        f"/api/cameras/{GARDEN}/snapshot.jpg",
        f"/api/cameras/{GARDEN}/snapshot.jpg?boxes=true",
        f"/api/cameras/{GARDEN}/stream.mjpg",
        f"/api/cameras/{GARDEN.upper()}/snapshot.jpg",
        "/api/cameras/garden%00/snapshot.jpg",
    ):
        answer = member.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert_no_footage(answer)
    # Asking for another home's-or-nobody's camera reads the same as asking for one that does not exist.
    assert member.get("/api/cameras/back_yard/snapshot.jpg").text.replace("back_yard", GARDEN) == (
        member.get(f"/api/cameras/{GARDEN}/snapshot.jpg").text
    )


def test_a_members_refused_attempt_on_a_garden_event_is_in_the_owners_access_log(
    hub: ServedHub, owner: Caller, garden_event: dict[str, Any]
) -> None:
    """Held, object-level access: the owner learns that a member tried a garden clip (the audit log)."""
    snooper = hub.new_member([FRONT])
    assert snooper.get(media_paths(garden_event)[1]).status_code == 404
    log = owner.get("/api/privacy/access-log", params={"limit": 1000})
    assert log.status_code == 200, log.text
    refused = [
        entry
        for entry in log.json()
        if entry["actor"] == snooper.username
        and entry["object"] == f"event:{garden_event['id']}"
        and entry["outcome"] == "refused"
    ]
    assert refused, log.text[:2000]


# The first test to ask for the donated clip waits for its redaction: slow, and on a busy machine slower.
@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_member_reaches_no_donation_face_or_household_setting(
    owner: Caller, member: Caller, donated_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    """Held, object-level access: donations, their redacted preview, faces, members and storage are the owner's."""
    donation = donated_event["id"]
    refused = [
        ("GET", "/api/donations", None),
        ("GET", f"/api/donations/{donation}", None),
        ("GET", f"/api/donations/{donation}/preview.mp4", None),
        ("DELETE", f"/api/donations/{donation}", None),
        ("POST", f"/api/events/{garden_event['id']}/donation", {}),
        ("GET", "/api/faces", None),
        ("DELETE", "/api/faces/olivia", None),
        ("GET", "/api/members", None),
        ("PATCH", f"/api/members/{member.get('/api/me').json()['id']}", {"cameras": [FRONT, GARDEN]}),
        ("GET", "/api/storage", None),
        ("GET", "/api/privacy/access-log", None),
        ("POST", "/api/home/lock", None),
        ("DELETE", f"/api/events/{garden_event['id']}", None),
    ]
    for method, path, body in refused:
        answer = member.request(method, path, json=body)
        assert answer.status_code in (403, 404), (method, path, answer.status_code, answer.text[:200])
        assert_no_footage(answer)
    # The member did not widen their own cameras, and the donation is still there.
    assert member.get("/api/me").json()["cameras"] == [FRONT]
    members = {person["username"]: person["cameras"] for person in owner.get("/api/members").json()}
    assert members[member.username] == [FRONT]
    assert owner.get(f"/api/donations/{donation}").json()["status"] == "donated"


def test_an_events_read_token_lists_events_but_gets_no_footage_and_changes_no_arming(
    hub: ServedHub, owner: Caller, front_event: dict[str, Any]
) -> None:
    """Held, token scopes: an `events:read` token asks for media, live view and arming; a session-only route too."""
    person = hub.new_member([FRONT])
    token = hub.new_token(person, ["events:read"])
    mode = owner.get("/api/arming").json()["mode"]
    with hub.anonymous() as integration:
        integration.headers.update(bearer(token))
        assert integration.get(f"/api/events/{front_event['id']}").status_code == 200
        for path in [
            *media_paths(front_event),
            f"/api/cameras/{FRONT}/snapshot.jpg",
            f"/api/cameras/{FRONT}/stream.mjpg",
        ]:
            answer = integration.get(path)
            assert answer.status_code == 403, (path, answer.status_code)
            assert_no_footage(answer)
        # The same mode as now: were the refusal to fail, the shared hub's alarm would not change.
        assert integration.put("/api/arming", json={"mode": mode}).status_code == 403
        assert integration.get("/api/arming").status_code == 403
        assert integration.post("/api/doorbells/front/press").status_code == 403
    assert owner.get("/api/arming").json()["mode"] == mode


def test_no_token_reaches_a_session_only_route_whatever_its_scopes(hub: ServedHub, front_event: dict[str, Any]) -> None:
    """Held, token scopes: a token holding every scope tries to mint tokens, change the password, end sessions."""
    person = hub.new_member([FRONT])
    everything = ["events:read", "media:read", "live:read", "arming:write", "doorbell:press", "voice"]
    token = hub.new_token(person, everything)
    session_only = [
        ("GET", "/api/tokens", None),
        ("POST", "/api/tokens", {"name": "child", "scopes": ["media:read"]}),
        ("POST", "/api/me/password", {"current_password": person.password, "new_password": "taken over by a token"}),
        ("POST", "/api/me/totp", None),
        ("DELETE", "/api/me/totp", {"code": "123456"}),
        ("POST", "/api/auth/logout-everywhere", None),
        ("POST", "/api/push/subscriptions", {"endpoint": "https://push.example.net/x", "keys": {}}),
        ("GET", "/api/home", None),
        ("GET", "/account", None),
        ("GET", "/", None),
    ]
    with hub.anonymous() as integration:
        integration.headers.update(bearer(token))
        # The control: the token does what its scopes say.
        clip = integration.get(front_event["clips"][0]["url"], headers={"Range": "bytes=0-99"})
        assert clip.status_code == 206
        for method, path, body in session_only:
            answer = integration.request(method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.status_code, answer.text[:200])
    # The password was not changed and the member's session lives.
    assert person.get("/api/me").status_code == 200
    fresh = hub.caller(person.username, person.password)
    assert fresh.sign_in().status_code == 200
    assert [token["scopes"] for token in person.get("/api/tokens").json()] == [sorted(everything)]


def test_a_members_media_token_reaches_only_the_members_cameras(
    hub: ServedHub, member: Caller, front_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    """Held, object-level access through a token: the member's `media:read` token replays garden ids."""
    token = hub.new_token(member, ["events:read", "media:read", "live:read"])
    with hub.anonymous() as integration:
        integration.headers.update(bearer(token))
        assert integration.get(front_event["snapshot_url"]).status_code == 200
        for path in [
            f"/api/events/{garden_event['id']}",
            *media_paths(garden_event),
            f"/api/cameras/{GARDEN}/snapshot.jpg",
        ]:
            answer = integration.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert_no_footage(answer)
        listed = integration.get("/api/events", params={"camera": GARDEN, "limit": 500})
        assert listed.json()["events"] == []


def test_a_token_beside_someone_elses_session_cookie_keeps_its_own_narrow_rights(
    hub: ServedHub, owner: Caller, garden_event: dict[str, Any]
) -> None:
    """Held, token scopes: a member's token sent with the owner's stolen cookie; the token, not the cookie, counts."""
    person = hub.new_member([FRONT])
    token = hub.new_token(person, ["events:read"])
    with hub.anonymous() as mixed:
        mixed.cookies.set(SESSION_COOKIE, session_token(owner))
        mixed.headers.update({**bearer(token), "X-CSRF-Token": owner.csrf})
        assert mixed.get(f"/api/events/{garden_event['id']}").status_code == 404
        assert mixed.get(garden_event["snapshot_url"]).status_code == 403
        assert mixed.get("/api/members").status_code == 403
        assert mixed.get("/api/me").json()["username"] == person.username


def test_a_revoked_malformed_or_query_string_token_is_nobody(hub: ServedHub, front_event: dict[str, Any]) -> None:
    """Held, token scopes: a revoked token, a guessed one, another scheme, and a token put in the URL."""
    person = hub.new_member([FRONT])
    token = hub.new_token(person, ["events:read", "media:read"])
    token_id = person.get("/api/tokens").json()[0]["id"]
    assert person.delete(f"/api/tokens/{token_id}").status_code == 200
    event = f"/api/events/{front_event['id']}"
    with hub.anonymous() as stranger:
        assert stranger.get(event, headers=bearer(token)).status_code == 401
        assert stranger.get(event, headers=bearer(token[:-1] + ("A" if token[-1] != "A" else "B"))).status_code == 401
        assert stranger.get(event, headers={"Authorization": f"Basic {token}"}).status_code == 401
        assert stranger.get(event, headers={"Authorization": "Bearer"}).status_code == 401
        assert stranger.get(event, params={"token": token, "access_token": token}).status_code == 401
