"""The reviewers' workbench on PostgreSQL and the rclone S3 server: consent, quota, fairness, races, receipts."""

from __future__ import annotations

import io
import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import av
import pyotp
import pytest
from sqlalchemy import func, select, update

from cloud.api.test_review_hubs import clip, donate_and_wait, receipts_of, state_of
from cloud.conftest import CloudUnderTest
from cloud.review.conftest import StaffMember, make_staff, new_donation_id, queue_rows
from homewarden.cloud.models import ReviewAssignment, ReviewLabel, ReviewMediaLink, ReviewStaff
from homewarden.cloud.review.workbench import Labels

REFUSALS = "homewarden.cloud.review.workbench"


def frames_of(mp4: bytes) -> int:
    """Return how many frames a clip decodes to (PyAV): the media is a real, playable video."""
    with av.open(io.BytesIO(mp4)) as container:
        return sum(1 for _ in container.decode(video=0))


def refusals(caplog: pytest.LogCaptureFixture, reviewer: StaffMember) -> list[str]:
    """Return the refusals logged for ``reviewer``."""
    return [r.getMessage() for r in caplog.records if r.name == REFUSALS and reviewer.actor in r.getMessage()]


def test_sign_in_needs_the_password_and_a_fresh_code(cloud: CloudUnderTest) -> None:
    made = cloud.services.staff.create("reviewer-totp", "a long reviewer password", "reviewer")
    totp = pyotp.TOTP(made.totp_secret)
    attempt = {"username": "reviewer-totp", "password": "a long reviewer password"}

    without_code = cloud.client.post("/api/v1/staff/session", json=attempt)
    wrong_code = cloud.client.post("/api/v1/staff/session", json={**attempt, "code": "000000"})
    code = totp.now() if totp.now() != "000000" else totp.at(totp.timecode(totp.now()) + 30)
    signed_in = cloud.client.post("/api/v1/staff/session", json={**attempt, "code": code})
    replayed = cloud.client.post("/api/v1/staff/session", json={**attempt, "code": code})
    wrong_password = cloud.client.post(
        "/api/v1/staff/session", json={**attempt, "password": "not the password!", "code": totp.now()}
    )

    assert without_code.status_code == 400
    assert "code" in without_code.json()["detail"]
    assert wrong_code.status_code == 401
    assert signed_in.status_code == 200
    assert replayed.status_code == 401
    assert wrong_password.status_code == 401
    with cloud.services.database.session() as session:
        seed = session.scalar(select(ReviewStaff.totp_seed).where(ReviewStaff.username_key == "reviewer-totp"))
    assert seed is not None
    assert made.totp_secret.encode() not in seed


def test_staff_sign_in_is_throttled(cloud: CloudUnderTest) -> None:
    cloud.services.staff.create("reviewer-guessed", "a long reviewer password", "reviewer")
    guesses = [
        cloud.client.post(
            "/api/v1/staff/session",
            json={"username": "reviewer-guessed", "password": f"guess number {n:04d}", "code": "123456"},
        ).status_code
        for n in range(7)
    ]

    assert guesses[:5] == [401] * 5
    assert guesses[5:] == [429, 429]


def test_staff_and_households_reach_only_their_own_routes(cloud: CloudUnderTest) -> None:
    household = cloud.account()
    reviewer = make_staff(cloud.services, cloud.client)
    admin = make_staff(cloud.services, cloud.client, "admin")

    assert reviewer.call("GET", "/api/v1/account").status_code == 401
    assert admin.call("GET", "/api/v1/hubs").status_code == 401
    assert cloud.client.get("/api/v1/workbench", headers=household.auth).status_code == 401
    assert cloud.client.get("/api/v1/review-admin/queue", headers=household.auth).status_code == 401
    assert admin.call("POST", "/api/v1/workbench/next").status_code == 403
    assert reviewer.call("GET", "/api/v1/review-admin/queue").status_code == 403
    assert reviewer.call("GET", "/api/v1/workbench").status_code == 200
    assert admin.call("GET", "/api/v1/review-admin/queue").status_code == 200


