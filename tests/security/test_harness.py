"""The attacked hub itself: every role the attacks impersonate exists, signs in and reaches only its own part."""

from __future__ import annotations

import sqlite3
from typing import Any

from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, Keyring, SealedObjectReader
from security.conftest import FRONT, GARDEN, Caller, ServedHub


def test_every_role_is_signed_in_and_confined(hub: ServedHub, owner: Caller, member: Caller) -> None:
    assert owner.get("/api/me").json()["role"] == "owner"
    assert member.get("/api/me").json()["role"] == "member"
    cameras = {camera["name"] for camera in owner.get("/api/cameras").json()}
    assert cameras == {FRONT, GARDEN}
    assert {camera["name"] for camera in member.get("/api/cameras").json()} == {FRONT}
    with hub.anonymous() as anonymous:
        assert anonymous.get("/api/events").status_code == 401


def test_both_cameras_record_events_and_the_member_sees_only_the_front_door(
    member: Caller, front_event: dict[str, Any], garden_event: dict[str, Any]
) -> None:
    assert member.get(f"/api/events/{front_event['id']}").status_code == 200
    assert member.get(f"/api/events/{garden_event['id']}").status_code == 404


def test_a_donated_clip_waits_sealed_for_the_cloud_and_the_hub_keeps_no_copy_to_show(
    hub: ServedHub, owner: Caller, donated_event: dict[str, Any]
) -> None:
    assert donated_event["status"] == "donated"
    assert owner.get(f"/api/donations/{donated_event['id']}/preview.mp4").status_code == 404
    # What would go to the cloud: the copy the owner watched, sealed to the program key, bound to the donation id.
    with sqlite3.connect(f"file:{hub.storage / 'offsite' / 'outbox.sqlite3'}?mode=ro", uri=True) as outbox:
        body = outbox.execute(
            "SELECT body FROM item WHERE kind = 'donation' AND subject = ?", (donated_event["id"],)
        ).fetchone()[0]
    assert hub.program_key is not None
    data_key = Keyring([hub.program_key.to_curve25519_private_key()]).open_data_key(body[:SEALED_DATA_KEY_SIZE])
    sealed = body[SEALED_DATA_KEY_SIZE:]
    reader = SealedObjectReader(data_key, donated_event["id"], len(sealed), lambda start, end: sealed[start:end])
    assert b"".join(reader.iter_chunks()) == donated_event["preview"]
