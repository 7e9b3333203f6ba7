"""The owner's side of the review program through the API: consent, preview, confirmation, the copy sealed to the
cloud's program key in the outbox, withdrawal and its confirmation, the cloud's receipts on the privacy page, expiry,
standing rules, and donation refused on a hub that is not paired.

Redaction and screening (NudeNet) are the real ones; the clips are short synthetic H.264. The hub is "paired" by its
pairing files alone and its off-site worker does not run: the test holds the program's private key, as the cloud
would, and opens the sealed copy the outbox would send. The same path against a real cloud process is in
tests/offsite/test_review.py.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from api.conftest import MEMBER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in
from conftest import media_file
from homewarden.events.record import EventRecord
from homewarden.offsite.identity import OffsiteFolder, Pairing
from homewarden.offsite.outbox import donation_cloud_id
from homewarden.privacy.audit import Actor
from homewarden.privacy.donations import NOT_PAIRED
from homewarden.privacy.preparation import make_preparer
from homewarden.privacy.screening import ScreeningPolicy
from homewarden.review.program_key import PinnedKeys, ProgramKey, program_key_id
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, Keyring, SealedObjectReader


@dataclass
class Program:
    """A hub with an owner and an event, paired (by its files) with a cloud whose program key the test holds."""

    hub: Hub
    owner: TestClient
    event: EventRecord
    program_key: SigningKey


def program_document(key: SigningKey) -> dict[str, str]:
    """Return the ``program`` object the cloud gives for ``key``."""
    raw = bytes(key.verify_key)
    return {"key_id": program_key_id(raw), "verify_key": base64.b64encode(raw).decode(), "created_at": "2026-12-06"}


def pair_storage_by_files(storage: Path, key: SigningKey, cloud_url: str = "http://127.0.0.1:9") -> OffsiteFolder:
    """Write the files a pairing with a cloud holding ``key`` leaves: device key, pinned program key, pairing."""
    folder = OffsiteFolder(storage)
    folder.save_device_key(Ed25519PrivateKey.generate())
    folder.save_program_keys(PinnedKeys((ProgramKey.from_document(program_document(key)),)))
    folder.save_pairing(Pairing(cloud_url, "hub-1", "home-1"))  # last: a running hub notices this file
    return folder


def pair_by_files(hub: Hub, key: SigningKey) -> OffsiteFolder:
    """Pair a test hub by its files with a cloud that is not running."""
    return pair_storage_by_files(hub.services.config.storage.folder, key)


@pytest.fixture
def program(hub: Hub) -> Iterator[Program]:
    """Yield the program; wait for background preparation before the hub closes."""
    owner = set_up_owner(hub)
    event = record_event(hub, "front_door", seconds=2.0)
    key = SigningKey.generate()
    pair_by_files(hub, key)
    yield Program(hub, owner, event, key)
    assert hub.services.donations is not None
    hub.services.donations.close()


def donate(program: Program, event: EventRecord | None = None, confirm: bool = True) -> str:
    """Donate an event's clip as the owner; return the donation id."""
    owner = program.owner
    started = owner.post(f"/api/events/{(event or program.event).id}/donation", json={}, headers=csrf_of(owner))
    assert started.status_code == 202, started.text
    donation_id: str = started.json()["id"]
    assert started.json()["status"] == "preparing"
    assert program.hub.services.donations is not None
    program.hub.services.donations.wait_idle()
    shown = owner.get(f"/api/donations/{donation_id}").json()
    assert shown["status"] == "ready", shown
    if confirm:
        confirmed = owner.post(f"/api/donations/{donation_id}/confirm", headers=csrf_of(owner))
        assert confirmed.status_code == 200, confirmed.text
    return donation_id


def sealed_copy(program: Program, donation_id: str) -> tuple[bytes, dict[str, object]]:
    """Open the copy waiting in the outbox with the program's private key, as the cloud does; return it and its meta."""
    sync = program.hub.services.offsite
    assert sync is not None
    item = next(item for item in sync.outbox.items() if item.cloud_id == donation_cloud_id(donation_id))
    assert item.kind == "donation"
    assert item.body is not None
    assert item.meta is not None
    keyring = Keyring([program.program_key.to_curve25519_private_key()])
    data_key = keyring.open_data_key(item.body[:SEALED_DATA_KEY_SIZE])
    sealed = item.body[SEALED_DATA_KEY_SIZE:]
    reader = SealedObjectReader(data_key, donation_id, len(sealed), lambda start, end: sealed[start:end])
    return b"".join(reader.iter_chunks()), json.loads(item.meta)


