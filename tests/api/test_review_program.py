"""The review program end to end through the API: donation, preview, confirmation, the reviewer's queue with its
quota and single-use watermarked links, labels, flagging, withdrawal, expiry, standing rules, and the consent matrix:
every request a reviewer must not make is refused and written to the audit log the owner reads.

Redaction, screening (NudeNet) and the watermark are the real ones; the clips are short synthetic H.264.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pyotp
import pytest
from fastapi.testclient import TestClient

from api.conftest import MEMBER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in
from conftest import media_file
from homewarden.events.record import EventRecord
from homewarden.privacy.preparation import make_preparer
from homewarden.privacy.screening import ScreeningPolicy


@dataclass
class Program:
    """A hub with an owner, an event and two signed-in reviewers."""

    hub: Hub
    owner: TestClient
    event: EventRecord
    rita: TestClient
    rex: TestClient


def reviewer(hub: Hub, name: str) -> TestClient:
    """Create a reviewer with two-factor sign-in and return their signed-in client."""
    user = hub.services.accounts.create_user(name, MEMBER_PASSWORD, "reviewer", None)
    secret = pyotp.random_base32()
    hub.services.accounts.set_totp_secret(user.id, secret)
    return sign_in(hub, name, MEMBER_PASSWORD, secret)


@pytest.fixture
def program(hub: Hub) -> Iterator[Program]:
    """Yield the program; wait for background preparation before the hub closes."""
    owner = set_up_owner(hub)
    event = record_event(hub, "front_door", seconds=2.0)
    yield Program(hub, owner, event, reviewer(hub, "rita"), reviewer(hub, "rex"))
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


def refusals(program: Program, home_only: bool = False) -> list[dict[str, str]]:
    """Return the refused attempts in the owner's access log (or, for non-household refusals, the whole log)."""
    if home_only:
        entries = program.owner.get("/api/privacy/access-log").json()
    else:
        assert program.hub.services.audit is not None
        entries = [vars(entry) for entry in program.hub.services.audit.entries(limit=1000)]
    return [entry for entry in entries if entry["outcome"] == "refused"]


