"""Notifications: the owner's webhooks and their delivery log, the browsers subscribed to web push, the service
worker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, field_validator

from homewarden.api.deps import HOUSEHOLD, OWNER, Caller, RowId, Services, allow, public
from homewarden.api.schemas import Done, Incoming
from homewarden.i18n import _
from homewarden.notify.destinations import PUSH_ENDPOINTS, DestinationRefusedError, webhook_destinations
from homewarden.notify.push import PushSubscriptions, VapidKeys, browser_keys_problem
from homewarden.notify.webhooks import MAX_URL_LENGTH, DeliveryRecord, WebhookRecord, WebhookStore, shown_url

router = APIRouter(tags=["notifications"])
SERVICE_WORKER = Path(__file__).parent.parent / "web" / "static" / "sw.js"

WebhookKind = Literal[
    "event_start",
    "event_update",
    "event_end",
    "alarm",
    "intrusion",
    "doorbell",
    "arming",
    "motion",
    "camera_status",
    "camera_offline",
    "storage_problem",
    "offsite_stuck",
]
DEFAULT_WEBHOOK_KINDS: list[WebhookKind] = ["event_end", "alarm", "doorbell", "arming"]


# what comes in and what goes out


class WebhookCreate(Incoming):
    """A new webhook: where to send, and which kinds of message."""

    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    events: list[WebhookKind] = Field(default_factory=lambda: list(DEFAULT_WEBHOOK_KINDS), min_length=1, max_length=10)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
            raise ValueError(_("give an http:// or https:// URL"))
        return url

    @field_validator("events")
    @classmethod
    def _once_each(cls, events: list[WebhookKind]) -> list[WebhookKind]:
        return list(dict.fromkeys(events))


class WebhookPublic(BaseModel):
    """A webhook as its owner sees it (never its secret)."""

    id: int
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """A new webhook with its signing secret, shown this once."""

    secret: str


class AttemptPublic(BaseModel):
    """One attempt of a delivery."""

    at: datetime
    status_code: int | None
    error: str | None


class DeliveryPublic(BaseModel):
    """A delivery of the log: delivered, waiting for its next attempt, or given up."""

    id: str
    kind: str
    event_id: str | None
    state: Literal["delivered", "pending", "failed"]
    attempts: int
    status_code: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    history: list[AttemptPublic]


class DeliveryQueued(BaseModel):
    """A test message waiting to be sent."""

    id: str
    detail: str


class PushKey(BaseModel):
    """The hub's VAPID public key, as ``pushManager.subscribe`` takes it (applicationServerKey)."""

    public_key: str


class PushKeys(Incoming):
    """A browser's keys for the end-to-end encryption of its notifications (checked by the route: 400 if unusable)."""

    p256dh: str = Field(max_length=128)
    auth: str = Field(max_length=64)


