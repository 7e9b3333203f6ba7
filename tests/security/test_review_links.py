"""Held: the review program's links and quota, replayed on a hub of their own (a daily quota of one clip).

Reviewers watch donated clips through single-use links: a link used twice, or by another reviewer, must be refused;
a reviewer cannot reach another reviewer's assignment; the daily quota refuses the next clip; and the program's admin
has no route to any footage. The hub is a second real `serve` (its queue is this module's alone, so the shared hub's
reviewers are not disturbed), with two donated clips: one for the links, one for the quota.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from security.conftest import (
    FRONT,
    GARDEN,
    OWNER,
    Caller,
    ServedHub,
    start_served_hub,
    stop_served_hub,
    wait_for_events,
)

# The module's hub records, redacts and watermarks on a machine other work shares: a deadline for a stuck run.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
# A deadline for a stuck hub (redaction takes both cores for seconds; longer on a busy machine), not a speed check.
PREPARATION_DEADLINE = 600.0


@dataclass
class ReviewHub:
    """The second hub, its owner and admin, and a reviewer holding the first donated clip."""

    hub: ServedHub
    owner: Caller
    admin: Caller
    holder: Caller
    assignment: dict[str, Any]
    donations: list[dict[str, Any]]


def donate(owner: Caller, event: dict[str, Any]) -> dict[str, Any]:
    """Donate an event through the consent flow (prepare, wait for the redacted copy, confirm); return it."""
    started = owner.post(f"/api/events/{event['id']}/donation", json={})
    assert started.status_code == 202, started.text
    donation = started.json()
    deadline = time.monotonic() + PREPARATION_DEADLINE
    while donation["status"] == "preparing" and time.monotonic() < deadline:
        time.sleep(2)
        donation = owner.get(f"/api/donations/{donation['id']}").json()
    assert donation["status"] == "ready", donation
    confirmed = owner.post(f"/api/donations/{donation['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return dict(confirmed.json())


def finished(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the first finished event with a clip."""
    return next(event for event in events if event["ended_at"] and event["clips"])


@pytest.fixture(scope="module")
def review_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewHub]:
    """Serve a hub whose reviewers get one clip a day; donate two clips and hand the first to a reviewer."""
    hub, token = start_served_hub(tmp_path_factory.mktemp("review-hub"), extra_config="review:\n  daily_quota: 1\n")
    try:
        owner = hub.caller(*OWNER)
        done = owner.client.post(
            "/api/setup", json={"token": token, "username": owner.username, "password": owner.password}
        )
        assert done.status_code == 200, done.text
        owner.adopt_session(done)
        hub.owner = owner
        donations = [donate(owner, finished(wait_for_events(owner, camera))) for camera in (FRONT, GARDEN)]
        holder = hub.new_program_account("reviewer")
        assignment = holder.post("/api/review/next")
        assert assignment.status_code == 200, assignment.text
        yield ReviewHub(hub, owner, hub.new_program_account("admin"), holder, assignment.json(), donations)
    finally:
        code = stop_served_hub(hub)
    assert code == 0, hub.log_text()


def media_link(reviewer: Caller, assignment_id: int) -> str:
    """Ask for a single-use link to an assignment's clip; return its path."""
    answer = reviewer.post(f"/api/review/assignments/{assignment_id}/media")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["url"])


def test_a_media_link_works_once_for_its_own_reviewer_only(review_hub: ReviewHub) -> None:
    """Held, review links: a link replayed by another reviewer, then by its own; a link used twice."""
    other = review_hub.hub.new_program_account("reviewer")
    assignment = review_hub.assignment["id"]
    stolen = media_link(review_hub.holder, assignment)
    refused = other.get(stolen)
    assert refused.status_code == 410, refused.text
    assert not refused.headers["content-type"].startswith("video/")
    # A link tried by someone else is spent: its reviewer asks for a new one.
    assert review_hub.holder.get(stolen).status_code == 410
    link = media_link(review_hub.holder, assignment)
    watched = review_hub.holder.get(link)
    assert watched.status_code == 200, watched.text
    assert watched.headers["content-type"] == "video/mp4"
    assert watched.content[4:8] == b"ftyp"
    assert "no-store" in watched.headers["cache-control"]
    again = review_hub.holder.get(link)
    assert again.status_code == 410
    assert again.content[4:8] != b"ftyp"
    # What the reviewer saw has their watermark burned in: it is neither of the owner's redacted copies.
    for donation in review_hub.donations:
        preview = review_hub.owner.get(f"/api/donations/{donation['id']}/preview.mp4")
        assert preview.status_code == 200
        assert preview.content != watched.content
    # The owner reads that the clip was watched, by a pseudonym, never the reviewer's name.
    log = review_hub.owner.get("/api/privacy/access-log", params={"limit": 1000}).json()
    views = [entry for entry in log if entry["action"] == "review_view" and entry["outcome"] == "ok"]
    assert views, log
    assert review_hub.holder.username not in {entry["actor"] for entry in log}


