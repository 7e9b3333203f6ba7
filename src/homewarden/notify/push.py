"""Web push: alarms, doorbell presses and cameras gone offline to the household's browsers, end-to-end encrypted.

A browser subscribes with the hub's VAPID public key and hands over its push service endpoint and keys. The hub
encrypts each notification for that browser (RFC 8291, aes128gcm) and signs a VAPID token (RFC 8292), so the push
service, a third party on the internet, carries a message it can neither read nor forge. The message names the
event's page and snapshot URL only: the service worker fetches the snapshot from the hub with the user's cookie, so
no image ever passes through the push service.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import ssl
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from pywebpush import WebPusher  # type: ignore[import-untyped]
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from homewarden.accounts.store import AccountStore
from homewarden.events.wording import event_sentence, name_of, place, subject
from homewarden.i18n import ENGLISH, _, use_language
from homewarden.notify.bus import CameraOffline, DoorbellPressed, EventEnded, EventUpdated, Message
from homewarden.notify.channel import Channel
from homewarden.notify.destinations import (
    PUSH_ENDPOINTS,
    DeliveryFailedError,
    DestinationPolicy,
    DestinationRefusedError,
    post,
)
from homewarden.notify.payloads import AlarmMemory, snapshot_path
from homewarden.store.integration_models import PushSubscription
from homewarden.store.transactions import transaction

log = logging.getLogger(__name__)

PUSH_FOLDER = "push"
PRIVATE_KEY_FILE = "vapid-private.pem"
QUEUE_SIZE = 200
# A notification older than this is not worth showing: the push service drops it instead of delivering it late.
TTL_SECONDS = 3600
# The VAPID "sub" claim: who the push service may contact about this sender. Apple's service needs a mailto: or
# https: address; a hub has no public one, so an address that reaches nobody says "a self-hosted hub".
DEFAULT_CONTACT = "mailto:push@homewarden.invalid"
GONE_STATUSES = frozenset({404, 410})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_bytes(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def browser_keys_problem(p256dh: str, auth: str) -> str | None:
    """Return what is wrong with a browser's push keys (None if they can be encrypted to).

    The key must be a point on P-256, not merely 65 bytes starting with 4: encrypting to anything else fails, and a
    subscription that fails every time is only noise (or, before each browser had its own failure, a way to stop the
    notifications of everyone after it).
    """
    try:
        point = _b64url_bytes(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return _("keys.p256dh must be the browser's P-256 public key (an uncompressed point, base64url)")
    if len(point) != 65:
        return _("keys.p256dh must be an uncompressed P-256 point (65 bytes)")
    try:
        secret = _b64url_bytes(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        return _("keys.auth must be the browser's 16-byte authentication secret (base64url)")
    return None


class VapidKeys:
    """The hub's VAPID key pair: generated once, kept as ``<storage>/push/vapid-private.pem`` (mode 0600)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        """Use ``private_key`` (a P-256 key)."""
        self._private_key = private_key

    @classmethod
    def in_folder(cls, storage_folder: Path) -> VapidKeys:
        """Load the hub's key pair, generating it on first use."""
        folder = storage_folder / PUSH_FOLDER
        path = folder / PRIVATE_KEY_FILE
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            try:
                # O_EXCL: when the web app and the notifier both start by generating one, the first one wins.
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(pem)
                    file.flush()
                    os.fsync(file.fileno())
                return cls(key)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return cls(loaded)

    @property
    def application_server_key(self) -> str:
        """Return the public key as browsers want it: the uncompressed point, base64url without padding."""
        point = self._private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(point)

    def vapid(self) -> Any:
        """Return the key as pywebpush signs with it."""
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return Vapid02.from_pem(pem)


@dataclass(frozen=True)
class SubscriptionRecord:
    """A browser subscribed to a user's notifications."""

    id: int
    user_id: int
    endpoint: str
    p256dh: str
    auth: str


class PushSubscriptions:
    """The browsers subscribed to web push, in the hub's database."""

    def __init__(self, engine: Engine) -> None:
        """Use ``engine``, whose database the event store has already migrated."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def subscribe(self, user_id: int, endpoint: str, p256dh: str, auth: str) -> SubscriptionRecord:
        """Subscribe a browser for ``user_id``; a browser subscribed for someone else signed in there before moves."""
        with self._session("subscribe the browser") as session:
            row = session.scalars(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
            if row is None:
                row = PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
                session.add(row)
            else:
                row.user_id, row.p256dh, row.auth = user_id, p256dh, auth
            session.flush()
            return _record(row)

    def unsubscribe(self, user_id: int, endpoint: str) -> bool:
        """Forget one of the user's browsers; return whether it was subscribed."""
        with self._session("unsubscribe the browser") as session:
            result = session.execute(
                delete(PushSubscription).where(
                    PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def of_users(self, user_ids: Sequence[int]) -> list[SubscriptionRecord]:
        """Return the browsers of these users."""
        if not user_ids:
            return []
        with self._session("read the subscriptions") as session:
            rows = session.scalars(
                select(PushSubscription).where(PushSubscription.user_id.in_(user_ids)).order_by(PushSubscription.id)
            )
            return [_record(row) for row in rows]

    def forget(self, endpoint: str) -> None:
        """Delete a subscription the push service no longer knows."""
        with self._session("delete an expired subscription") as session:
            session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))

    def _session(self, action: str) -> AbstractContextManager[Session]:
        return transaction(self._sessions, action)


