"""The reviewers' workbench in the cloud: one clip at a time across many homes, fairly, within a daily quota.

A reviewer cannot browse, search or pick: ``next`` hands out the copy of the home served least recently (the oldest
donation first within it), locking it with ``FOR UPDATE SKIP LOCKED`` so reviewers asking at once never share one.
A reviewer holds at most one open assignment (a unique partial index: of their own requests racing, one wins).

The clip is seen through a single-use, short-lived link. A worker opens the sealed copy with the program key in
memory, burns the reviewer's pseudonym, the time and the assignment into every frame, and keeps the result in the
object store sealed under a fresh key held by the link's row; the link's first use takes the key and dooms the
bytes, a second use is gone (410). Every view, label and flag is an entry of the audit chain: a receipt to the home.
Refused attempts (not theirs, used links, beyond quota) are refused in plain words and logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import JSON, BigInteger, Integer, bindparam, column, exists, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.config import ReviewConfig
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.deletion import doom_blob
from homewarden.cloud.identifiers import digest, new_token
from homewarden.cloud.models import (
    ReviewAssignment,
    ReviewDonation,
    ReviewLabel,
    ReviewMediaLink,
    ReviewStaff,
    UtcDateTime,
)
from homewarden.cloud.object_store import ObjectStore
from homewarden.cloud.review.assignments import IN_REVIEW, LABELLED, QUEUED
from homewarden.cloud.review.audit import record
from homewarden.cloud.review.donations import FLAGGED, erase_donation
from homewarden.cloud.review.labels import Labels, checked_labels
from homewarden.cloud.review.reviewers import StaffView
from homewarden.errors import Refusal, RefusedError
from homewarden.privacy.watermark import WatermarkError, burn_watermark

log = logging.getLogger(__name__)

MEDIA_PREFIX = "review-media/"
# How often a request for a media link looks whether the worker is done: soon at first (a clip prepared in this
# process is ready at once), then every half second at most.
READY_POLL_SECONDS = 0.05
READY_POLL_MAX_SECONDS = 0.5

# Opens a donated copy (sealed to the program key) in memory: (donation_id, sealed bytes) -> plaintext MP4.
CopyOpener = Callable[[str, bytes], bytes]
# Hands a media link (its token digest) to whoever burns the watermark in: a Celery task or this process.
WatermarkScheduler = Callable[[str], None]


class ReviewRefusedError(RefusedError):
    """A reviewer's request that is refused and logged."""


@dataclass(frozen=True)
class AssignmentView:
    """A clip handed to a reviewer: what they may know of it (nothing of the home, the camera or the time)."""

    id: int
    label: str
    duration_s: float | None
    width: int | None
    height: int | None
    assigned_at: datetime


@dataclass(frozen=True)
class ReviewerDay:
    """A reviewer's quota and open assignment."""

    quota: int
    used_today: int
    assignment: AssignmentView | None


