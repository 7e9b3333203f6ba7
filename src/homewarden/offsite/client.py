"""The only code that talks to the cloud: every request signed with the hub's device key (docs/cloud-protocol.md).

A request's signature covers the method, path and query, a timestamp, a one-time nonce and the SHA-256 of its
body, so the cloud refuses a replayed, altered or stale request. The clock offset measured at pairing keeps the
timestamp within the cloud's window on a hub whose clock is off. Answers become typed values or one of the errors
below, which tell the outbox what to do: try later (`CloudUnreachableError`, `CloudBusyError`), or stop trying this
item (`CloudRefusedError`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

import httpx2 as httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homewarden.i18n import N_, _
from homewarden.offsite.identity import Pairing, check_cloud_url
from homewarden.review.program_key import canonical_json

API = "/api/v1"
SIGNATURE_VERSION = "HW1"
SINGLE_REQUEST_LIMIT = 16 * 1024 * 1024
SEND_PIECE = 64 * 1024
CONNECT_TIMEOUT = 10.0
TRANSFER_TIMEOUT = 60.0
LIST_LIMIT = 1000


# A failure the outbox keeps (shown on the storage page): stored in English, translated when read (translate_stored).
REFUSED = N_("{what}: {detail} (HTTP {status})")
UNREACHABLE = N_("{what}: cannot reach the cloud: {problem}")
STORED_ERRORS = (UNREACHABLE, REFUSED)


class CloudError(Exception):
    """A request the cloud did not carry out; ``status`` is its HTTP status (None when it was not reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the cloud's words and the status."""
        super().__init__(message)
        self.status = status


class CloudUnreachableError(CloudError):
    """The cloud could not be reached (network down, connection refused, timed out): try again later."""


class CloudBusyError(CloudError):
    """The cloud answered 5xx, 408 or 429: try again later, after ``retry_after`` seconds if it said so."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        """Keep how long the cloud asked the hub to wait."""
        super().__init__(message, status)
        self.retry_after = retry_after


class CloudRefusedError(CloudError):
    """The cloud refused the request for good (4xx): trying it again unchanged gets the same answer."""


class NotPairedError(CloudRefusedError):
    """The cloud no longer knows this hub (401): it was unpaired, or another hub took over the home."""


class ConflictError(CloudRefusedError):
    """The cloud holds another body under this object id (409)."""


class StoppedError(Exception):
    """The hub is stopping: a request in flight was abandoned (it resumes at the next start)."""


@dataclass(frozen=True)
class CloudObject:
    """An object as the cloud describes it."""

    id: str
    size: int
    sha256: str
    uploaded_at: str
    pinned: bool = False


@dataclass(frozen=True)
class HomeUsage:
    """What the cloud keeps for the home: objects, bytes, quota, retention, the last upload."""

    home_id: str
    objects: int
    bytes: int
    quota_bytes: int | None
    retention_days: int | None
    last_upload_at: str | None


@dataclass(frozen=True)
class PairingAnswer:
    """What pairing gave: the hub's and home's ids, the cloud's clock, and the review program's key to pin."""

    hub_id: str
    home_id: str
    server_time: float
    program: dict[str, Any] | None = None


class BandwidthLimit:
    """A token bucket shared by every upload: at most ``bytes_per_second`` on average, bursts of one second."""

    def __init__(self, bytes_per_second: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        """No limit when ``bytes_per_second`` is None."""
        self.rate = bytes_per_second
        self._clock = clock
        self._tokens = float(bytes_per_second or 0)
        self._last = clock()
        self._lock = threading.Lock()

    def wait_for(self, count: int, stopping: threading.Event) -> None:
        """Return once ``count`` bytes may be sent; raise StoppedError if the hub stops meanwhile."""
        if self.rate is None:
            if stopping.is_set():
                raise StoppedError("stopping")
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.rate), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= count
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if stopping.wait(wait) if wait > 0 else stopping.is_set():
            raise StoppedError("stopping")


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` in lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def signed_text(method: str, path_and_query: str, timestamp: int, nonce: str, body_sha256: str) -> bytes:
    """Return the bytes a request's signature covers (docs/cloud-protocol.md, "Signed requests")."""
    return f"{SIGNATURE_VERSION}\n{method.upper()}\n{path_and_query}\n{timestamp}\n{nonce}\n{body_sha256}".encode()


def public_key_base64(key: Ed25519PrivateKey) -> str:
    """Return the raw 32-byte public key in base64, as pairing sends it."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def _detail(response: httpx.Response) -> str:
    try:
        document = response.json()
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict) and isinstance(document.get("detail"), str):
        return str(document["detail"])
    text = " ".join(response.text.split())[:200]
    return text or response.reason_phrase or f"HTTP {response.status_code}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def raise_for(response: httpx.Response, what: str) -> None:
    """Turn an answer that is not 2xx into the error saying what to do about it."""
    status = response.status_code
    if status < 300:
        return
    message = _(REFUSED).format(what=_(what), detail=_detail(response), status=status)
    if status >= 500 or status in (408, 429):
        raise CloudBusyError(message, status, _retry_after(response))
    if status == 401:
        raise NotPairedError(message, status)
    if status == 409:
        raise ConflictError(message, status)
    raise CloudRefusedError(message, status)


def pair_with_cloud(
    cloud_url: str,
    code: str,
    device_key: Ed25519PrivateKey,
    name: str,
    transport: httpx.BaseTransport | None = None,
) -> PairingAnswer:
    """Give the cloud the one-time code and the device's public key; return the ids the cloud gave the hub."""
    url = check_cloud_url(cloud_url) + f"{API}/hubs/pair"
    body = {"code": code.strip(), "public_key": public_key_base64(device_key), "name": name[:64]}
    try:
        with httpx.Client(timeout=httpx.Timeout(TRANSFER_TIMEOUT, connect=CONNECT_TIMEOUT), transport=transport) as c:
            response = c.post(url, json=body)
    except httpx.HTTPError as exc:
        raise CloudUnreachableError(
            _("cannot reach the cloud at {url}: {problem}").format(url=cloud_url, problem=exc)
        ) from None
    raise_for(response, N_("pairing refused"))
    try:
        document = response.json()
        program = document.get("program")
        return PairingAnswer(
            str(document["hub_id"]),
            str(document["home_id"]),
            float(document["server_time"]),
            program if isinstance(program, dict) else None,
        )
    except (ValueError, KeyError, TypeError):
        raise CloudRefusedError(
            _("the cloud at {url} answered pairing with something else").format(url=cloud_url)
        ) from None


class CloudClient:
    """Signed requests of one paired hub; safe to share between threads."""

    def __init__(
        self,
        pairing: Pairing,
        device_key: Ed25519PrivateKey,
        *,
        bandwidth: BandwidthLimit | None = None,
        stopping: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Talk to the paired cloud as ``pairing.hub_id``; uploads share ``bandwidth``."""
        self.pairing = pairing
        self._key = device_key
        self._bandwidth = bandwidth or BandwidthLimit(None)
        self._stopping = stopping or threading.Event()
        self._clock = clock
        self._base = check_cloud_url(pairing.cloud_url)
        self._http = httpx.Client(timeout=httpx.Timeout(TRANSFER_TIMEOUT, connect=CONNECT_TIMEOUT), transport=transport)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """Return the X-HW-* headers that sign a request for ``url`` with ``body``."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        timestamp = int(self._clock() + self.pairing.clock_offset)
        nonce = secrets.token_hex(16)
        signature = self._key.sign(signed_text(method, target, timestamp, nonce, sha256_hex(body)))
        return {
            "X-HW-Hub": self.pairing.hub_id,
            "X-HW-Timestamp": str(timestamp),
            "X-HW-Nonce": nonce,
            "X-HW-Signature": base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii"),
        }

    def _request(
        self,
        method: str,
        path: str,
        what: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        throttled: bool = False,
    ) -> httpx.Response:
        url = self._base + API + path
        all_headers = {**(headers or {}), **self.signed_headers(method, url, body)}
        content: bytes | Iterator[bytes] = body
        if throttled and body:
            all_headers["Content-Length"] = str(len(body))
            content = self._paced(body)
        try:
            response = self._http.request(method, url, content=content, headers=all_headers)
        except httpx.HTTPError as exc:
            if self._stopping.is_set():
                raise StoppedError("stopping") from None
            raise CloudUnreachableError(_(UNREACHABLE).format(what=_(what), problem=exc)) from None
        raise_for(response, what)
        return response

    def _paced(self, body: bytes) -> Iterator[bytes]:
        view = memoryview(body)
        for start in range(0, len(body), SEND_PIECE):
            piece = view[start : start + SEND_PIECE]
            self._bandwidth.wait_for(len(piece), self._stopping)
            yield bytes(piece)

    def put_object(self, object_id: str, body: bytes, *, pinned: bool = False) -> CloudObject:
        """Store ``body`` whole under ``object_id`` (the same body again is accepted as already there)."""
        headers = {"X-HW-Content-SHA256": sha256_hex(body), "Content-Type": "application/octet-stream"}
        if pinned:
            headers["X-HW-Pinned"] = "1"
        response = self._request("PUT", f"/objects/{object_id}", N_("upload refused"), body, headers, throttled=True)
        return _object(response.json())

    def start_upload(self, object_id: str, size: int, sha256: str) -> tuple[str, int]:
        """Begin a multipart upload; return its id and the part size the cloud wants."""
        body = _json_body({"size": size, "sha256": sha256})
        response = self._request(
            "POST", f"/objects/{object_id}/uploads", "multipart upload refused", body, _JSON_HEADERS
        )
        document = response.json()
        return str(document["upload_id"]), int(document["part_size"])

    def put_part(self, object_id: str, upload_id: str, number: int, body: bytes) -> None:
        """Send part ``number`` (from 1) of a multipart upload."""
        self._request(
            "PUT",
            f"/objects/{object_id}/uploads/{upload_id}/parts/{number}",
            f"part {number} refused",
            body,
            {"Content-Type": "application/octet-stream"},
            throttled=True,
        )

    def uploaded_parts(self, object_id: str, upload_id: str) -> dict[int, int]:
        """Return the parts of a multipart upload that arrived, by number, with their sizes."""
        response = self._request("GET", f"/objects/{object_id}/uploads/{upload_id}", N_("upload not found"))
        return {int(part["n"]): int(part["size"]) for part in response.json()["parts"]}

    def complete_upload(self, object_id: str, upload_id: str) -> CloudObject:
        """Finish a multipart upload (the cloud checks the whole body's SHA-256)."""
        response = self._request(
            "POST", f"/objects/{object_id}/uploads/{upload_id}/complete", "completing the upload refused"
        )
        return _object(response.json())

    def list_objects(self, after: str | None = None, limit: int = LIST_LIMIT) -> tuple[list[CloudObject], str | None]:
        """Return one page of the home's objects in id order, and the id to continue after (None at the end)."""
        query = f"?after={after}&limit={limit}" if after else f"?limit={limit}"
        document = self._request("GET", "/objects" + query, N_("listing refused")).json()
        return [_object(item) for item in document["objects"]], document.get("next")

    def all_objects(self) -> Iterator[CloudObject]:
        """Yield every object of the home, in id order."""
        after: str | None = None
        while True:
            page, after = self.list_objects(after)
            yield from page
            if not after:
                return

    def download(self, object_id: str, sink: IO[bytes]) -> int:
        """Write an object's bytes to ``sink`` as they arrive; return how many."""
        url = self._base + API + f"/objects/{object_id}"
        headers = self.signed_headers("GET", url, b"")
        written = 0
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code >= 300:
                    response.read()
                    raise_for(response, f"download of {object_id} refused")
                for piece in response.iter_bytes():
                    sink.write(piece)
                    written += len(piece)
        except httpx.HTTPError as exc:
            raise CloudUnreachableError(_(UNREACHABLE).format(what=f"download of {object_id}", problem=exc)) from None
        return written

    def delete_object(self, object_id: str) -> None:
        """Delete an object (also fine when it is gone already)."""
        self._request("DELETE", f"/objects/{object_id}", N_("delete refused"))

    def home(self) -> HomeUsage:
        """Return what the cloud keeps for the home."""
        document = self._request("GET", "/home", N_("home usage refused")).json()
        return HomeUsage(
            home_id=str(document["home_id"]),
            objects=int(document["objects"]),
            bytes=int(document["bytes"]),
            quota_bytes=_maybe_int(document.get("quota_bytes")),
            retention_days=_maybe_int(document.get("retention_days")),
            last_upload_at=document.get("last_upload_at"),
        )

    def unpair(self) -> None:
        """Tell the cloud to forget this hub (its next request is refused)."""
        self._request("DELETE", "/hub", N_("unpairing refused"))

    # The review program (docs/cloud-protocol.md, "Review program")

    def program_key(self) -> dict[str, Any]:
        """Return the review program's current key and every rotation, as the cloud sent them."""
        return dict(self._request("GET", "/review/program-key", N_("review key refused")).json())

    def put_donation(self, donation_id: str, body: bytes, key_id: str, metadata: dict[str, Any]) -> dict[str, Any]:
        """Send a donated copy sealed to the program key ``key_id``; return the cloud's answer (its state)."""
        headers = {
            "X-HW-Content-SHA256": sha256_hex(body),
            "X-HW-Program-Key": key_id,
            "X-HW-Donation": base64.urlsafe_b64encode(canonical_json(metadata)).rstrip(b"=").decode("ascii"),
            "Content-Type": "application/octet-stream",
        }
        return dict(
            self._request(
                "PUT", f"/donations/{donation_id}", N_("donation refused"), body, headers, throttled=True
            ).json()
        )

    def delete_donation(self, donation_id: str) -> dict[str, Any]:
        """Withdraw a donation; return the cloud's answer with the receipt of the deletion."""
        return dict(self._request("DELETE", f"/donations/{donation_id}", N_("withdrawal refused")).json())

    def receipts(self, after: int, limit: int = 500) -> tuple[list[Any], int | None]:
        """Return one page of this home's receipts after ``after``, and the seq to continue after (None at the end)."""
        document = self._request("GET", f"/review/receipts?after={after}&limit={limit}", N_("receipts refused")).json()
        return list(document["receipts"]), _maybe_int(document.get("next"))

    def checkpoint(self) -> dict[str, Any]:
        """Return the cloud's latest signed checkpoint of its audit chain."""
        return dict(self._request("GET", "/review/checkpoint", N_("checkpoint refused")).json())

    def chain(self, after: int, limit: int = 5000) -> tuple[list[Any], int | None]:
        """Return one page of the chain's links after ``after`` (hashes only), and where to continue."""
        document = self._request("GET", f"/review/chain?after={after}&limit={limit}", N_("chain refused")).json()
        return list(document["links"]), _maybe_int(document.get("next"))

    def model_offer(self) -> dict[str, Any]:
        """Return the verifier model hubs should run (or null) and the versions to delete."""
        return dict(self._request("GET", "/review/model", "model offer refused").json())

    def model_file(self, version: int) -> bytes:
        """Return a promoted model's signed file."""
        return self._request("GET", f"/review/models/{version}", "model file refused").content


_JSON_HEADERS = {"Content-Type": "application/json"}


def _json_body(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _maybe_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _object(document: dict[str, Any]) -> CloudObject:
    return CloudObject(
        id=str(document["id"]),
        size=int(document["size"]),
        sha256=str(document["sha256"]),
        uploaded_at=str(document.get("uploaded_at") or ""),
        pinned=bool(document.get("pinned", False)),
    )
