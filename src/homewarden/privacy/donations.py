"""Donations: the owner's consent, the redacted and screened copy, withdrawal, expiry, standing rules, notices.

The review program runs in Homewarden Cloud; the consent, the redaction and the screening stay on the hub. A
donation moves through: ``preparing`` (the original is decrypted with the home key held in memory, redacted and
screened, in the background) → ``ready`` (the copy is kept sealed to the home key, and the owner watches it: exactly
what a reviewer would see) → ``donated`` (the copy is sealed to the program's key, handed to the courier that takes
it to the cloud, and shredded on the hub). Screening that finds something ends it as ``refused`` and the copy is
never stored. The owner can withdraw at any point (``withdrawn``: the courier asks the cloud to delete the copy and
its labels, and the withdrawal counts as confirmed once the cloud acknowledged it); the cloud's receipts end it as
``flagged`` (a reviewer found it inappropriate), ``refused`` (the cloud's own screening) or ``expired``. The hub
keeps no readable donated copy: only the consent record, the metadata and the state.
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
from typing import Protocol

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from homewarden.errors import Refusal, RefusedError
from homewarden.events.record import EventRecord
from homewarden.i18n import N_, _, translate_stored
from homewarden.privacy.audit import HUB, Actor, AuditLog
from homewarden.store.crypto import Keyring, SealedObjectReader
from homewarden.store.review_models import Donation, DonationRule, PrivacyNotice
from homewarden.store.sealed_media import HubStorage
from homewarden.store.transactions import transaction
from homewarden.store.utc import as_utc

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
ACTIVE = ("preparing", "ready", "donated")
TRIGGERS = ("false_alarm", "label")
# The cloud takes a donated copy of at most this many bytes, sealed (docs/cloud-protocol.md).
MAX_SEALED_COPY_BYTES = 16 * 1024 * 1024
TOO_LARGE = "the copy is larger than the review program takes (16 MiB): donate a shorter clip"
# A withdrawal the hub stopped waiting for: it was unpaired (forced) before the cloud acknowledged it.
WITHDRAWAL_UNCONFIRMED = "unconfirmed"
# What the owner is told on the privacy page: stored in English, translated when read (translate_stored).
NOTICE_NOT_DONATED = N_("A clip was not donated: {reason}. Nobody saw it.")
NOTICE_FLAGGED = N_("A reviewer flagged a donated clip as inappropriate; Homewarden Cloud deleted it at once.")
NOTICE_CLOUD_SCREENING = N_("Homewarden Cloud's own screening refused a donated clip and deleted it. Nobody saw it.")
NOTICE_UNDELIVERABLE = N_("A donated clip could not reach Homewarden Cloud: {reason}.")
NOTICE_EXPIRED = N_("A donated clip reached the end of its retention and was deleted.")
NOTICES = (NOTICE_NOT_DONATED, NOTICE_FLAGGED, NOTICE_CLOUD_SCREENING, NOTICE_UNDELIVERABLE, NOTICE_EXPIRED)
NOT_PAIRED = N_("the review program runs in Homewarden Cloud: pair this hub first")
# Why a donation ended, stored in English on its row and translated where it is shown (api/privacy.py).
REASON_LOCKED = N_("recordings were locked before the copy was made; try again")
REASON_NOT_MADE = N_("the copy could not be made: {problem}")
REASON_WITHDRAWN_BY_OWNER = N_("withdrawn by the owner")
REASON_RETENTION = N_("its retention ended")
REASON_FLAGGED = N_("flagged as inappropriate by {actor}")
REASON_CLOUD_REFUSED = N_("the cloud's screening refused it")
REASON_WITHDRAWN = N_("withdrawn")
REASONS = (
    REASON_LOCKED,
    REASON_NOT_MADE,
    REASON_WITHDRAWN_BY_OWNER,
    REASON_RETENTION,
    REASON_FLAGGED,
    REASON_CLOUD_REFUSED,
    REASON_WITHDRAWN,
    NOT_PAIRED,
)


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
    cloud_state: str | None = None
    sent_at: datetime | None = None
    withdrawal_confirmed_at: datetime | None = None


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
    """What withdrawing a donation did: shred a copy still on the hub, ask the cloud to delete the one it has."""

    copy_shredded: bool
    sent_to_cloud: bool


class DonationCourier(Protocol):
    """What takes donated copies to the review program in the cloud and brings withdrawals there (offsite/)."""

    def unavailable(self) -> str | None:
        """Return why donations cannot go now (not paired, no valid program key), or None."""

    def sealed_size(self, plaintext_size: int) -> int:
        """Return how many bytes a copy of ``plaintext_size`` bytes takes once sealed."""

    def send(self, donation: DonationRecord, copy: bytes) -> None:
        """Seal the copy to the program's key and queue it for the cloud (durably, before returning)."""

    def withdraw(self, donation_id: str) -> None:
        """Queue the cloud's deletion of a donation, ahead of other work."""