def _record(row: PushSubscription) -> SubscriptionRecord:
    return SubscriptionRecord(row.id, row.user_id, row.endpoint, row.p256dh, row.auth)


@dataclass(frozen=True)
class Notification:
    """What a browser shows: a title, a line of text, the page a click opens and the picture to fetch, if any."""

    camera: str
    title: str
    body: str
    url: str
    tag: str
    snapshot: str | None = None
    # An alarm: at most one per camera each notify.push.min_interval, so a busy camera cannot flood a phone.
    alarm: bool = False

    def payload(self) -> dict[str, str]:
        """Return the JSON the service worker receives (URLs on the hub, never an image)."""
        shown = {"title": self.title, "body": self.body, "url": self.url}
        if self.snapshot is not None:
            shown["snapshot"] = self.snapshot
        return shown | {"tag": self.tag}


def _about_event(camera: str, event_id: str, title: str, body: str, *, alarm: bool = False) -> Notification:
    return Notification(camera, title, body, f"/events/{event_id}", event_id, snapshot_path(event_id), alarm)


def notification_for(
    message: Message, alarms: AlarmMemory, camera_names: Mapping[str, str] | None = None
) -> Notification | None:
    """Return what to tell the household about a message: alarms (once per intrusion), doorbells, cameras offline."""
    if isinstance(message, EventUpdated):
        if not message.alarm:
            return None
        event_id, intrusion_id = message.event_id, message.intrusion_id
    elif isinstance(message, EventEnded):
        if not message.record.alarm:
            return None
        event_id, intrusion_id = message.record.id, message.record.intrusion_id
    elif isinstance(message, DoorbellPressed | CameraOffline):
        return worded(message, camera_names or {})
    else:
        return None
    # Later people of the same intrusion only update it (MQTT, webhooks, the timeline): no second push.
    if not alarms.first_time(event_id, intrusion_id):
        return None
    return worded(message, camera_names or {})


def worded(message: Message, names: Mapping[str, str]) -> Notification:
    """Return the notification of a message worth telling, in the current language (the recipient's)."""
    if isinstance(message, DoorbellPressed):
        visitor = _("Someone") if message.visitor is None else subject("person", message.visitor)
        body = f"{visitor} {place(name_of(message.camera, names))}"
        return _about_event(message.camera, message.event_id, _("Doorbell"), body)
    if isinstance(message, CameraOffline):
        minutes = max(1, round((message.at - message.down_since) / 60))
        camera = name_of(message.camera, names)
        # Translators: {place} reads "at the front door" in English; other languages may use {camera} (its name).
        body = _("The camera {place} has been offline for {minutes} min ({reason})").format(
            place=place(camera), camera=camera, minutes=minutes, reason=message.reason
        )
        # One notice per camera on the screen: a later one replaces it rather than piling up.
        return Notification(message.camera, _("Camera offline"), body, "/live", f"camera-offline:{message.camera}")
    if isinstance(message, EventEnded):
        record = message.record
        label, sub_label, event_id, camera = record.label, record.sub_label, record.id, record.camera
    elif isinstance(message, EventUpdated):
        label, sub_label, event_id, camera = message.label, message.sub_label, message.event_id, message.camera
    else:
        raise TypeError(f"nothing to tell about {type(message).__name__}")
    body = event_sentence(label, sub_label, name_of(camera, names))
    return _about_event(camera, event_id, _("Alarm"), body, alarm=True)