def test_the_consent_matrix_across_two_homes_and_two_reviewers(
    cloud: CloudUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=REFUSALS)
    first_home, second_home = cloud.account().pair_hub(), cloud.account().pair_hub()
    first_clip = new_donation_id()
    donate_and_wait(first_home, first_clip, clip())
    second_clip = new_donation_id()
    donate_and_wait(second_home, second_clip, clip())
    withdrawn_clip = new_donation_id()
    donate_and_wait(second_home, withdrawn_clip, clip())
    ann, bob = make_staff(cloud.services, cloud.client), make_staff(cloud.services, cloud.client)

    # One clip each, from two homes; asking again gives the same clip (one open assignment).
    ann_clip = ann.call("POST", "/api/v1/workbench/next").json()
    bob_clip = bob.call("POST", "/api/v1/workbench/next").json()
    assert ann.call("POST", "/api/v1/workbench/next").json()["id"] == ann_clip["id"]
    assert ann_clip["id"] != bob_clip["id"]
    assert set(ann_clip) == {"id", "label", "duration_s", "width", "height", "assigned_at"}

    # Another reviewer's clip: no link, no labels, no flag.
    for path in ("media", "labels", "flag"):
        payload = {"verdict": "real_event", "label": "person"} if path == "labels" else {}
        answer = bob.call("POST", f"/api/v1/workbench/assignments/{ann_clip['id']}/{path}", payload)
        assert answer.status_code == 404, path
    assert len(refusals(caplog, bob)) == 3

    # The clip, once, watermarked; a second use and another reviewer's use are gone; inline, never stored.
    link = ann.call("POST", f"/api/v1/workbench/assignments/{ann_clip['id']}/media")
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    stolen = bob.call("GET", url)
    shown = ann.call("GET", url)
    again = ann.call("GET", url)
    assert stolen.status_code == 410
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "video/mp4"
    assert shown.headers["content-disposition"] == "inline"
    assert "no-store" in shown.headers["cache-control"]
    assert frames_of(shown.content) > 0
    assert again.status_code == 410
    assert len(refusals(caplog, ann)) == 1
    assert len(refusals(caplog, bob)) == 4
    # The watermarked copy lived sealed in the store only until its one use.
    assert list(cloud.services.store.keys("review-media/")) == []

    # A withdrawn clip leaves the reviewer's hands at once.
    homes = {first_home.home_id: first_home, second_home.home_id: second_home}
    with cloud.services.database.session() as session:
        bob_donation = session.scalar(select(ReviewAssignment.donation_id).where(ReviewAssignment.id == bob_clip["id"]))
        bob_home_id = session.scalar(select(ReviewAssignment.home_id).where(ReviewAssignment.id == bob_clip["id"]))
    bob_home = homes[str(bob_home_id)]
    assert bob_home.request("DELETE", f"/api/v1/donations/{bob_donation}").status_code == 200
    assert bob.call("POST", f"/api/v1/workbench/assignments/{bob_clip['id']}/media").status_code == 404
    assert bob.call("GET", "/api/v1/workbench").json()["assignment"] is None

    # Beyond the daily quota, nothing more today (and the refusal is logged).
    cloud.services.config.review.daily_quota = 1
    beyond = bob.call("POST", "/api/v1/workbench/next")
    assert beyond.status_code == 429
    assert "daily quota" in beyond.json()["detail"]
    assert any("daily quota" in message for message in refusals(caplog, bob))
    cloud.services.config.review.daily_quota = 150

    # Labels close the assignment; the home gets receipts of the view and the label, by pseudonym only.
    labelled = ann.call(
        "POST",
        f"/api/v1/workbench/assignments/{ann_clip['id']}/labels",
        {
            "verdict": "false_alarm",
            "cause": "pet",
            "label": "cat",
            "boxes": [{"t": 0.5, "x1": 0.1, "y1": 0.1, "x2": 0.4, "y2": 0.5, "label": "cat"}],
        },
    )
    assert labelled.status_code == 200, labelled.text
    with cloud.services.database.session() as session:
        ann_home_id = session.scalar(select(ReviewAssignment.home_id).where(ReviewAssignment.id == ann_clip["id"]))
        ann_donation = session.scalar(select(ReviewAssignment.donation_id).where(ReviewAssignment.id == ann_clip["id"]))
    ann_home = homes[str(ann_home_id)]
    actions = [
        (r["content"]["action"], r["content"]["actor"])
        for r in receipts_of(ann_home)
        if r["content"]["donation_id"] == ann_donation
    ]
    assert ("view", ann.actor) in actions
    assert ("label", ann.actor) in actions
    assert ann.username not in str(receipts_of(ann_home))
    assert state_of(ann_home, str(ann_donation)) == "labelled"

    # The other home never sees the first home's receipts.
    other_home = next(hub for home_id, hub in homes.items() if home_id != ann_home_id)
    assert all(r["content"]["home_id"] == other_home.home_id for r in receipts_of(other_home))

    # Asking for a clip that was never handed out, or does not exist, is 404 as well.
    assert ann.call("POST", "/api/v1/workbench/assignments/999999/media").status_code == 404
    assert ann.call("GET", "/api/v1/workbench/media/" + "x" * 43).status_code == 410


