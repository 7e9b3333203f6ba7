"""Paired hubs: pairing with a one-time code, unpairing, and checking every signed request of a hub."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.database import CloudDatabase, rows_affected
from homewarden.cloud.errors import ForbiddenError, NotAuthenticatedError
from homewarden.cloud.identifiers import digest, new_hub_id, normalise_code
from homewarden.cloud.models import Hub, HubNonce, PairingCode
from homewarden.errors import Refusal, RefusedError

HUB_HEADER = "x-hw-hub"
TIMESTAMP_HEADER = "x-hw-timestamp"
NONCE_HEADER = "x-hw-nonce"
SIGNATURE_HEADER = "x-hw-signature"
SIGNING_VERSION = "HW1"
NONCE = re.compile(r"^[0-9a-f]{32}$")
HUB_NAME_LENGTH = 64
# A hub's last_seen_at is written at most this often, not on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
NOT_PAIRED = "this hub is not paired"


@dataclass(frozen=True)
class PairedHub:
    """What pairing tells the hub."""

    hub_id: str
    home_id: str


@dataclass(frozen=True)
class HubIdentity:
    """The hub a verified request came from, and the only home it may reach."""

    hub_id: str
    home_id: str


@dataclass(frozen=True)
class HubView:
    """A hub as its household sees it."""

    hub_id: str
    name: str
    paired_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


def signed_message(method: str, path_and_query: str, timestamp: str, nonce: str, body_sha256: str) -> bytes:
    """Return the bytes a hub signs for one request (docs/cloud-protocol.md, "Signed requests")."""
    return "\n".join((SIGNING_VERSION, method.upper(), path_and_query, timestamp, nonce, body_sha256)).encode("utf-8")


class HubRegistry:
    """Pairs hubs, revokes them and verifies their signed requests."""

    def __init__(self, database: CloudDatabase, clock_window_seconds: int) -> None:
        """Work on ``database``; signed timestamps may be ``clock_window_seconds`` off the server's clock."""
        self._database = database
        self._window = clock_window_seconds

    def pair(self, code: str, public_key: str, name: str) -> PairedHub:
        """Use a pairing code once: the new hub becomes its home's one active hub (an older one is revoked)."""
        key = _public_key_bytes(public_key)
        name = " ".join(name.split())
        if not name or len(name) > HUB_NAME_LENGTH:
            raise RefusedError(f"a hub name has 1 to {HUB_NAME_LENGTH} characters", Refusal.INVALID)
        now = utc_now()
        hub_id = new_hub_id()
        with self._database.session() as session:
            code_digest = digest(normalise_code(code))
            # One conditional UPDATE marks the code used: two hubs racing with one code cannot both win.
            used = session.execute(
                update(PairingCode)
                .where(
                    PairingCode.code_digest == code_digest,
                    PairingCode.used_at.is_(None),
                    PairingCode.expires_at > now,
                )
                .values(used_at=now)
            )
            if rows_affected(used) != 1:
                raise ForbiddenError("this pairing code is wrong, used or expired")
            home_id = session.scalar(select(PairingCode.home_id).where(PairingCode.code_digest == code_digest))
            assert home_id is not None  # the row was just updated
            session.execute(update(Hub).where(Hub.home_id == home_id, Hub.revoked_at.is_(None)).values(revoked_at=now))
            session.add(Hub(id=hub_id, home_id=home_id, name=name, public_key=key, paired_at=now))
        return PairedHub(hub_id=hub_id, home_id=home_id)

    def unpair(self, home_id: str, hub_id: str) -> None:
        """Revoke ``hub_id`` of ``home_id`` at once; another home's hub is not found."""
        with self._database.session() as session:
            hub = session.scalar(select(Hub).where(Hub.id == hub_id, Hub.home_id == home_id))
            if hub is None:
                raise RefusedError("no such hub", Refusal.NOT_FOUND)
            if hub.revoked_at is None:
                hub.revoked_at = utc_now()

    def hubs_of(self, home_id: str) -> list[HubView]:
        """Return the hubs ever paired with ``home_id``, newest first."""
        with self._database.session() as session:
            rows = session.scalars(select(Hub).where(Hub.home_id == home_id).order_by(Hub.paired_at.desc())).all()
            return [
                HubView(
                    hub_id=row.id,
                    name=row.name,
                    paired_at=row.paired_at,
                    revoked_at=row.revoked_at,
                    last_seen_at=row.last_seen_at,
                )
                for row in rows
            ]

    def verify(self, method: str, path_and_query: str, headers: Mapping[str, str], body: bytes) -> HubIdentity:
        """Check a signed request: headers, clock, signature, an active hub, then its nonce used once."""
        hub_id = _header(headers, HUB_HEADER)
        timestamp_text = _header(headers, TIMESTAMP_HEADER)
        nonce = _header(headers, NONCE_HEADER)
        signature = _signature_bytes(_header(headers, SIGNATURE_HEADER))
        if not timestamp_text.isdigit():
            raise NotAuthenticatedError(f"{TIMESTAMP_HEADER} must be whole unix seconds")
        if not NONCE.fullmatch(nonce):
            raise NotAuthenticatedError(f"{NONCE_HEADER} must be 32 lowercase hex digits")
        now = utc_now()
        if abs(now.timestamp() - int(timestamp_text)) > self._window:
            raise NotAuthenticatedError(
                f"the request's timestamp is more than {self._window} s"
                f" from the server's clock ({int(now.timestamp())})"
            )
        with self._database.session() as session:
            hub = session.execute(
                select(Hub.home_id, Hub.public_key, Hub.revoked_at, Hub.last_seen_at).where(Hub.id == hub_id)
            ).first()
        if hub is None or hub.revoked_at is not None:
            raise NotAuthenticatedError(NOT_PAIRED)
        message = signed_message(method, path_and_query, timestamp_text, nonce, hashlib.sha256(body).hexdigest())
        try:
            Ed25519PublicKey.from_public_bytes(hub.public_key).verify(signature, message)
        except InvalidSignature:
            raise NotAuthenticatedError("the request's signature does not verify") from None
        try:
            with self._database.session() as session:
                session.add(HubNonce(hub_id=hub_id, nonce=nonce, seen_at=now))
                if hub.last_seen_at is None or now - hub.last_seen_at > LAST_SEEN_RESOLUTION:
                    session.execute(update(Hub).where(Hub.id == hub_id).values(last_seen_at=now))
        except IntegrityError:
            raise NotAuthenticatedError("this nonce was already used (a replayed request)") from None
        return HubIdentity(hub_id=hub_id, home_id=hub.home_id)

    def prune_nonces(self) -> int:
        """Forget nonces older than twice the clock window (their timestamps are refused anyway)."""
        cutoff = utc_now() - timedelta(seconds=2 * self._window)
        with self._database.session() as session:
            return rows_affected(session.execute(delete(HubNonce).where(HubNonce.seen_at < cutoff)))


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise NotAuthenticatedError(f"the {name} header is missing: hub requests are signed")
    return value.strip()


def _signature_bytes(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise NotAuthenticatedError(f"{SIGNATURE_HEADER} is not base64url") from None


def _public_key_bytes(text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RefusedError("public_key must be base64 of a raw 32-byte Ed25519 public key", Refusal.INVALID) from None
    try:
        Ed25519PublicKey.from_public_bytes(key)
    except ValueError:
        raise RefusedError("public_key must be base64 of a raw 32-byte Ed25519 public key", Refusal.INVALID) from None
    return key