class PushSubscriptionCreate(Incoming):
    """A browser's push subscription (``PushSubscription.toJSON()`` without expirationTime)."""

    endpoint: str = Field(max_length=2048)
    keys: PushKeys

    @field_validator("endpoint")
    @classmethod
    def _https(cls, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(_("a push service endpoint is an https:// URL"))
        return endpoint


class PushUnsubscribe(Incoming):
    """The browser to stop notifying."""

    endpoint: str = Field(max_length=2048)


# webhooks


def webhook_store(hub: Services) -> WebhookStore:
    """Return the webhooks of the hub's database."""
    return WebhookStore(hub.events.engine)


Webhooks = Annotated[WebhookStore, Depends(webhook_store)]


def _home_id(caller: Caller) -> int:
    assert caller.home_id is not None  # authorize admits household roles only with a home
    return caller.home_id


def own_webhook(webhook_id: RowId, caller: Caller, store: Webhooks) -> WebhookRecord:
    """Return the webhook if it is one of the caller's home; 404 otherwise (as if it did not exist)."""
    found = store.webhook(_home_id(caller), webhook_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no webhook {webhook_id}").format(webhook_id=webhook_id))
    return found


OwnWebhook = Annotated[WebhookRecord, Depends(own_webhook)]


def _webhook_public(record: WebhookRecord) -> WebhookPublic:
    return WebhookPublic(
        id=record.id,
        url=shown_url(record.url),
        events=list(record.events),
        enabled=record.enabled,
        created_at=record.created_at,
    )


def _delivery_public(record: DeliveryRecord) -> DeliveryPublic:
    state: Literal["delivered", "pending", "failed"] = (
        "delivered" if record.delivered_at else "pending" if record.next_attempt_at else "failed"
    )
    return DeliveryPublic(
        id=record.id,
        kind=record.kind,
        event_id=record.event_id,
        state=state,
        attempts=record.attempts,
        status_code=record.status_code,
        error=record.error,
        created_at=record.created_at,
        delivered_at=record.delivered_at,
        next_attempt_at=record.next_attempt_at,
        history=[AttemptPublic.model_validate(attempt) for attempt in record.history],
    )


@router.get("/api/webhooks")
@allow(*OWNER)
def list_webhooks(caller: Caller, store: Webhooks) -> list[WebhookPublic]:
    """List the home's webhooks."""
    return [_webhook_public(record) for record in store.webhooks(_home_id(caller))]


@router.post("/api/webhooks", status_code=status.HTTP_201_CREATED)
@allow(*OWNER)
def add_webhook(body: WebhookCreate, caller: Caller, store: Webhooks, hub: Services) -> WebhookCreated:
    """Add a webhook; the answer holds its signing secret, shown this once."""
    policy = webhook_destinations(allow_loopback=hub.config.notify.webhooks.allow_loopback)
    try:
        policy.check_when_made(body.url)
    except DestinationRefusedError as refused:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(refused)) from None
    record, secret = store.create(_home_id(caller), body.url, body.events)
    return WebhookCreated(**_webhook_public(record).model_dump(), secret=secret)


@router.delete("/api/webhooks/{webhook_id}")
@allow(*OWNER)
def remove_webhook(webhook: OwnWebhook, store: Webhooks) -> Done:
    """Delete a webhook and its delivery log."""
    store.delete(webhook.home_id, webhook.id)
    return Done(detail=_("webhook deleted"))


@router.get("/api/webhooks/{webhook_id}/deliveries")
@allow(*OWNER)
def webhook_deliveries(webhook: OwnWebhook, store: Webhooks) -> list[DeliveryPublic]:
    """List the webhook's latest deliveries and every attempt of each, newest first."""
    return [_delivery_public(record) for record in store.deliveries(webhook.id)]


@router.post("/api/webhooks/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
@allow(*OWNER)
def test_webhook(webhook: OwnWebhook, store: Webhooks) -> DeliveryQueued:
    """Queue a test message to the webhook; its delivery log shows how it went within seconds."""
    now = datetime.now(UTC)
    payload = {"type": "test", "at": now.isoformat(), "data": {"webhook_id": webhook.id}}
    delivery_id = store.queue(webhook.id, "test", payload, now)
    return DeliveryQueued(id=delivery_id, detail=_("test message queued"))


# web push


def push_subscriptions(hub: Services) -> PushSubscriptions:
    """Return the push subscriptions of the hub's database."""
    return PushSubscriptions(hub.events.engine)


Subscriptions = Annotated[PushSubscriptions, Depends(push_subscriptions)]


@router.get("/api/push/key")
@allow(*HOUSEHOLD)
def push_key(hub: Services) -> PushKey:
    """Return the hub's VAPID public key, for subscribing this browser."""
    return PushKey(public_key=VapidKeys.in_folder(hub.config.storage.folder).application_server_key)


@router.post("/api/push/subscriptions", status_code=status.HTTP_201_CREATED)
@allow(*HOUSEHOLD)
def subscribe_browser(body: PushSubscriptionCreate, caller: Caller, subscriptions: Subscriptions) -> Done:
    """Notify this browser of the alarms and doorbell presses of the cameras the caller may watch."""
    problem = browser_keys_problem(body.keys.p256dh, body.keys.auth)
    if problem is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, problem)
    try:
        PUSH_ENDPOINTS.check_when_made(body.endpoint)
    except DestinationRefusedError as refused:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(refused)) from None
    subscriptions.subscribe(caller.id, body.endpoint, body.keys.p256dh, body.keys.auth)
    return Done(detail=_("notifications on for this browser"))


@router.delete("/api/push/subscriptions")
@allow(*HOUSEHOLD)
def unsubscribe_browser(body: PushUnsubscribe, caller: Caller, subscriptions: Subscriptions) -> Done:
    """Stop notifying one of the caller's browsers (already forgotten is fine: the push service may have expired it)."""
    subscriptions.unsubscribe(caller.id, body.endpoint)
    return Done(detail=_("notifications off for this browser"))


@router.get("/sw.js", include_in_schema=False)
@public
def service_worker() -> FileResponse:
    """Serve the service worker from the site's root, so its scope is the whole app."""
    return FileResponse(
        SERVICE_WORKER,
        media_type="application/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )
