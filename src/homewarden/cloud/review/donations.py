"""Donated copies: intake from a home's hub, the cloud's own screen, withdrawal and expiry, each on the audit chain.

``HomeDonations`` is made for the home of a verified hub and every query it runs names that home, so another home's
donation is not found (404). A copy's bytes live under the program-only prefix ``review/`` of the object store, never
under the home's prefix, and no quota counts them. Every end of a copy (withdrawn, expired, refused, flagged) goes
through ``erase_donation``: bytes doomed in the same transaction as the state change, deleted right after.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.deletion import claim_key, doom_blob
from homewarden.cloud.homes import check_object_id, check_sha256
from homewarden.cloud.models import ReviewAuditEntry, ReviewDonation
from homewarden.cloud.object_store import BlobMissingError, ObjectStore
from homewarden.cloud.review.assignments import WORKBENCH_STATES, workbench_rows_erased
from homewarden.cloud.review.audit import CLOUD_ACTOR, AuditEntry, entry_of, receipt, record
from homewarden.cloud.review.keys import ProgramKeys
from homewarden.cloud.review.signatures import Signer, iso
from homewarden.cloud.training.registry import forget_label_items, taint_models_of
from homewarden.errors import Refusal, RefusedError

log = logging.getLogger(__name__)

# The contract's largest copy; the hub refuses to donate a larger one and tells the owner.
MAX_DONATION_BYTES = 16 * 1024 * 1024
DONATION_PREFIX = "review/"
SCREENING = "screening"
QUEUED = "queued"
# States a copy with bytes may be in; the workbench adds its own between queued and the end.
LIVE_STATES = (SCREENING, QUEUED, *WORKBENCH_STATES)
WITHDRAWN, EXPIRED, REFUSED, FLAGGED = "withdrawn", "expired", "refused", "flagged"
FINAL_STATES = (WITHDRAWN, EXPIRED, REFUSED, FLAGGED, "deleted")
NOT_CURRENT = "this review key is not current"
SWEEP_BATCH = 500

ScreeningScheduler = Callable[[str], None]
DeletionScheduler = Callable[[list[str]], None]


class DonationMetadata(BaseModel):
    """What the hub says of a copy (``X-HW-Donation``), and all the workbench may show of it."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z _-]*$")
    duration_s: float = Field(ge=0, le=24 * 3600)
    width: int = Field(ge=1, le=16384)
    height: int = Field(ge=1, le=16384)
    donated_at: AwareDatetime
    expires_at: AwareDatetime
    consent: str = Field(min_length=1, max_length=64)


@dataclass(frozen=True)
class DonationStatus:
    """A donation as its hub sees it."""

    donation_id: str
    state: str
    labels: int
    views: int
    updated_at: datetime


@dataclass(frozen=True)
class Received:
    """The answer to an upload: the state, and whether this request created the donation (201) or not (200)."""

    donation_id: str
    state: str
    created: bool


@dataclass(frozen=True)
class Withdrawal:
    """The answer to a withdrawal: when the copy went, and the signed receipt of it."""

    donation_id: str
    deleted_at: datetime
    receipt: dict[str, Any]


def donation_key(donation_id: str) -> str:
    """Return the object store key of a donated copy: the program's prefix, nothing of the home."""
    return f"{DONATION_PREFIX}{donation_id}"


def parse_metadata(header: str | None) -> DonationMetadata:
    """Read ``X-HW-Donation`` (base64url of canonical JSON), refusing it in plain words."""
    if not header:
        raise RefusedError("the X-HW-Donation header is missing", Refusal.INVALID)
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        return DonationMetadata.model_validate(json.loads(raw.decode("utf-8")))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        if isinstance(error, ValidationError):
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                for problem in error.errors(include_url=False)
            )
            raise RefusedError(f"X-HW-Donation: {problems}", Refusal.INVALID) from None
        raise RefusedError("X-HW-Donation is not base64url of a JSON object", Refusal.INVALID) from None


def erase_donation(session: Session, donation: ReviewDonation, state: str, now: datetime) -> list[str]:
    """End a copy in the caller's transaction: final state, bytes doomed; return the blob keys to delete now.

    Every end of a copy comes here (withdrawal, expiry, refusal, a reviewer's flag), so nothing of it is left behind:
    the workbench's labels and media links of the donation are deleted here too, its assignments closed.
    """
    keys = workbench_rows_erased(session, donation.donation_id, now)
    # Every model that learned from the copy is tainted in this transaction: its file doomed, the shard erased; the
    # features read from the copy go with it.
    keys += taint_models_of(session, donation.donation_id, donation.home_id, now)
    forget_label_items(session, donation.donation_id)
    if donation.object_key is not None and donation.deleted_at is None:
        doom_blob(session, donation.object_key)
        keys.append(donation.object_key)
    donation.state = state
    donation.updated_at = now
    donation.deleted_at = donation.deleted_at or now
    if state == WITHDRAWN:
        donation.withdrawn_at = donation.withdrawn_at or now
    return keys


