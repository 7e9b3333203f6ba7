"""The privacy page's access log: other people's access first, the household's own views counted."""

from __future__ import annotations

from api.conftest import MEMBER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in


def test_the_households_own_views_are_counted_and_everything_else_listed(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    owner.post(
        "/api/members",
        json={"username": "max", "password": MEMBER_PASSWORD, "cameras": ["front_door"]},
        headers=headers,
    )
    member = sign_in(hub, "max", MEMBER_PASSWORD)
    record = record_event(hub, "front_door")
    for _ in range(3):
        assert owner.get(f"/api/events/{record.id}/snapshot.jpg").status_code == 200
    assert member.get(f"/api/events/{record.id}/clips/0.mp4").status_code == 200
    assert member.get(f"/api/events/{record.id}/clips/0/download").status_code == 200
    share = owner.post(f"/api/events/{record.id}/shares", json={}, headers=headers).json()
    assert hub.client().get(share["url"]).status_code == 200

    summary = owner.get("/api/privacy/access-summary")

    assert summary.status_code == 200, summary.text
    others = [(entry["actor"], entry["action"]) for entry in summary.json()["others"]]
    assert others == [
        (f"share link {share['id']}", "view_shared_clip"),
        ("olivia", "share_created"),
        ("max", "download_clip"),
    ]
    counted = {(view["actor"], view["action"]): view["count"] for view in summary.json()["household_views"]}
    assert counted == {("olivia", "view_snapshot"): 3, ("max", "view_clip"): 1}
    # The full log still holds every entry, one by one.
    assert len(owner.get("/api/privacy/access-log").json()) == 3 + 1 + 3
