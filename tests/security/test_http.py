"""The HTTP layer under attack: ranges, request bodies, photos, files at rest, the API schema, forwarded addresses and
response headers, each replayed over real HTTP against a real `homewarden serve`.

Most attacks go to the session's shared hub. Those needing a config it lacks (HTTPS, a trusted proxy, a hub started
under a loose umask) go to a second hub, `proxied_tls_hub`, started once for this module.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import os
import re
import socket
import ssl
import stat
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import httpx2 as httpx
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from security.conftest import (
    FRONT,
    OWNER,
    Caller,
    ServedHub,
    start_served_hub,
    stop_served_hub,
    wait_for_events,
)

MB = 1024 * 1024
JSON_LIMIT = 64 * 1024  # server.max_json_bytes's default
# The per-address sign-in limit (accounts/throttle.py): the 21st failure in 15 minutes from one address answers 429.
FAILURES_PER_ADDRESS = 20
# Attacks on the per-address limit come from loopback addresses of their own (Linux routes all of 127/8 to lo), so
# exhausting them never locks the other tests, which sign in from 127.0.0.1, out of the shared hub.
ROTATING_CLIENT = "127.0.0.21"
UNTRUSTED_CLIENT = "127.0.0.22"


# --- raw HTTP: a client that sends a head and part of a body, then reads the answer (httpx would send it all) ---


@dataclass(frozen=True)
class RawAnswer:
    """A status, headers and body read from the socket."""

    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(
    base_url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body_parts: Iterable[bytes] = (),
    tls: ssl.SSLContext | None = None,
) -> RawAnswer:
    """Send a request head and ``body_parts`` (not necessarily the whole declared body); return the answer."""
    address = urlsplit(base_url)
    assert address.hostname is not None
    assert address.port is not None
    connection = socket.create_connection((address.hostname, address.port), timeout=60)
    if tls is not None:
        connection = tls.wrap_socket(connection, server_hostname=address.hostname)
    with connection:
        head = f"{method} {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        connection.sendall(head.encode("latin-1"))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for part in body_parts:
                connection.sendall(part)
        answer = http.client.HTTPResponse(connection, method=method)  # type: ignore[arg-type]
        answer.begin()
        return RawAnswer(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())


def hub_memory(hub: ServedHub) -> tuple[int, int]:
    """Return the hub process's resident memory now and its peak (kB, from /proc)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{hub.process.pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def client_from(base_url: str, source: str, **options: Any) -> httpx.Client:
    """Return a client whose connections come from the loopback address ``source``."""
    transport = httpx.HTTPTransport(local_address=source, verify=options.pop("verify", True))
    return httpx.Client(base_url=base_url, transport=transport, timeout=60, **options)


# --- Broken 6: ranges ---


def test_a_range_with_a_5000_digit_number_answers_416_not_500(owner: Caller, front_event: dict[str, Any]) -> None:
    """Broken 6: `Range: bytes=<5000 digits>-` answered 500 (Python refuses int() of more than 4300 digits)."""
    clip = front_event["clips"][0]["url"]
    huge = "9" * 5000
    whole = owner.get(clip)
    assert whole.status_code == 200
    size = len(whole.content)

    past_the_end = owner.get(clip, headers={"Range": f"bytes={huge}-"})
    assert past_the_end.status_code == 416, past_the_end.text
    assert past_the_end.headers["content-range"] == f"bytes */{size}"
    for to_the_end in (f"bytes=0-{huge}", f"bytes=-{huge}"):
        answer = owner.get(clip, headers={"Range": to_the_end})
        assert answer.status_code == 206, answer.text
        assert answer.headers["content-range"] == f"bytes 0-{size - 1}/{size}"
        assert answer.content == whole.content
    padded = owner.get(clip, headers={"Range": f"bytes={'0' * 5000}4-7"})
    assert padded.status_code == 206
    assert padded.content == whole.content[4:8]
    # Not a valid range (last before first, several ranges): ignored, the whole clip is served (RFC 9110 14.2).
    for ignored in ("bytes=9-4", "bytes=0-1,4-5", f"bytes=0x{huge}-"):
        answer = owner.get(clip, headers={"Range": ignored})
        assert answer.status_code == 200
        assert len(answer.content) == size
    snapshot = owner.get(front_event["snapshot_url"], headers={"Range": f"bytes={huge}-{huge}"})
    assert snapshot.status_code == 416


# --- Weak: no limit on request bodies ---


