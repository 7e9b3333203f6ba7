"""The attacked hub itself: every role the attacks impersonate exists, signs in and reaches only its own part."""

from __future__ import annotations

from typing import Any

from security.conftest import FRONT, GARDEN, Caller, ServedHub


def test_every_role_is_signed_in_and_confined(
    hub: ServedHub, owner: Caller, member: Caller, reviewer: Caller, admin: Caller
) -> None:
    assert owner.get("/api/me").json()["role"] == "owner"
    assert member.get("/api/me").json()["role"] == "member"
    assert reviewer.get("/api/me").json()["role"] == "reviewer"
    assert admin.get("/api/me").json()["role"] == "admin"
    cameras = {camera["name"] for camera in owner.get("/api/cameras").json()}
    assert cameras == {FRONT, GARDEN}
    assert {camera["name"] for camera in member.get("/api/cameras").json()} == {FRONT}
    assert reviewer.get("/api/events").status_code in (403, 404)
    with hub.anonymous() as anonymous:
        assert anonymous.get("/api/events").status_code == 401


def test_both_cameras_record_events_and_the_member_sees_only_the_front_door(
    member: Caller, front_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    assert member.get(f"/api/events/{front_event['id']}").status_code == 200
    assert member.get(f"/api/events/{garden_event['id']}").status_code == 404


def test_a_donated_clip_reaches_the_review_queue(reviewer: Caller, donated_event: dict[str, Any]) -> None:
    assert donated_event["status"] == "donated"
    status = reviewer.get("/api/review/status")
    assert status.status_code == 200, status.text
    assigned = reviewer.post("/api/review/next")
    assert assigned.status_code == 200, assigned.text
