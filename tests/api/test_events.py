"""The timeline and media routes: filters, decrypted clips with byte ranges, the lock, deletion."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import av

from api.conftest import OWNER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in


def test_filters_by_camera_label_person_alarm_and_date(hub: Hub) -> None:
    owner = set_up_owner(hub)
    stranger = record_event(hub, "front_door", alarm=True, sub_label="unknown")
    member = record_event(hub, "front_door", sub_label="alice")
    cat = record_event(hub, "garden", label="cat")

    def ids(query: str) -> list[str]:
        response = owner.get(f"/api/events{query}")
        assert response.status_code == 200, response.text
        return [event["id"] for event in response.json()["events"]]

    assert ids("") == [cat.id, member.id, stranger.id]
    assert ids("?camera=garden") == [cat.id]
    assert ids("?label=person") == [member.id, stranger.id]
    assert ids("?person=alice") == [member.id]
    assert ids("?person=stranger") == [stranger.id]
    assert ids("?alarm=true") == [stranger.id]
    today = datetime.now(UTC).date()
    assert ids(f"?since={today.isoformat()}") == [cat.id, member.id, stranger.id]
    assert ids(f"?until={(today - timedelta(days=1)).isoformat()}") == []
    assert owner.get("/api/events?since=yesterday").status_code == 422
    shown = owner.get(f"/api/events/{stranger.id}").json()
    assert shown["alarm_reason"] == "stranger"
    assert shown["clips"][0]["url"] == f"/api/events/{stranger.id}/clips/0.mp4"


def test_clip_is_decrypted_with_byte_ranges_and_plays(hub: Hub) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door", seconds=3.0)
    url = f"/api/events/{record.id}/clips/0.mp4"
    whole = owner.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert "no-store" in whole.headers["cache-control"]
    data = whole.content
    with av.open(io.BytesIO(data)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30
    part = owner.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.content == data[100:200]
    tail = owner.get(url, headers={"Range": "bytes=-50"})
    assert tail.content == data[-50:]
    beyond = owner.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert owner.get(f"/api/events/{record.id}/clips/1.mp4").status_code == 404
    snapshot = owner.get(f"/api/events/{record.id}/snapshot.jpg")
    assert snapshot.status_code == 200
    assert snapshot.content[:2] == b"\xff\xd8"


def test_footage_is_locked_until_the_owner_signs_in(hub: Hub) -> None:
    set_up_owner(hub)
    record = record_event(hub, "front_door")
    hub.services.keys.release()  # as after a restart
    member_user = hub.services.accounts.create_user(
        "max", "member password 1", "member", hub.services.hub_home_id, ["front_door"]
    )
    member = sign_in(hub, member_user.username, "member password 1")
    locked = member.get(f"/api/events/{record.id}/clips/0.mp4")
    assert locked.status_code == 423
    assert "owner" in locked.json()["detail"]
    assert member.get("/api/home").json()["unlocked"] is False
    sign_in(hub, "olivia", OWNER_PASSWORD)
    assert member.get(f"/api/events/{record.id}/clips/0.mp4").status_code == 200


def test_owner_deletes_an_event_and_its_footage_is_shredded(hub: Hub) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door")
    vault = hub.services.storage.vault
    names = [
        hub.services.storage.media.object_name(__import__("pathlib").Path(p))
        for p in (record.snapshot, record.clips[0].path)
    ]
    assert all(name and vault.exists(name) for name in names)
    assert owner.delete(f"/api/events/{record.id}", headers=csrf_of(owner)).status_code == 200
    assert owner.get(f"/api/events/{record.id}").status_code == 404
    assert not any(vault.exists(name) for name in names if name)
