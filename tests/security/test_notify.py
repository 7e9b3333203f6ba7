"""Attacks on notifications and on the audit of live views, replayed over HTTP against the real `serve` process.

Push services are on the internet, which this machine does not reach, so no attack here ends in a real push service:
refusals are checked at the hub's door, and the one about delivery (a bad subscription must not stop the ones after
it) runs against a local HTTPS stand-in in tests/notify/test_push.py
(`test_a_browser_that_cannot_be_reached_or_encrypted_to_does_not_keep_the_alarm_from_the_others`). Webhook receivers
are servers of the test's own on 127.0.0.1; nothing here sends to any other address (a home-network URL is made and
deleted at once, for a kind of message the hub never sends in these tests).
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from security.conftest import FRONT, OWNER, Caller, ServedHub, start_served_hub, stop_served_hub

# Not a deadline anyone waits for in a passing run: how long a stuck hub gets before the test says so.
DEADLINE = 60.0
NEVER_SENT = ["storage_problem"]  # the hub sends this only when its disk fills up


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _browser_keys() -> dict[str, str]:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": _b64url(point), "auth": _b64url(os.urandom(16))}


def _push_endpoint() -> str:
    # A public push service's form; this machine cannot resolve it, and subscribing never sends anything.
    return f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}"


def _wait(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what} within {DEADLINE} s")


# Broken 2: push subscriptions


def test_broken_2_a_key_of_the_right_length_that_is_no_p256_point_is_refused(hub: ServedHub) -> None:
    """Broken 2: a member subscribed a p256dh of 65 bytes starting with 4 that is not on P-256; at alarm time its
    error ended the delivery loop and later subscribers of the camera got nothing. It is refused at the door now."""
    member = hub.new_member([FRONT])
    good = _browser_keys()
    bogus = {"p256dh": _b64url(b"\x04" + b"\x01" * 64), "auth": good["auth"]}

    refused = member.post("/api/push/subscriptions", json={"endpoint": _push_endpoint(), "keys": bogus})

    assert refused.status_code == 400, refused.text
    assert "P-256" in refused.json()["detail"]
    short_auth = {"p256dh": good["p256dh"], "auth": _b64url(os.urandom(8))}
    answer = member.post("/api/push/subscriptions", json={"endpoint": _push_endpoint(), "keys": short_auth})
    assert answer.status_code == 400, answer.text
    assert "keys.auth" in answer.json()["detail"]
    accepted = member.post("/api/push/subscriptions", json={"endpoint": _push_endpoint(), "keys": good})
    assert accepted.status_code == 201, accepted.text


def test_weak_push_endpoints_must_be_public_https_hosts(hub: ServedHub) -> None:
    """Weak: push targets could be loopback or link-local addresses, so an alarm made the hub post to itself."""
    member = hub.new_member([FRONT])
    keys = _browser_keys()
    plain = member.post("/api/push/subscriptions", json={"endpoint": "http://fcm.googleapis.com/x", "keys": keys})
    assert plain.status_code == 422, plain.text
    for endpoint in (
        "https://127.0.0.1:8443/push",
        "https://[::1]/push",
        "https://[::ffff:127.0.0.1]/push",
        "https://2130706433/push",  # 127.0.0.1 as one number
        "https://0x7f.1/push",
        "https://0.0.0.0/push",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/push",
        "https://10.1.2.3/push",
        "https://192.168.0.10/push",
        "https://localhost/push",
        "https://push.localhost/push",
        "https://router.lan/push",
        "https://pushservice/push",
    ):
        answer = member.post("/api/push/subscriptions", json={"endpoint": endpoint, "keys": keys})
        assert answer.status_code == 400, (endpoint, answer.text)
        assert "push endpoint" in answer.json()["detail"], endpoint


# Weak: webhooks


@dataclass
class Receiver:
    """A local HTTP server standing in for a webhook endpoint: counts requests, answers ``status`` with a body."""

    url: str = ""
    status: int = 200
    body: bytes = b""
    requests: list[bytes] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Yield a running receiver on 127.0.0.1."""
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            found.requests.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(found.status)
            self.send_header("Content-Length", str(len(found.body)))
            self.end_headers()
            self.wfile.write(found.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def banner_service() -> Iterator[str]:
    """Yield the address of a TCP service that greets with a secret banner, as an SSH or database server does."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                # Read what the hub sends, then answer as the service would: with its banner, and hang up.
                connection.settimeout(5)
                with contextlib.suppress(OSError):
                    connection.recv(65536)
                connection.sendall(b"SSH-2.0-OpenSSH_9.6 banner-secret-7f3a\r\n")
                connection.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _store_url_directly(hub: ServedHub, webhook_id: int, url: str) -> None:
    """Point a webhook elsewhere behind the API's back: a row from before the checks, or a name that now resolves
    to this machine (DNS rebinding) are the same thing to the dispatcher."""
    with sqlite3.connect(hub.storage / "homewarden.db") as database:
        database.execute("UPDATE webhook SET url = ? WHERE id = ?", (url, webhook_id))


def _deliveries(owner: Caller, webhook_id: int) -> list[dict[str, Any]]:
    answer = owner.get(f"/api/webhooks/{webhook_id}/deliveries")
    assert answer.status_code == 200, answer.text
    deliveries: list[dict[str, Any]] = answer.json()
    return deliveries


def _tested(owner: Caller, webhook_id: int) -> dict[str, Any]:
    """Send the webhook a test message and wait for its first attempt; return the delivery."""
    queued = owner.post(f"/api/webhooks/{webhook_id}/test")
    assert queued.status_code == 202, queued.text
    delivery_id = queued.json()["id"]

    def attempted() -> dict[str, Any] | None:
        return next((d for d in _deliveries(owner, webhook_id) if d["id"] == delivery_id and d["attempts"]), None)

    found: dict[str, Any] = _wait(attempted, "no attempt of the test delivery")
    return found


def test_weak_webhooks_may_not_reach_this_machine_or_link_local_but_may_reach_the_home_network(
    owner: Caller,
) -> None:
    """Weak: webhook targets could be loopback or link-local, turning the hub into a scanner of its own machine."""
    for url in (
        "http://127.0.0.1:8123/api/webhook/x",
        "http://127.1:22/",
        "http://[::1]:5432/",
        "http://0.0.0.0:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://localhost:1883/",
        "http://2130706433/",
    ):
        refused = owner.post("/api/webhooks", json={"url": url, "events": NEVER_SENT})
        assert refused.status_code == 400, (url, refused.text)
        assert "notify.webhooks.allow_loopback" in refused.json()["detail"], url
    home = owner.post("/api/webhooks", json={"url": "http://192.168.1.20:8123/api/webhook/x", "events": NEVER_SENT})
    assert home.status_code == 201, home.text
    assert owner.delete(f"/api/webhooks/{home.json()['id']}").status_code == 200


def test_weak_a_webhook_pointed_at_this_machine_after_it_was_made_is_refused_at_delivery(
    hub: ServedHub, owner: Caller, receiver: Receiver
) -> None:
    """Weak: the address was never checked when sending, so a name re-pointed at 127.0.0.1 (DNS rebinding) or a URL
    stored before the checks reached the hub's own services. Every delivery checks the address it connects to."""
    made = owner.post("/api/webhooks", json={"url": "https://automation.example.org/hook", "events": NEVER_SENT})
    assert made.status_code == 201, made.text
    webhook_id = made.json()["id"]
    _store_url_directly(hub, webhook_id, receiver.url)
    try:
        delivery = _tested(owner, webhook_id)
    finally:
        owner.delete(f"/api/webhooks/{webhook_id}")
    assert receiver.requests == []
    assert delivery["state"] == "failed", delivery
    assert delivery["status_code"] is None
    assert delivery["error"].startswith("refused: a webhook URL may not reach this machine (127.0.0.1)")


def test_weak_webhook_credentials_are_masked_in_the_list_and_the_hub_log(hub: ServedHub, owner: Caller) -> None:
    """Weak: webhook URLs with credentials were logged (and listed) in full."""
    secret_url = (
        "https://hook-user:hunter2-pass@automation.example.org/api/webhook/Zx81kQ3mPq7Lr2Vb9?api_key=k3y-s3cr3t"
    )
    made = owner.post("/api/webhooks", json={"url": secret_url, "events": NEVER_SENT})
    assert made.status_code == 201, made.text
    webhook_id = made.json()["id"]
    try:
        shown = next(hook["url"] for hook in owner.get("/api/webhooks").json() if hook["id"] == webhook_id)
        assert shown == "https://hook-user:***@automation.example.org/api/webhook/***?api_key=***"
        # Refused at delivery (it now points at this machine): the hub logs the failure, naming the URL.
        _store_url_directly(hub, webhook_id, "http://hook-user:hunter2-pass@127.0.0.1:9/hook?token=t0k3n-s3cr3t")
        assert _tested(owner, webhook_id)["state"] == "failed"
        _wait(lambda: "http://hook-user:***@127.0.0.1:9/hook?token=***" in hub.log_text(), "no log line of it")
    finally:
        owner.delete(f"/api/webhooks/{webhook_id}")
    logged = hub.log_text()
    for secret in ("hunter2-pass", "k3y-s3cr3t", "t0k3n-s3cr3t", "Zx81kQ3mPq7Lr2Vb9"):
        assert secret not in logged, secret


@pytest.fixture(scope="module")
def loopback_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedHub, Caller]]:
    """Serve a second hub whose config lets webhooks reach this machine (notify.webhooks.allow_loopback)."""
    served, token = start_served_hub(
        tmp_path_factory.mktemp("loopback-hub"),
        extra_config="notify:\n  webhooks:\n    allow_loopback: true\n",
    )
    try:
        owner = served.caller(*OWNER)
        done = owner.client.post(
            "/api/setup", json={"token": token, "username": owner.username, "password": owner.password}
        )
        assert done.status_code == 200, done.text
        owner.adopt_session(done)
        yield served, owner
    finally:
        code = stop_served_hub(served)
    assert code == 0, served.log_text()


