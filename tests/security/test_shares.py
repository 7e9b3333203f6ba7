"""Held: share links as attack surface, over HTTP against the real hub's recorded footage.

A share link serves one clip of one event to whoever holds it, until it expires or the owner revokes it. The attacks:
guessing tokens, using a link after its end or its revocation, and stretching one link to other clips, the event's
details, or the API.
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from security.conftest import Caller, ServedHub
from security.test_access import assert_no_footage, bearer


def make_link(owner: Caller, event: dict[str, Any], clip: int = 0) -> dict[str, Any]:
    """Make a share link for one clip as the owner."""
    made = owner.post(f"/api/events/{event['id']}/shares", json={"clip": clip, "hours": 1})
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_guessed_tokens_get_the_same_refusal_as_each_other_and_no_footage(
    hub: ServedHub, owner: Caller, front_event: dict[str, Any]
) -> None:
    real = make_link(owner, front_event)
    refusals = set()
    with hub.anonymous() as client:
        assert client.get(real["url"]).status_code == 200  # a real link works, so the refusals below mean something
        guesses = [secrets.token_urlsafe(32) for _ in range(100)]
        # Near misses and odd shapes: one character changed, cut short, padded, traversal, an id instead of a token.
        token = real["url"].removeprefix("/shared/")
        guesses += [token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-1], token + "A", token.upper()]
        guesses += ["..%2F..%2Fapi%2Fevents", "1", str(real["id"]), "%00" + token[1:], "A" * 5000]
        for guess in guesses:
            answer = client.get(f"/shared/{guess}", headers={"Range": "bytes=0-99"})
            assert answer.status_code == 404, (guess[:60], answer.status_code, answer.text[:200])
            assert_no_footage(answer)
            if "%2F" not in guess:  # a decoded slash leaves the route: the app's own "Not Found" answers that
                refusals.add(answer.text)
    assert len(refusals) == 1, refusals


def test_an_expired_link_no_longer_plays(hub: ServedHub, owner: Caller, front_event: dict[str, Any]) -> None:
    link = make_link(owner, front_event)
    with hub.anonymous() as client:
        assert client.get(link["url"], headers={"Range": "bytes=0-99"}).status_code == 206
        # The clock is the boundary: the link's end is moved an instant into the past in the hub's own database.
        with sqlite3.connect(hub.storage / "homewarden.db") as database:
            past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(sep=" ")
            changed = database.execute("UPDATE clip_share SET expires_at = ? WHERE id = ?", (past, link["id"]))
            assert changed.rowcount == 1
        expired = client.get(link["url"], headers={"Range": "bytes=0-99"})
    assert expired.status_code == 404
    assert_no_footage(expired)


def test_a_revoked_link_stops_at_once_and_only_the_owner_may_revoke(
    hub: ServedHub, owner: Caller, member: Caller, front_event: dict[str, Any]
) -> None:
    link = make_link(owner, front_event)
    path = f"/api/events/{front_event['id']}/shares/{link['id']}"
    refused = member.delete(path)
    assert refused.status_code == 403
    with hub.anonymous() as client:
        assert client.get(link["url"], headers={"Range": "bytes=0-99"}).status_code == 206
        assert owner.delete(path).status_code == 200
        for ranged in ({}, {"Range": "bytes=0-99"}, {"Range": "bytes=1000-"}):
            answer = client.get(link["url"], headers=ranged)
            assert answer.status_code == 404, ranged
            assert_no_footage(answer)


def test_a_link_serves_its_one_clip_and_nothing_else(
    hub: ServedHub, owner: Caller, member: Caller, front_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    link = make_link(owner, front_event)
    token = link["url"].removeprefix("/shared/")
    with hub.anonymous() as client:
        shared = client.get(link["url"])
        assert shared.status_code == 200
        # Byte for byte the clip it names, as the owner plays it.
        assert shared.content == owner.get(front_event["clips"][0]["url"]).content
        # Nothing about the event travels with it.
        for header, value in shared.headers.items():
            assert front_event["id"] not in value, header
            assert front_event["camera"] not in value, header
        # Not another clip, the snapshot, the event or another camera's footage by tacking paths or queries on.
        stretched = [
            f"{link['url']}/1",
            f"{link['url']}.jpg",
            f"{link['url']}?clip=1",
            f"{link['url']}/../../api/events/{front_event['id']}/snapshot.jpg",
            f"/shared/{token}/api/events/{garden_event['id']}/clips/0.mp4",
        ]
        for path in stretched:
            answer = client.get(path)
            if answer.status_code == 200:
                assert answer.content == shared.content, path  # the query is ignored: still the one clip
                continue
            # 401: the path left the link's route for the API, which wants a signed-in caller.
            assert answer.status_code in (401, 404), (path, answer.status_code)
            assert_no_footage(answer)
        # The token is no credential for the API, as a bearer token or a session cookie.
        assert client.get("/api/events", headers=bearer(token)).status_code == 401
        client.cookies.set("hw_session", token)
        assert client.get("/api/events").status_code == 401
        assert client.get(f"/api/events/{front_event['id']}/snapshot.jpg").status_code == 401
    # A member cannot make links, even for a camera they watch.
    assert member.post(f"/api/events/{front_event['id']}/shares", json={}).status_code == 403