@dataclass(frozen=True)
class MediaLink:
    """A single-use link to an assignment's watermarked clip."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class QueueStats:
    """The queue as an admin sees it: counts, opaque home ids, quota use; never media."""

    states: dict[str, int]
    homes: dict[str, dict[str, int]]
    reviewers: list[dict[str, Any]]


# `next` on PostgreSQL in one round trip: the reviewer's open assignments and clips today; when none is open and the
# quota allows, the queued copy of the home served least recently (oldest first within it) that this reviewer never
# had, locked with SKIP LOCKED so reviewers asking at once never share one, marked in review and assigned.
# The same choice as the ORM path of ``Workbench._open_or_assign`` (which SQLite trials and open assignments take).
# "The queue is empty" while copies are queued means others held them locked: ask again this often, this far apart.
EMPTY_RETRIES = 3
EMPTY_RETRY_SECONDS = 0.05
ASSIGN_NEXT = (
    text(
        f"""
    WITH mine AS (
        SELECT completed_at, assigned_at FROM review_assignments
        WHERE reviewer_id = :reviewer AND (completed_at IS NULL OR assigned_at >= :midnight)
    ),
    gate AS (
        SELECT count(*) FILTER (WHERE completed_at IS NULL) AS open_count,
               count(*) FILTER (WHERE assigned_at >= :midnight) AS used_today
        FROM mine
    ),
    picked AS (
        SELECT d.donation_id, d.home_id FROM review_donations d
        WHERE d.state = '{QUEUED}'
          AND (SELECT open_count = 0 AND used_today < :quota FROM gate)
          AND NOT EXISTS (
              SELECT 1 FROM review_assignments seen
              WHERE seen.donation_id = d.donation_id AND seen.reviewer_id = :reviewer
          )
        ORDER BY (SELECT max(served.assigned_at) FROM review_assignments served WHERE served.home_id = d.home_id)
                 ASC NULLS FIRST,
                 d.queued_at, d.donation_id
        LIMIT 1
        FOR UPDATE OF d SKIP LOCKED
    ),
    taken AS (
        UPDATE review_donations d SET state = '{IN_REVIEW}', updated_at = :now
        FROM picked WHERE d.donation_id = picked.donation_id
        RETURNING d.donation_id, d.home_id, d.metadata
    ),
    assigned AS (
        INSERT INTO review_assignments (donation_id, home_id, reviewer_id, assigned_at)
        SELECT donation_id, home_id, :reviewer, :now FROM taken
        RETURNING id, donation_id, assigned_at
    )
    SELECT gate.open_count, gate.used_today, assigned.id, assigned.assigned_at, taken.metadata AS details
    FROM gate
    LEFT JOIN assigned ON true
    LEFT JOIN taken ON taken.donation_id = assigned.donation_id
    """
    )
    .bindparams(
        bindparam("reviewer", type_=BigInteger),
        bindparam("midnight", type_=UtcDateTime()),
        bindparam("now", type_=UtcDateTime()),
        bindparam("quota", type_=Integer),
    )
    .columns(
        column("open_count", Integer),
        column("used_today", Integer),
        column("id", BigInteger),
        column("assigned_at", UtcDateTime()),
        column("details", JSON),
    )
)


def midnight(moment: datetime) -> datetime:
    """Return the start of ``moment``'s day (UTC): where the daily quota starts again."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


