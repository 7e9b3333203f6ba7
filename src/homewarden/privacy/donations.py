"""Donations: the owner's consent, the redacted and screened copy, withdrawal, expiry, standing rules, notices.

A donation moves through: ``preparing`` (the original is decrypted with the home key held in memory, redacted and
screened, in the background) → ``ready`` (the owner watches the copy, exactly what a reviewer would see) →
``donated`` (queued for reviewers until it expires). Screening that finds something ends it as ``refused`` and the
copy is never stored. The owner can withdraw at any point (``withdrawn``); a reviewer's "inappropriate content"
ends it as ``flagged``; retention ends it as ``expired``. In every end state the copy is crypto-shredded and its
labels deleted; the row stays so the owner's privacy page can say what happened, and so do the assignments (who
was handed which pseudonymous clip, no media), which the reviewers' daily quota counts.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from homewarden.errors import Refusal, RefusedError
from homewarden.events.record import EventRecord
from homewarden.privacy.audit import HUB, Actor, AuditLog
from homewarden.review.program_key import ReviewProgramStorage
from homewarden.store.crypto import Keyring, SealedObjectReader
from homewarden.store.review_models import Donation, DonationRule, PrivacyNotice, ReviewLabel
from homewarden.store.sealed_media import HubStorage
from homewarden.store.transactions import transaction
from homewarden.store.utc import as_utc

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
ACTIVE = ("preparing", "ready", "donated")
TRIGGERS = ("false_alarm", "label")


class DonationError(RefusedError):
    """A donation request that cannot be carried out; the message says why, for the owner."""


@dataclass(frozen=True)
class DonationRecord:
    """A donation as the owner sees it."""

    id: str
    home_id: int
    event_id: str
    camera: str
    label: str
    status: str
    mask_people: bool
    pseudonym: str
    object_name: str | None
    duration: float | None
    width: int | None
    height: int | None
    retention_days: int
    reason: str | None
    rule_id: int | None
    created_at: datetime
    donated_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class RuleRecord:
    """A standing donation rule."""

    id: int
    camera: str | None
    trigger: str
    label: str | None
    mask_people: bool
    created_at: datetime


@dataclass(frozen=True)
class NoticeRecord:
    """Something the owner was told."""

    at: datetime
    kind: str
    text: str
    donation_id: str | None


@dataclass(frozen=True)
class Withdrawal:
    """What withdrawing a donation deleted."""

    copy_shredded: bool
    labels_deleted: int


@dataclass(frozen=True)
class PreparedCopy:
    """A redacted copy that passed screening."""

    mp4: bytes
    duration: float
    width: int
    height: int


# Redaction and screening, given the original clip's bytes and whether to mask people: the copy, or a refusal.
Preparer = Callable[[bytes, bool], "PreparedCopy | str"]


def aware(moment: datetime | None) -> datetime | None:
    """Return a database time as UTC-aware, or None."""
    return None if moment is None else as_utc(moment)


def _record(row: Donation) -> DonationRecord:
    return DonationRecord(
        row.id,
        row.home_id,
        row.event_id,
        row.camera,
        row.label,
        row.status,
        row.mask_people,
        row.pseudonym,
        row.object_name,
        row.duration,
        row.width,
        row.height,
        row.retention_days,
        row.reason,
        row.rule_id,
        aware(row.created_at) or datetime.now(UTC),
        aware(row.donated_at),
        aware(row.expires_at),
    )


class Donations:
    """Create, prepare, confirm, withdraw and expire donations; keep the owner's rules and notices."""

    def __init__(
        self,
        engine: Engine,
        hub_storage: HubStorage,
        program: ReviewProgramStorage,
        audit: AuditLog,
        preparer: Preparer,
        home_keyring: Callable[[], Keyring | None],
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        """Work on the hub's database, its footage (read with the home key while held) and the program's vault."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.hub_storage = hub_storage
        self.program = program
        self.audit = audit
        self.preparer = preparer
        self.home_keyring = home_keyring
        self.retention_days = retention_days
        # One clip at a time: redaction takes both cores for seconds, and the cameras must keep up meanwhile.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="donation")
        self._lock = threading.Lock()

    # the owner's consent

    def start(
        self,
        home_id: int,
        event: EventRecord,
        mask_people: bool,
        by: Actor,
        *,
        rule_id: int | None = None,
        confirm: bool = False,
    ) -> DonationRecord:
        """Begin a donation of an event's first clip: redaction and screening run in the background."""
        if not event.clips:
            raise DonationError("this event has no clip to donate", Refusal.NOT_FOUND)
        name = self.hub_storage.media.object_name(Path(event.clips[0].path))
        if name is None or not self.hub_storage.vault.exists(name):
            raise DonationError("this event's clip is no longer stored", Refusal.NOT_FOUND)
        if self.home_keyring() is None:
            raise DonationError("recordings are locked: unlock them on your account page first", Refusal.LOCKED)
        with self._session("start a donation") as session:
            active = session.scalars(
                select(Donation.id).where(Donation.event_id == event.id, Donation.status.in_(ACTIVE))
            ).first()
            if active is not None:
                raise DonationError("this event is already being donated", Refusal.CONFLICT)
            row = Donation(
                id=uuid.uuid4().hex,
                home_id=home_id,
                event_id=event.id,
                camera=event.camera,
                label=event.label,
                status="preparing",
                mask_people=mask_people,
                pseudonym=f"clip-{secrets.token_hex(4)}",
                retention_days=self.retention_days,
                rule_id=rule_id,
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            record = _record(row)
        self.audit.record(by, "donation_started", f"event:{event.id}", home_id=home_id, detail=f"donation {record.id}")
        self._worker.submit(self._prepare, record.id, name, mask_people, confirm)
        return record

    def _prepare(self, donation_id: str, original: str, mask_people: bool, confirm: bool) -> None:
        try:
            keyring = self.home_keyring()
            if keyring is None:
                self._end(donation_id, "failed", "recordings were locked before the copy was made; try again")
                return
            result = self.preparer(self.hub_storage.vault.read(original, keyring), mask_people)
            if isinstance(result, str):
                self._refuse(donation_id, result)
                return
            object_name = f"donations/{donation_id}.mp4"
            with self._session("store a donated copy") as session:
                row = session.get(Donation, donation_id)
                if row is None or row.status != "preparing":
                    return  # withdrawn while it was being prepared
                self.program.vault().put(object_name, result.mp4)
                row.object_name = object_name
                row.duration, row.width, row.height = result.duration, result.width, result.height
                row.status = "ready"
                if confirm:
                    self._mark_donated(row)
                home_id = row.home_id
            self.audit.record(
                HUB, "donation_prepared", f"donation:{donation_id}", home_id=home_id, detail="redacted and screened"
            )
        except Exception as exc:  # the owner sees the failure on the privacy page; the hub goes on
            log.exception("donation %s failed", donation_id)
            self._end(donation_id, "failed", f"the copy could not be made: {exc}")

    def _refuse(self, donation_id: str, reason: str) -> None:
        home_id = self._end(donation_id, "refused", reason)
        if home_id is not None:
            self._notify(home_id, "screening", f"A clip was not donated: {reason}. Nobody saw it.", donation_id)
            self.audit.record(
                HUB, "donation_refused", f"donation:{donation_id}", home_id=home_id, outcome="refused", detail=reason
            )

    def confirm(self, home_id: int, donation_id: str, by: Actor) -> DonationRecord:
        """Donate a prepared copy: from now on reviewers can be assigned it, until it expires or is withdrawn."""
        with self._session("confirm a donation") as session:
            row = self._own(session, home_id, donation_id)
            if row.status != "ready":
                raise DonationError(f"only a prepared copy can be donated (this one is {row.status})", Refusal.CONFLICT)
            self._mark_donated(row)
            record = _record(row)
        self.audit.record(by, "donated", f"donation:{donation_id}", home_id=home_id, detail=f"event {record.event_id}")
        return record

    def _mark_donated(self, row: Donation) -> None:
        row.status = "donated"
        row.donated_at = datetime.now(UTC)
        row.expires_at = row.donated_at + timedelta(days=row.retention_days)

    def withdraw(self, home_id: int, donation_id: str, by: Actor) -> Withdrawal:
        """Withdraw consent: shred the copy and delete every label and assignment made from it."""
        with self._session("find a donation") as session:
            self._own(session, home_id, donation_id)
        withdrawal = self._destroy(donation_id, "withdrawn", "withdrawn by the owner")
        self.audit.record(
            by,
            "donation_withdrawn",
            f"donation:{donation_id}",
            home_id=home_id,
            detail=("the copy was destroyed" if withdrawal.copy_shredded else "no copy was stored")
            + f"; {withdrawal.labels_deleted} label(s) deleted",
        )
        return withdrawal

    def flag(self, donation_id: str, by: Actor, reason: str) -> None:
        """Destroy a copy a reviewer found inappropriate, record why, and tell the owner."""
        home_id = self.home_of(donation_id)
        self._destroy(donation_id, "flagged", f"flagged by a reviewer: {reason}")
        if home_id is not None:
            self._notify(
                home_id,
                "flagged",
                f"A reviewer flagged a donated clip as inappropriate ({reason}); it was destroyed at once.",
                donation_id,
            )
            self.audit.record(by, "donation_flagged", f"donation:{donation_id}", home_id=home_id, detail=reason)

    def expire_due(self, now: datetime | None = None) -> int:
        """End every donation whose retention is over; return how many."""
        moment = now or datetime.now(UTC)
        with self._session("find expired donations") as session:
            due = list(
                session.execute(
                    select(Donation.id, Donation.home_id).where(
                        Donation.status == "donated", Donation.expires_at <= moment
                    )
                )
            )
        for donation_id, home_id in due:
            self._destroy(donation_id, "expired", "its retention ended")
            self._notify(
                home_id, "expired", "A donated clip reached the end of its retention and was deleted.", donation_id
            )
            self.audit.record(HUB, "donation_expired", f"donation:{donation_id}", home_id=home_id)
        return len(due)

    def _destroy(self, donation_id: str, status: str, reason: str) -> Withdrawal:
        with self._lock, self._session("delete a donated copy") as session:
            row = session.get(Donation, donation_id)
            if row is None:
                raise DonationError("no such donation", Refusal.NOT_FOUND)
            shredded = bool(row.object_name) and self.program.vault().shred(row.object_name or "")
            labels = len(
                session.scalars(
                    delete(ReviewLabel).where(ReviewLabel.donation_id == donation_id).returning(ReviewLabel.id)
                ).all()
            )
            if row.status in ACTIVE:
                row.status, row.reason = status, reason
            row.object_name = None
            return Withdrawal(shredded, labels)

    def _end(self, donation_id: str, status: str, reason: str) -> int | None:
        with self._session("end a donation") as session:
            row = session.get(Donation, donation_id)
            if row is None:
                return None
            if row.status in ACTIVE:
                row.status, row.reason = status, reason
            return row.home_id

    # reading

    def of_home(self, home_id: int) -> list[DonationRecord]:
        """Return a home's donations, newest first."""
        with self._session("list donations") as session:
            rows = session.scalars(
                select(Donation).where(Donation.home_id == home_id).order_by(Donation.created_at.desc())
            )
            return [_record(row) for row in rows]

    def get(self, home_id: int, donation_id: str) -> DonationRecord:
        """Return one of a home's donations (404 otherwise)."""
        with self._session("read a donation") as session:
            return _record(self._own(session, home_id, donation_id))

    def by_id(self, donation_id: str) -> DonationRecord | None:
        """Return any donation (the review queue's view)."""
        with self._session("read a donation") as session:
            row = session.get(Donation, donation_id)
            return None if row is None else _record(row)

    def home_of(self, donation_id: str) -> int | None:
        """Return the home a donation came from."""
        record = self.by_id(donation_id)
        return None if record is None else record.home_id

    def open_copy(self, record: DonationRecord) -> SealedObjectReader:
        """Open the redacted copy with the program's key."""
        if record.object_name is None:
            raise DonationError("this copy no longer exists", Refusal.NOT_FOUND)
        return self.program.vault().open(record.object_name, self.program.keyring())

    # standing rules

    def rules(self, home_id: int) -> list[RuleRecord]:
        """Return the owner's standing rules."""
        with self._session("list donation rules") as session:
            rows = session.scalars(
                select(DonationRule).where(DonationRule.home_id == home_id).order_by(DonationRule.id)
            )
            return [
                RuleRecord(r.id, r.camera, r.trigger, r.label, r.mask_people, aware(r.created_at) or datetime.now(UTC))
                for r in rows
            ]

    def add_rule(
        self, home_id: int, camera: str | None, trigger: str, label: str | None, mask_people: bool, by: Actor
    ) -> RuleRecord:
        """Create a standing rule (only the owner does; there are none by default)."""
        if trigger not in TRIGGERS:
            raise DonationError(f"a rule's trigger is one of {', '.join(TRIGGERS)}", Refusal.INVALID)
        if trigger == "label" and not label:
            raise DonationError("a label rule needs the label (such as cat)", Refusal.INVALID)
        with self._session("create a donation rule") as session:
            row = DonationRule(
                home_id=home_id,
                camera=camera,
                trigger=trigger,
                label=label if trigger == "label" else None,
                mask_people=mask_people,
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            rule = RuleRecord(row.id, row.camera, row.trigger, row.label, row.mask_people, row.created_at)
        self.audit.record(
            by, "rule_created", f"rule:{rule.id}", home_id=home_id, detail=f"{trigger} {camera or 'any camera'}"
        )
        return rule

    def delete_rule(self, home_id: int, rule_id: int, by: Actor) -> bool:
        """Delete a standing rule; donations it made stay until withdrawn."""
        with self._session("delete a donation rule") as session:
            deleted = session.scalar(
                delete(DonationRule)
                .where(DonationRule.id == rule_id, DonationRule.home_id == home_id)
                .returning(DonationRule.id)
            )
        if deleted is not None:
            self.audit.record(by, "rule_deleted", f"rule:{rule_id}", home_id=home_id)
        return deleted is not None

    def apply_rules(self, home_id: int, event: EventRecord, trigger: str) -> list[DonationRecord]:
        """Start a donation for every standing rule the event matches (once per event)."""
        started = []
        for rule in self.rules(home_id):
            if rule.trigger != trigger or (rule.camera and rule.camera != event.camera):
                continue
            if trigger == "label" and rule.label != event.label:
                continue
            try:
                started.append(self.start(home_id, event, rule.mask_people, HUB, rule_id=rule.id, confirm=True))
            except DonationError as exc:
                log.info("rule %d did not donate event %s: %s", rule.id, event.id, exc)
            break  # one donation per event, whichever rule matched first
        return started

    # notices

    def notices(self, home_id: int) -> list[NoticeRecord]:
        """Return what the owner was told, newest first."""
        with self._session("list notices") as session:
            rows = session.scalars(
                select(PrivacyNotice).where(PrivacyNotice.home_id == home_id).order_by(PrivacyNotice.id.desc())
            )
            return [NoticeRecord(aware(r.at) or datetime.now(UTC), r.kind, r.text, r.donation_id) for r in rows]

    def _notify(self, home_id: int, kind: str, text: str, donation_id: str | None) -> None:
        with self._session("tell the owner") as session:
            session.add(
                PrivacyNotice(home_id=home_id, at=datetime.now(UTC), kind=kind, text=text, donation_id=donation_id)
            )

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Wait until the background preparation queue is empty (for tests and shutdown)."""
        self._worker.submit(lambda: None).result(timeout=timeout)

    def close(self) -> None:
        """Stop the background worker after the current preparation."""
        self._worker.shutdown(wait=True, cancel_futures=True)

    # inside

    def _own(self, session: Session, home_id: int, donation_id: str) -> Donation:
        row = session.get(Donation, donation_id) if len(donation_id) <= 64 else None
        if row is None or row.home_id != home_id:
            raise DonationError("no such donation", Refusal.NOT_FOUND)
        return row

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)
