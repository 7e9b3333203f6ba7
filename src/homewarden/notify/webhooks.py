"""Webhooks: the home's events as HMAC-signed JSON to the owner's HTTP endpoints, retried with backoff and logged.

Every delivery is a row of the delivery log before it is sent, so the log shows every attempt and a delivery due
for a retry survives a restart. The bus thread only queues a message; one worker thread turns it into deliveries
and sends them, so a slow endpoint never holds up the cameras or the other integrations.

A delivery is a POST of ``{"type": ..., "hub": ..., "at": ISO time, "data": {...}}`` with the headers
``X-Homewarden-Delivery`` (the delivery's id, the same on every retry), ``X-Homewarden-Timestamp`` (Unix seconds) and
``X-Homewarden-Signature: sha256=<hex>``, the HMAC-SHA256 of ``timestamp + "." + body`` under the webhook's secret.
A receiver checks it like this (reject old timestamps too, so a recorded request cannot be replayed)::

    import hashlib, hmac, time

    def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
        timestamp = headers["X-Homewarden-Timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        sent = headers["X-Homewarden-Signature"].removeprefix("sha256=")
        return hmac.compare_digest(expected, sent) and abs(time.time() - int(timestamp)) <= tolerance

Messages never carry media: an event names its snapshot's URL path on the hub, which needs the household's sign-in.

Where a webhook may point is `notify/destinations.py`'s to say, checked when it is made and again at every attempt.
The delivery log keeps the status of each answer (or a few words on why there was none), never the answer itself;
a URL is logged and shown with its credentials (``user:password@``, secret-looking query parameters, token-like path
segments) masked.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from homewarden import __version__
from homewarden.accounts.store import AccountStore
from homewarden.notify.bus import (
    ArmingChanged,
    CamerasChanged,
    EventEnded,
    IntrusionChanged,
    Message,
    OffsiteStatus,
    OffsiteStuck,
    StorageProblem,
)
from homewarden.notify.channel import Channel
from homewarden.notify.destinations import (
    DeliveryFailedError,
    DestinationPolicy,
    DestinationRefusedError,
    post,
    webhook_destinations,
)
from homewarden.notify.payloads import AlarmMemory, iso, outgoing
from homewarden.store.integration_models import Webhook, WebhookDelivery
from homewarden.store.transactions import transaction
from homewarden.store.utc import as_utc

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
QUEUE_SIZE = 1000
# An answer worth trying again later: the receiver is overloaded or broken for now, not refusing the message.
RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class WebhookRecord:
    """A webhook as its owner sees it (never its secret)."""

    id: int
    home_id: int
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery of the log: what was sent and how each attempt went."""

    id: str
    webhook_id: int
    kind: str
    event_id: str | None
    attempts: int
    status_code: int | None
    error: str | None
    history: tuple[dict[str, Any], ...]
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class DueDelivery:
    """A delivery to attempt now, with where and how to sign it."""

    id: str
    url: str
    secret: str
    attempts: int
    payload: dict[str, Any]


def _maybeas_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


MASK = "***"
# Query parameters whose value is a credential by its name: ?token=, ?api_key=, ?access_token=, ?sig=, ?password= ...
SECRET_PARAMETER = re.compile(r"(?i)(token|key|secret|pass|pwd|auth|sig|session|credential|code)")
# A path segment that looks generated rather than named: long, with letters and digits (Home Assistant's webhook id).
TOKEN_SEGMENT = re.compile(r"(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_\-]{16,}")


