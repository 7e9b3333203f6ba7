"""The reviewers' queue: one clip at a time, a daily quota, watermarked single-use media links, labels and flags.

Reviewers cannot browse, search or pick: `next` hands out the oldest donated clip nobody has labelled or holds. A
media link works once, for one reviewer, for LINK_LIFETIME seconds, and delivers the clip with the reviewer's
pseudonym and the time burned into every frame.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from homewarden.errors import Refusal, RefusedError
from homewarden.privacy.audit import Actor, AuditLog
from homewarden.privacy.donations import Donations, aware
from homewarden.store.errors import StoreError
from homewarden.store.review_models import Donation, ReviewAssignment, ReviewLabel
from homewarden.store.transactions import transaction

DEFAULT_DAILY_QUOTA = 150
LINK_LIFETIME = 60.0
VERDICTS = ("real_event", "false_alarm")
CAUSES = ("pet", "shadow_or_light", "insect", "weather", "vehicle", "other")


class ReviewRefusedError(RefusedError):
    """A reviewer's request that is refused (and logged); ``refusal`` says what kind of refusal it is."""


@dataclass(frozen=True)
class Assignment:
    """A clip handed to a reviewer: what they may know of it."""

    id: int
    donation_id: str
    clip: str
    label: str
    duration: float | None
    width: int | None
    height: int | None
    assigned_at: datetime
    home_id: int


@dataclass(frozen=True)
class QueueStats:
    """The queue as the admin sees it: counts only, never media."""

    queued: int
    assigned: int
    labelled: int
    flagged: int
    refused: int
    withdrawn: int


@dataclass
class _MediaLink:
    assignment_id: int
    reviewer_id: int
    expires: float