def test_preview_then_confirm_seals_the_copy_to_the_program_key_and_the_hub_keeps_none(program: Program) -> None:
    donation_id = donate(program, confirm=False)
    preview = program.owner.get(f"/api/donations/{donation_id}/preview.mp4")
    assert preview.status_code == 200
    with av.open(io.BytesIO(preview.content)) as container:
        assert len(container.streams) == 1
        assert sum(1 for _ in container.decode(video=0)) == 20
        size = (container.streams.video[0].width, container.streams.video[0].height)
    storage = program.hub.services.storage
    assert storage.vault.exists(f"donations/{donation_id}.mp4")  # sealed to the home key until confirmed
    sync = program.hub.services.offsite
    assert sync is not None
    assert sync.outbox.items() == []  # nothing leaves before the owner confirms

    confirmed = program.owner.post(f"/api/donations/{donation_id}/confirm", headers=csrf_of(program.owner)).json()
    assert confirmed["status"] == "donated"
    donated_at = datetime.fromisoformat(confirmed["donated_at"])
    assert datetime.fromisoformat(confirmed["expires_at"]) - donated_at == timedelta(days=90)
    assert confirmed["sent_at"] is None
    assert not storage.vault.exists(f"donations/{donation_id}.mp4")
    assert not list((program.hub.services.config.storage.folder / "media").rglob(f"*{donation_id}*"))
    copy, meta = sealed_copy(program, donation_id)
    assert copy == preview.content
    assert meta["key_id"] == program_key_id(bytes(program.program_key.verify_key))
    shown = meta["metadata"]
    assert isinstance(shown, dict)
    assert shown["label"] == "person"
    assert (shown["width"], shown["height"]) == size
    assert program.event.id not in json.dumps(meta)
    assert "front_door" not in json.dumps(meta)
    # The donated copy is in the cloud's hands now: the hub has nothing to show.
    assert program.owner.get(f"/api/donations/{donation_id}/preview.mp4").status_code == 404


def test_a_hub_that_is_not_paired_refuses_donation_in_plain_words(program: Program) -> None:
    OffsiteFolder(program.hub.services.config.storage.folder).forget_pairing()
    refused = program.owner.post(f"/api/events/{program.event.id}/donation", json={}, headers=csrf_of(program.owner))
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the review program runs in Homewarden Cloud: pair this hub first"
    assert program.owner.get("/api/donations").json() == []


def test_a_broken_key_rotation_pauses_donations(program: Program) -> None:
    folder = OffsiteFolder(program.hub.services.config.storage.folder)
    keys = folder.program_keys()
    assert keys is not None
    folder.save_program_keys(PinnedKeys(keys.keys, "the cloud's review key changed without a valid signature"))
    refused = program.owner.post(f"/api/events/{program.event.id}/donation", json={}, headers=csrf_of(program.owner))
    assert refused.status_code == 409
    assert "changed without a valid signature" in refused.json()["detail"]


def test_withdrawal_goes_first_and_is_confirmed_only_once_the_cloud_acknowledges(program: Program) -> None:
    first = donate(program)
    second = donate(program, record_event(program.hub, "garden"))
    withdrawn = program.owner.delete(f"/api/donations/{first}", headers=csrf_of(program.owner)).json()
    assert withdrawn["sent_to_cloud"] is True
    assert "waiting for the cloud" in withdrawn["detail"]
    shown = program.owner.get(f"/api/donations/{first}").json()
    assert shown["status"] == "withdrawn"
    assert shown["withdrawal"] == "withdrawal waiting for the cloud"
    sync = program.hub.services.offsite
    assert sync is not None
    due = sync.outbox.next_due()
    assert due is not None
    assert (due.kind, due.subject) == ("withdraw", first)  # ahead of the other donation's upload
    assert due.body is None  # the sealed copy that had not gone yet is dropped with the upload
    assert [item.kind for item in sync.outbox.items()] == ["withdraw", "donation"]

    donations = program.hub.services.donations
    assert donations is not None
    at = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    donations.withdrawal_confirmed(first, at)
    shown = program.owner.get(f"/api/donations/{first}").json()
    assert shown["withdrawal"] == f"withdrawn — confirmed by Homewarden Cloud at {at.isoformat()}"
    assert program.owner.get(f"/api/donations/{second}").json()["status"] == "donated"


