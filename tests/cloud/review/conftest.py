"""What the review tests share: a copy sealed to the program key exactly as the hub seals it, and its upload."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from nacl.signing import VerifyKey

from cloud_process import SignedHub
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
