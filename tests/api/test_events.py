"""The timeline and media routes: filters, decrypted clips with byte ranges, the lock, deletion."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
from fastapi.testclient import TestClient

from api.conftest import OWNER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in
from homewarden.store.retention import FootageKeeper
from video.camera_streams import barcode_frames, write_camera_file


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


def h265_clip_with_sound(folder: Path) -> bytes:
    """Return an MP4 clip as the recorder keeps an H.265 camera's: hvc1 video and AAC sound, index first."""
    source = write_camera_file(
        folder / "camera.mov", barcode_frames(3), container_format="mov", video_codec="libx265", audio_codec="aac"
    )
    clip = folder / "clip.mp4"
    with (
        av.open(str(source)) as camera,
        av.open(str(clip), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        video = out.add_stream_from_template(camera.streams.video[0])
        video.codec_tag = "hvc1"
        sound = out.add_stream_from_template(camera.streams.audio[0])
        for packet in camera.demux(camera.streams.video[0], camera.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = video if packet.stream.type == "video" else sound
            out.mux(packet)
    return clip.read_bytes()


def test_h265_clip_has_an_h264_copy_made_on_demand_with_its_sound(hub: Hub, tmp_path: Path) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door", clip=h265_clip_with_sound(tmp_path))
    [clip] = owner.get(f"/api/events/{record.id}").json()["clips"]
    assert clip["h264_url"] == f"/api/events/{record.id}/clips/0/h264.mp4"
    original = owner.get(clip["url"]).content

    whole = owner.get(clip["h264_url"])

    assert whole.status_code == 200
    assert (whole.headers["content-type"], whole.headers["accept-ranges"]) == ("video/mp4", "bytes")
    assert "no-store" in whole.headers["cache-control"]
    copy = whole.content
    with av.open(io.BytesIO(original)) as container:
        assert container.streams.video[0].codec_context.name == "hevc"
    with av.open(io.BytesIO(copy)) as container:
        assert [stream.codec_context.name for stream in container.streams] == ["h264", "aac"]
        assert container.streams.video[0].codec_context.format.name == "yuv420p"
        assert sum(1 for _ in container.decode(video=0)) == 30
    # A browser seeks with byte ranges: they come from the same copy, converted once.
    part = owner.get(clip["h264_url"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(copy)}"
    assert part.content == copy[1000:2000]
    assert hub.services.audit is not None
    views = [entry for entry in hub.services.audit.entries() if entry.object == f"event:{record.id}"]
    # One entry per playback (its first request), not per seek, as for the clip itself.
    assert [(entry.action, entry.detail) for entry in views] == [
        ("view_clip", "clip 0 (H.264 copy)"),
        ("view_clip", "clip 0"),
    ]


def test_h264_copy_of_an_h264_clip_is_the_clip_and_locked_footage_stays_locked(hub: Hub) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door")
    url = f"/api/events/{record.id}/clips/0/h264.mp4"
    assert owner.get(url).content == owner.get(f"/api/events/{record.id}/clips/0.mp4").content
    assert owner.get(f"/api/events/{record.id}/clips/1/h264.mp4").status_code == 404
    assert owner.post("/api/home/lock", headers=csrf_of(owner)).status_code == 200
    assert owner.get(url).status_code == 423


def test_events_read_in_plain_words_with_the_cameras_display_names(hub: Hub) -> None:
    hub.services.config.cameras["front_door"].name = "Back porch"
    owner = set_up_owner(hub)
    stranger = record_event(hub, "front_door", alarm=True, sub_label="unknown")
    cat = record_event(hub, "garden", label="cat")

    shown = {event["id"]: event for event in owner.get("/api/events").json()["events"]}

    assert shown[stranger.id]["title"] == "Unfamiliar person at the back porch"
    assert shown[stranger.id]["camera_name"] == "Back porch"
    assert shown[stranger.id]["camera"] == "front_door"
    assert shown[cat.id]["title"] == "Cat in the garden"
    assert shown[cat.id]["box"] == [10, 10, 100, 200]
    cameras = {camera["name"]: camera["display_name"] for camera in owner.get("/api/cameras").json()}
    assert cameras == {"front_door": "Back porch", "garden": "Garden"}


def test_an_event_shows_the_moment_of_its_box_and_snapshot(hub: Hub) -> None:
    """box_time is the wall-clock moment of the best view, inside the event; None where the store has none."""
    owner = set_up_owner(hub)
    seen = record_event(hub, "front_door", seconds=4.0, box_after=2.5)
    untimed = record_event(hub, "garden")

    shown = {event["id"]: event for event in owner.get("/api/events").json()["events"]}

    moment = datetime.fromisoformat(shown[seen.id]["box_time"])
    assert moment == datetime.fromtimestamp(seen.start + 2.5, tz=UTC)
    assert shown[seen.id]["started_at"] < shown[seen.id]["box_time"] < shown[seen.id]["ended_at"]
    assert shown[untimed.id]["box_time"] is None
    assert owner.get(f"/api/events/{seen.id}").json()["box_time"] == shown[seen.id]["box_time"]


def test_previous_and_next_follow_the_timeline_within_the_callers_cameras(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    owner.post(
        "/api/members",
        json={"username": "max", "password": "member password 1", "cameras": ["garden"]},
        headers=headers,
    )
    member = sign_in(hub, "max", "member password 1")
    first = record_event(hub, "garden")
    middle = record_event(hub, "front_door")
    last = record_event(hub, "garden")

    def neighbours(client: TestClient, event_id: str) -> dict[str, str | None]:
        answer = client.get(f"/api/events/{event_id}/neighbours")
        assert answer.status_code == 200, answer.text
        return answer.json()

    listed = [event["id"] for event in owner.get("/api/events").json()["events"]]
    assert listed == [last.id, middle.id, first.id]
    assert neighbours(owner, middle.id) == {"newer": last.id, "older": first.id}
    assert neighbours(owner, last.id) == {"newer": None, "older": middle.id}
    assert neighbours(owner, first.id) == {"newer": middle.id, "older": None}
    # The member sees the garden only: the front door's event is skipped, not named.
    assert neighbours(member, last.id) == {"newer": None, "older": first.id}


def test_reviewed_marks_are_each_users_own(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    owner.post(
        "/api/members",
        json={"username": "max", "password": "member password 1", "cameras": ["garden"]},
        headers=headers,
    )
    member = sign_in(hub, "max", "member password 1")
    seen, unseen = record_event(hub, "garden"), record_event(hub, "garden")

    marked = member.put("/api/events/reviewed", json={"event_ids": [seen.id]}, headers=csrf_of(member))

    assert marked.status_code == 200, marked.text
    by_member = {event["id"]: event["reviewed"] for event in member.get("/api/events").json()["events"]}
    assert by_member == {seen.id: True, unseen.id: False}
    by_owner = {event["id"]: event["reviewed"] for event in owner.get("/api/events").json()["events"]}
    assert by_owner == {seen.id: False, unseen.id: False}
    assert member.get(f"/api/events/{seen.id}").json()["reviewed"] is True
    again = member.put(
        "/api/events/reviewed", json={"event_ids": [seen.id], "reviewed": False}, headers=csrf_of(member)
    )
    assert again.status_code == 200
    assert member.get(f"/api/events/{seen.id}").json()["reviewed"] is False


def test_bulk_delete_removes_every_picked_event_or_none_of_them(hub: Hub) -> None:
    owner = set_up_owner(hub)
    headers = csrf_of(owner)
    doomed = [record_event(hub, "front_door"), record_event(hub, "garden")]
    kept = record_event(hub, "front_door")

    refused = owner.post("/api/events/delete", json={"event_ids": [doomed[0].id, "no-such-event"]}, headers=headers)

    assert refused.status_code == 404
    assert len(owner.get("/api/events").json()["events"]) == 3
    deleted = owner.post("/api/events/delete", json={"event_ids": [event.id for event in doomed]}, headers=headers)
    assert deleted.status_code == 200, deleted.text
    assert [event["id"] for event in owner.get("/api/events").json()["events"]] == [kept.id]
    for event in doomed:
        assert owner.get(f"/api/events/{event.id}/clips/0.mp4").status_code == 404


def test_a_download_is_a_named_attachment_and_audited_once(hub: Hub) -> None:
    owner = set_up_owner(hub)
    record = record_event(hub, "front_door")
    url = f"/api/events/{record.id}/clips/0/download"

    whole = owner.get(url)
    owner.get(url, headers={"Range": "bytes=100-199"})

    assert whole.status_code == 200
    assert whole.content[4:8] == b"ftyp"
    disposition = whole.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="front_door-\d{4}-\d\d-\d\d-\d{4}-1\.mp4"', disposition)
    audit = hub.services.audit
    assert audit is not None
    downloads = [entry for entry in audit.entries() if entry.action == "download_clip"]
    assert [(entry.actor, entry.object) for entry in downloads] == [("olivia", f"event:{record.id}")]


def test_the_storage_page_names_what_retention_deletes_next_in_plain_words(hub: Hub) -> None:
    owner = set_up_owner(hub)
    services = hub.services
    # The hub's start builds the keeper (tests/api's hubs do not start): the same one, on this hub's store.
    services.keeper = FootageKeeper(services.events, services.storage.media, services.config.storage.retention)
    record_event(hub, "garden", label="cat")
    deletions = owner.get("/api/storage").json()["next_deletions"]
    assert [deletion["title"] for deletion in deletions] == ["Cat in the garden"]