@dataclass(frozen=True)
class PreparedCopy:
    """A redacted copy that passed screening."""

    mp4: bytes
    duration: float
    width: int
    height: int


# Redaction and screening, given the original clip's bytes and whether to mask people: the copy, or a refusal.
Preparer = Callable[[bytes, bool], "PreparedCopy | str"]


class StoredWithdrawals:
    """How withdrawals stand with the cloud, in the donations' table (for unpairing from a command too)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        """Work on the hub's database."""
        self._sessions = sessions

    @classmethod
    def of(cls, engine: Engine) -> StoredWithdrawals:
        """Work on ``engine``'s database."""
        return cls(sessionmaker(engine, expire_on_commit=False))

    def withdrawal_confirmed(self, donation_id: str, at: datetime) -> None:
        """Record that the cloud acknowledged a withdrawal (its copy and labels are deleted)."""
        with transaction(self._sessions, "confirm a withdrawal") as session:
            row = session.get(Donation, donation_id)
            if row is not None:
                row.cloud_state = "withdrawn"
                if row.withdrawal_confirmed_at is None:
                    row.withdrawal_confirmed_at = at

    def withdrawal_unconfirmed(self, donation_id: str) -> None:
        """Record that the hub was unpaired before the cloud acknowledged a withdrawal (the privacy page says so)."""
        with transaction(self._sessions, "record an unconfirmed withdrawal") as session:
            row = session.get(Donation, donation_id)
            if row is not None and row.withdrawal_confirmed_at is None:
                row.cloud_state = WITHDRAWAL_UNCONFIRMED


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
        row.cloud_state,
        aware(row.sent_at),
        aware(row.withdrawal_confirmed_at),
    )


