"""Time-based one-time passwords (RFC 6238): 6 digits, 30-second steps, one step of clock drift either way."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import pyotp
import segno

ISSUER = "Homewarden"
DRIFT_STEPS = 1


def new_secret() -> str:
    """Return a new random base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, username: str) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Return the QR code of ``uri`` as an SVG document."""
    out = io.BytesIO()
    # A standalone document (with its xmlns), so it also renders as an <img> data: URL.
    segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, scale=5, border=2)
    return out.getvalue().decode()


def accepted_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """Return the time step ``code`` is valid for, or None: wrong, malformed, or that step was used already."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    moment = time.time() if now is None else now
    current = totp.timecode(datetime.fromtimestamp(moment, tz=UTC))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