def test_an_anonymous_100_mb_sign_in_is_refused_before_it_is_read(hub: ServedHub) -> None:
    """Weak: an anonymous 100 MB JSON sign-in was read whole (+465 MB of memory). Now 413 on its Content-Length."""
    before = hub_memory(hub)
    answer = raw_request(
        hub.base_url,
        "POST",
        "/api/auth/login",
        {"Content-Type": "application/json", "Content-Length": str(100 * MB)},
        # Only the first 64 KiB go out: the answer comes before the rest of the body is sent, so it was never read.
        [b'{"username": "' + b"a" * JSON_LIMIT],
    )
    after = hub_memory(hub)
    assert answer.status == 413, answer.body
    assert b"at most 65536 bytes" in answer.body
    assert answer.headers["connection"] == "close"
    print(
        f"\nhub memory around the 100 MB sign-in: VmRSS {before[0]} -> {after[0]} kB, peak {before[1]} -> {after[1]} kB"
    )


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(hub: ServedHub) -> None:
    """Weak: a body without Content-Length (chunked) is counted as it arrives and refused once past the limit."""
    piece = b"a" * 16 * 1024
    chunks = [b'5\r\n{"a":\r\n'] + [f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for _ in range(5)]
    # 80 KiB sent and no final chunk: the hub answers without waiting for a body that never ends.
    answer = raw_request(
        hub.base_url,
        "POST",
        "/api/auth/login",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        chunks,
    )
    assert answer.status == 413, answer.body


def test_an_anonymous_200_mb_upload_is_refused_before_sign_in_is_checked(hub: ServedHub) -> None:
    """Weak: an anonymous 200 MB upload was read before the 401. Now 413 before anything reads it."""
    boundary = "attackboundary"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    answer = raw_request(
        hub.base_url,
        "POST",
        "/api/faces",
        {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(200 * MB)},
        [start + b"\xff" * MB],
    )
    assert answer.status == 413, answer.body
    # A small anonymous upload still reaches the sign-in check: the 413 above is about size, not a blanket refusal.
    with hub.anonymous() as anonymous:
        small = anonymous.post(
            "/api/faces", data={"name": "x"}, files=[("photos", ("a.jpg", b"\xff\xd8", "image/jpeg"))]
        )
    assert small.status_code == 401


def test_a_20_mb_body_is_not_echoed_and_a_422_names_fields_without_their_values(hub: ServedHub) -> None:
    """Weak: a 20 MB body came back echoed in the 422. Now it is refused unread, and no 422 repeats the input."""
    marker = "ECHO-ME-" * 8
    big = raw_request(
        hub.base_url,
        "POST",
        "/api/auth/login",
        {"Content-Type": "application/json", "Content-Length": str(20 * MB)},
        [f'{{"username": 1, "password": "{marker}'.encode() + b"x" * MB],
    )
    assert big.status == 413
    assert marker.encode() not in big.body
    with hub.anonymous() as anonymous:
        invalid = anonymous.post("/api/auth/login", json={"username": ["not a name"], "password": marker * 100})
    assert invalid.status_code == 422, invalid.text
    assert marker not in invalid.text
    assert "not a name" not in invalid.text
    errors = invalid.json()["detail"]
    assert [error["loc"] for error in errors] == [["body", "username"], ["body", "password"]]
    assert all("input" not in error and error["msg"] for error in errors)


# --- Weak: image dimensions checked before decoding ---


