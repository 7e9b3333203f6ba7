"""Attacks on the review program's queue, replayed over HTTP against the real `serve` process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from homewarden.store import EventStore
from homewarden.store.review_models import Donation, ReviewAssignment
from security.conftest import FRONT, Caller, ServedHub

# A reviewer's burst: what a script or a page hammering "next" sends at once.
BURST = 20
QUEUED = 3


def _queue(admin: Caller) -> dict[str, int]:
    answer = admin.get("/api/admin/queue")
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()
    return counts


def _database(hub: ServedHub) -> EventStore:
    """Open the hub's own database beside it (SQLite: a second process, as a command-line tool would be)."""
    return EventStore.open(f"sqlite:///{hub.storage / 'homewarden.db'}")


@pytest.fixture
def queued_clips(hub: ServedHub, owner: Caller) -> Iterator[list[str]]:
    """Put donated clips in the hub's queue, behind any real ones; take them and their assignments out afterwards.

    They are rows written straight into the hub's database: preparing real copies (redaction) takes minutes of both
    cores per clip, and handing out a clip never opens its copy. The race needs only that more than one clip waits.
    """
    home = owner.get("/api/home")
    assert home.status_code == 200, home.text
    database = _database(hub)
    engine = database.engine
    later = datetime.now(UTC) + timedelta(days=1)  # after every real donation: they are handed out first
    ids = [f"attack-{uuid.uuid4().hex[:20]}" for _ in range(QUEUED)]
    with Session(engine) as session, session.begin():
        for index, donation_id in enumerate(ids):
            session.add(
                Donation(
                    id=donation_id, home_id=home.json()["id"], event_id=str(uuid.uuid4()), camera=FRONT,
                    label="person", status="donated", mask_people=False, pseudonym=uuid.uuid4().hex[:16],
                    retention_days=90, donated_at=later + timedelta(seconds=index),
                )
            )  # fmt: skip
    try:
        yield ids
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(Donation).where(Donation.id.in_(ids)))
        database.close()


@pytest.mark.slow
def test_broken_5_a_burst_of_next_requests_hands_one_reviewer_one_clip(
    hub: ServedHub, admin: Caller, queued_clips: list[str]
) -> None:
    """Broken 5: a reviewer asking for the next clip many times at once got two open assignments (the check for an
    open one was outside the lock), beating the one-clip-at-a-time rule and the quota."""
    import time as _t

    t0 = _t.monotonic()
    reviewer = hub.new_program_account("reviewer")
    print("new reviewer", _t.monotonic() - t0)
    before = _queue(admin)
    assert before["queued"] >= 2, before

    try:
        with ThreadPoolExecutor(BURST) as pool:
            answers = list(pool.map(lambda _: reviewer.post("/api/review/next"), range(BURST)))

        print("burst done", _t.monotonic() - t0)
        assert [answer.status_code for answer in answers] == [200] * BURST, [a.text for a in answers if a.is_error]
        handed = {answer.json()["id"] for answer in answers}
        assert len(handed) == 1, handed
        after = _queue(admin)
        assert after["assigned"] == before["assigned"] + 1
        assert after["queued"] == before["queued"] - 1
        status = reviewer.get("/api/review/status").json()
        assert status["assignment"]["id"] in handed
        assert status["used_today"] == 1
    finally:
        # Whatever this reviewer holds goes back to the queue, as when an admin removes a reviewer.
        me = reviewer.get("/api/me").json()["id"]
        database = _database(hub)
        with Session(database.engine) as session, session.begin():
            session.execute(delete(ReviewAssignment).where(ReviewAssignment.reviewer_id == me))
        database.close()