def test_a_copy_withdrawn_before_it_was_confirmed_never_leaves(program: Program) -> None:
    donation_id = donate(program, confirm=False)
    withdrawn = program.owner.delete(f"/api/donations/{donation_id}", headers=csrf_of(program.owner)).json()
    assert withdrawn == {
        "detail": "withdrawn: the copy was destroyed on this hub; it never left",
        "copy_shredded": True,
        "sent_to_cloud": False,
    }
    assert not program.hub.services.storage.vault.exists(f"donations/{donation_id}.mp4")
    sync = program.hub.services.offsite
    assert sync is not None
    assert sync.outbox.items() == []
    shown = program.owner.get(f"/api/donations/{donation_id}").json()
    assert shown["withdrawal"] == "withdrawn — the copy never left this hub"


def test_receipts_of_reviewer_views_are_listed_as_views_and_a_flag_ends_the_donation(program: Program) -> None:
    donation_id = donate(program)
    donations = program.hub.services.donations
    audit = program.hub.services.audit
    assert donations is not None
    assert audit is not None
    home = program.hub.services.hub_home_id
    audit.record(Actor("reviewer", "reviewer:r_0a1b2c3d"), "review.view", f"donation:{donation_id}", home_id=home)
    assert program.owner.get(f"/api/donations/{donation_id}").json()["reviewer_views"] == 1
    donations.cloud_changed(donation_id, "flag", "reviewer:r_0a1b2c3d", datetime.now(UTC))
    shown = program.owner.get(f"/api/donations/{donation_id}").json()
    assert shown["status"] == "flagged"
    assert "reviewer:r_0a1b2c3d" in shown["reason"]
    assert shown["withdrawal"] is not None
    assert shown["withdrawal"].startswith("flagged — confirmed by Homewarden Cloud")
    assert program.owner.get("/api/privacy/notices").json()[0]["kind"] == "flagged"


def test_expiry_ends_the_donation_without_asking_the_cloud_to_withdraw_it(program: Program) -> None:
    donation_id = donate(program)
    donations = program.hub.services.donations
    assert donations is not None
    assert donations.expire_due(datetime.now(UTC) + timedelta(days=89)) == 0
    assert donations.expire_due(datetime.now(UTC) + timedelta(days=91)) == 1
    shown = program.owner.get(f"/api/donations/{donation_id}").json()
    assert shown["status"] == "expired"
    assert shown["withdrawal"] == "withdrawal waiting for the cloud"  # until the cloud's "expired" receipt
    sync = program.hub.services.offsite
    assert sync is not None
    assert [item.kind for item in sync.outbox.items()] == ["donation"]
    # Stored once in English; each reader gets the notice in their own language.
    assert program.owner.get("/api/privacy/notices").json()[0]["text"] == (
        "A donated clip reached the end of its retention and was deleted."
    )
    german = program.owner.get("/api/privacy/notices", headers={"Accept-Language": "de-DE"}).json()[0]
    assert german["text"] == "Ein gespendeter Clip hat das Ende seiner Aufbewahrungszeit erreicht und wurde gelöscht."


def test_a_notice_with_a_reason_reads_in_german_reason_and_all(program: Program) -> None:
    donation_id = donate(program)
    donations = program.hub.services.donations
    assert donations is not None
    donations.undeliverable(donation_id, NOT_PAIRED)
    english = program.owner.get("/api/privacy/notices").json()[0]["text"]
    assert english == f"A donated clip could not reach Homewarden Cloud: {NOT_PAIRED}."
    german = program.owner.get("/api/privacy/notices", headers={"Accept-Language": "de"}).json()[0]["text"]
    assert german == (
        "Ein gespendeter Clip konnte Homewarden Cloud nicht erreichen: "
        "das Prüfprogramm läuft in Homewarden Cloud: koppeln Sie zuerst diesen Hub."
    )
    # A reason the catalog does not know (the cloud's own words) stays as it was written, inside German.
    donations.undeliverable(donate(program), "HTTP 413 from a proxy")
    german = program.owner.get("/api/privacy/notices", headers={"Accept-Language": "de"}).json()[0]["text"]
    assert german == "Ein gespendeter Clip konnte Homewarden Cloud nicht erreichen: HTTP 413 from a proxy."