def shown_url(url: str) -> str:
    """Return a webhook URL fit to log and show: its password, secret query values and token-like segments masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in credentials else f"{MASK}@{host}"
    path = "/".join(MASK if TOKEN_SEGMENT.fullmatch(segment) else segment for segment in parts.path.split("/"))
    query = "&".join(
        f"{quote(name, safe='')}={MASK if SECRET_PARAMETER.search(name) else quote(value, safe='')}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the ``X-Homewarden-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookStore:
    """The webhooks and their delivery log in the hub's database."""

    def __init__(self, engine: Engine) -> None:
        """Use ``engine``, whose database the event store has already migrated."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def create(self, home_id: int, url: str, events: Sequence[str]) -> tuple[WebhookRecord, str]:
        """Add a webhook; return it and its secret (the only time the secret is shown)."""
        secret = secrets.token_urlsafe(32)
        with self._session("add the webhook") as session:
            row = Webhook(home_id=home_id, url=url, secret=secret, events=list(events), enabled=True)
            session.add(row)
            session.flush()
            return _webhook_record(row), secret

    def webhooks(self, home_id: int) -> list[WebhookRecord]:
        """List a home's webhooks, oldest first."""
        with self._session("list the webhooks") as session:
            rows = session.scalars(select(Webhook).where(Webhook.home_id == home_id).order_by(Webhook.id))
            return [_webhook_record(row) for row in rows]

    def webhook(self, home_id: int, webhook_id: int) -> WebhookRecord | None:
        """Return one of a home's webhooks (None for another home's)."""
        with self._session("read the webhook") as session:
            row = session.get(Webhook, webhook_id)
            return _webhook_record(row) if row is not None and row.home_id == home_id else None

    def delete(self, home_id: int, webhook_id: int) -> bool:
        """Delete one of a home's webhooks and its delivery log; return whether there was one."""
        with self._session("delete the webhook") as session:
            result = session.execute(delete(Webhook).where(Webhook.id == webhook_id, Webhook.home_id == home_id))
            return bool(getattr(result, "rowcount", 0))

    def deliveries(self, webhook_id: int, limit: int = 50) -> list[DeliveryRecord]:
        """List a webhook's latest deliveries, newest first."""
        with self._session("read the delivery log") as session:
            rows = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.created_at.desc())
                .limit(limit)
            )
            return [_delivery_record(row) for row in rows]

    def queue_for_home(
        self, home_id: int, kind: str, event_id: str | None, payload: dict[str, Any], now: datetime
    ) -> list[str]:
        """Add a delivery, due now, for every enabled webhook of the home that wants ``kind``; return their ids."""
        with self._session("queue webhook deliveries") as session:
            hooks = session.scalars(select(Webhook).where(Webhook.home_id == home_id, Webhook.enabled.is_(True)))
            wanted = [hook.id for hook in hooks if kind in hook.events]
            return [self._add(session, hook_id, kind, event_id, payload, now) for hook_id in wanted]

    def queue(self, webhook_id: int, kind: str, payload: dict[str, Any], now: datetime | None = None) -> str:
        """Add a delivery for one webhook, due now (a test message); return its id."""
        with self._session("queue a webhook delivery") as session:
            return self._add(session, webhook_id, kind, None, payload, now or datetime.now(UTC))

    def due(self, now: datetime, limit: int = 20) -> list[DueDelivery]:
        """Return the deliveries whose next attempt is due, oldest first."""
        with self._session("read the due deliveries") as session:
            rows = session.execute(
                select(WebhookDelivery, Webhook.url, Webhook.secret)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.next_attempt_at.is_not(None), WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            )
            return [DueDelivery(row.id, url, secret, row.attempts, row.payload) for row, url, secret in rows]

    def next_due_at(self) -> datetime | None:
        """Return when the earliest pending delivery is due."""
        with self._session("read the next due delivery") as session:
            moment = session.scalars(
                select(WebhookDelivery.next_attempt_at)
                .where(WebhookDelivery.next_attempt_at.is_not(None))
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(1)
            ).first()
            return _maybeas_utc(moment)

    def record_attempt(
        self,
        delivery_id: str,
        at: datetime,
        status_code: int | None,
        error: str | None,
        delivered: bool,
        next_attempt_at: datetime | None,
    ) -> None:
        """Log one attempt of a delivery and when (if ever) the next one is due."""
        with self._session("log a webhook attempt") as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None:  # its webhook was deleted while it was being sent
                return
            row.attempts += 1
            row.status_code = status_code
            row.error = error
            row.history = [*row.history, {"at": at.isoformat(), "status_code": status_code, "error": error}]
            row.delivered_at = at if delivered else None
            row.next_attempt_at = next_attempt_at

    @staticmethod
    def _add(
        session: Session, webhook_id: int, kind: str, event_id: str | None, payload: dict[str, Any], now: datetime
    ) -> str:
        delivery_id = str(uuid.uuid4())
        session.add(
            WebhookDelivery(
                id=delivery_id,
                webhook_id=webhook_id,
                kind=kind,
                event_id=event_id,
                attempts=0,
                history=[],
                created_at=now,
                next_attempt_at=now,
                payload=payload,
            )
        )
        return delivery_id

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)


def _webhook_record(row: Webhook) -> WebhookRecord:
    return WebhookRecord(row.id, row.home_id, row.url, tuple(row.events), row.enabled, as_utc(row.created_at))


def _delivery_record(row: WebhookDelivery) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        webhook_id=row.webhook_id,
        kind=row.kind,
        event_id=row.event_id,
        attempts=row.attempts,
        status_code=row.status_code,
        error=row.error,
        history=tuple(row.history),
        created_at=as_utc(row.created_at),
        delivered_at=_maybeas_utc(row.delivered_at),
        next_attempt_at=_maybeas_utc(row.next_attempt_at),
        payload=row.payload,
    )


