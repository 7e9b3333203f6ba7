"""Retention: how long footage is kept per kind of event, and a disk cap that the oldest footage makes room under."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from homewarden.config.model import RetentionConfig
from homewarden.events.record import EventRecord
from homewarden.i18n import _, ngettext
from homewarden.store.database import EventStore
from homewarden.store.deletion import ALL_EVENTS, delete_event, event_object_names
from homewarden.store.sealed_media import SealedMediaFolder, StorageFullError
from homewarden.store.vault import StoredObject

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400.0
GIGABYTE = 1_000_000_000
# Objects no event points to are either left by an interrupted run, or belong to an event still being
# recorded; a day is far longer than any event lasts.
UNREFERENCED_GRACE_SECONDS = DAY_SECONDS
SWEEP_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class EventFootage:
    """An event's objects in the vault, the bytes they take, and when they were recorded (Unix seconds)."""

    record: EventRecord
    object_names: tuple[str, ...]
    stored_bytes: int
    recorded_at: float

    @property
    def kind(self) -> str:
        """Return the retention kind: ``alarm`` or ``other``."""
        return "alarm" if self.record.alarm else "other"


@dataclass(frozen=True)
class PlannedDeletion:
    """Footage that will be deleted, when, and why: an event's, or an object no event points to."""

    due: float
    reason: str
    stored_bytes: int
    footage: EventFootage | None = None
    unreferenced: StoredObject | None = None


@dataclass(frozen=True)
class RetentionPlan:
    """What the next sweep deletes, and when the rest falls due."""

    now: float
    used_bytes: int
    cap_bytes: int | None
    due_now: list[PlannedDeletion]
    scheduled: list[PlannedDeletion]

    @property
    def bytes_after_sweep(self) -> int:
        """Return the bytes the footage takes once the due deletions are done."""
        return self.used_bytes - sum(deletion.stored_bytes for deletion in self.due_now)


def days_for(kind: str, policy: RetentionConfig) -> int:
    """Return how many days footage of ``kind`` is kept."""
    return policy.alarm_days if kind == "alarm" else policy.other_days


def cap_bytes(policy: RetentionConfig) -> int | None:
    """Return the disk cap in bytes, or None."""
    return None if policy.max_gb is None else round(policy.max_gb * GIGABYTE)


def take_inventory(store: EventStore, media: SealedMediaFolder) -> tuple[list[EventFootage], list[StoredObject]]:
    """Return every event's footage in the vault, and the objects no event points to."""
    objects = {stored.name: stored for stored in media.vault.list()}
    footage = []
    for record in store.list_events(limit=ALL_EVENTS):
        names = [name for name in event_object_names(media, record) if name in objects]
        if not names:
            continue  # nothing of it is in the vault: shredded already, or a plain export elsewhere
        written = max(objects[name].modified for name in names)
        footage.append(
            EventFootage(
                record=record,
                object_names=tuple(names),
                stored_bytes=sum(objects.pop(name).stored_bytes for name in names),
                # Live events carry wall-clock times; events from files only offsets, so their write time counts.
                recorded_at=record.end if record.live else written,
            )
        )
    return footage, list(objects.values())