def test_donation_preview_confirm_review_label_and_the_owner_sees_the_view(program: Program) -> None:
    donation_id = donate(program, confirm=False)
    preview = program.owner.get(f"/api/donations/{donation_id}/preview.mp4")
    assert preview.status_code == 200
    with av.open(io.BytesIO(preview.content)) as container:
        assert len(container.streams) == 1
        assert sum(1 for _ in container.decode(video=0)) == 20
    # Nothing reaches the queue before the owner confirms.
    assert program.rita.post("/api/review/next", headers=csrf_of(program.rita)).status_code == 404
    confirmed = program.owner.post(f"/api/donations/{donation_id}/confirm", headers=csrf_of(program.owner)).json()
    assert confirmed["status"] == "donated"
    donated_at = datetime.fromisoformat(confirmed["donated_at"])
    assert datetime.fromisoformat(confirmed["expires_at"]) - donated_at == timedelta(days=90)

    assignment = program.rita.post("/api/review/next", headers=csrf_of(program.rita)).json()
    assert set(assignment) == {"id", "clip", "label", "duration", "width", "height", "assigned_at"}
    assert program.event.id not in str(assignment)
    assert "front_door" not in str(assignment)
    link = program.rita.post(f"/api/review/assignments/{assignment['id']}/media", headers=csrf_of(program.rita)).json()
    clip = program.rita.get(link["url"])
    assert clip.status_code == 200
    assert clip.headers["cache-control"] == "private, no-store"
    with av.open(io.BytesIO(clip.content)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 20
    assert clip.content != preview.content  # the watermark is burned in
    labels = {
        "verdict": "false_alarm",
        "cause": "shadow_or_light",
        "label": "person",
        "boxes": [{"t": 0.5, "x1": 0.1, "y1": 0.1, "x2": 0.4, "y2": 0.9, "label": "person"}],
    }
    saved = program.rita.post(
        f"/api/review/assignments/{assignment['id']}/labels", json=labels, headers=csrf_of(program.rita)
    )
    assert saved.status_code == 200, saved.text

    log = program.owner.get("/api/privacy/access-log").json()
    views = [entry for entry in log if entry["action"] == "review_view" and entry["outcome"] == "ok"]
    assert len(views) == 1
    assert views[0]["actor_role"] == "reviewer"
    assert views[0]["actor"].startswith("re-")
    assert views[0]["actor"] != "rita"
    assert program.owner.get(f"/api/donations/{donation_id}").json()["reviewer_views"] == 1


def test_consent_matrix_every_forbidden_request_is_refused_and_logged(program: Program) -> None:
    rita, rex, owner = program.rita, program.rex, program.owner
    never_donated = record_event(program.hub, "front_door")
    donation_id = donate(program)
    assignment = rita.post("/api/review/next", headers=csrf_of(rita)).json()

    # A clip that was never donated: reviewers have no route to household footage at all.
    for path in (
        f"/api/events/{never_donated.id}/clips/0.mp4",
        f"/api/events/{never_donated.id}/snapshot.jpg",
        f"/api/donations/{donation_id}/preview.mp4",
        "/api/cameras/front_door/snapshot.jpg",
    ):
        assert rita.get(path).status_code == 403, path
    # Another reviewer's assignment.
    assert rex.post(f"/api/review/assignments/{assignment['id']}/media", headers=csrf_of(rex)).status_code == 404
    assert (
        rex.post(
            f"/api/review/assignments/{assignment['id']}/labels",
            json={"verdict": "real_event", "label": "person"},
            headers=csrf_of(rex),
        ).status_code
        == 404
    )
    # A download: a media link works once, for its reviewer only.
    link = rita.post(f"/api/review/assignments/{assignment['id']}/media", headers=csrf_of(rita)).json()["url"]
    assert rex.get(link).status_code == 410
    link = rita.post(f"/api/review/assignments/{assignment['id']}/media", headers=csrf_of(rita)).json()["url"]
    assert rita.get(link).status_code == 200
    assert rita.get(link).status_code == 410
    # A revoked clip.
    withdrawn = owner.delete(f"/api/donations/{donation_id}", headers=csrf_of(owner))
    assert withdrawn.status_code == 200
    assert withdrawn.json()["copy_shredded"] is True
    assert rita.post(f"/api/review/assignments/{assignment['id']}/media", headers=csrf_of(rita)).status_code == 404
    # Beyond the quota.
    assert program.hub.services.review is not None
    program.hub.services.review.daily_quota = 1
    donate(program, record_event(program.hub, "garden"))
    assert rita.post("/api/review/next", headers=csrf_of(rita)).status_code == 429

    refused = refusals(program)
    actions = [(entry["action"], entry["detail"]) for entry in refused]
    assert len([entry for entry in refused if entry["action"] == "refused"]) == 4
    assert ("review_media_link", "not your assignment") in actions
    assert ("review_label", "not your assignment") in actions
    assert ("review_view", "used, expired or not theirs") in actions
    assert ("review_media_link", "no longer donated (withdrawn, flagged or expired)") in actions
    assert ("review_next", "daily quota") in actions
    # The owner reads the refusals that concern their home's footage.
    home_refusals = refusals(program, home_only=True)
    assert any(entry["action"] == "review_media_link" for entry in home_refusals)


def test_flagging_destroys_the_copy_and_its_key_and_tells_the_owner(program: Program) -> None:
    donation_id = donate(program)
    rita = program.rita
    assignment = rita.post("/api/review/next", headers=csrf_of(rita)).json()
    program_storage = program.hub.services.donations.program if program.hub.services.donations else None
    assert program_storage is not None
    files_before = sorted(path.name for path in program_storage.folder.rglob("*") if path.is_file())
    assert any(name.startswith(donation_id) for name in files_before)
    flagged = rita.post(
        f"/api/review/assignments/{assignment['id']}/flag",
        json={"reason": "a person undressing"},
        headers=csrf_of(rita),
    )
    assert flagged.status_code == 200
    remaining = [path.name for path in program_storage.folder.rglob("*") if path.is_file()]
    assert not any(name.startswith(donation_id) for name in remaining)
    assert not program_storage.vault().exists(f"donations/{donation_id}.mp4")
    shown = program.owner.get(f"/api/donations/{donation_id}").json()
    assert shown["status"] == "flagged"
    assert "a person undressing" in shown["reason"]
    notices = program.owner.get("/api/privacy/notices").json()
    assert notices[0]["kind"] == "flagged"
    assert rita.post("/api/review/next", headers=csrf_of(rita)).status_code == 404


def test_withdrawal_deletes_labels_and_expiry_deletes_the_copy(program: Program) -> None:
    first = donate(program)
    rita = program.rita
    assignment = rita.post("/api/review/next", headers=csrf_of(rita)).json()
    rita.post(
        f"/api/review/assignments/{assignment['id']}/labels",
        json={"verdict": "real_event", "label": "person"},
        headers=csrf_of(rita),
    )
    withdrawn = program.owner.delete(f"/api/donations/{first}", headers=csrf_of(program.owner)).json()
    assert withdrawn["labels_deleted"] == 1
    assert "destroyed" in withdrawn["detail"]
    from sqlalchemy import text

    with program.hub.services.events.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM review_label")).scalar() == 0

    second = donate(program, record_event(program.hub, "garden"))
    donations = program.hub.services.donations
    assert donations is not None
    assert donations.expire_due(datetime.now(UTC) + timedelta(days=89)) == 0
    assert donations.expire_due(datetime.now(UTC) + timedelta(days=91)) == 1
    assert program.owner.get(f"/api/donations/{second}").json()["status"] == "expired"
    assert not donations.program.vault().exists(f"donations/{second}.mp4")


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
    assert not any(donations.program.folder.rglob(f"{started['id']}*"))
    assert owner.get("/api/privacy/notices").json()[0]["kind"] == "screening"
    assert program.rita.post("/api/review/next", headers=csrf_of(program.rita)).status_code == 404
    log = owner.get("/api/privacy/access-log").json()
    assert any(entry["action"] == "donation_refused" and entry["outcome"] == "refused" for entry in log)
