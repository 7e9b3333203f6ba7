"""Signed requests as docs/cloud-protocol.md writes them, checked by verifying each signature with the public key.

The cloud here is httpx's MockTransport, a fake at the network boundary: these tests pin the hub's side of the
contract byte for byte; tests/offsite/test_cloud_end_to_end.py runs the same client against the real service.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading

import httpx2 as httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homewarden.offsite.client import (
    BandwidthLimit,
    CloudBusyError,
    CloudClient,
    CloudRefusedError,
    CloudUnreachableError,
    ConflictError,
    NotPairedError,
    pair_with_cloud,
    signed_text,
)
from homewarden.offsite.identity import Pairing

PAIRING = Pairing("http://cloud.test/base", "hub_abc", "h_home", clock_offset=100.0)


def verify(request: httpx.Request, key: Ed25519PrivateKey) -> str:
    """Check the request's signature the way the cloud does; return the signed text."""
    headers = request.headers
    target = request.url.raw_path.decode()
    body = request.content
    text = signed_text(
        request.method,
        target,
        int(headers["X-HW-Timestamp"]),
        headers["X-HW-Nonce"],
        hashlib.sha256(body).hexdigest(),
    )
    signature = headers["X-HW-Signature"]
    assert "=" not in signature
    key.public_key().verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), text)
    return text.decode()


def client_with(handler: httpx.MockTransport, key: Ed25519PrivateKey, **options: object) -> CloudClient:
    return CloudClient(PAIRING, key, transport=handler, clock=lambda: 1_700_000_000.0, **options)  # type: ignore[arg-type]


def test_every_request_is_signed_over_method_path_query_time_nonce_and_body() -> None:
    key = Ed25519PrivateKey.generate()
    seen: list[str] = []
    nonces: set[str] = set()

    def cloud(request: httpx.Request) -> httpx.Response:
        seen.append(verify(request, key))
        nonces.add(request.headers["X-HW-Nonce"])
        assert request.headers["X-HW-Hub"] == "hub_abc"
        if request.method == "PUT":
            body = request.content
            assert request.headers["X-HW-Content-SHA256"] == hashlib.sha256(body).hexdigest()
            assert request.headers["X-HW-Pinned"] == "1"
            return httpx.Response(201, json={"id": "x" * 16, "size": len(body), "sha256": "ab", "uploaded_at": "t"})
        return httpx.Response(200, json={"objects": [], "next": None})

    client = client_with(httpx.MockTransport(cloud), key)
    stored = client.put_object("home-key-file-v1", b"sealed bytes", pinned=True)
    page, after = client.list_objects(after="a" * 16, limit=5)
    assert (stored.size, page, after) == (12, [], None)
    body_hash = hashlib.sha256(b"sealed bytes").hexdigest()
    put_time = 1_700_000_100  # the hub's clock plus the offset measured at pairing
    assert seen[0].split("\n")[:4] == ["HW1", "PUT", "/base/api/v1/objects/home-key-file-v1", str(put_time)]
    assert seen[0].endswith("\n" + body_hash)
    assert seen[1].split("\n")[2] == f"/base/api/v1/objects?after={'a' * 16}&limit=5"
    assert seen[1].endswith(hashlib.sha256(b"").hexdigest())
    assert len(nonces) == 2
    assert all(len(nonce) == 32 and int(nonce, 16) >= 0 for nonce in nonces)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, NotPairedError),
        (409, ConflictError),
        (400, CloudRefusedError),
        (507, CloudBusyError),
        (429, CloudBusyError),
        (408, CloudBusyError),
    ],
)
def test_answers_become_errors_that_say_what_to_do(status: int, error: type[Exception]) -> None:
    key = Ed25519PrivateKey.generate()
    transport = httpx.MockTransport(
        lambda _request: httpx.Response(status, json={"detail": "plain words"}, headers={"Retry-After": "7"})
    )
    with pytest.raises(error, match="plain words") as caught:
        client_with(transport, key).delete_object("a" * 16)
    if isinstance(caught.value, CloudBusyError) and status == 429:
        assert caught.value.retry_after == 7.0


def test_a_cloud_that_cannot_be_reached_is_unreachable_not_refused() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(CloudUnreachableError, match="cannot reach"):
        client_with(httpx.MockTransport(refuse), Ed25519PrivateKey.generate()).home()


def test_pairing_sends_the_raw_public_key_and_keeps_the_cloud_time() -> None:
    key = Ed25519PrivateKey.generate()
    sent: dict[str, str] = {}

    def cloud(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/hubs/pair"
        assert "X-HW-Signature" not in request.headers
        sent.update(json.loads(request.content))
        return httpx.Response(200, json={"hub_id": "hub_1", "home_id": "h_1", "server_time": 1234})

    transport = httpx.MockTransport(cloud)
    answer = pair_with_cloud("http://cloud.test/", " ABCD-EFGH-IJKL ", key, "x" * 80, transport=transport)
    assert (answer.hub_id, answer.home_id, answer.server_time) == ("hub_1", "h_1", 1234.0)
    assert sent["code"] == "ABCD-EFGH-IJKL"
    assert len(sent["name"]) == 64
    assert base64.b64decode(sent["public_key"]) == key.public_key().public_bytes_raw()


class RecordedWaits(threading.Event):
    """A stop event that records how long the limit asked to wait, without waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return False


def test_the_bandwidth_limit_paces_uploads() -> None:
    # 64 KiB/s with a full one-second bucket, on a clock that stands still: the first 64 KiB go at once, each
    # further 64 KiB waits one more second.
    limit = BandwidthLimit(64 * 1024, clock=lambda: 100.0)
    stopping = RecordedWaits()
    for _ in range(3):
        limit.wait_for(64 * 1024, stopping)
    assert stopping.waits == [pytest.approx(1.0), pytest.approx(2.0)]


def test_no_bandwidth_limit_never_waits() -> None:
    stopping = RecordedWaits()
    BandwidthLimit(None).wait_for(10**9, stopping)
    assert stopping.waits == []