def count_actions(session: Session, donation_id: str) -> dict[str, int]:
    """Count a donation's audit entries by action (views and labels survive the copy: they are history)."""
    rows = session.execute(
        select(ReviewAuditEntry.action, func.count())
        .where(ReviewAuditEntry.donation_id == donation_id)
        .group_by(ReviewAuditEntry.action)
    ).all()
    return {action: int(count) for action, count in rows}


class HomeDonations:
    """The donations of one home: upload, state, withdrawal."""

    def __init__(
        self,
        home_id: str,
        database: CloudDatabase,
        store: ObjectStore,
        keys: ProgramKeys,
        schedule_screening: ScreeningScheduler,
        delete_blobs: DeletionScheduler,
    ) -> None:
        """Work on ``home_id``'s donations only."""
        self.home_id = home_id
        self._database = database
        self._store = store
        self._keys = keys
        self._schedule_screening = schedule_screening
        self._delete_blobs = delete_blobs

    def receive(
        self, donation_id: str, body: bytes, sha256: str | None, key_id: str | None, metadata_header: str | None
    ) -> Received:
        """Take a sealed copy: 201 new (screening), 200 the same copy again, 409 other content or an unheld key."""
        check_object_id(donation_id)
        expected = check_sha256(sha256)
        if len(body) > MAX_DONATION_BYTES:
            raise RefusedError(f"a donated copy is at most {MAX_DONATION_BYTES} bytes", Refusal.INVALID)
        actual = hashlib.sha256(body).hexdigest()
        if actual != expected:
            raise RefusedError(
                f"the body's SHA-256 is {actual}, not the {expected} of X-HW-Content-SHA256", Refusal.INVALID
            )
        metadata = parse_metadata(metadata_header)
        if not key_id or not self._keys.holds(key_id):
            raise RefusedError(NOT_CURRENT, Refusal.CONFLICT)
        now = utc_now()
        if metadata.expires_at <= now:
            raise RefusedError("X-HW-Donation: expires_at is already past", Refusal.INVALID)
        existing = self._reserve(donation_id, len(body), expected, key_id, metadata, now)
        if existing is not None and existing.state != SCREENING:
            return existing
        # New, or a copy whose upload never finished (a crash, the store failing): writing the same bytes again ends it.
        try:
            self._store.put(donation_key(donation_id), body)
        except Exception:
            if existing is None:
                self._drop_reservation(donation_id)
            raise
        with self._database.session() as session:
            donation = self._locked(session, donation_id)
            if donation is None or donation.state != SCREENING:
                # Withdrawn or expired while the bytes were on their way: they must not outlive that.
                doom_blob(session, donation_key(donation_id))
                doomed = True
            else:
                doomed = False
                if existing is None:
                    record(
                        session,
                        home_id=self.home_id,
                        donation_id=donation_id,
                        action="received",
                        actor=CLOUD_ACTOR,
                        details={"size": len(body), "sha256": expected, "key_id": key_id},
                    )
            state = None if donation is None else donation.state
        if doomed:
            self._delete_blobs([donation_key(donation_id)])
            if state is None:
                raise RefusedError("the donation was dropped during its upload; send it again", Refusal.UNAVAILABLE)
            return Received(donation_id, state, created=False)
        self._schedule_screening(donation_id)
        return existing or Received(donation_id, SCREENING, created=True)

    def status(self, donation_id: str) -> DonationStatus:
        """Return a donation's state and how many views and labels it had."""
        check_object_id(donation_id)
        with self._database.session() as session:
            donation = self._own(session, donation_id)
            counts = count_actions(session, donation_id)
            return DonationStatus(
                donation_id=donation_id,
                state=donation.state,
                labels=counts.get("label", 0),
                views=counts.get("view", 0),
                updated_at=donation.updated_at,
            )

    def withdraw(self, donation_id: str, signer: Signer) -> Withdrawal:
        """Withdraw a copy: bytes, labels and assignments gone now; the same answer again; unknown ids too."""
        check_object_id(donation_id)
        keys: list[str] = []
        for _attempt in range(2):
            try:
                with self._database.session() as session:
                    donation = self._locked(session, donation_id)
                    now = utc_now()
                    if donation is None:
                        # The hub may withdraw before its upload arrived: a tombstone keeps the late upload out.
                        donation = ReviewDonation(
                            donation_id=donation_id,
                            home_id=self.home_id,
                            details={},
                            state=WITHDRAWN,
                            received_at=now,
                            updated_at=now,
                            withdrawn_at=now,
                            deleted_at=now,
                        )
                        session.add(donation)
                        session.flush()
                    elif donation.state == WITHDRAWN:
                        entry = self._withdrawal_entry(session, donation_id)
                        if entry is not None:
                            assert donation.deleted_at is not None
                            return Withdrawal(donation_id, donation.deleted_at, receipt(entry, signer))
                    keys = erase_donation(session, donation, WITHDRAWN, now)
                    entry = record(
                        session,
                        home_id=self.home_id,
                        donation_id=donation_id,
                        action="withdrawn",
                        actor=CLOUD_ACTOR,
                        details={"had_bytes": bool(keys)},
                    )
                    deleted_at = donation.deleted_at or now
                break
            except IntegrityError:
                # Two withdrawals of an unknown id at once: the other made the tombstone; answer from it.
                continue
        else:
            raise RefusedError("the donation changed during its withdrawal; try again", Refusal.UNAVAILABLE)
        self._delete_blobs(keys)
        return Withdrawal(donation_id, deleted_at, receipt(entry, signer))

    def _reserve(
        self, donation_id: str, size: int, sha256: str, key_id: str, metadata: DonationMetadata, now: datetime
    ) -> Received | None:
        """Write the donation's row, or return the existing one's state (None: the caller writes the bytes)."""
        for _attempt in range(2):
            try:
                with self._database.session() as session:
                    found = session.get(ReviewDonation, donation_id)
                    if found is not None:
                        if found.home_id != self.home_id:
                            raise RefusedError(f"donation id {donation_id} is taken", Refusal.CONFLICT)
                        if found.sha256 is not None and found.sha256 != sha256:
                            raise RefusedError(f"donation {donation_id} exists with other content", Refusal.CONFLICT)
                        return Received(donation_id, found.state, created=False)
                    claim_key(session, donation_key(donation_id))
                    session.add(
                        ReviewDonation(
                            donation_id=donation_id,
                            home_id=self.home_id,
                            key_id=key_id,
                            object_key=donation_key(donation_id),
                            size=size,
                            sha256=sha256,
                            details=metadata.model_dump(mode="json"),
                            state=SCREENING,
                            received_at=now,
                            updated_at=now,
                            expires_at=metadata.expires_at,
                        )
                    )
                return None
            except IntegrityError:
                # The same upload twice at once: the other request made the row; answer from it.
                continue
        raise RefusedError("the donation is being uploaded by another request; try again", Refusal.UNAVAILABLE)

    def _drop_reservation(self, donation_id: str) -> None:
        """Remove the row of an upload whose bytes could not be written (nothing of it is left)."""
        with self._database.session() as session:
            found = session.get(ReviewDonation, donation_id)
            if found is not None and found.home_id == self.home_id and found.state == SCREENING:
                session.delete(found)

    def _own(self, session: Session, donation_id: str) -> ReviewDonation:
        donation = session.get(ReviewDonation, donation_id)
        if donation is None or donation.home_id != self.home_id:
            raise RefusedError("no such donation", Refusal.NOT_FOUND)
        return donation

    def _locked(self, session: Session, donation_id: str) -> ReviewDonation | None:
        donation = session.scalar(
            select(ReviewDonation).where(ReviewDonation.donation_id == donation_id).with_for_update()
        )
        if donation is not None and donation.home_id != self.home_id:
            raise RefusedError("no such donation", Refusal.NOT_FOUND)
        return donation

    def _withdrawal_entry(self, session: Session, donation_id: str) -> AuditEntry | None:
        row = session.scalar(
            select(ReviewAuditEntry)
            .where(
                ReviewAuditEntry.donation_id == donation_id,
                ReviewAuditEntry.home_id == self.home_id,
                ReviewAuditEntry.action == "withdrawn",
            )
            .order_by(ReviewAuditEntry.seq)
            .limit(1)
        )
        return None if row is None else entry_of(row)


