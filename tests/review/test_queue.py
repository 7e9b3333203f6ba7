"""The reviewers' queue under concurrent requests: one open clip per reviewer, whatever the number of processes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homewarden.accounts.store import AccountStore
from homewarden.privacy.audit import Actor, AuditLog
from homewarden.privacy.donations import Donations
from homewarden.review.queue import ReviewQueue
from homewarden.store import EventStore
from homewarden.store.review_models import Donation, ReviewAssignment

PASSWORD = "a password for queue tests"


@dataclass
class Program:
    """A hub database with a home, donated clips and a reviewer; ``queue()`` opens it as one more hub process would."""

    url: str
    folder: Path
    home_id: int
    reviewer_id: int
    stores: list[EventStore]

    def queue(self) -> ReviewQueue:
        """Return a queue with an engine and a lock of its own, as another process of the hub has."""
        store = EventStore.open(self.url)
        self.stores.append(store)
        audit = AuditLog(store.engine, self.folder)
        # Handing out clips never reads the copies; the donations are rows of the database here.
        return ReviewQueue(store.engine, cast(Donations, None), audit, lambda clip, _text: clip)

    def donate(self, count: int) -> list[str]:
        """Add donated clips (rows only) to the queue, oldest first; return their ids."""
        ids = [str(uuid.uuid4()) for _ in range(count)]
        start = datetime.now(UTC) - timedelta(hours=1)
        with Session(self.stores[0].engine) as session, session.begin():
            for index, donation_id in enumerate(ids):
                session.add(
                    Donation(
                        id=donation_id, home_id=self.home_id, event_id=str(uuid.uuid4()), camera="front_door",
                        label="person", status="donated", mask_people=False, pseudonym=uuid.uuid4().hex[:16],
                        retention_days=90, donated_at=start + timedelta(seconds=index),
                    )
                )  # fmt: skip
        return ids

    def open_assignments(self) -> int:
        """Count the reviewer's assignments that are not done."""
        with Session(self.stores[0].engine) as session:
            query = select(func.count()).where(
                ReviewAssignment.reviewer_id == self.reviewer_id, ReviewAssignment.completed_at.is_(None)
            )
            return int(session.scalar(query) or 0)


@pytest.fixture
def program(database_url: str, tmp_path: Path) -> Iterator[Program]:
    """Yield a fresh database with a home and a reviewer."""
    store = EventStore.open(database_url)
    accounts = AccountStore(store.engine)
    home = accounts.create_home("A", ["front_door"])
    reviewer = accounts.create_user("rita", PASSWORD, "reviewer", None)
    made = Program(database_url, tmp_path, home, reviewer.id, [store])
    try:
        yield made
    finally:
        for opened in made.stores:
            opened.close()


def test_many_requests_at_once_from_two_processes_hand_one_reviewer_one_clip(program: Program) -> None:
    """Broken 5: asking for the next clip many times at once gave a reviewer two open assignments."""
    program.donate(6)
    queues = [program.queue(), program.queue()]
    reviewer = Actor("reviewer", "rv-rita")
    handed: list[int] = []
    failed: list[BaseException] = []
    start = threading.Barrier(12)

    def ask(queue: ReviewQueue) -> None:
        start.wait()
        try:
            handed.append(queue.next(reviewer, program.reviewer_id).id)
        except BaseException as error:  # reported below, with what the other threads got
            failed.append(error)

    threads = [threading.Thread(target=ask, args=(queues[index % 2],)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failed == []
    assert len(handed) == 12
    assert len(set(handed)) == 1, handed
    assert program.open_assignments() == 1
    assert queues[0].stats().assigned == 1


def test_a_clip_flagged_meanwhile_is_closed_and_the_next_one_handed_out(program: Program) -> None:
    first, second = program.donate(2)
    queue = program.queue()
    reviewer = Actor("reviewer", "rv-rita")
    assert queue.next(reviewer, program.reviewer_id).donation_id == first
    with Session(program.stores[0].engine) as session, session.begin():
        flagged = session.get(Donation, first)
        assert flagged is not None
        flagged.status = "flagged"

    assert queue.next(reviewer, program.reviewer_id).donation_id == second
    assert program.open_assignments() == 1