def _home_of(message: Message, accounts: AccountStore) -> int | None:
    if isinstance(message, ArmingChanged | StorageProblem | OffsiteStatus | OffsiteStuck):
        return message.home_id
    if isinstance(message, CamerasChanged):
        return None  # nothing a webhook is told of
    if isinstance(message, IntrusionChanged):
        camera = message.intrusion.cameras[0] if message.intrusion.cameras else ""
    else:
        camera = message.record.camera if isinstance(message, EventEnded) else message.camera
    return accounts.home_of_camera(camera)


class WebhookDispatcher(Channel):
    """Deliver the bus's messages to each home's webhooks, on a worker thread of its own.

    Subscribe it to the bus (``bus.subscribe("webhooks", dispatcher)``) and ``start()`` it. The worker first sends
    what was due before a restart; stopping leaves pending retries in the delivery log for the next start.
    """

    def __init__(
        self,
        store: WebhookStore,
        accounts: AccountStore,
        *,
        hub_name: str = "homewarden",
        base_delay: float = 2.0,
        max_delay: float = 600.0,
        max_attempts: int = 8,
        timeout: float = 10.0,
        poll_interval: float = 2.0,
        destinations: DestinationPolicy | None = None,
        camera_names: Mapping[str, str] | None = None,
    ) -> None:
        """Retry after ``base_delay`` seconds, doubling up to ``max_delay``, at most ``max_attempts`` times.

        ``destinations`` says where webhooks may point (by default: the home network, not this machine);
        ``camera_names`` the cameras' display names by id, for the events' sentences.
        """
        super().__init__("webhooks", queue_size=QUEUE_SIZE)
        self.store = store
        self._accounts = accounts
        self._hub_name = hub_name
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_attempts = max_attempts
        self._timeout = timeout
        # Test messages are queued by the API in the database; the worker looks for them this often.
        self._poll_interval = poll_interval
        self._alarms = AlarmMemory()
        self._destinations = destinations or webhook_destinations()
        # Kept as given, not copied: the hub passes a view that follows renames made in the settings.
        self._camera_names: Mapping[str, str] = camera_names if camera_names is not None else {}

    def deliver(self, message: Message) -> None:
        """Add a delivery to the log for every webhook of the message's home that wants its kind."""
        home_id = _home_of(message, self._accounts)
        if home_id is None:
            return
        now = datetime.now(UTC)
        for item in outgoing(message, self._alarms, self._camera_names):
            body = {"type": item.kind, "at": iso(item.at), "data": item.data}
            self.store.queue_for_home(home_id, item.kind, item.event_id, body, now)

    def next_wait(self) -> float:
        """Sleep until the next delivery is due, and look for test messages every poll interval."""
        next_due = self.store.next_due_at()
        if next_due is None:
            return self._poll_interval
        return min(self._poll_interval, max(0.0, (next_due - datetime.now(UTC)).total_seconds()))

    def tick(self) -> None:
        """Send every delivery that is due (a first attempt or a retry)."""
        while not self.stopping.is_set():
            due = self.store.due(datetime.now(UTC))
            if not due:
                return
            for delivery in due:
                if self.stopping.is_set():
                    return
                self._attempt(delivery)

    def _attempt(self, delivery: DueDelivery) -> None:
        message = {**delivery.payload, "hub": self._hub_name}
        body = json.dumps(message, separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"homewarden/{__version__}",
            "X-Homewarden-Delivery": delivery.id,
            "X-Homewarden-Timestamp": timestamp,
            "X-Homewarden-Signature": sign(delivery.secret, timestamp, body),
        }
        status: int | None = None
        error: str | None = None
        refused = False
        try:
            # A redirect is not followed (it would resend the signed body somewhere the owner did not configure):
            # it counts as the answer.
            status = post(delivery.url, body, headers, policy=self._destinations, timeout=self._timeout).status
        except DestinationRefusedError as refusal:
            error, refused = f"refused: {refusal}", True
        except DeliveryFailedError as failure:
            error = str(failure)
        attempts = delivery.attempts + 1
        delivered = status is not None and 200 <= status < 300
        # A refused destination stays refused until the owner changes it (a name answering with this machine now
        # may answer otherwise later, but trying again only knocks on the same door).
        retry = not delivered and not refused and (status is None or status >= 500 or status in RETRY_STATUSES)
        now = datetime.now(UTC)
        next_attempt_at = None
        if retry and attempts < self._max_attempts:
            delay = min(self._max_delay, self._base_delay * 2 ** (attempts - 1))
            next_attempt_at = now + timedelta(seconds=delay)
        elif not delivered:
            error = error or f"HTTP {status}"
            if retry:
                error = f"{error}; gave up after {attempts} attempts"
            log.warning("webhook delivery %s to %s failed: %s", delivery.id, shown_url(delivery.url), error)
        self.store.record_attempt(delivery.id, now, status, error, delivered, next_attempt_at)