def plan_retention(
    footage: list[EventFootage],
    unreferenced: list[StoredObject],
    policy: RetentionConfig,
    now: float,
    used_bytes: int,
) -> RetentionPlan:
    """Decide what goes now (past its days, or over the cap, oldest first) and when the rest falls due."""
    due_now: list[PlannedDeletion] = []
    kept: list[tuple[EventFootage, float]] = []
    for item in sorted(footage, key=lambda item: (item.recorded_at, item.record.id)):
        days = days_for(item.kind, policy)
        due = item.recorded_at + days * DAY_SECONDS
        if due <= now:
            due_now.append(
                PlannedDeletion(
                    due,
                    ngettext("older than {count} day", "older than {count} days", days).format(count=days),
                    item.stored_bytes,
                    footage=item,
                )
            )
        else:
            kept.append((item, due))
    for stored in unreferenced:
        if stored.modified + UNREFERENCED_GRACE_SECONDS <= now:
            due_now.append(PlannedDeletion(now, _("no event points to it"), stored.stored_bytes, unreferenced=stored))
    remaining = used_bytes - sum(deletion.stored_bytes for deletion in due_now)
    cap = cap_bytes(policy)
    scheduled = []
    for item, due in kept:
        if cap is not None and remaining > cap:
            due_now.append(PlannedDeletion(now, _("over the disk cap"), item.stored_bytes, footage=item))
            remaining -= item.stored_bytes
        else:
            days = days_for(item.kind, policy)
            after = ngettext("{count} day after recording", "{count} days after recording", days).format(count=days)
            scheduled.append(PlannedDeletion(due, after, item.stored_bytes, item))
    scheduled.sort(key=lambda deletion: deletion.due)
    return RetentionPlan(now, used_bytes, cap, due_now, scheduled)


class FootageKeeper:
    """Keep the vault within the retention policy: sweep old footage, and make room under the cap before writes."""

    def __init__(
        self,
        store: EventStore,
        media: SealedMediaFolder,
        policy: RetentionConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Apply ``policy`` to the events in ``store`` and the objects in ``media``."""
        self.store = store
        self.media = media
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._used: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def plan(self) -> RetentionPlan:
        """Return what a sweep now would delete, and when the rest falls due."""
        footage, unreferenced = take_inventory(self.store, self.media)
        return plan_retention(footage, unreferenced, self.policy, self._clock(), self.media.vault.usage())

    def sweep(self) -> RetentionPlan:
        """Delete everything the plan says is due now; return that plan."""
        with self._lock:
            plan = self.plan()
            for deletion in plan.due_now:
                self._carry_out(deletion)
            self._used = None
            return plan

    def make_room(self, needed: int) -> None:
        """Delete the oldest events until ``needed`` more bytes fit under the cap, or raise StorageFullError."""
        cap = cap_bytes(self.policy)
        if cap is None:
            return
        with self._lock:
            if self._used is None or self._used + needed > cap:
                self._used = self.media.vault.usage()  # deletions by other processes free room too
            if self._used + needed > cap:
                footage, _unreferenced = take_inventory(self.store, self.media)
                for item in sorted(footage, key=lambda item: (item.recorded_at, item.record.id)):
                    if self._used + needed <= cap:
                        break
                    self._carry_out(PlannedDeletion(self._clock(), _("over the disk cap"), item.stored_bytes, item))
                    self._used -= item.stored_bytes
            if self._used + needed > cap:
                raise StorageFullError(
                    _("no room for {needed} more bytes under the disk cap ({cap} GB)").format(
                        needed=needed, cap=self.policy.max_gb
                    )
                )
            self._used += needed

    def start(self, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        """Sweep now and then every ``interval`` seconds in a background thread, until ``stop``."""
        self._thread = threading.Thread(target=self._sweep_until_stopped, args=(interval,), name="retention")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop the background sweeps."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _sweep_until_stopped(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:
                # A failed sweep (the database away for a moment) must not end recording; the next one retries.
                log.exception("retention sweep failed")
            self._stop.wait(interval)

    def _carry_out(self, deletion: PlannedDeletion) -> None:
        if deletion.footage is not None:
            record = deletion.footage.record
            recorded = datetime.fromtimestamp(deletion.footage.recorded_at, UTC).isoformat(timespec="seconds")
            log.info(
                "retention: deleting event %s (%s, recorded %s): %s",
                record.id,
                record.camera,
                recorded,
                deletion.reason,
            )
            delete_event(self.store, self.media, record)
        elif deletion.unreferenced is not None:
            log.info("retention: shredding %s: %s", deletion.unreferenced.name, deletion.reason)
            self.media.vault.shred(deletion.unreferenced.name)
