"""Share links in-process: one clip per link, owner only, expiring, revocable, audited (attacks: tests/security)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import av
from sqlalchemy import update

from api.conftest import MEMBER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in
from homewarden.store.viewing_models import ClipShare


def _audit_actions(hub: Hub) -> list[tuple[str, str, str]]:
    audit = hub.services.audit
    assert audit is not None
    return [(entry.actor, entry.action, entry.object) for entry in audit.entries()]


def test_an_owner_shares_one_clip_the_link_plays_it_and_revoking_stops_it(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    record = record_event(hub, "front_door", seconds=3.0)

    made = owner.post(f"/api/events/{record.id}/shares", json={"clip": 0, "hours": 2}, headers=headers)

    assert made.status_code == 201, made.text
    share = made.json()
    assert share["active"] is True
    assert share["url"].startswith("/shared/")
    lifetime = datetime.fromisoformat(share["expires_at"]) - datetime.fromisoformat(share["created_at"])
    assert lifetime == timedelta(hours=2)
    stranger = hub.client()  # nobody signed in: the link alone opens the clip
    clip = stranger.get(share["url"])
    assert clip.status_code == 200
    assert clip.headers["content-type"] == "video/mp4"
    assert clip.headers["x-robots-tag"] == "noindex, nofollow"
    with av.open(io.BytesIO(clip.content)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30
    assert stranger.get(share["url"], headers={"Range": "bytes=10-19"}).status_code == 206
    listed = owner.get(f"/api/events/{record.id}/shares").json()
    assert [item["id"] for item in listed] == [share["id"]]
    assert "url" not in listed[0]  # the address is shown once, when made

    revoked = owner.delete(f"/api/events/{record.id}/shares/{share['id']}", headers=headers)

    assert revoked.status_code == 200
    assert stranger.get(share["url"]).status_code == 404
    assert owner.get(f"/api/events/{record.id}/shares").json()[0]["active"] is False
    actions = _audit_actions(hub)
    assert ("olivia", "share_created", f"event:{record.id}") in actions
    assert (f"share link {share['id']}", "view_shared_clip", f"event:{record.id}") in actions
    assert ("olivia", "share_revoked", f"event:{record.id}") in actions
    # A seek inside the clip is not another viewing.
    assert [a for a in actions if a[1] == "view_shared_clip"] == [
        (f"share link {share['id']}", "view_shared_clip", f"event:{record.id}")
    ]


def test_an_expired_link_answers_like_one_that_never_was(hub: Hub) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door")
    share = owner.post(f"/api/events/{record.id}/shares", json={}, headers=csrf_of(owner)).json()
    # The clock is the boundary here: the link's end is moved into the past rather than waiting an hour.
    with hub.services.events.engine.begin() as connection:
        connection.execute(
            update(ClipShare)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            .where(ClipShare.id == share["id"])
        )
    expired = hub.client().get(share["url"])
    never = hub.client().get("/shared/" + "x" * 43)
    assert expired.status_code == never.status_code == 404
    assert expired.json() == never.json()


def test_a_link_needs_an_existing_clip_a_sane_lifetime_and_the_owner(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    record = record_event(hub, "front_door")
    assert owner.post(f"/api/events/{record.id}/shares", json={"clip": 1}, headers=headers).status_code == 404
    too_long = owner.post(f"/api/events/{record.id}/shares", json={"hours": 24 * 30}, headers=headers)
    assert too_long.status_code == 422
    assert "hours" in too_long.text
    owner.post(
        "/api/members",
        json={"username": "max", "password": MEMBER_PASSWORD, "cameras": ["front_door"]},
        headers=headers,
    )
    member = sign_in(hub, "max", MEMBER_PASSWORD)
    refused = member.post(f"/api/events/{record.id}/shares", json={}, headers=csrf_of(member))
    assert refused.status_code == 403


def test_deleting_the_event_ends_its_links(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    record = record_event(hub, "front_door")
    share = owner.post(f"/api/events/{record.id}/shares", json={}, headers=headers).json()
    assert owner.delete(f"/api/events/{record.id}", headers=headers).status_code == 200
    assert hub.client().get(share["url"]).status_code == 404


def test_a_link_cannot_play_while_the_recordings_are_locked(hub: Hub) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door")
    share = owner.post(f"/api/events/{record.id}/shares", json={}, headers=csrf_of(owner)).json()
    hub.services.keys.release()
    locked = hub.client().get(share["url"])
    assert locked.status_code == 423
    assert "locked" in locked.json()["detail"]