def blank_png(width: int, height: int) -> bytes:
    """Return a valid PNG of black RGB pixels, tiny on disk and huge once decoded (the attack's photo).

    Rows are compressed once in a block ended by a full flush and the block repeated: deflate allows it, and it
    takes a second instead of the twenty a straight compression of 768 MB of zeros takes.
    """

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = bytes(1 + 3 * width)  # filter byte 0, then black pixels
    rows_per_block = 100
    assert height % rows_per_block == 0
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(row * rows_per_block) + deflate.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(height):
        checksum = zlib.adler32(row, checksum)
    # zlib header, the repeated blocks, an empty final block, the Adler-32 of all rows.
    pixels = b"\x78\xda" + block * (height // rows_per_block) + b"\x03\x00" + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def small_png() -> bytes:
    """Return a small valid photo."""
    ok, data = cv2.imencode(".png", np.full((48, 64, 3), 200, np.uint8))
    assert ok
    return bytes(data.tobytes())


def test_a_png_declaring_16000x16000_pixels_is_refused_before_it_is_decoded(hub: ServedHub, owner: Caller) -> None:
    """Weak: a 729 KB PNG declaring 16000x16000 pixels was decoded (about 1 GB of memory), 20 per request."""
    giant = blank_png(16000, 16000)
    assert len(giant) < MB  # under every byte limit: only its declared size can refuse it
    before = hub_memory(hub)
    answer = owner.post("/api/faces", data={"name": "giant"}, files=[("photos", ("giant.png", giant, "image/png"))] * 3)
    after = hub_memory(hub)
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == "giant.png: 16000x16000 pixels is more than 40 megapixels; use a smaller photo"
    assert "giant" not in {member["name"] for member in owner.get("/api/faces").json()}
    print(
        f"\n{len(giant)} byte PNG of 16000x16000 pixels, 3 in one upload: hub VmRSS {before[0]} -> {after[0]} kB, "
        f"peak {before[1]} -> {after[1]} kB"
    )


def test_an_upload_holds_at_most_10_photos_of_at_most_15_mb(owner: Caller) -> None:
    """Weak: up to 20 photos per request; now the config's max_photos (10) and max_photo_bytes (15 MiB)."""
    photo = small_png()
    many = owner.post(
        "/api/faces", data={"name": "many"}, files=[("photos", (f"{n}.png", photo, "image/png")) for n in range(11)]
    )
    assert many.status_code == 422, many.text
    assert many.json()["detail"] == "send 1 to 10 photos"
    heavy = photo + bytes(16 * MB)  # a valid PNG header, then more bytes than one photo may hold
    too_heavy = owner.post("/api/faces", data={"name": "heavy"}, files=[("photos", ("heavy.png", heavy, "image/png"))])
    assert too_heavy.status_code == 413, too_heavy.text
    assert too_heavy.json()["detail"] == f"heavy.png: larger than {15 * MB} bytes"


# --- Weak: the API schema and a Swagger page from a CDN for anyone ---


def test_the_api_schema_and_its_page_are_for_owners_only(hub: ServedHub, owner: Caller, member: Caller) -> None:
    """Weak: anonymous callers got the OpenAPI schema (every route) and a Swagger page from a CDN."""
    with hub.anonymous() as anonymous:
        for path in ("/api/openapi.json", "/api/docs", "/api/redoc", "/docs", "/openapi.json"):
            assert anonymous.get(path).status_code in (401, 404), path
        assert anonymous.get("/api/openapi.json").status_code == 401
    for person in (member,):
        assert person.get("/api/openapi.json").status_code == 404
        assert person.get("/api/docs").status_code == 404
    token = hub.new_token(owner, ["events:read", "media:read", "arming:write"])
    with hub.anonymous() as integration:
        by_token = integration.get("/api/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 403
    for person in (owner,):
        schema = person.get("/api/openapi.json")
        assert schema.status_code == 200
        assert "/api/donations/{donation_id}" in schema.json()["paths"]
        assert "/api/openapi.json" not in schema.json()["paths"]
        page = person.get("/api/docs")
        assert page.status_code == 200
        assert "/api/donations/{donation_id}" in page.text
        # The messages' JSON data block is never run by a browser; every other script is a file of the hub's own.
        scripts = [tag for tag in re.findall(r"<script[^>]*>", page.text) if 'type="application/json"' not in tag]
        assert scripts, page.text[:500]
        assert all(re.search(r'src="/static/[\w-]+\.js"', script) for script in scripts), scripts
        assert "script-src 'self';" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


# --- Weak: X-Forwarded-For trusted from 127.0.0.1 ---


def fail_sign_ins(client: httpx.Client, count: int, forwarded_for: Iterator[str], prefix: str) -> list[int]:
    """Send ``count`` wrong sign-ins for made-up names (so only the address limit can apply); return the statuses."""
    return [
        client.post(
            "/api/auth/login",
            json={"username": f"{prefix}{n}", "password": "wrong password"},
            headers={"X-Forwarded-For": next(forwarded_for)},
        ).status_code
        for n in range(count)
    ]


def rotating_addresses() -> Iterator[str]:
    """Yield a new documentation address for every request."""
    for host in ipaddress.ip_network("198.51.100.0/24").hosts():
        yield str(host)
    raise AssertionError("out of addresses")


def test_a_local_client_rotating_x_forwarded_for_still_hits_the_per_address_limit(hub: ServedHub) -> None:
    """Weak: X-Forwarded-For was believed from 127.0.0.1, so a local client rotated it past the per-address limit."""
    with client_from(hub.base_url, ROTATING_CLIENT) as client:
        statuses = fail_sign_ins(client, FAILURES_PER_ADDRESS + 1, rotating_addresses(), "rotator")
    assert statuses == [401] * FAILURES_PER_ADDRESS + [429]


# --- the second hub: HTTPS, a trusted proxy, started under umask 022 ---


@dataclass
class TlsHub:
    """A hub served over HTTPS that trusts 127.0.0.1 as its reverse proxy, its owner, and the client's TLS context."""

    hub: ServedHub
    owner: Caller
    tls: ssl.SSLContext


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1 and its key; return their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "homewarden test hub")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "hub.crt", folder / "hub.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block (and the processes it starts) under ``mask``."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(scope="module")
def proxied_tls_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsHub]:
    """Serve a second hub over HTTPS with `server.trusted_proxies: [127.0.0.1]`, started as under a default umask."""
    folder = tmp_path_factory.mktemp("tls-hub")
    certfile, keyfile = self_signed_certificate(folder)
    tls = ssl.create_default_context(cafile=str(certfile))
    # 022 is the usual default umask: files would be created readable by every user of the machine.
    with umask(0o022):
        served, token = start_served_hub(
            folder,
            ["--certfile", str(certfile), "--keyfile", str(keyfile)],
            "server:\n  trusted_proxies: [127.0.0.1]\n",
        )
    try:
        assert served.base_url.startswith("https://")
        owner = served.caller(*OWNER)
        owner.client.close()
        owner.client = httpx.Client(base_url=served.base_url, timeout=60, follow_redirects=False, verify=tls)
        done = owner.client.post(
            "/api/setup", json={"token": token, "username": owner.username, "password": owner.password}
        )
        assert done.status_code == 200, done.text
        owner.adopt_session(done)
        yield TlsHub(served, owner, tls)
    finally:
        code = stop_served_hub(served)
    assert code == 0, served.log_text()