class Donations:
    """Create, prepare, confirm, withdraw and expire donations; keep the owner's rules and notices."""

    def __init__(
        self,
        engine: Engine,
        hub_storage: HubStorage,
        courier: DonationCourier | None,
        audit: AuditLog,
        preparer: Preparer,
        home_keyring: Callable[[], Keyring | None],
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        """Work on the hub's database and its footage (read with the home key while held); send through ``courier``."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.hub_storage = hub_storage
        self.courier = courier
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
            raise DonationError(_("this event has no clip to donate"), Refusal.NOT_FOUND)
        name = self.hub_storage.media.object_name(Path(event.clips[0].path))
        if name is None or not self.hub_storage.vault.exists(name):
            raise DonationError(_("this event's clip is no longer stored"), Refusal.NOT_FOUND)
        self._check_courier()
        if self.home_keyring() is None:
            raise DonationError(_("recordings are locked: unlock them on your account page first"), Refusal.LOCKED)
        with self._session("start a donation") as session:
            active = session.scalars(
                select(Donation.id).where(Donation.event_id == event.id, Donation.status.in_(ACTIVE))
            ).first()
            if active is not None:
                raise DonationError(_("this event is already being donated"), Refusal.CONFLICT)
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
                self._end(donation_id, "failed", REASON_LOCKED)
                return
            result = self.preparer(self.hub_storage.vault.read(original, keyring), mask_people)
            if isinstance(result, str):
                self._refuse(donation_id, result)
                return
            if self.courier is not None and self.courier.sealed_size(len(result.mp4)) > MAX_SEALED_COPY_BYTES:
                self._refuse(donation_id, TOO_LARGE)
                return
            object_name = f"donations/{donation_id}.mp4"
            with self._session("store a donated copy") as session:
                row = session.get(Donation, donation_id)
                if row is None or row.status != "preparing":
                    return  # withdrawn while it was being prepared
                # Sealed to the home key: only the owner can watch it before confirming.
                self.hub_storage.vault.put(object_name, result.mp4)
                row.object_name = object_name
                row.duration, row.width, row.height = result.duration, result.width, result.height
                row.status = "ready"
                home_id = row.home_id
            self.audit.record(
                HUB, "donation_prepared", f"donation:{donation_id}", home_id=home_id, detail="redacted and screened"
            )
            if confirm:
                self._hand_over(donation_id, result.mp4)
        except Exception as exc:  # the owner sees the failure on the privacy page; the hub goes on
            log.exception("donation %s failed", donation_id)
            self._end(donation_id, "failed", REASON_NOT_MADE.format(problem=exc))

    def _refuse(self, donation_id: str, reason: str) -> None:
        home_id = self._end(donation_id, "refused", reason)
        if home_id is not None:
            self._notify(home_id, "screening", NOTICE_NOT_DONATED.format(reason=reason), donation_id)
            self.audit.record(
                HUB, "donation_refused", f"donation:{donation_id}", home_id=home_id, outcome="refused", detail=reason
            )

    def confirm(self, home_id: int, donation_id: str, by: Actor) -> DonationRecord:
        """Donate a prepared copy: it leaves sealed to the program's key, and the hub's copy is shredded."""
        self._check_courier()
        with self._session("confirm a donation") as session:
            row = self._own(session, home_id, donation_id)
            if row.status != "ready" or row.object_name is None:
                raise DonationError(
                    _("only a prepared copy can be donated (this one is {status})").format(status=row.status),
                    Refusal.CONFLICT,
                )
            object_name = row.object_name
        keyring = self.home_keyring()
        if keyring is None:
            raise DonationError(_("recordings are locked: the owner unlocks them by signing in"), Refusal.LOCKED)
        record = self._hand_over(donation_id, self.hub_storage.vault.read(object_name, keyring))
        if record is None:
            raise DonationError(_("this donation was withdrawn meanwhile"), Refusal.CONFLICT)
        self.audit.record(by, "donated", f"donation:{donation_id}", home_id=home_id, detail=f"event {record.event_id}")
        return record

    def _hand_over(self, donation_id: str, copy: bytes) -> DonationRecord | None:
        """Mark a ready copy donated, give it to the courier, and shred the hub's copy (None if no longer ready)."""
        courier = self.courier
        if courier is None:
            self._end(donation_id, "failed", NOT_PAIRED)
            return None
        with self._lock, self._session("donate a copy") as session:
            row = session.get(Donation, donation_id)
            if row is None or row.status != "ready":
                return None
            row.status = "donated"
            row.donated_at = datetime.now(UTC)
            row.expires_at = row.donated_at + timedelta(days=row.retention_days)
            record = _record(row)
            # Queued durably before the state commits: a crash in between leaves a ready copy, not a lost one.
            courier.send(record, copy)
            if row.object_name:
                self.hub_storage.vault.shred(row.object_name)
            row.object_name = None
            return _record(row)

    def withdraw(self, home_id: int, donation_id: str, by: Actor) -> Withdrawal:
        """Withdraw consent: shred a copy still on the hub, and have the cloud delete the copy and its labels."""
        with self._session("find a donation") as session:
            self._own(session, home_id, donation_id)
        withdrawal = self._destroy(donation_id, "withdrawn", REASON_WITHDRAWN_BY_OWNER)
        self.audit.record(
            by,
            "donation_withdrawn",
            f"donation:{donation_id}",
            home_id=home_id,
            detail="the cloud was asked to delete the copy and its labels"
            if withdrawal.sent_to_cloud
            else ("the copy was destroyed" if withdrawal.copy_shredded else "no copy was stored"),
        )
        return withdrawal

    def cloud_changed(self, donation_id: str, action: str, actor: str, at: datetime) -> None:
        """Follow what the cloud's receipt says happened to a donation: its state, its end, the owner's notice."""
        ends = {"flag": "flagged", "refused": "refused", "expired": "expired", "withdrawn": "withdrawn"}
        states = {"received": "screening", "screened": "screening", "queued": "queued", **ends}
        with self._session("follow a donation in the cloud") as session:
            row = session.get(Donation, donation_id)
            if row is None:
                return
            home_id, was = row.home_id, row.status
            if action in states:
                row.cloud_state = states[action]
            if action in ("withdrawn", "expired", "deleted", "flag", "refused") and row.withdrawal_confirmed_at is None:
                # The cloud holds neither the copy nor its labels any more.
                row.withdrawal_confirmed_at = at
            if action in ends and row.status in ACTIVE:
                row.status = ends[action]
                row.reason = {
                    "flagged": REASON_FLAGGED.format(actor=actor),
                    "refused": REASON_CLOUD_REFUSED,
                    "expired": REASON_RETENTION,
                    "withdrawn": REASON_WITHDRAWN,
                }[ends[action]]
        if action == "flag" and was in ACTIVE:
            self._notify(
                home_id,
                "flagged",
                NOTICE_FLAGGED,
                donation_id,
            )
        elif action == "refused" and was in ACTIVE:
            self._notify(
                home_id,
                "screening",
                NOTICE_CLOUD_SCREENING,
                donation_id,
            )

    def withdrawal_confirmed(self, donation_id: str, at: datetime) -> None:
        """Record that the cloud acknowledged a withdrawal (its copy and labels are deleted)."""
        StoredWithdrawals(self._sessions).withdrawal_confirmed(donation_id, at)

    def withdrawal_unconfirmed(self, donation_id: str) -> None:
        """Record that the hub was unpaired before the cloud acknowledged a withdrawal."""
        StoredWithdrawals(self._sessions).withdrawal_unconfirmed(donation_id)

    def sent(self, donation_id: str, cloud_state: str, at: datetime) -> None:
        """Record that the cloud received a donated copy."""
        with self._session("record a donation sent") as session:
            row = session.get(Donation, donation_id)
            if row is not None:
                row.sent_at = at
                if row.cloud_state is None:
                    row.cloud_state = cloud_state

    def undeliverable(self, donation_id: str, reason: str) -> None:
        """End a donation the cloud refused for good, and tell the owner why."""
        home_id = self._end(donation_id, "failed", reason)
        if home_id is not None:
            self._notify(home_id, "failed", NOTICE_UNDELIVERABLE.format(reason=reason), donation_id)

    def _check_courier(self) -> None:
        why = NOT_PAIRED if self.courier is None else self.courier.unavailable()
        if why is not None:
            raise DonationError(_(why), Refusal.CONFLICT)

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
            # The cloud deletes its copy at the same moment and sends an "expired" receipt, which confirms it.
            self._destroy(donation_id, "expired", REASON_RETENTION, tell_cloud=False)
            self._notify(home_id, "expired", NOTICE_EXPIRED, donation_id)
            self.audit.record(HUB, "donation_expired", f"donation:{donation_id}", home_id=home_id)
        return len(due)

    def _destroy(self, donation_id: str, status: str, reason: str, *, tell_cloud: bool = True) -> Withdrawal:
        with self._lock, self._session("delete a donated copy") as session:
            row = session.get(Donation, donation_id)
            if row is None:
                raise DonationError(_("no such donation"), Refusal.NOT_FOUND)
            shredded = bool(row.object_name) and self.hub_storage.vault.shred(row.object_name or "")
            in_cloud = row.donated_at is not None
            if in_cloud and tell_cloud and self.courier is not None:
                self.courier.withdraw(donation_id)
            elif not in_cloud and row.withdrawal_confirmed_at is None:
                row.withdrawal_confirmed_at = datetime.now(UTC)  # nothing ever left the hub
            if row.status in ACTIVE:
                row.status, row.reason = status, reason
            row.object_name = None
            return Withdrawal(shredded, in_cloud)

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

    def open_copy(self, record: DonationRecord) -> SealedObjectReader:
        """Open the redacted copy the owner is about to donate, with the home key."""
        if record.object_name is None:
            raise DonationError(_("the donated copy is in Homewarden Cloud now; the hub keeps none"), Refusal.NOT_FOUND)
        keyring = self.home_keyring()
        if keyring is None:
            raise DonationError(_("recordings are locked: the owner unlocks them by signing in"), Refusal.LOCKED)
        return self.hub_storage.vault.open(record.object_name, keyring)

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
            raise DonationError(
                _("a rule's trigger is one of {triggers}").format(triggers=", ".join(TRIGGERS)), Refusal.INVALID
            )
        if trigger == "label" and not label:
            raise DonationError(_("a label rule needs the label (such as cat)"), Refusal.INVALID)
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
            # Stored in English; shown in the reader's language, the reason inside too when it is a catalog message.
            return [
                NoticeRecord(aware(r.at) or datetime.now(UTC), r.kind, translate_stored(r.text, NOTICES), r.donation_id)
                for r in rows
            ]

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
            raise DonationError(_("no such donation"), Refusal.NOT_FOUND)
        return row

    def session(self, action: str) -> AbstractContextManager[Session]:
        """Return a transaction on the donations' database (for moving an older hub's copies)."""
        return transaction(self._sessions, action)

    @staticmethod
    def record_of(row: Donation) -> DonationRecord:
        """Return a stored donation as the owner sees it."""
        return _record(row)

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)