class Workbench:
    """Hand out donated copies to reviewers, show them once, take labels and flags."""

    def __init__(
        self,
        database: CloudDatabase,
        store: ObjectStore,
        config: ReviewConfig,
        open_copy: CopyOpener,
        delete_blobs: Callable[[list[str]], None],
    ) -> None:
        """Work on the cloud's database and store; ``open_copy`` opens sealed copies with the program key."""
        self._database = database
        self._store = store
        self._config = config
        self._open_copy = open_copy
        self._delete_blobs = delete_blobs
        # Set by the services: a Celery task, or this process preparing the clip itself.
        self.schedule_watermark: WatermarkScheduler = self.prepare_media
        # Set by the API process with workers: a task reads a labelled copy's training items at once. In-process,
        # the training run reads them itself.
        self.schedule_reading: Callable[[str], None] = lambda donation_id: None

    @property
    def daily_quota(self) -> int:
        """Return how many clips a reviewer may be handed per day."""
        return self._config.daily_quota

    def day_of(self, reviewer: StaffView) -> ReviewerDay:
        """Return the reviewer's quota use and open assignment."""
        with self._database.session() as session:
            row = self._open_row(session, reviewer.id)
            return ReviewerDay(
                quota=self.daily_quota,
                used_today=self._used_today(session, reviewer.id),
                assignment=None if row is None else assignment_view(session, row),
            )

    def next(self, reviewer: StaffView) -> AssignmentView:
        """Return the reviewer's open assignment, or hand them the next copy; refuse beyond the daily quota."""
        for attempt in range(EMPTY_RETRIES + 1):
            try:
                outcome = self._open_or_assign(reviewer)
            except IntegrityError:
                # Only the unique index of open assignments can refuse here: another request of theirs won; return it.
                with self._database.session() as session:
                    row = self._open_row(session, reviewer.id)
                    if row is None:
                        raise
                    return assignment_view(session, row)
            if isinstance(outcome, AssignmentView):
                return outcome
            refusal = outcome
            # SKIP LOCKED passes over copies other requests hold locked this instant (one of them perhaps this
            # reviewer's own, about to be assigned): "empty" while copies are queued only means "ask again".
            if refusal[1] is not Refusal.NOT_FOUND or attempt == EMPTY_RETRIES or not self._queued_copies_left():
                break
            time.sleep(EMPTY_RETRY_SECONDS)
        raise refused(reviewer, "next", *refusal)

    def _queued_copies_left(self) -> bool:
        with self._database.session() as session:
            return session.scalar(select(exists().where(ReviewDonation.state == QUEUED))) is True

    def _open_or_assign(self, reviewer: StaffView) -> AssignmentView | tuple[str, Refusal]:
        now = utc_now()
        with self._database.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                fast = self._assign_in_one_statement(session, reviewer, now)
                if fast is not None:
                    return fast
                # The reviewer holds an open assignment (a reload, or its copy ended): the path below settles it.
            # One query for the open assignment and today's count (each round trip is most of a `next`'s cost).
            mine = session.execute(
                select(ReviewAssignment.completed_at, ReviewAssignment.assigned_at).where(
                    ReviewAssignment.reviewer_id == reviewer.id,
                    or_(ReviewAssignment.completed_at.is_(None), ReviewAssignment.assigned_at >= midnight(now)),
                )
            ).all()
            if any(completed_at is None for completed_at, _assigned_at in mine):
                row = self._open_row(session, reviewer.id)
                if row is not None:
                    return assignment_view(session, row)
            # Requests of one reviewer racing past here each pick a copy; the unique index of open assignments lets
            # one insert through and refuses the others (``next`` then answers the one that won).
            if sum(assigned_at >= midnight(now) for _completed_at, assigned_at in mine) >= self.daily_quota:
                return (
                    f"daily quota of {self.daily_quota} clips reached; the queue reopens tomorrow (UTC)",
                    Refusal.QUOTA_EXHAUSTED,
                )
            last_served = (
                select(func.max(ReviewAssignment.assigned_at))
                .where(ReviewAssignment.home_id == ReviewDonation.home_id)
                .correlate(ReviewDonation)
                .scalar_subquery()
            )
            seen_before = exists().where(
                ReviewAssignment.donation_id == ReviewDonation.donation_id,
                ReviewAssignment.reviewer_id == reviewer.id,
            )
            donation = session.scalars(
                select(ReviewDonation)
                .where(ReviewDonation.state == QUEUED, ~seen_before)
                .order_by(last_served.asc().nulls_first(), ReviewDonation.queued_at, ReviewDonation.donation_id)
                .limit(1)
                .with_for_update(skip_locked=True, of=ReviewDonation)
            ).first()
            if donation is None:
                return "the queue is empty", Refusal.NOT_FOUND
            donation.state = IN_REVIEW
            donation.updated_at = now
            assigned = ReviewAssignment(
                donation_id=donation.donation_id, home_id=donation.home_id, reviewer_id=reviewer.id, assigned_at=now
            )
            session.add(assigned)
            session.flush()
            return assignment_view(session, assigned)

    def _assign_in_one_statement(
        self, session: Session, reviewer: StaffView, now: datetime
    ) -> AssignmentView | tuple[str, Refusal] | None:
        """Check quota, pick, lock, take and assign a copy in one round trip; None when the reviewer holds one open.

        Under 50 reviewers arriving at once each round trip (and each ORM flush) of a `next` queues behind the others
        in the API process; this is the same choice as the path below, as one PostgreSQL statement.
        """
        found = session.execute(
            ASSIGN_NEXT,
            {"reviewer": reviewer.id, "midnight": midnight(now), "now": now, "quota": self.daily_quota},
        ).one()
        if found.open_count:
            return None
        if found.id is None:
            if found.used_today >= self.daily_quota:
                return (
                    f"daily quota of {self.daily_quota} clips reached; the queue reopens tomorrow (UTC)",
                    Refusal.QUOTA_EXHAUSTED,
                )
            return "the queue is empty", Refusal.NOT_FOUND
        return view_of(found.id, found.assigned_at, found.details)

    def open_media_link(self, reviewer: StaffView, assignment_id: int) -> MediaLink:
        """Make a single-use link to the assignment's clip and have it watermarked (ready once the worker is done)."""
        token = new_token()
        now = utc_now()
        expires_at = now + timedelta(seconds=self._config.watermark_wait_seconds)
        with self._database.session() as session:
            self._owned_open(session, reviewer, assignment_id, "media link")
            session.add(
                ReviewMediaLink(
                    token_digest=digest(token),
                    assignment_id=assignment_id,
                    reviewer_id=reviewer.id,
                    object_key=f"{MEDIA_PREFIX}{secrets.token_hex(16)}",
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        self.schedule_watermark(digest(token))
        return MediaLink(token=token, expires_at=expires_at)

    def media_ready(self, token: str) -> MediaLink | None:
        """Return the link once its clip is watermarked, None while the worker is at it; refuse a link that failed."""
        with self._database.session() as session:
            link = session.get(ReviewMediaLink, digest(token))
            if link is None or link.failed is not None:
                why = "the clip could not be prepared" if link is None else link.failed
                raise ReviewRefusedError(str(why), Refusal.UNAVAILABLE)
            return None if link.ready_at is None else MediaLink(token=token, expires_at=link.expires_at)

    async def wait_for_media(self, reviewer: StaffView, assignment_id: int) -> MediaLink:
        """Have the clip watermarked for this reviewer and return its single-use link once it is ready.

        The wait holds no thread: a worker takes seconds per clip, and an API process has a few dozen threads for
        every request of every reviewer. Each look at the link borrows a thread for one query, then gives it back
        (the event loop's own executor, not the pool the sync routes share; with tasks in-process the first hop
        also burns the watermark in, a trial's cost).
        """
        pending = await asyncio.to_thread(self.open_media_link, reviewer, assignment_id)
        deadline = time.monotonic() + self._config.watermark_wait_seconds
        pause = READY_POLL_SECONDS
        while True:
            ready = await asyncio.to_thread(self.media_ready, pending.token)
            if ready is not None:
                return ready
            if time.monotonic() > deadline:
                raise ReviewRefusedError("the watermarking worker did not answer; try again", Refusal.UNAVAILABLE)
            await asyncio.sleep(pause)
            # Many reviewers wait at once: look less often the longer the worker takes (it takes seconds).
            pause = min(pause * 2, READY_POLL_MAX_SECONDS)

    def request_media(self, reviewer: StaffView, assignment_id: int) -> MediaLink:
        """Have the clip watermarked and return its link once ready, waiting on this thread (the benchmark's way)."""
        return asyncio.run(self.wait_for_media(reviewer, assignment_id))

    def prepare_media(self, token_digest: str) -> None:
        """Burn the watermark into a link's clip and keep it sealed under a fresh key (a worker's task)."""
        with self._database.session() as session:
            found = session.execute(
                select(ReviewMediaLink, ReviewAssignment, ReviewDonation, ReviewStaff.pseudonym)
                .join(ReviewAssignment, ReviewAssignment.id == ReviewMediaLink.assignment_id)
                .join(ReviewDonation, ReviewDonation.donation_id == ReviewAssignment.donation_id)
                .join(ReviewStaff, ReviewStaff.id == ReviewMediaLink.reviewer_id)
                .where(ReviewMediaLink.token_digest == token_digest)
            ).first()
            if found is None:
                return
            link, assignment, donation, pseudonym = found
            if link.ready_at is not None or link.used_at is not None:
                return
            if donation.state != IN_REVIEW or donation.object_key is None:
                link.failed = "this clip is no longer in review (withdrawn, expired or flagged)"
                return
            object_key, link_key, donation_id = donation.object_key, link.object_key, donation.donation_id
            text = f"{pseudonym} | {utc_now():%Y-%m-%d %H:%M:%S} UTC | a{assignment.id}"
        try:
            clip = self._open_copy(donation_id, self._store.read_all(object_key))
            marked = burn_watermark(clip, text)
        except (WatermarkError, RefusedError) as error:
            log.error("media link for donation %s could not be prepared: %s", donation_id, error)
            with self._database.session() as session:
                failed = session.get(ReviewMediaLink, token_digest)
                if failed is not None:
                    failed.failed = "the clip could not be prepared for viewing"
            return
        media_key = secrets.token_bytes(SecretBox.KEY_SIZE)
        self._store.put(link_key, bytes(SecretBox(media_key).encrypt(marked)))
        del clip, marked
        now = utc_now()
        with self._database.session() as session:
            ready = session.get(ReviewMediaLink, token_digest)
            if ready is None:
                # The copy ended while it was being watermarked: its rows went, the bytes go too.
                doom_blob(session, link_key)
            else:
                ready.media_key = media_key
                ready.ready_at = now
                ready.expires_at = now + timedelta(seconds=self._config.media_link_seconds)
        if ready is None:
            self._delete_blobs([link_key])

    def redeem(self, reviewer: StaffView, token: str) -> bytes:
        """Use a link once: return the watermarked clip; the view is an entry of the audit chain."""
        now = utc_now()
        with self._database.session() as session:
            link = session.scalar(
                select(ReviewMediaLink).where(ReviewMediaLink.token_digest == digest(token)).with_for_update()
            )
            if (
                link is None
                or link.reviewer_id != reviewer.id
                or link.used_at is not None
                or link.media_key is None
                or link.expires_at <= now
            ):
                raise refused(reviewer, "view", "this media link is used, expired or not yours", Refusal.GONE)
            assignment = self._owned_open(session, reviewer, link.assignment_id, "view")
            media_key, object_key = link.media_key, link.object_key
            assert media_key is not None
            link.used_at, link.media_key = now, None
            doom_blob(session, object_key)
            record(
                session,
                home_id=assignment.home_id,
                donation_id=assignment.donation_id,
                action="view",
                actor=reviewer.actor,
                details={"assignment": assignment.id},
            )
        try:
            return bytes(SecretBox(media_key).decrypt(self._store.read_all(object_key)))
        except CryptoError:
            raise ReviewRefusedError("the watermarked clip is damaged; ask for a new link", Refusal.GONE) from None
        finally:
            self._delete_blobs([object_key])

    def label(self, reviewer: StaffView, assignment_id: int, labels: Labels) -> None:
        """Store the reviewer's labels (classes and boxes checked) and close the assignment."""
        now = utc_now()
        with self._database.session() as session:
            assignment = self._owned_open(session, reviewer, assignment_id, "label")
            labels = checked_labels(labels, assignment_view(session, assignment).duration_s)
            session.add(
                ReviewLabel(
                    donation_id=assignment.donation_id,
                    assignment_id=assignment.id,
                    verdict=labels.verdict,
                    cause=labels.cause,
                    label=labels.label,
                    boxes=labels.boxes,
                    created_at=now,
                )
            )
            assignment.completed_at = now
            donation = session.get(ReviewDonation, assignment.donation_id)
            assert donation is not None
            donation.state = LABELLED
            donation.updated_at = now
            record(
                session,
                home_id=assignment.home_id,
                donation_id=assignment.donation_id,
                action="label",
                actor=reviewer.actor,
                details={"assignment": assignment.id, "verdict": labels.verdict},
            )
            labelled = assignment.donation_id
        self.schedule_reading(labelled)

    def flag(self, reviewer: StaffView, assignment_id: int, reason: str) -> None:
        """Remove the copy as inappropriate content: out of the queue and deleted at once, a receipt to the home."""
        now = utc_now()
        with self._database.session() as session:
            assignment = self._owned_open(session, reviewer, assignment_id, "flag")
            donation = session.scalar(
                select(ReviewDonation).where(ReviewDonation.donation_id == assignment.donation_id).with_for_update()
            )
            assert donation is not None
            doomed = erase_donation(session, donation, FLAGGED, now)
            record(
                session,
                home_id=donation.home_id,
                donation_id=donation.donation_id,
                action="flag",
                actor=reviewer.actor,
                details={"reason": reason.strip()[:200] or "inappropriate content"},
            )
        self._delete_blobs(doomed)

    def prune_media_links(self) -> list[str]:
        """Forget expired media links (used or not); return the watermarked blobs to delete (the review sweep)."""
        with self._database.session() as session:
            expired = session.scalars(
                select(ReviewMediaLink).where(ReviewMediaLink.expires_at <= utc_now()).with_for_update(skip_locked=True)
            ).all()
            for link in expired:
                doom_blob(session, link.object_key)
                session.delete(link)
            return [link.object_key for link in expired]

    def stats(self) -> QueueStats:
        """Count the queue by state and by (opaque) home, and each reviewer's quota use today."""
        today = midnight(utc_now())
        with self._database.session() as session:
            states: dict[str, int] = {}
            homes: dict[str, dict[str, int]] = {}
            for home_id, state, count in session.execute(
                select(ReviewDonation.home_id, ReviewDonation.state, func.count()).group_by(
                    ReviewDonation.home_id, ReviewDonation.state
                )
            ):
                states[state] = states.get(state, 0) + count
                homes.setdefault(home_id, {})[state] = count
            used: dict[int, int] = {}
            for reviewer_id, count in session.execute(
                select(ReviewAssignment.reviewer_id, func.count())
                .where(ReviewAssignment.assigned_at >= today)
                .group_by(ReviewAssignment.reviewer_id)
            ):
                used[reviewer_id] = count
            reviewers = [
                {
                    "username": row.username,
                    "pseudonym": row.pseudonym,
                    "disabled": row.disabled_at is not None,
                    "used_today": used.get(row.id, 0),
                    "quota": self.daily_quota,
                }
                for row in session.scalars(
                    select(ReviewStaff).where(ReviewStaff.role == "reviewer").order_by(ReviewStaff.username_key)
                )
            ]
        return QueueStats(states=states, homes=homes, reviewers=reviewers)

    # inside

    def _used_today(self, session: Session, reviewer_id: int) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(ReviewAssignment)
                .where(ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.assigned_at >= midnight(utc_now()))
            )
            or 0
        )

    def _open_row(self, session: Session, reviewer_id: int) -> ReviewAssignment | None:
        """Return the reviewer's open assignment whose copy is still in review (closing one whose copy ended)."""
        row = session.scalar(
            select(ReviewAssignment).where(
                ReviewAssignment.reviewer_id == reviewer_id, ReviewAssignment.completed_at.is_(None)
            )
        )
        if row is None:
            return None
        donation = session.get(ReviewDonation, row.donation_id)
        if donation is None or donation.state != IN_REVIEW:
            row.completed_at = utc_now()
            session.flush()
            return None
        return row

    def _owned_open(self, session: Session, reviewer: StaffView, assignment_id: int, action: str) -> ReviewAssignment:
        row = session.get(ReviewAssignment, assignment_id) if 0 < assignment_id < 2**63 else None
        donation = session.get(ReviewDonation, row.donation_id) if row is not None else None
        if row is None or row.reviewer_id != reviewer.id:
            raise refused(reviewer, action, f"assignment {assignment_id} is not yours", Refusal.NOT_FOUND)
        if row.completed_at is not None:
            raise refused(reviewer, action, f"assignment {assignment_id} is closed", Refusal.NOT_FOUND)
        if donation is None or donation.state != IN_REVIEW:
            raise refused(reviewer, action, f"assignment {assignment_id}: the clip was withdrawn, expired or flagged")
        return row


def refused(reviewer: StaffView, action: str, why: str, refusal: Refusal = Refusal.NOT_FOUND) -> ReviewRefusedError:
    """Log a refused request of a reviewer; return the refusal in plain words, to raise."""
    log.warning("review refused: %s %s: %s", reviewer.actor, action, why)
    return ReviewRefusedError(why, refusal)


def assignment_view(session: Session, row: ReviewAssignment) -> AssignmentView:
    """Return what the reviewer may know of an assignment."""
    donation = session.get(ReviewDonation, row.donation_id)
    return view_of(row.id, row.assigned_at, donation.details if donation is not None else {})


def view_of(assignment_id: int, assigned_at: datetime, details: dict[str, Any] | None) -> AssignmentView:
    """Return what the reviewer may know of an assignment, from its copy's details."""
    details = details or {}

    def number(key: str) -> float | None:
        value = details.get(key)
        return float(value) if isinstance(value, int | float) else None

    width, height = number("width"), number("height")
    return AssignmentView(
        id=assignment_id,
        label=str(details.get("label", "")),
        duration_s=number("duration_s"),
        width=None if width is None else int(width),
        height=None if height is None else int(height),
        assigned_at=assigned_at,
    )