def test_a_trusted_proxys_forwarded_address_is_believed_and_nobody_elses(proxied_tls_hub: TlsHub) -> None:
    """Weak: X-Forwarded-For came from anyone local. Now from `server.trusted_proxies` only, and there it counts."""
    base = proxied_tls_hub.hub.base_url
    with client_from(base, "127.0.0.1", verify=proxied_tls_hub.tls) as proxy:
        # The proxy forwards one client's failures: that client, not the proxy, reaches the limit.
        same_client = iter(["203.0.113.7"] * (FAILURES_PER_ADDRESS + 1))
        assert fail_sign_ins(proxy, FAILURES_PER_ADDRESS + 1, same_client, "guesser") == [401] * 20 + [429]
        assert fail_sign_ins(proxy, 1, iter(["203.0.113.8"]), "neighbour") == [401]
    with client_from(base, UNTRUSTED_CLIENT, verify=proxied_tls_hub.tls) as untrusted:
        statuses = fail_sign_ins(untrusted, FAILURES_PER_ADDRESS + 1, rotating_addresses(), "rotator")
    assert statuses == [401] * FAILURES_PER_ADDRESS + [429]


def test_https_answers_carry_hsts_and_plain_http_ones_do_not(proxied_tls_hub: TlsHub, hub: ServedHub) -> None:
    """Weak: no HSTS when serving HTTPS."""
    for path in ("/api/me", "/login", "/static/app.css"):
        answer = proxied_tls_hub.owner.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["strict-transport-security"] == "max-age=63072000", path
    with hub.anonymous() as plain:
        assert "strict-transport-security" not in plain.get("/login").headers


def test_api_answers_and_pages_are_never_cached_but_static_files_may_be(
    hub: ServedHub, owner: Caller, front_event: dict[str, Any]
) -> None:
    """Weak: API JSON and HTML pages carried no Cache-Control, so a shared or disk cache could keep them."""
    for path in ("/api/me", "/api/events", f"/api/events/{front_event['id']}", "/", "/live", "/account"):
        answer = owner.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store", path
    with hub.anonymous() as anonymous:
        assert anonymous.get("/login").headers["cache-control"] == "no-store"
        assert anonymous.get("/api/events").headers["cache-control"] == "no-store"
        assert "no-store" not in anonymous.get("/static/app.js").headers.get("cache-control", "")
    for media in (front_event["clips"][0]["url"], front_event["snapshot_url"]):
        assert owner.get(media).headers["cache-control"] == "private, no-store"


@pytest.mark.slow
def test_every_file_the_hub_creates_is_private_whatever_the_umask(proxied_tls_hub: TlsHub) -> None:
    """Weak: the database (and its -wal/-shm) was created 0644. Now every file is 0600, every folder 0700."""
    owner = proxied_tls_hub.owner
    wait_for_events(owner, FRONT)  # footage, snapshots, the event rows: everything a running hub writes
    assert owner.get("/api/push/key").status_code == 200  # the push key pair is made on first use
    storage = proxied_tls_hub.hub.storage
    found = {storage: stat.S_IMODE(storage.stat().st_mode)}
    for path in storage.rglob("*"):
        with contextlib.suppress(FileNotFoundError):  # a write in progress may be renamed under us
            found[path] = stat.S_IMODE(path.lstat().st_mode)
    names = {path.name for path in found}
    assert {"homewarden.db", "homewarden.db-wal", "homewarden.db-shm", "hub-status.json", "home-key.json"} <= names, (
        sorted(names)
    )
    assert len(found) > 10
    loose = {
        str(path.relative_to(storage.parent)): oct(mode)
        for path, mode in found.items()
        if mode != (0o700 if path.is_dir() else 0o600)
    }
    assert not loose, loose
