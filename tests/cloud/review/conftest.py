"""What the review tests share: a copy sealed to the program key as the hub seals it, its upload, and staff."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from nacl.signing import VerifyKey

from cloud_process import SignedHub
from homewarden.cloud.models import ReviewDonation
from homewarden.store.crypto import HomePublicKey, encrypt_object, new_data_key, seal_data_key


def seal_to_program(program: dict[str, Any], donation_id: str, plaintext: bytes) -> bytes:
    """Seal ``plaintext`` to a program object's key as the hub's vault seals an off-site object (the hub's side)."""
    curve = VerifyKey(base64.b64decode(program["verify_key"])).to_curve25519_public_key()
    data_key = new_data_key()
    sealed_key = seal_data_key(data_key, HomePublicKey.from_bytes(bytes(curve)))
    return sealed_key + b"".join(encrypt_object(data_key, donation_id, [plaintext]))


def new_donation_id() -> str:
    """Return a random donation id, as the hub chooses them."""
    return "d_" + secrets.token_urlsafe(18)


def metadata_header(*, expires_in: timedelta = timedelta(days=30), **changes: Any) -> str:
    """Return an ``X-HW-Donation`` header (base64url of canonical JSON), with ``changes`` over sensible values."""
    now = datetime.now(UTC)
    metadata = {
        "label": "person",
        "duration_s": 4.6,
        "width": 640,
        "height": 360,
        "donated_at": now.isoformat(),
        "expires_at": (now + expires_in).isoformat(),
        "consent": "review-consent-v1",
        **changes,
    }
    raw = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def donate(
    hub: SignedHub,
    donation_id: str,
    blob: bytes,
    *,
    key_id: str | None = None,
    metadata: str | None = None,
    sha256: str | None = None,
) -> Any:
    """Upload a sealed copy as the hub does (``PUT /api/v1/donations/{id}``)."""
    headers = {
        "X-HW-Content-SHA256": sha256 or hashlib.sha256(blob).hexdigest(),
        "X-HW-Program-Key": key_id or hub.program["key_id"],
        "X-HW-Donation": metadata_header() if metadata is None else metadata,
    }
    return hub.request("PUT", f"/api/v1/donations/{donation_id}", blob, headers)


class StaffMember:
    """A reviewer or admin of the review program, signed in through the API with password and TOTP code."""

    def __init__(self, client: Any, username: str, password: str, totp_secret: str, token: str, pseudonym: str) -> None:
        """Keep the client, the credentials and the session."""
        self.client = client
        self.username = username
        self.password = password
        self.totp_secret = totp_secret
        self.token = token
        self.pseudonym = pseudonym

    @property
    def auth(self) -> dict[str, str]:
        """Return the bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor(self) -> str:
        """Return how the audit chain names this reviewer."""
        return f"reviewer:{self.pseudonym}"

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """Send one request with this session."""
        return self.client.request(method, path, json=payload, headers=self.auth)


def make_staff(services: Any, client: Any, role: str = "reviewer") -> StaffMember:
    """Make an account with the operator's service (as `cloud reviewer create` does) and sign it in by the API."""
    username = f"{role}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    made = services.staff.create(username, password, role)
    code = pyotp.TOTP(made.totp_secret).now()
    answer = client.post("/api/v1/staff/session", json={"username": username, "password": password, "code": code})
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == role
    return StaffMember(client, username, password, made.totp_secret, answer.json()["token"], made.staff.pseudonym)


def queue_rows(database: Any, home_id: str, count: int, *, start: datetime | None = None) -> list[str]:
    """Insert ``count`` queued donations of ``home_id`` as rows only (no bytes), oldest first; return their ids.

    For tests of assignment alone (the race, fairness, quota), where the clip is never opened: the intake and its
    screen would take seconds per copy and are tested on their own (tests/cloud/api/test_review_hubs.py).
    """
    begin = start or datetime.now(UTC) - timedelta(hours=1)
    ids = []
    with database.session() as session:
        for index in range(count):
            donation_id = new_donation_id()
            at = begin + timedelta(seconds=index)
            session.add(
                ReviewDonation(
                    donation_id=donation_id,
                    home_id=home_id,
                    details={"label": "person", "duration_s": 2.0, "width": 640, "height": 360},
                    state="queued",
                    received_at=at,
                    queued_at=at,
                    updated_at=at,
                    expires_at=at + timedelta(days=30),
                )
            )
            ids.append(donation_id)
    return ids