def test_a_flagged_clip_is_deleted_at_once_and_its_home_told(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donation_id = new_donation_id()
    donate_and_wait(hub, donation_id, clip())
    reviewer = make_staff(cloud.services, cloud.client)
    assignment = reviewer.call("POST", "/api/v1/workbench/next").json()
    link = reviewer.call("POST", f"/api/v1/workbench/assignments/{assignment['id']}/media").json()

    flagged = reviewer.call(
        "POST", f"/api/v1/workbench/assignments/{assignment['id']}/flag", {"reason": "not a home camera"}
    )

    assert flagged.status_code == 200
    assert state_of(hub, donation_id) == "flagged"
    assert list(cloud.services.store.keys("review/")) == []
    assert list(cloud.services.store.keys("review-media/")) == []
    assert reviewer.call("GET", link["url"]).status_code == 410
    with cloud.services.database.session() as session:
        assert session.scalar(select(func.count()).where(ReviewAssignment.completed_at.is_(None))) == 0
        assert session.scalar(select(func.count()).select_from(ReviewMediaLink)) == 0
        assert session.scalar(select(func.count()).select_from(ReviewLabel)) == 0
    flag = [r for r in receipts_of(hub) if r["content"]["action"] == "flag"]
    assert len(flag) == 1
    assert flag[0]["content"]["actor"] == reviewer.actor
    assert reviewer.call("POST", "/api/v1/workbench/next").status_code == 404


def test_the_next_clip_comes_from_the_home_served_least_recently(cloud: CloudUnderTest) -> None:
    busy, quiet, new = (cloud.account().home_id for _ in range(3))
    busy_clips = queue_rows(cloud.services.database, busy, 4)
    quiet_clips = queue_rows(cloud.services.database, quiet, 2)
    new_clips = queue_rows(cloud.services.database, new, 1)
    reviewers = [make_staff(cloud.services, cloud.client) for _ in range(6)]

    handed = []
    for reviewer in reviewers:
        answer = reviewer.call("POST", "/api/v1/workbench/next")
        assert answer.status_code == 200, answer.text
        with cloud.services.database.session() as session:
            row = session.get(ReviewAssignment, answer.json()["id"])
            assert row is not None
            handed.append(row.donation_id)

    # Each home's oldest first; a home waits its turn behind homes served less recently.
    assert set(handed[:3]) == {busy_clips[0], quiet_clips[0], new_clips[0]}
    assert set(handed[3:5]) == {busy_clips[1], quiet_clips[1]}
    assert handed[5] == busy_clips[2]


def test_twenty_reviewers_racing_never_share_a_clip(cloud: CloudUnderTest) -> None:
    homes = [cloud.account().home_id for _ in range(3)]
    for home_id in homes:
        queue_rows(cloud.services.database, home_id, 9)
    reviewers = [make_staff(cloud.services, cloud.client) for _ in range(20)]
    views = [cloud.services.staff.staff_for_token(reviewer.token) for reviewer in reviewers]
    start = threading.Barrier(len(views) * 2)
    handed: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def ask(index: int) -> None:
        start.wait()
        try:
            assignment = cloud.services.workbench.next(views[index])
            with lock:
                handed.append((views[index].id, assignment.id))
        except BaseException as error:
            failures.append(error)

    # Every reviewer asks twice at the same moment: 40 requests on as many connections.
    threads = [threading.Thread(target=ask, args=(index % 20,)) for index in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    per_reviewer: dict[int, set[int]] = {}
    for reviewer_id, assignment_id in handed:
        per_reviewer.setdefault(reviewer_id, set()).add(assignment_id)
    assert all(len(ids) == 1 for ids in per_reviewer.values())
    assert len(per_reviewer) == 20
    with cloud.services.database.session() as session:
        rows = session.scalars(select(ReviewAssignment)).all()
    assert len(rows) == 20
    assert len({row.donation_id for row in rows}) == 20
    # Turns between homes hold one request after another (test above); requests arriving in the same instant
    # read the same turns and may take several clips of one home, which SKIP LOCKED keeps distinct.
    assert sum(Counter(row.home_id for row in rows).values()) == 20


def test_admins_see_counts_and_manage_reviewers_but_reach_no_media(cloud: CloudUnderTest) -> None:
    home_id = cloud.account().home_id
    queue_rows(cloud.services.database, home_id, 3)
    reviewer = make_staff(cloud.services, cloud.client)
    admin = make_staff(cloud.services, cloud.client, "admin")
    assignment = reviewer.call("POST", "/api/v1/workbench/next").json()

    stats = admin.call("GET", "/api/v1/review-admin/queue").json()
    made = admin.call("POST", "/api/v1/review-admin/reviewers", {"username": "new-reviewer", "password": "x" * 16})
    listed = admin.call("GET", "/api/v1/review-admin/reviewers").json()
    disabled = admin.call("POST", f"/api/v1/review-admin/reviewers/{reviewer.username}/disable")
    media = admin.call("POST", f"/api/v1/workbench/assignments/{assignment['id']}/media")

    assert stats["states"] == {"queued": 2, "in_review": 1}
    assert stats["homes"] == {home_id: {"queued": 2, "in_review": 1}}
    assert [(r["username"], r["used_today"]) for r in stats["reviewers"]] == [(reviewer.username, 1)]
    assert made.status_code == 201
    assert made.json()["totp_secret"]
    assert made.json()["otpauth_uri"].startswith("otpauth://")
    assert {entry["username"] for entry in listed} == {reviewer.username, "new-reviewer"}
    assert disabled.json()["disabled"] is True
    assert reviewer.call("GET", "/api/v1/workbench").status_code == 401
    assert media.status_code == 403
    # The disabled reviewer's clip is back in the queue.
    assert admin.call("GET", "/api/v1/review-admin/queue").json()["states"] == {"queued": 3}


def test_the_quota_counts_clips_handed_out_today(cloud: CloudUnderTest) -> None:
    queue_rows(cloud.services.database, cloud.account().home_id, 3)
    cloud.services.config.review.daily_quota = 2
    reviewer = make_staff(cloud.services, cloud.client)
    view = cloud.services.staff.staff_for_token(reviewer.token)

    first = reviewer.call("POST", "/api/v1/workbench/next").json()
    cloud.services.workbench.label(view, first["id"], labels("real_event"))
    second = reviewer.call("POST", "/api/v1/workbench/next").json()
    cloud.services.workbench.label(view, second["id"], labels("real_event"))
    third = reviewer.call("POST", "/api/v1/workbench/next")
    day = reviewer.call("GET", "/api/v1/workbench").json()

    assert third.status_code == 429
    assert (day["quota"], day["used_today"], day["remaining"]) == (2, 2, 0)


def labels(verdict: str, cause: str | None = None) -> Labels:
    """Return a verdict for the service directly."""
    return Labels(verdict=verdict, cause=cause, label="person", boxes=[])


def test_an_unused_media_link_expires_and_its_sealed_copy_goes(cloud: CloudUnderTest) -> None:
    hub = cloud.account().pair_hub()
    donate_and_wait(hub, new_donation_id(), clip())
    reviewer = make_staff(cloud.services, cloud.client)
    assignment = reviewer.call("POST", "/api/v1/workbench/next").json()
    link = reviewer.call("POST", f"/api/v1/workbench/assignments/{assignment['id']}/media").json()
    [kept] = list(cloud.services.store.keys("review-media/"))
    sealed = cloud.services.store.read_all(kept)

    with cloud.services.database.session() as session:
        session.execute(update(ReviewMediaLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    cloud.services.run_review_sweep()

    # Kept sealed while it waited: no MP4 box names in the stored bytes.
    assert b"ftyp" not in sealed
    assert b"moov" not in sealed
    assert list(cloud.services.store.keys("review-media/")) == []
    assert reviewer.call("GET", link["url"]).status_code == 410
    with cloud.services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewMediaLink)) == 0


def test_a_clip_never_donated_never_reaches_a_reviewer(cloud: CloudUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=REFUSALS)
    hub = cloud.account().pair_hub()
    # The home's own off-site copy of a clip (sealed to the home key), never donated.
    assert hub.put("kept_0123456789abcdef", clip()).status_code == 201
    reviewer = make_staff(cloud.services, cloud.client)

    empty = reviewer.call("POST", "/api/v1/workbench/next")
    guessed = reviewer.call("GET", "/api/v1/objects/kept_0123456789abcdef")

    assert empty.status_code == 404
    assert empty.json() == {"detail": "the queue is empty"}
    assert guessed.status_code == 401
    assert refusals(caplog, reviewer) == [f"review refused: {reviewer.actor} next: the queue is empty"]
