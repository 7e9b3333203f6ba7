"""The off-site worker: one thread that drains the outbox into the paired cloud, and what feeds the outbox.

New events are queued as they are saved (their clips and snapshot, then their record); deletions as they happen;
a catch-up pass at start and every ``reconcile_seconds`` queues whatever never entered the outbox (footage recorded
before pairing, an event saved by a hub killed a moment later, a changed key file). Deletions are queued only when
the owner's deletion says so, never inferred from missing files: a dead disk must not empty the off-site copy.

The cloud being away never blocks a camera: saving an event only adds rows to the outbox file. The worker tries the
most urgent item first, backs off with jitter (one item on a 5xx, everything while the cloud is unreachable) and
keeps to the bandwidth cap. A killed hub resumes from the outbox at its next start; a multipart upload asks the cloud
which parts arrived.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from homewarden.config.model import OffsiteConfig
from homewarden.events.record import EventRecord
from homewarden.notify.bus import Message, OffsiteStatus, OffsiteStuck
from homewarden.offsite.client import (
    BandwidthLimit,
    CloudBusyError,
    CloudClient,
    CloudError,
    CloudRefusedError,
    CloudUnreachableError,
    ConflictError,
    HomeUsage,
    NotPairedError,
    StoppedError,
    sha256_hex,
)
from homewarden.offsite.identity import OffsiteFolder, Pairing, PairingError
from homewarden.offsite.outbox import (
    PRIORITY_ALARM,
    PRIORITY_KEY_FILE,
    PRIORITY_OTHER,
    Outbox,
    OutboxItem,
    Upload,
)
from homewarden.offsite.pairing import hub_name, pair_hub, unpair_hub
from homewarden.offsite.review import RECEIPTS_SECONDS, ReviewProgramLink
from homewarden.offsite.sealing import (
    KEY_FILE_OBJECT_ID,
    event_record_id,
    record_document,
    seal_record,
    vault_object_body,
    vault_object_id,
)
from homewarden.store.crypto import SEALED_DATA_KEY_SIZE, SealedObjectError, sealed_data_key_id
from homewarden.store.database import EventStore
from homewarden.store.deletion import ALL_EVENTS, event_object_names
from homewarden.store.errors import StoreError
from homewarden.store.keys import HomeKeyError
from homewarden.store.sealed_media import HubStorage
from homewarden.store.vault import DATA_KEY_SUFFIX, ObjectNotFoundError

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 1.0
STATUS_SECONDS = 30.0
IDLE_SECONDS = 5.0
STOP_TIMEOUT = 10.0


class NothingToSendError(Exception):
    """What an item was to send is gone (shredded, deleted) before it went: the item is dropped."""


@dataclass(frozen=True)
class OffsiteReport:
    """The off-site state the storage page, the API and MQTT show."""

    paired: bool
    cloud_url: str | None
    hub_id: str | None
    home_id: str | None
    waiting: int
    failed: int
    sent: int
    lag_seconds: float
    oldest_waiting_at: float | None
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    stuck: bool
    usage: HomeUsage | None
    review_problem: str | None = None


def backoff(attempts: int, longest: float, rng: Callable[[], float] = random.random) -> float:
    """Return the wait after ``attempts`` failures: 1 s doubling up to ``longest``, spread by ±50 % jitter."""
    base = min(longest, RETRY_FIRST_SECONDS * 2.0 ** min(attempts, 30))
    return base * (0.5 + rng())


class OffsiteSync:
    """Feed the outbox from the hub and drain it into the paired cloud on one worker thread."""

    def __init__(
        self,
        folder: OffsiteFolder,
        storage: HubStorage,
        events: EventStore,
        config: OffsiteConfig,
        home_id: int,
        publish: Callable[[Message], None] | None = None,
        clock: Callable[[], float] = time.time,
        review: ReviewProgramLink | None = None,
    ) -> None:
        """Send what ``storage`` and ``events`` hold; tell the hub's bus through ``publish``."""
        self.folder = folder
        self.storage = storage
        self.events = events
        self.config = config
        self.home_id = home_id
        self._publish = publish
        self._clock = clock
        self.outbox = Outbox(folder.outbox_path)
        self._bandwidth = BandwidthLimit(config.bandwidth_limit)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: CloudClient | None = None
        self._client_stamp: float | None = None
        self._unreachable = 0
        self._reconcile_now = True
        self._next_status = 0.0
        self._stuck_told = False
        self._last_logged_error: str | None = None
        # The review program's donations, withdrawals and receipts (None in hubs built without it, in tests).
        self.review = review
        if review is not None:
            review.wake = self.wake

    # Pairing

    @property
    def pairing(self) -> Pairing | None:
        """Return the current pairing (None when unpaired or unreadable)."""
        try:
            return self.folder.pairing()
        except PairingError as exc:
            log.error("%s", exc)
            return None

    def pair(self, cloud_url: str, code: str) -> Pairing:
        """Pair with a cloud (replacing an earlier pairing) and start sending everything to it."""
        chain = None if self.review is None else self.review.chain
        pairing = pair_hub(self.folder, cloud_url, code, hub_name(self.config), self._clock, chain)
        self._reconcile_now = True
        self.wake()
        return pairing

    def unpair(self, *, force: bool = False) -> str | None:
        """Unpair (waiting withdrawals first; the cloud is told when it can be); return why it was not told."""
        review = self.review
        result = unpair_hub(
            self.folder,
            force=force,
            ledger=None if review is None else review.donations,
            deliver=None if review is None else review.attempt,
        )
        self.wake()
        return result

    # Feeding

    def event_saved(self, record: EventRecord) -> None:
        """Queue a saved event's objects and record (right away, so an alarm clip leaves within seconds)."""
        if self.folder.pairing_stamp() is None:
            return  # not paired: the catch-up after pairing sends it
        try:
            self.outbox.enqueue(self._uploads_for(record, self.folder.object_id_key()))
        except Exception:
            # The catch-up pass queues it later; a camera's save must not fail for the off-site copy.
            log.exception("event %s not queued for the cloud now (the catch-up will)", record.id)
            return
        self.wake()

    def event_deleted(self, event_id: str) -> None:
        """Queue the deletion in the cloud of everything of an event (sent or on its way)."""
        if self.outbox.enqueue_event_deletion(event_id):
            self.wake()

    def _uploads_for(self, record: EventRecord, id_key: bytes | None) -> list[Upload]:
        assert id_key is not None
        priority = PRIORITY_ALARM if record.alarm else PRIORITY_OTHER
        media = self.storage.media
        uploads = [
            Upload("object", vault_object_id(id_key, name), name, record.id, priority)
            for name in event_object_names(media, record)
            if media.vault.exists(name)
        ]
        uploads.append(Upload("record", event_record_id(id_key, record.id), record.id, record.id, priority))
        return uploads

    def reconcile(self) -> int:
        """Queue everything the hub keeps that is neither in the cloud nor on its way; return how much was queued."""
        id_key = self.folder.object_id_key()
        queued = 0
        key_file = self.storage.key_file
        if key_file.exists():
            sha = sha256_hex(key_file.path.read_bytes())
            sent = self.outbox.sent(KEY_FILE_OBJECT_ID)
            if sent is None or sent.sha256 != sha:
                upload = Upload("key_file", KEY_FILE_OBJECT_ID, "", None, PRIORITY_KEY_FILE)
                if sent is None:
                    queued += self.outbox.enqueue([upload])
                else:
                    self.outbox.enqueue_replacement(upload)  # a new passphrase or a rotation changed the file
                    queued += 1
        uploads: list[Upload] = []
        for record in self.events.list_events(limit=ALL_EVENTS):
            uploads += self._uploads_for(record, id_key)
        queued += self.outbox.enqueue(uploads)
        queued += self._requeue_resealed()
        if queued:
            log.info("off-site catch-up: %d item(s) queued", queued)
        return queued

    def _requeue_resealed(self) -> int:
        """After a key rotation, queue again what the cloud holds sealed to a retired home key."""
        if not self.storage.key_file.exists():
            return 0
        current = self.storage.key_file.public_key().key_id
        queued = 0
        for entry in self.outbox.sent_objects():
            if entry.kind not in ("object", "record") or entry.key_id in (None, current):
                continue
            if entry.kind == "object":
                try:
                    local = sealed_data_key_id(self.storage.vault.data_keys.get(entry.subject + DATA_KEY_SUFFIX))
                except (LookupError, SealedObjectError):
                    continue
                if local != current:
                    continue  # the rotation has not reached this object yet
            self.outbox.enqueue_replacement(
                Upload(entry.kind, entry.cloud_id, entry.subject, entry.event_id, PRIORITY_OTHER)  # type: ignore[arg-type]
            )
            queued += 1
        return queued

    # The worker

    def start(self) -> None:
        """Start the worker thread (it idles while the hub is not paired)."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="offsite", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the worker; an upload in flight is abandoned and resumes at the next start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def wake(self) -> None:
        """Look at the outbox now."""
        self._wake.set()

    def _run(self) -> None:
        next_reconcile = 0.0
        next_pull = 0.0
        while not self._stopping.is_set():
            try:
                client = self._current_client()
                now = self._clock()
                if client is not None and (self._reconcile_now or now >= next_reconcile):
                    self._reconcile_now = False
                    next_reconcile = now + self.config.reconcile_seconds
                    self._catch_up(client)
                review = self.review
                if client is not None and review is not None and (review.pull_now.is_set() or now >= next_pull):
                    next_pull = now + RECEIPTS_SECONDS
                    self._pull_receipts(client)
                item = self.outbox.next_due(now) if client is not None else None
                if client is not None and item is not None:
                    self._attempt(client, item)
                    self._report_if_due()
                    continue
                self._report_if_due()
                due = self.outbox.next_attempt_at() if client is not None else None
                # Unpaired, only the pairing file is watched; paired, the next retry, catch-up or status is awaited.
                deadlines = [now + IDLE_SECONDS]
                if client is not None:
                    deadlines += [next_reconcile, self._next_status] + ([due] if due is not None else [])
                    deadlines += [next_pull] if self.review is not None else []
                wake_at = min(deadlines)
                self._wake.wait(max(0.05, wake_at - now))
                self._wake.clear()
            except Exception:
                # The worker must outlive anything (a damaged row, a full disk): it logs and tries again later.
                log.exception("off-site worker failed; trying again")
                self._stopping.wait(IDLE_SECONDS)
        self.outbox.close()

    def _current_client(self) -> CloudClient | None:
        """Return a client for the current pairing, noticing pairings made or removed by another process."""
        stamp = self.folder.pairing_stamp()
        if stamp != self._client_stamp:
            if self._client is not None:
                self._client.close()
                self._client = None
            self._client_stamp = stamp
            pairing = self.pairing if stamp is not None else None
            if pairing is not None:
                try:
                    self._client = CloudClient(
                        pairing, self.folder.device_key(), bandwidth=self._bandwidth, stopping=self._stopping
                    )
                    self._reconcile_now = True
                    self._unreachable = 0
                except PairingError as exc:
                    log.error("off-site copies stopped: %s", exc)
        return self._client

    def _catch_up(self, client: CloudClient) -> None:
        try:
            self.reconcile()
        except (StoreError, HomeKeyError, OSError, PairingError) as exc:
            log.warning("off-site catch-up postponed: %s", exc)
        try:
            usage = client.home()
            self.outbox.set_state("home_usage", json.dumps(asdict(usage)))
        except CloudError as exc:
            log.debug("cloud usage not read: %s", exc)

    def _pull_receipts(self, client: CloudClient) -> None:
        assert self.review is not None
        try:
            taken = self.review.pull(client)
            if taken:
                log.info("review program: %d receipt(s) from the cloud", taken)
        except CloudError as exc:
            log.debug("review receipts not pulled: %s", exc)

    def _attempt(self, client: CloudClient, item: OutboxItem) -> None:
        now = self._clock()
        longest = self.config.retry_max_seconds
        try:
            if item.kind in ("donation", "withdraw"):
                if self.review is None:
                    raise NothingToSendError(f"{item.kind} {item.subject}: this hub runs no review program")
                self.review.attempt(client, item)
            elif item.kind == "delete":
                client.delete_object(item.cloud_id)
                self.outbox.deleted(item, self._clock())
            else:
                self._upload(client, item)
        except StoppedError:
            return
        except NothingToSendError as exc:
            log.debug("off-site: %s", exc)
            self.outbox.drop(item)
            return
        except NotPairedError as exc:
            self._failed_once(f"the cloud refused this hub: {exc}; pair again")
            self.outbox.retry_later(item, str(exc), now + longest)
            self.outbox.postpone_all(now + longest)
            return
        except CloudUnreachableError as exc:
            self._unreachable += 1
            wait = backoff(self._unreachable - 1, longest)
            self._failed_once(str(exc))
            self.outbox.retry_later(item, str(exc), now + wait)
            self.outbox.postpone_all(now + wait)
            return
        except CloudBusyError as exc:
            wait = exc.retry_after if exc.retry_after is not None else backoff(item.attempts, longest)
            self._failed_once(str(exc))
            self.outbox.retry_later(item, str(exc), now + wait)
            if exc.status == 429:
                self.outbox.postpone_all(now + wait)
            return
        except CloudRefusedError as exc:
            log.error("off-site: %s %s refused for good: %s", item.kind, item.cloud_id, exc)
            self.outbox.fail(item, str(exc))
            if self.review is not None:
                self.review.refused_for_good(item, str(exc))
            return
        except (StoreError, HomeKeyError, SealedObjectError, OSError) as exc:
            # A local problem (the database restarting, the key file being replaced): try again later.
            self._failed_once(f"{item.kind} {item.cloud_id} not read: {exc}")
            self.outbox.retry_later(item, str(exc), now + backoff(item.attempts, longest))
            return
        except Exception as exc:
            # Anything else (a malformed answer, say) is retried like a 5xx, with its traceback logged once.
            if str(exc) != self._last_logged_error:
                log.exception("off-site: %s %s failed", item.kind, item.cloud_id)
                self._last_logged_error = str(exc)
            self.outbox.retry_later(item, f"{type(exc).__name__}: {exc}", now + backoff(item.attempts, longest))
            return
        self._unreachable = 0
        self._last_logged_error = None

    def _failed_once(self, message: str) -> None:
        if message != self._last_logged_error:
            log.warning("off-site: %s (retrying)", message)
            self._last_logged_error = message

    def _body(self, item: OutboxItem) -> tuple[bytes, str | None]:
        """Return the bytes an upload sends and the home key id they are sealed to."""
        if item.kind == "key_file":
            try:
                return self.storage.key_file.path.read_bytes(), None
            except FileNotFoundError:
                raise NothingToSendError("the home key file is gone") from None
        if item.kind == "object":
            try:
                body = vault_object_body(self.storage.vault, item.subject)
            except ObjectNotFoundError as exc:
                raise NothingToSendError(str(exc)) from None
            return body, sealed_data_key_id(body[:SEALED_DATA_KEY_SIZE])
        if item.body is not None:
            return item.body, sealed_data_key_id(item.body[:SEALED_DATA_KEY_SIZE])
        record = self.events.get_event(item.subject)
        if record is None:
            raise NothingToSendError(f"event {item.subject} was deleted before its record went")
        id_key = self.folder.object_id_key()
        assert id_key is not None
        public_key = self.storage.key_file.public_key()
        body = seal_record(record_document(record, self.storage.media, id_key), item.cloud_id, public_key)
        self.outbox.remember_body(item, body, sha256_hex(body))
        return body, public_key.key_id

    def _upload(self, client: CloudClient, item: OutboxItem) -> None:
        body, key_id = self._body(item)
        sha = sha256_hex(body)
        pinned = item.kind == "key_file"
        if len(body) > self.config.multipart_threshold and not pinned:
            self._upload_in_parts(client, item, body, sha)
        else:
            try:
                client.put_object(item.cloud_id, body, pinned=pinned)
            except ConflictError:
                # The cloud holds an older body under this id (a new key file, a re-sealed data key): replace it.
                client.delete_object(item.cloud_id)
                client.put_object(item.cloud_id, body, pinned=pinned)
        self.outbox.uploaded(item, sha, len(body), key_id, self._clock())

    def _upload_in_parts(self, client: CloudClient, item: OutboxItem, body: bytes, sha: str) -> None:
        upload_id, part_size = self._resumable_upload(item, sha)
        arrived: dict[int, int] = {}
        if upload_id is not None and part_size is not None:
            try:
                arrived = client.uploaded_parts(item.cloud_id, upload_id)
                log.info("off-site: resuming %s: %d part(s) arrived before", item.cloud_id, len(arrived))
            except CloudRefusedError:
                upload_id = None  # aborted by the cloud (a day old), or never made: start again
        if upload_id is None or part_size is None:
            try:
                upload_id, part_size = client.start_upload(item.cloud_id, len(body), sha)
            except ConflictError:
                client.delete_object(item.cloud_id)
                upload_id, part_size = client.start_upload(item.cloud_id, len(body), sha)
            self.outbox.remember_upload(item, upload_id, part_size, sha)
        for number in range(1, math.ceil(len(body) / part_size) + 1):
            part = body[(number - 1) * part_size : number * part_size]
            if arrived.get(number) == len(part):
                continue
            client.put_part(item.cloud_id, upload_id, number, part)
        client.complete_upload(item.cloud_id, upload_id)

    @staticmethod
    def _resumable_upload(item: OutboxItem, sha: str) -> tuple[str | None, int | None]:
        if not item.upload_id or not item.part_size or item.body_sha256 != sha:
            return None, None  # none begun, or begun for other bytes (a re-sealed key)
        return item.upload_id, item.part_size

    # Status

    def report(self) -> OffsiteReport:
        """Return the off-site state now."""
        now = self._clock()
        pairing = self.pairing
        counts = self.outbox.counts()
        last_success = _float(self.outbox.state("last_success_at"))
        lag = max(0.0, now - counts.oldest_waiting_at) if counts.oldest_waiting_at is not None else 0.0
        quiet_since = (
            max(x for x in (counts.oldest_waiting_at, last_success) if x is not None) if counts.waiting else None
        )
        stuck = pairing is not None and quiet_since is not None and now - quiet_since >= self.config.stuck_after
        usage_text = self.outbox.state("home_usage")
        usage = HomeUsage(**json.loads(usage_text)) if usage_text else None
        return OffsiteReport(
            paired=pairing is not None,
            cloud_url=pairing.cloud_url if pairing else None,
            hub_id=pairing.hub_id if pairing else None,
            home_id=pairing.home_id if pairing else None,
            waiting=counts.waiting,
            failed=counts.failed,
            sent=counts.sent,
            lag_seconds=round(lag, 1),
            oldest_waiting_at=counts.oldest_waiting_at,
            last_success_at=last_success,
            last_error=self.outbox.state("last_error"),
            last_error_at=_float(self.outbox.state("last_error_at")),
            stuck=stuck,
            usage=usage if pairing is not None else None,
            review_problem=self.review.problem() if self.review is not None and pairing is not None else None,
        )

    def _report_if_due(self) -> None:
        now = self._clock()
        if now < self._next_status:
            return
        self._next_status = now + STATUS_SECONDS
        if self._publish is None:
            return
        report = self.report()
        if not report.paired:
            return
        self._publish(
            OffsiteStatus(
                self.home_id,
                report.waiting,
                report.lag_seconds,
                report.last_success_at,
                report.stuck,
                report.last_error,
                now,
            )
        )
        if report.stuck != self._stuck_told:
            self._stuck_told = report.stuck
            problem = None
            if report.stuck:
                minutes = round(report.lag_seconds / 60)
                problem = f"{report.waiting} upload(s) waiting for {minutes} min: {report.last_error or 'no answer'}"
                log.warning("off-site copies stuck: %s", problem)
            self._publish(OffsiteStuck(self.home_id, problem, report.waiting, report.oldest_waiting_at, now))


def _float(text: str | None) -> float | None:
    return None if text is None else float(text)
