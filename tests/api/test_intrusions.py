"""The timeline by intrusion: one item per intrusion, its people's events and clips, under the events' access rules."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from api.conftest import Hub, csrf_of, record_event, set_up_owner, sign_in
from homewarden.store.deletion import delete_event


def test_an_intrusion_lists_its_people_with_their_events_and_clips(hub: Hub) -> None:
    owner = set_up_owner(hub)
    intrusion = uuid.uuid4().hex
    stranger = record_event(hub, "front_door", alarm=True, sub_label="unknown", intrusion=intrusion)
    alice = record_event(hub, "front_door", sub_label="alice", intrusion=intrusion)
    alone = record_event(hub, "garden", alarm=True, intrusion=uuid.uuid4().hex)
    record_event(hub, "garden", label="cat")  # no intrusion: not on this timeline

    listed = owner.get("/api/intrusions")
    assert listed.status_code == 200, listed.text
    items = listed.json()["intrusions"]
    assert [len(item["events"]) for item in items] == [1, 2]
    first = items[1]
    assert first["id"] == intrusion
    assert (first["people"], first["names"], first["strangers"]) == (2, ["alice"], 1)
    assert (first["alarm"], first["alarm_reason"], first["cameras"]) == (True, "stranger", ["front_door"])
    assert first["snapshot_url"] == f"/api/events/{stranger.id}/snapshot.jpg"
    assert {event["id"] for event in first["events"]} == {stranger.id, alice.id}
    clip = first["events"][0]["clips"][0]["url"]
    assert owner.get(clip).status_code == 200
    assert items[0]["events"][0]["id"] == alone.id

    assert owner.get(f"/api/intrusions/{intrusion}").json() == first
    assert [item["id"] for item in owner.get("/api/intrusions?camera=garden").json()["intrusions"]] == [items[0]["id"]]
    assert owner.get("/api/intrusions?since=yesterday").status_code == 422
    assert owner.get(f"/api/intrusions/{uuid.uuid4().hex}").status_code == 404


def test_an_intrusions_events_say_where_in_words_and_whether_the_caller_reviewed_them(hub: Hub) -> None:
    owner = set_up_owner(hub)
    intrusion = uuid.uuid4().hex
    stranger = record_event(hub, "front_door", alarm=True, sub_label="unknown", intrusion=intrusion)
    alice = record_event(hub, "front_door", sub_label="alice", intrusion=intrusion)
    marked = owner.put("/api/events/reviewed", json={"event_ids": [alice.id], "reviewed": True}, headers=csrf_of(owner))
    assert marked.status_code == 200, marked.text

    shown = {event["id"]: event for event in owner.get(f"/api/intrusions/{intrusion}").json()["events"]}
    assert (shown[alice.id]["reviewed"], shown[stranger.id]["reviewed"]) == (True, False)
    assert {event["place"] for event in shown.values()} == {"at the front door"}
    assert {event["camera_name"] for event in shown.values()} == {"Front door"}
    assert shown[stranger.id]["title"] == "Unfamiliar person at the front door"
    listed = owner.get("/api/intrusions").json()["intrusions"]
    assert {event["id"]: event["reviewed"] for event in listed[0]["events"]} == {alice.id: True, stranger.id: False}


def test_a_member_sees_only_the_part_on_cameras_they_may_watch(hub: Hub) -> None:
    set_up_owner(hub)
    intrusion = uuid.uuid4().hex
    front = record_event(hub, "front_door", alarm=True, sub_label="unknown", intrusion=intrusion)
    garden = record_event(hub, "garden", intrusion=intrusion)
    hidden = uuid.uuid4().hex
    record_event(hub, "front_door", alarm=True, intrusion=hidden)
    hub.services.accounts.create_user("max", "member password 1", "member", hub.services.hub_home_id, ["garden"])
    member = sign_in(hub, "max", "member password 1")

    shown = member.get(f"/api/intrusions/{intrusion}")
    assert shown.status_code == 200
    body = shown.json()
    # The front door's person (and its alarm) are not his to see.
    assert [event["id"] for event in body["events"]] == [garden.id]
    assert (body["people"], body["alarm"], body["strangers"], body["cameras"]) == (1, False, 0, ["garden"])
    assert front.id not in shown.text
    assert "front_door" not in shown.text
    assert [item["id"] for item in member.get("/api/intrusions").json()["intrusions"]] == [intrusion]
    assert member.get(f"/api/intrusions/{hidden}").status_code == 404
    assert member.get("/api/intrusions?alarm=true").json()["intrusions"] == []


def test_an_intrusion_goes_with_its_last_event(hub: Hub) -> None:
    owner = set_up_owner(hub)
    intrusion = uuid.uuid4().hex
    events = [record_event(hub, "front_door", intrusion=intrusion) for _ in range(2)]
    media = hub.services.storage.media

    delete_event(hub.services.events, media, events[0])
    assert owner.get(f"/api/intrusions/{intrusion}").json()["people"] == 1
    delete_event(hub.services.events, media, events[1])
    assert owner.get(f"/api/intrusions/{intrusion}").status_code == 404
    with hub.services.events.engine.connect() as connection:
        assert connection.execute(text("select count(*) from intrusion")).scalar() == 0