class ReviewQueue:
    """Hand out donated clips to reviewers and take their labels."""

    def __init__(
        self,
        engine: Engine,
        donations: Donations,
        audit: AuditLog,
        watermark: Callable[[bytes, str], bytes],
        daily_quota: int = DEFAULT_DAILY_QUOTA,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Use the hub's database, the donations' copies, and ``watermark`` to burn text into a clip."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.donations = donations
        self.audit = audit
        self.watermark = watermark
        self.daily_quota = daily_quota
        self._clock = clock
        self._links: dict[str, _MediaLink] = {}
        self._lock = threading.Lock()

    def used_today(self, reviewer_id: int) -> int:
        """Return how many clips the reviewer was handed since midnight UTC."""
        midnight = datetime.fromtimestamp(self._clock(), tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._session("count assignments") as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(ReviewAssignment)
                    .where(ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.assigned_at >= midnight)
                )
                or 0
            )

    def open_assignment(self, reviewer_id: int) -> Assignment | None:
        """Return the reviewer's assignment that is not labelled yet, if any."""
        with self._session("read assignments") as session:
            row = session.scalars(
                select(ReviewAssignment)
                .join(Donation, Donation.id == ReviewAssignment.donation_id)
                .where(
                    ReviewAssignment.reviewer_id == reviewer_id,
                    ReviewAssignment.completed_at.is_(None),
                    Donation.status == "donated",
                )
                .order_by(ReviewAssignment.id)
            ).first()
            return None if row is None else self._assignment(session, row)

    def next(self, reviewer: Actor, reviewer_id: int) -> Assignment:
        """Return the reviewer's open assignment, or hand them the next clip; refuse beyond the daily quota.

        Looking for the open assignment and making a new one are one transaction under the queue's lock, and the
        database holds at most one open assignment per reviewer (a unique index), so a reviewer asking many times at
        once, even of several hub processes, gets one clip, not one per request.
        """
        with self._lock:
            try:
                outcome = self._open_or_assign(reviewer_id)
            except StoreError:
                # Another process assigned a clip between our look and our insert: that one is theirs to keep.
                current = self.open_assignment(reviewer_id)
                if current is None:
                    raise
                return current
        if outcome == "quota reached":
            self.audit.record(reviewer, "review_next", "queue", home_id=None, outcome="refused", detail="daily quota")
            raise ReviewRefusedError(
                f"daily quota of {self.daily_quota} clips reached; the queue reopens tomorrow",
                Refusal.QUOTA_EXHAUSTED,
            )
        if outcome == "queue empty":
            raise ReviewRefusedError("the queue is empty", Refusal.NOT_FOUND)
        assignment, fresh = outcome
        if fresh:
            self.audit.record(
                reviewer, "review_assigned", f"donation:{assignment.donation_id}", home_id=assignment.home_id
            )
        return assignment

    def _open_or_assign(self, reviewer_id: int) -> tuple[Assignment, bool] | Literal["quota reached", "queue empty"]:
        """In one transaction: the open assignment, or a new one (True), or why there is none."""
        now = datetime.now(UTC)
        midnight = datetime.fromtimestamp(self._clock(), tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._session("assign a clip") as session:
            open_rows = session.scalars(
                select(ReviewAssignment)
                .where(ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.completed_at.is_(None))
                .order_by(ReviewAssignment.id)
            ).all()
            for row in open_rows:
                donation = session.get(Donation, row.donation_id)
                if donation is not None and donation.status == "donated":
                    return self._assignment(session, row), False
            # What is left open is a clip flagged, withdrawn or expired meanwhile: it is over for this reviewer.
            for row in open_rows:
                row.completed_at = now
            session.flush()
            used = session.scalar(
                select(func.count())
                .select_from(ReviewAssignment)
                .where(ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.assigned_at >= midnight)
            )
            if (used or 0) >= self.daily_quota:
                return "quota reached"
            busy = select(ReviewAssignment.donation_id)
            donation = session.scalars(
                select(Donation)
                .where(Donation.status == "donated", Donation.id.not_in(busy))
                .order_by(Donation.donated_at, Donation.id)
                .limit(1)
            ).first()
            if donation is None:
                return "queue empty"
            row = ReviewAssignment(donation_id=donation.id, reviewer_id=reviewer_id, assigned_at=now)
            session.add(row)
            session.flush()  # the unique index of open assignments refuses a second one here
            return self._assignment(session, row), True

    def media_link(self, reviewer: Actor, reviewer_id: int, assignment_id: int) -> tuple[str, float]:
        """Make a single-use link to the assignment's clip; return its token and expiry (Unix seconds)."""
        self._owned_open(reviewer, reviewer_id, assignment_id, "review_media_link")
        token = secrets.token_urlsafe(32)
        expires = self._clock() + LINK_LIFETIME
        with self._lock:
            now = self._clock()
            self._links = {key: link for key, link in self._links.items() if link.expires > now}
            self._links[token] = _MediaLink(assignment_id, reviewer_id, expires)
        return token, expires

    def redeem(self, reviewer: Actor, reviewer_id: int, token: str) -> bytes:
        """Use a link once: return the clip with the reviewer's pseudonym and the time burned in."""
        with self._lock:
            link = self._links.pop(token, None)
        if link is None or link.expires <= self._clock() or link.reviewer_id != reviewer_id:
            self.audit.record(
                reviewer,
                "review_view",
                "media link",
                home_id=None,
                outcome="refused",
                detail="used, expired or not theirs",
            )
            raise ReviewRefusedError("this media link is used, expired or not yours", Refusal.GONE)
        assignment = self._owned_open(reviewer, reviewer_id, link.assignment_id, "review_view")
        record = self.donations.by_id(assignment.donation_id)
        if record is None:
            raise ReviewRefusedError("this clip no longer exists", Refusal.NOT_FOUND)
        reader = self.donations.open_copy(record)
        clip = b"".join(reader.iter_chunks())
        stamp = datetime.fromtimestamp(self._clock(), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        marked = self.watermark(clip, f"{reviewer.name} · {stamp}")
        self.audit.record(reviewer, "review_view", f"donation:{assignment.donation_id}", home_id=assignment.home_id)
        return marked

    def label(
        self,
        reviewer: Actor,
        reviewer_id: int,
        assignment_id: int,
        verdict: str,
        cause: str | None,
        label: str,
        boxes: list[dict[str, object]],
    ) -> None:
        """Store the reviewer's labels and close the assignment."""
        if (
            verdict not in VERDICTS
            or (verdict == "false_alarm") != (cause is not None)
            or (cause and cause not in CAUSES)
        ):
            raise ReviewRefusedError("a false alarm needs its cause, and a real event has none", Refusal.INVALID)
        assignment = self._owned_open(reviewer, reviewer_id, assignment_id, "review_label")
        with self._session("store labels") as session:
            session.add(
                ReviewLabel(
                    donation_id=assignment.donation_id,
                    assignment_id=assignment_id,
                    verdict=verdict,
                    cause=cause,
                    label=label,
                    boxes=boxes,
                    created_at=datetime.now(UTC),
                )
            )
            row = session.get(ReviewAssignment, assignment_id)
            assert row is not None
            row.completed_at = datetime.now(UTC)
        self.audit.record(
            reviewer,
            "review_labelled",
            f"donation:{assignment.donation_id}",
            home_id=assignment.home_id,
            detail=verdict,
        )

    def flag(self, reviewer: Actor, reviewer_id: int, assignment_id: int, reason: str) -> None:
        """Destroy the clip as inappropriate content; it leaves every queue and the owner is told."""
        assignment = self._owned_open(reviewer, reviewer_id, assignment_id, "review_flag")
        self.donations.flag(assignment.donation_id, reviewer, reason.strip() or "inappropriate content")

    def stats(self) -> QueueStats:
        """Count the queue."""
        with self._session("count the queue") as session:

            def count_status(status: str) -> int:
                return session.scalar(select(func.count()).select_from(Donation).where(Donation.status == status)) or 0

            assigned = (
                session.scalar(
                    select(func.count())
                    .select_from(ReviewAssignment)
                    .join(Donation, Donation.id == ReviewAssignment.donation_id)
                    .where(ReviewAssignment.completed_at.is_(None), Donation.status == "donated")
                )
                or 0
            )
            labelled = session.scalar(select(func.count(func.distinct(ReviewLabel.donation_id)))) or 0
            donated = count_status("donated")
            return QueueStats(
                queued=max(0, donated - assigned - labelled),
                assigned=assigned,
                labelled=labelled,
                flagged=count_status("flagged"),
                refused=count_status("refused"),
                withdrawn=count_status("withdrawn"),
            )

    def labelled_counts(self, reviewer_id: int) -> tuple[int, int]:
        """Return how many clips a reviewer labelled today and in all."""
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._session("count labels") as session:
            base = (
                select(func.count())
                .select_from(ReviewLabel)
                .join(ReviewAssignment, ReviewAssignment.id == ReviewLabel.assignment_id)
                .where(ReviewAssignment.reviewer_id == reviewer_id)
            )
            total = session.scalar(base) or 0
            today = session.scalar(base.where(ReviewLabel.created_at >= midnight)) or 0
            return today, total

    # inside

    def _owned_open(self, reviewer: Actor, reviewer_id: int, assignment_id: int, action: str) -> Assignment:
        with self._session("read an assignment") as session:
            row = session.get(ReviewAssignment, assignment_id) if 0 < assignment_id < 2**63 else None
            donation = session.get(Donation, row.donation_id) if row is not None else None
            problem = None
            if row is None or row.reviewer_id != reviewer_id:
                problem = "not your assignment"
            elif row.completed_at is not None:
                problem = "already labelled"
            elif donation is None or donation.status != "donated":
                problem = "no longer donated (withdrawn, flagged or expired)"
            if problem is not None:
                self.audit.record(
                    reviewer,
                    action,
                    f"assignment:{assignment_id}",
                    home_id=donation.home_id if donation is not None else None,
                    outcome="refused",
                    detail=problem,
                )
                raise ReviewRefusedError(f"assignment {assignment_id}: {problem}", Refusal.NOT_FOUND)
            assert row is not None
            return self._assignment(session, row)

    def _assignment(self, session: Session, row: ReviewAssignment) -> Assignment:
        donation = session.get(Donation, row.donation_id)
        assert donation is not None
        return Assignment(
            row.id,
            donation.id,
            donation.pseudonym,
            donation.label,
            donation.duration,
            donation.width,
            donation.height,
            aware(row.assigned_at) or datetime.now(UTC),
            donation.home_id,
        )

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)