@pytest.mark.slow
def test_weak_the_delivery_log_keeps_the_status_never_the_answer(
    loopback_hub: tuple[ServedHub, Caller], receiver: Receiver, banner_service: str
) -> None:
    """Weak: the delivery log showed enough of the answer to scan ports and read services' banners. With loopback
    allowed by the owner's config, deliveries arrive, and the log holds a status and a few words, never the answer."""
    served, owner = loopback_hub
    receiver.status, receiver.body = 500, b"internal-secret-of-the-receiver"
    hook = owner.post("/api/webhooks", json={"url": receiver.url, "events": NEVER_SENT})
    assert hook.status_code == 201, hook.text
    banner = owner.post("/api/webhooks", json={"url": banner_service, "events": NEVER_SENT})
    assert banner.status_code == 201, banner.text

    failed = _tested(owner, hook.json()["id"])
    scanned = _tested(owner, banner.json()["id"])

    assert receiver.requests, "allowed by the config, the delivery reaches this machine (a 500 is tried again)"
    assert (failed["status_code"], failed["history"][0]["error"]) == (500, None)
    assert scanned["status_code"] is None
    assert scanned["history"][0]["error"] == "not an HTTP answer"
    pages = owner.get(f"/api/webhooks/{hook.json()['id']}/deliveries").text
    pages += owner.get(f"/api/webhooks/{banner.json()['id']}/deliveries").text
    for secret in ("internal-secret", "banner-secret", "OpenSSH"):
        assert secret not in pages
        assert secret not in served.log_text()
    receiver.status, receiver.body = 200, b""
    delivered = _tested(owner, hook.json()["id"])
    assert delivered["state"] == "delivered"


# Broken 3: live snapshots in the audit log


def test_broken_3_a_members_live_snapshots_are_in_the_owners_access_log_once_a_minute(
    hub: ServedHub, owner: Caller
) -> None:
    """Broken 3: live snapshots were never written to the audit log, though every access to footage is promised to
    be. Now each person's view of a camera is, once per minute, so the live page's refreshes bury nothing."""
    member = hub.new_member([FRONT])

    def snapshot() -> bool:
        answer = member.get(f"/api/cameras/{FRONT}/snapshot.jpg")
        assert answer.status_code in (200, 503), answer.text  # 503: the camera has sent no frame yet
        return answer.status_code == 200 and answer.content.startswith(b"\xff\xd8")

    _wait(snapshot, "no live snapshot of the front door")
    for _ in range(4):  # the live page refreshing
        assert snapshot()

    log = owner.get("/api/privacy/access-log", params={"limit": 1000})
    assert log.status_code == 200, log.text
    views = [entry for entry in log.json() if entry["actor"] == member.username]
    assert [(v["action"], v["object"], v["outcome"], v["detail"]) for v in views] == [
        ("view_live", f"camera:{FRONT}", "ok", "snapshot")
    ]