def test_nothing_is_donated_without_a_rule_and_a_rule_donates_what_it_names(program: Program) -> None:
    owner = program.owner
    donations = program.hub.services.donations
    assert donations is not None
    cat = record_event(program.hub, "garden", label="cat")
    assert donations.apply_rules(program.hub.services.hub_home_id, cat, "label") == []
    assert owner.post(f"/api/events/{cat.id}/false-alarm", headers=csrf_of(owner)).status_code == 200
    assert owner.get("/api/donations").json() == []

    rule = owner.post("/api/privacy/rules", json={"camera": "garden", "trigger": "false_alarm"}, headers=csrf_of(owner))
    assert rule.status_code == 201, rule.text
    assert [r["trigger"] for r in owner.get("/api/privacy/rules").json()] == ["false_alarm"]
    front = record_event(program.hub, "front_door")
    owner.post(f"/api/events/{front.id}/false-alarm", headers=csrf_of(owner))
    owner.post(f"/api/events/{cat.id}/false-alarm", headers=csrf_of(owner))
    donations.wait_idle()
    listed = owner.get("/api/donations").json()
    assert [(d["event_id"], d["status"], d["from_rule"]) for d in listed] == [(cat.id, "donated", True)]
    copy, _meta = sealed_copy(program, listed[0]["id"])
    with av.open(io.BytesIO(copy)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0


def test_a_member_cannot_donate_and_locked_footage_cannot_be_donated(program: Program) -> None:
    hub = program.hub
    hub.services.accounts.create_user("max", MEMBER_PASSWORD, "member", hub.services.hub_home_id, ["front_door"])
    member = sign_in(hub, "max", MEMBER_PASSWORD)
    assert member.post(f"/api/events/{program.event.id}/donation", json={}, headers=csrf_of(member)).status_code == 403
    hub.services.keys.release()
    locked = program.owner.post(f"/api/events/{program.event.id}/donation", json={}, headers=csrf_of(program.owner))
    assert locked.status_code == 423


def first_seconds(source: Path, seconds: float) -> bytes:
    """Return the start of real H.264 footage as the MP4 clip a camera would have recorded (packets copied)."""
    out = io.BytesIO()
    with av.open(str(source)) as container, av.open(out, mode="w", format="mp4") as output:
        stream = container.streams.video[0]
        copy = output.add_stream_from_template(stream)
        for packet in container.demux(stream):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * stream.time_base > seconds:
                break
            packet.stream = copy
            output.mux(packet)
    return out.getvalue()


def test_a_copy_screening_refuses_is_deleted_at_once_and_the_owner_is_told(program: Program) -> None:
    """The refusal path with the real NudeNet model and the real redaction.

    The real footage is clean, so a policy refusing a class NudeNet does report on the redacted copy of it
    (covered feet, from 8 s on) stands in for intimate content: the same code runs from the hit to the deletion.
    """
    hub = program.hub
    donations = hub.services.donations
    assert donations is not None
    donations.preparer = make_preparer(
        lambda: None, ScreeningPolicy(classes=frozenset({"FEET_COVERED"}), min_score=0.3)
    )
    event = record_event(hub, "front_door", clip=first_seconds(media_file("video/one-by-one-person-detection.mp4"), 12))
    owner = program.owner
    started = owner.post(f"/api/events/{event.id}/donation", json={}, headers=csrf_of(owner)).json()
    donations.wait_idle()
    shown = owner.get(f"/api/donations/{started['id']}").json()
    assert shown["status"] == "refused"
    assert "screening found possible intimate content (FEET_COVERED)" in shown["reason"]
    assert owner.get(f"/api/donations/{started['id']}/preview.mp4").status_code == 404
    assert owner.post(f"/api/donations/{started['id']}/confirm", headers=csrf_of(owner)).status_code == 409
    assert not any((hub.folder / "data").rglob(f"*{started['id']}*"))
    assert owner.get("/api/privacy/notices").json()[0]["kind"] == "screening"
    sync = hub.services.offsite
    assert sync is not None
    assert sync.outbox.items() == []
    log = owner.get("/api/privacy/access-log").json()
    assert any(entry["action"] == "donation_refused" and entry["outcome"] == "refused" for entry in log)