class PushNotifier(Channel):
    """Send alarms, doorbell presses and cameras gone offline to the browsers of the users who may watch the camera.

    Subscribe it to the bus (``bus.subscribe("push", notifier)``) and ``start()`` it: sending happens on its own
    thread, since push services answer at internet speed. Stopping sends what is queued first.
    """

    def __init__(
        self,
        subscriptions: PushSubscriptions,
        accounts: AccountStore,
        keys: VapidKeys,
        *,
        contact: str = DEFAULT_CONTACT,
        timeout: float = 10.0,
        ttl: int = TTL_SECONDS,
        destinations: DestinationPolicy = PUSH_ENDPOINTS,
        tls: ssl.SSLContext | None = None,
        camera_names: Mapping[str, str] | None = None,
        min_interval: float = 60.0,
    ) -> None:
        """Sign with ``keys``; ``contact`` is the VAPID ``sub`` claim (a mailto: or https: URL).

        An alarm is pushed at most once per camera every ``min_interval`` seconds (``notify.push.min_interval``).

        ``destinations`` says which endpoints may be reached (public HTTPS hosts) and ``tls`` which certificates are
        trusted (the system's); tests that stand in for a push service on this machine change both. ``camera_names``
        are the cameras' display names by id, for the notifications' sentences.
        """
        super().__init__("web-push", queue_size=QUEUE_SIZE)
        self._subscriptions = subscriptions
        self._accounts = accounts
        self._vapid = keys.vapid()
        self._contact = contact
        self._timeout = timeout
        self._ttl = ttl
        self._destinations = destinations
        self._tls = tls
        self._alarms = AlarmMemory()
        # Kept as given, not copied: the hub passes a view that follows renames made in the settings.
        self._camera_names: Mapping[str, str] = camera_names if camera_names is not None else {}
        self._min_interval = min_interval
        self._last_alarm_push: dict[str, float] = {}
        # Browsers whose delivery failed, for the record; each failure is also logged.
        self.failures = 0
        # Alarms not pushed because their camera had pushed one less than min_interval before.
        self.rate_limited = 0

    def wants(self, message: Message) -> bool:
        """Queue only what may become a notification."""
        return isinstance(message, DoorbellPressed | EventUpdated | EventEnded | CameraOffline)

    def deliver(self, message: Message) -> None:
        """Send the message's notification (on the worker thread)."""
        self.notify(message)

    def notify(self, message: Message) -> int:
        """Send the message's notification to every browser that should get it; return how many accepted it."""
        notification = notification_for(message, self._alarms, self._camera_names)
        if notification is None or self._too_soon(notification):
            return 0
        home_id = self._accounts.home_of_camera(notification.camera)
        if home_id is None:
            return 0
        # Each user reads it in their own language: one wording per language among them.
        members = self._accounts.members(home_id)
        # A member who chose no language reads the owner's choice (the household's language), else English.
        household = next((user.language for user in members if user.role == "owner" and user.language), ENGLISH)
        languages: dict[int, str] = {
            user.id: user.language or household for user in members if notification.camera in user.cameras
        }
        data: dict[str, str] = {}
        for language in set(languages.values()):
            with use_language(language):
                shown = worded(message, self._camera_names)
            data[language] = json.dumps(shown.payload(), separators=(",", ":"))
        sent = 0
        for subscription in self._subscriptions.of_users(list(languages)):
            # One browser's failure, whatever it is, must not keep the notification from the browsers after it.
            try:
                sent += self._send(subscription, data[languages[subscription.user_id]])
            except Exception as failure:
                self.failures += 1
                log.warning(
                    "push to user %d's browser failed: %s",
                    subscription.user_id,
                    f"{type(failure).__name__}: {str(failure)[:120]}",
                )
        return sent

    def _too_soon(self, notification: Notification) -> bool:
        """Say whether an alarm comes too soon after the camera's last pushed one (and remember it if not)."""
        if not notification.alarm:
            return False
        now = time.monotonic()
        last = self._last_alarm_push.get(notification.camera)
        if last is not None and now - last < self._min_interval:
            self.rate_limited += 1
            log.info(
                "push: alarm on camera %s not pushed, %.0f s after the last one (notify.push.min_interval %.0f s)",
                notification.camera,
                now - last,
                self._min_interval,
            )
            return True
        self._last_alarm_push[notification.camera] = now
        return False

    def _send(self, subscription: SubscriptionRecord, data: str) -> bool:
        problem = browser_keys_problem(subscription.p256dh, subscription.auth)
        if problem is not None:
            # Stored before keys were checked: it can never be encrypted to, so it is forgotten.
            self._subscriptions.forget(subscription.endpoint)
            self.failures += 1
            log.warning("forgot user %d's push subscription: %s", subscription.user_id, problem)
            return False
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        body = WebPusher(info).encode(data.encode(), "aes128gcm")["body"]
        parts = urlsplit(subscription.endpoint)
        # A fresh dict: the claims name this push service (aud) and expire in 12 hours, as RFC 8292 asks.
        claims = {"sub": self._contact, "aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + 12 * 3600}
        headers = {
            "Authorization": self._vapid.sign(claims)["Authorization"],
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self._ttl),
            "Urgency": "high",
        }
        try:
            answer = post(
                subscription.endpoint,
                body,
                headers,
                policy=self._destinations,
                timeout=self._timeout,
                tls=self._tls,
            )
        except (DestinationRefusedError, DeliveryFailedError) as failure:
            self.failures += 1
            log.warning("push to user %d's browser failed: %s", subscription.user_id, failure)
            return False
        if answer.status in GONE_STATUSES:
            # The browser unsubscribed or the subscription expired: the push service will never take it again.
            self._subscriptions.forget(subscription.endpoint)
            log.info("forgot an expired push subscription of user %d", subscription.user_id)
            return False
        if not 200 <= answer.status < 300:
            self.failures += 1
            log.warning(
                "push to user %d's browser refused: HTTP %d %s", subscription.user_id, answer.status, answer.reason
            )
            return False
        return True
