"""Web push to a local HTTPS server standing in for the browsers' push service, decrypted with a browser's key.

Push services (FCM, Mozilla autopush, Apple) are on the internet, which this machine does not reach. The stand-in (on
127.0.0.1, with a certificate of the test's own authority, so the notifier is told to allow this machine and to trust
that authority; everything else is as the hub sends) receives exactly what a push service would: an RFC 8291 aes128gcm
body and an RFC 8292 VAPID Authorization header. The test checks the token's signature against the hub's key and
decrypts the body with the private key of a browser-like subscription (P-256 ECDH, as a browser makes one). The service
worker's side runs in a browser only; headless Chromium has no push service, so it is not tested end to end.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import socket
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from homewarden.accounts.store import AccountStore
from homewarden.events.record import EventRecord
from homewarden.notify.bus import (
    CameraOffline,
    CameraStatusChanged,
    DoorbellPressed,
    EventEnded,
    EventUpdated,
    HubBus,
    MotionChanged,
)
from homewarden.notify.destinations import PUSH_ENDPOINTS
from homewarden.notify.push import PushNotifier, PushSubscriptions, VapidKeys
from homewarden.store.database import EventStore
from local_tls import LocalTls, local_tls

PASSWORD = "a password for push tests"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Pushed:
    """One request the stand-in push service got."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class PushService:
    """A local HTTP server in the place of a push service: records every message, answers 201 (410 for ``gone``)."""

    origin: str
    tls: LocalTls
    received: list[Pushed] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Pushed]:
        """Wait until ``count`` messages arrived; return them."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    """Yield a running stand-in push service."""
    service = PushService(origin="", tls=local_tls())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(410 if self.path in service.gone else 201)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with service.arrived:
                service.received.append(Pushed(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                service.arrived.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = service.tls.server.wrap_socket(server.socket, server_side=True)
    service.origin = f"https://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Browser:
    """A browser's push subscription: its endpoint, its ECDH key pair and its auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        """Return the public key as the browser hands it over."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(point)

    def decrypt(self, pushed: Pushed) -> dict[str, Any]:
        """Decrypt a message as the browser does."""
        plain = http_ece.decrypt(pushed.body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")
        message: dict[str, Any] = json.loads(plain)
        return message


@dataclass
class Household:
    """Home A (olivia, owner; max, member for the garden) and home B (bob), each with a subscribed browser."""

    accounts: AccountStore
    subscriptions: PushSubscriptions
    keys: VapidKeys
    browsers: dict[str, Browser]
    user_ids: dict[str, int]
    service: PushService


@pytest.fixture
def household(tmp_path: Path, push_service: PushService) -> Iterator[Household]:
    """Yield the homes, their users and one subscribed browser each, on a fresh database."""
    store = EventStore.open(f"sqlite:///{tmp_path / 'hub.db'}")
    accounts = AccountStore(store.engine)
    subscriptions = PushSubscriptions(store.engine)
    home_a = accounts.create_home("A", ["front_door", "garden"])
    home_b = accounts.create_home("B", ["shed"])
    users = {
        "olivia": accounts.create_user("olivia", PASSWORD, "owner", home_a),
        "max": accounts.create_user("max", PASSWORD, "member", home_a, ["garden"]),
        "bob": accounts.create_user("bob", PASSWORD, "owner", home_b),
    }
    browsers = {}
    for name, user in users.items():
        browser = Browser(f"{push_service.origin}/push/{name}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        subscriptions.subscribe(user.id, browser.endpoint, browser.p256dh, _b64url(browser.auth))
        browsers[name] = browser
    try:
        yield Household(
            accounts,
            subscriptions,
            VapidKeys.in_folder(tmp_path / "storage"),
            browsers,
            {name: user.id for name, user in users.items()},
            push_service,
        )
    finally:
        store.close()


def _notifier(household: Household, min_interval: float = 0.0) -> PushNotifier:
    """Return a notifier to the stand-in push service; by default without the per-camera limit."""
    return PushNotifier(
        household.subscriptions,
        household.accounts,
        household.keys,
        contact="mailto:owner@example.org",
        destinations=dataclasses.replace(PUSH_ENDPOINTS, loopback=True),  # the stand-in is on this machine
        tls=household.service.tls.client,
        # The garden camera has a display name in the config; the others are shown by their ids in words.
        camera_names={"garden": "Back garden"},
        min_interval=min_interval,
    )


def _check_vapid(pushed: PushService, request: Pushed, keys: VapidKeys) -> dict[str, Any]:
    """Check the VAPID Authorization header as a push service does; return the token's claims."""
    scheme, _, params = request.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == keys.application_server_key
    header, claims, signature = fields["t"].split(".")
    assert json.loads(_unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64url(fields["k"]))
    raw = _unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    decoded: dict[str, Any] = json.loads(_unb64url(claims))
    assert decoded["aud"] == pushed.origin
    assert time.time() < decoded["exp"] <= time.time() + 24 * 3600
    assert decoded["sub"] == "mailto:owner@example.org"
    return decoded


def _alarm(camera: str, event_id: str) -> EventUpdated:
    return EventUpdated(camera, event_id, "person", "stranger", True, "stranger", time.time())


def test_an_alarm_reaches_the_browsers_of_who_may_watch_the_camera_encrypted_and_signed(
    household: Household, push_service: PushService
) -> None:
    event_id = str(uuid.uuid4())

    sent = _notifier(household).notify(_alarm("front_door", event_id))

    assert sent == 1  # olivia watches every camera of home A; max only the garden; bob is another home
    [request] = push_service.wait_for(1)
    assert request.path == "/push/olivia"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    _check_vapid(push_service, request, household.keys)
    assert event_id.encode() not in request.body, "the push service must not read the message"
    message = household.browsers["olivia"].decrypt(request)
    assert message["title"] == "Alarm"
    assert message["url"] == f"/events/{event_id}"
    assert message["snapshot"] == f"/api/events/{event_id}/snapshot.jpg"
    assert message["body"] == "Unfamiliar person at the front door"
    with pytest.raises(Exception):  # noqa: B017, PT011  (http_ece raises a bare error for a wrong key)
        household.browsers["max"].decrypt(request)


def test_a_doorbell_press_reaches_every_browser_of_the_home_that_may_watch_the_garden(
    household: Household, push_service: PushService
) -> None:
    event_id = str(uuid.uuid4())
    press = DoorbellPressed("garden", event_id, time.time(), "stranger", snapshot_jpeg=b"\xff\xd8 not for the push")

    assert _notifier(household).notify(press) == 2

    received = push_service.wait_for(2)
    assert sorted(request.path for request in received) == ["/push/max", "/push/olivia"]
    for request in received:
        name = request.path.rsplit("/", 1)[1]
        message = household.browsers[name].decrypt(request)
        assert message == {
            "title": "Doorbell",
            "body": "Unfamiliar person in the back garden",
            "url": f"/events/{event_id}",
            "snapshot": f"/api/events/{event_id}/snapshot.jpg",
            "tag": event_id,
        }


def test_an_alarm_is_told_once_and_ordinary_events_not_at_all(household: Household, push_service: PushService) -> None:
    notifier = _notifier(household)
    event_id = str(uuid.uuid4())
    start = time.time() - 10
    ended = EventRecord(
        id=event_id, camera="shed", label="person", score=0.9, start=start, end=start + 5, live=True,
        box=(1, 2, 3, 4), snapshot=None, alarm=True, alarm_reason="stranger",
    )  # fmt: skip
    quiet = EventUpdated("shed", str(uuid.uuid4()), "cat", None, False, None, time.time())

    counts = [notifier.notify(m) for m in (_alarm("shed", event_id), EventEnded(ended), quiet)]
    counts.append(notifier.notify(MotionChanged("shed", True, time.time())))

    assert counts == [1, 0, 0, 0]
    assert [request.path for request in push_service.wait_for(1)] == ["/push/bob"]


def test_a_subscription_the_push_service_no_longer_knows_is_forgotten(
    household: Household, push_service: PushService
) -> None:
    push_service.gone.add("/push/max")
    notifier = _notifier(household)

    assert notifier.notify(DoorbellPressed("garden", str(uuid.uuid4()), time.time(), None, None)) == 1

    ids = household.user_ids
    assert household.subscriptions.of_users([ids["max"]]) == []
    assert [s.endpoint for s in household.subscriptions.of_users([ids["olivia"]])] == [
        household.browsers["olivia"].endpoint
    ]


def test_the_notifier_sends_from_its_own_thread_off_the_bus(household: Household, push_service: PushService) -> None:
    notifier = _notifier(household)
    bus = HubBus()
    bus.subscribe("push", notifier)
    notifier.start()
    bus.start()
    try:
        bus.publish(_alarm("garden", str(uuid.uuid4())))
        requests = push_service.wait_for(2)  # olivia and max both watch the garden
    finally:
        bus.stop()
        notifier.stop()
    assert all(
        household.browsers[r.path.rsplit("/", 1)[1]].decrypt(r)["body"] == "Unfamiliar person in the back garden"
        for r in requests
    )
    assert len(push_service.received) == 2


def test_the_vapid_key_is_made_once_private_to_the_hub_and_kept(tmp_path: Path) -> None:
    first = VapidKeys.in_folder(tmp_path)
    path = tmp_path / "push" / "vapid-private.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert VapidKeys.in_folder(tmp_path).application_server_key == first.application_server_key
    point = _unb64url(first.application_server_key)
    assert len(point) == 65
    assert point[0] == 4


def test_a_browser_subscribed_by_someone_else_moves_to_who_signed_in_now(household: Household) -> None:
    ids, olivia = household.user_ids, household.browsers["olivia"]
    household.subscriptions.subscribe(ids["max"], olivia.endpoint, olivia.p256dh, _b64url(olivia.auth))
    assert {s.endpoint for s in household.subscriptions.of_users([ids["max"]])} == {
        olivia.endpoint,
        household.browsers["max"].endpoint,
    }
    assert household.subscriptions.of_users([ids["olivia"]]) == []
    assert not household.subscriptions.unsubscribe(ids["olivia"], olivia.endpoint)
    assert household.subscriptions.unsubscribe(ids["max"], olivia.endpoint)


def test_a_camera_offline_notice_reaches_who_may_watch_that_camera(
    household: Household, push_service: PushService
) -> None:
    notifier = _notifier(household)
    bus = HubBus()
    bus.subscribe("push", notifier)
    notifier.start()
    bus.start()
    down_at = time.time() - 600
    try:
        bus.publish(CameraStatusChanged("garden", "failed", "connection refused", down_at))  # a state is not news
        bus.publish(CameraOffline("garden", down_at, "connection refused", "away", down_at + 300))
        received = push_service.wait_for(2)
    finally:
        bus.stop()
        notifier.stop()
    time.sleep(0.2)
    assert sorted(request.path for request in push_service.received) == ["/push/max", "/push/olivia"]
    for request in received:
        message = household.browsers[request.path.rsplit("/", 1)[1]].decrypt(request)
        assert message == {
            "title": "Camera offline",
            "body": "The camera in the back garden has been offline for 5 min (connection refused)",
            "url": "/live",
            "tag": "camera-offline:garden",
        }


def test_a_browser_that_cannot_be_reached_or_encrypted_to_does_not_keep_the_alarm_from_the_others(
    household: Household, push_service: PushService, caplog: pytest.LogCaptureFixture
) -> None:
    ids, olivia = household.user_ids, household.browsers["olivia"]
    household.subscriptions.unsubscribe(ids["olivia"], olivia.endpoint)
    good_auth = _b64url(os.urandom(16))
    # Stored as they are, before olivia's browser: a key of the right length that is no P-256 point, a push
    # service that is down, and an endpoint the notifier refuses (plain http).
    not_a_point = _b64url(b"\x04" + b"\x01" * 64)
    household.subscriptions.subscribe(ids["olivia"], f"{push_service.origin}/push/bogus", not_a_point, good_auth)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    household.subscriptions.subscribe(ids["olivia"], f"https://127.0.0.1:{closed}/push/down", olivia.p256dh, good_auth)
    household.subscriptions.subscribe(ids["olivia"], "http://127.0.0.1:9/push/plain", olivia.p256dh, good_auth)
    household.subscriptions.subscribe(ids["olivia"], olivia.endpoint, olivia.p256dh, _b64url(olivia.auth))
    notifier = _notifier(household)

    assert notifier.notify(_alarm("front_door", str(uuid.uuid4()))) == 1

    [request] = push_service.wait_for(1)
    assert request.path == "/push/olivia"
    assert household.browsers["olivia"].decrypt(request)["body"] == "Unfamiliar person at the front door"
    assert notifier.failures == 3
    kept = {s.endpoint for s in household.subscriptions.of_users([ids["olivia"]])}
    assert f"{push_service.origin}/push/bogus" not in kept, "a key nothing can be encrypted to is forgotten"
    assert olivia.endpoint in kept
    logged = caplog.text
    assert "P-256" in logged
    assert "connection refused" in logged
    assert "https://" in logged  # the plain-http endpoint's refusal says what it must be


def test_an_intrusion_is_pushed_once_however_many_of_its_people_alarm(
    household: Household, push_service: PushService
) -> None:
    notifier = _notifier(household)
    intrusion = uuid.uuid4().hex
    people = [
        EventUpdated("shed", str(uuid.uuid4()), "person", None, True, "unidentified", time.time(), intrusion)
        for _ in range(3)
    ]

    assert [notifier.notify(message) for message in people] == [1, 0, 0]
    assert [request.path for request in push_service.wait_for(1)] == ["/push/bob"]


def test_a_camera_pushes_at_most_one_alarm_per_min_interval(household: Household, push_service: PushService) -> None:
    quick = _notifier(household, min_interval=3600.0)
    # Two intrusions on the shed a moment apart: the second is not pushed; another camera's still is.
    first = EventUpdated("shed", str(uuid.uuid4()), "person", None, True, "stranger", time.time(), uuid.uuid4().hex)
    second = EventUpdated("shed", str(uuid.uuid4()), "person", None, True, "stranger", time.time(), uuid.uuid4().hex)
    elsewhere = EventUpdated("front_door", str(uuid.uuid4()), "person", None, True, "stranger", time.time(), "x")
    doorbell = DoorbellPressed("shed", str(uuid.uuid4()), time.time(), None, None)

    assert [quick.notify(m) for m in (first, second, elsewhere, doorbell)] == [1, 0, 1, 1]
    assert quick.rate_limited == 1
    assert sorted(r.path for r in push_service.wait_for(3)) == ["/push/bob", "/push/bob", "/push/olivia"]
    # Without a limit (0) every intrusion is pushed.
    unlimited = _notifier(household)
    assert [unlimited.notify(m) for m in (first, second)] == [1, 1]


def test_each_browser_reads_the_doorbell_in_its_users_language(household: Household, push_service: PushService) -> None:
    household.accounts.set_language(household.user_ids["max"], "de")
    event_id = str(uuid.uuid4())

    assert _notifier(household).notify(DoorbellPressed("garden", event_id, time.time(), "stranger", b"")) == 2

    received = {r.path.rsplit("/", 1)[1]: r for r in push_service.wait_for(2)}
    olivia = household.browsers["olivia"].decrypt(received["olivia"])
    max_ = household.browsers["max"].decrypt(received["max"])
    assert (olivia["title"], olivia["body"]) == ("Doorbell", "Unfamiliar person in the back garden")
    # German names the camera as the owner wrote it, after a dash: no article has to agree with it.
    assert (max_["title"], max_["body"]) == ("Türklingel", "Unbekannte Person – Back garden")
    assert max_["url"] == olivia["url"] == f"/events/{event_id}"


def test_a_member_who_chose_no_language_reads_the_owners(household: Household, push_service: PushService) -> None:
    household.accounts.set_language(household.user_ids["olivia"], "de")
    down_at = time.time() - 600

    assert _notifier(household).notify(CameraOffline("garden", down_at, "connection refused", "away", down_at + 300))

    for request in push_service.wait_for(2):
        message = household.browsers[request.path.rsplit("/", 1)[1]].decrypt(request)
        assert (message["title"], message["body"]) == (
            "Kamera offline",
            "Die Kamera „Back garden“ ist seit 5 min offline (connection refused)",
        )
    # Bob's home has an owner who chose nothing: English, as before.
    assert _notifier(household).notify(_alarm("shed", str(uuid.uuid4()))) == 1
    [bob] = [r for r in push_service.wait_for(3) if r.path.endswith("/bob")]
    assert household.browsers["bob"].decrypt(bob)["body"] == "Unfamiliar person in the shed"