def test_made_up_and_malformed_links_are_refused(review_hub: ReviewHub) -> None:
    """Held, review links: guessed tokens, a token of the wrong length, and a token with a path in it."""
    for token in ("A" * 43, "not-a-real-link", "x" * 64, "%2e%2e%2fprogram-key.bin"):
        answer = review_hub.holder.get(f"/api/review/media/{token}")
        assert answer.status_code in (404, 410, 422), (token, answer.status_code)
        assert not answer.headers["content-type"].startswith("video/")


def test_a_reviewer_cannot_reach_another_reviewers_assignment(review_hub: ReviewHub) -> None:
    """Held, review links: another reviewer asks for a link to, labels, and flags the holder's assignment."""
    other = review_hub.hub.new_program_account("reviewer")
    assignment = review_hub.assignment["id"]
    for path, body in (
        (f"/api/review/assignments/{assignment}/media", None),
        (f"/api/review/assignments/{assignment}/labels", {"verdict": "real_event", "label": "person"}),
        (f"/api/review/assignments/{assignment}/flag", {"reason": "taking it away"}),
    ):
        answer = other.post(path, json=body)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
        assert answer.json()["detail"] == f"assignment {assignment}: not your assignment"
    status = other.get("/api/review/status").json()
    assert status["assignment"] is None
    # The holder still has it, unlabelled and not flagged.
    held = review_hub.holder.get("/api/review/status").json()["assignment"]
    assert held is not None
    assert held["id"] == assignment
    donation_statuses = {d["status"] for d in review_hub.owner.get("/api/donations").json()}
    assert donation_statuses == {"donated"}


def test_the_daily_quota_refuses_the_next_clip(review_hub: ReviewHub) -> None:
    """Held, review quota: a reviewer who labelled today's one clip asks for another while one waits in the queue."""
    reviewer = review_hub.hub.new_program_account("reviewer")
    handed = reviewer.post("/api/review/next")
    assert handed.status_code == 200, handed.text
    assert handed.json()["id"] != review_hub.assignment["id"]
    labelled = reviewer.post(
        f"/api/review/assignments/{handed.json()['id']}/labels", json={"verdict": "real_event", "label": "person"}
    )
    assert labelled.status_code == 200, labelled.text
    for _ in range(3):
        refused = reviewer.post("/api/review/next")
        assert refused.status_code == 429, refused.text
        assert "daily quota of 1" in refused.json()["detail"]
    status = reviewer.get("/api/review/status").json()
    assert (status["quota"], status["used_today"], status["remaining"], status["assignment"]) == (1, 1, 0, None)
    assert reviewer.post(f"/api/review/assignments/{handed.json()['id']}/media").status_code == 404


def test_the_admin_has_no_route_to_footage(review_hub: ReviewHub) -> None:
    """Held, review links: the admin walks every GET route of the API with real ids, and a reviewer's live link."""
    owner, admin = review_hub.owner, review_hub.admin
    schema = owner.get("/api/openapi.json")
    assert schema.status_code == 200, schema.text
    link = media_link(review_hub.holder, review_hub.assignment["id"])
    event = owner.get(f"/api/events/{review_hub.donations[0]['event_id']}").json()
    values = {
        "event_id": event["id"],
        "index": "0",
        "name": FRONT,
        "donation_id": review_hub.donations[0]["id"],
        "token": link.rsplit("/", 1)[1],
        "assignment_id": str(review_hub.assignment["id"]),
        "user_id": str(review_hub.holder.get("/api/me").json()["id"]),
        "token_id": "1",
        "webhook_id": "1",
        "rule_id": "1",
        "bell": "front",
        "restore_id": "no-such-restore",
    }
    walked = []
    for template, operations in schema.json()["paths"].items():
        if "get" not in operations or template.endswith("stream.mjpg"):
            continue
        path = template.format(**values)
        answer = admin.get(path, headers={"Range": "bytes=0-99"})
        walked.append(path)
        kind = answer.headers.get("content-type", "")
        assert not kind.startswith(("video/", "image/", "multipart/")), (path, answer.status_code, kind)
        assert answer.content[4:8] != b"ftyp", path
        assert not answer.content.startswith(b"\xff\xd8"), path
        if not path.startswith(("/api/admin/", "/api/me", "/api/health", "/api/setup")):
            assert answer.status_code in (403, 404), (path, answer.status_code)
    assert f"/api/review/media/{values['token']}" in walked
    assert f"/api/donations/{values['donation_id']}/preview.mp4" in walked
    assert admin.get(f"/api/cameras/{FRONT}/stream.mjpg").status_code == 403
    # The admin's try did not spend the reviewer's link: the refusal came before the link was looked at.
    assert review_hub.holder.get(link).status_code == 200
    # What the admin may see is counts and pseudonyms: no camera, event or donation of the home.
    for path in ("/api/admin/queue", "/api/admin/reviewers"):
        text = admin.get(path).text
        for secret in (FRONT, GARDEN, event["id"], *[d["id"] for d in review_hub.donations], OWNER[0]):
            assert secret not in text, (path, secret)