def expire_due(database: CloudDatabase, now: datetime | None = None) -> list[str]:
    """Delete every copy past its ``expires_at`` with an ``expired`` entry; return the blob keys to delete."""
    now = now or utc_now()
    keys: list[str] = []
    with database.session() as session:
        due = session.scalars(
            select(ReviewDonation)
            .where(ReviewDonation.state.in_(LIVE_STATES), ReviewDonation.expires_at <= now)
            .order_by(ReviewDonation.expires_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for donation in due:
            keys += erase_donation(session, donation, EXPIRED, now)
            record(
                session,
                home_id=donation.home_id,
                donation_id=donation.donation_id,
                action="expired",
                actor=CLOUD_ACTOR,
                details={"expires_at": iso(donation.expires_at or now)},
            )
    if keys:
        log.info("review sweep: %d expired donated copies deleted", len(keys))
    return keys


def stuck_in_screening(database: CloudDatabase, older_than: timedelta) -> list[str]:
    """Return donations still screening long after they arrived (their task was lost): to be screened again."""
    cutoff = utc_now() - older_than
    with database.session() as session:
        return list(
            session.scalars(
                select(ReviewDonation.donation_id)
                .where(ReviewDonation.state == SCREENING, ReviewDonation.updated_at < cutoff)
                .limit(SWEEP_BATCH)
            )
        )


def keys_in_use(database: CloudDatabase) -> set[str]:
    """Return the program key ids that copies still holding bytes are sealed to."""
    with database.session() as session:
        return {
            key_id
            for key_id in session.scalars(
                select(ReviewDonation.key_id).where(ReviewDonation.state.in_(LIVE_STATES)).distinct()
            )
            if key_id is not None
        }


def read_copy(store: ObjectStore, donation: ReviewDonation) -> bytes | None:
    """Return a copy's sealed bytes, or None when they are not (yet) in the store."""
    if donation.object_key is None:
        return None
    try:
        return store.read_all(donation.object_key)
    except BlobMissingError:
        return None
