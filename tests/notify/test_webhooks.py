"""Webhook deliveries to a real HTTP receiver on this machine: signatures, retries, the log, homes kept apart."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from homewarden.accounts.store import AccountStore
from homewarden.events.record import EventRecord
from homewarden.notify import webhooks
from homewarden.notify.bus import (
    ArmingChanged,
    CameraOffline,
    CameraStatusChanged,
    EventEnded,
    EventUpdated,
    HubBus,
    MotionChanged,
    StorageProblem,
)
from homewarden.notify.destinations import webhook_destinations
from homewarden.notify.webhooks import DeliveryRecord, WebhookDispatcher, WebhookStore
from homewarden.store.database import EventStore


@dataclass
class Received:
    """One request the receiver got."""

    at: float
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        """Return the body as JSON."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """A local HTTP server standing in for the owner's endpoint: records every request, answers as told."""

    url: str
    requests: list[Received] = field(default_factory=list)
    # The statuses of the first answers; after them, ``then``.
    script: list[int] = field(default_factory=list)
    then: int = 200
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def answer(self) -> int:
        """Return the status for the next request."""
        return self.script.pop(0) if self.script else self.then

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests arrived; return them."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.requests) >= count, timeout), self.requests
            return list(self.requests)


def _start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with receiver.arrived:
                receiver.requests.append(Received(time.monotonic(), dict(self.headers.items()), body))
                receiver.arrived.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


@pytest.fixture
def receivers() -> Iterator[Callable[[], Receiver]]:
    """Yield a factory of receivers, all shut down at the end."""
    servers: list[ThreadingHTTPServer] = []

    def make() -> Receiver:
        receiver, server = _start_receiver()
        servers.append(server)
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class Homes:
    """Two homes on one hub database: A owns front_door, B owns shed."""

    store: EventStore
    accounts: AccountStore
    webhooks: WebhookStore
    a: int
    b: int


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[Homes]:
    """Yield two homes on a fresh SQLite database."""
    store = EventStore.open(f"sqlite:///{tmp_path / 'hub.db'}")
    accounts = AccountStore(store.engine)
    try:
        yield Homes(
            store,
            accounts,
            WebhookStore(store.engine),
            accounts.create_home("A", ["front_door"]),
            accounts.create_home("B", ["shed"]),
        )
    finally:
        store.close()


@pytest.fixture
def dispatchers(homes: Homes) -> Iterator[Callable[..., WebhookDispatcher]]:
    """Yield a factory of started dispatchers with fast retries; each is stopped at the end."""
    started: list[WebhookDispatcher] = []

    def make(**options: Any) -> WebhookDispatcher:
        settings = {
            "base_delay": 0.1,
            "poll_interval": 0.05,
            "timeout": 2.0,
            "hub_name": "test-hub",
            # The receivers stand in for the owner's endpoints on this machine: notify.webhooks.allow_loopback.
            "destinations": webhook_destinations(allow_loopback=True),
        } | options
        dispatcher = WebhookDispatcher(homes.webhooks, homes.accounts, **settings)
        dispatcher.start()
        started.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in started:
        dispatcher.stop()


def _event(camera: str, *, alarm: bool = False) -> EventRecord:
    start = time.time() - 30
    return EventRecord(
        id=str(uuid.uuid4()),
        camera=camera,
        label="person",
        score=0.91234,
        start=start,
        end=start + 12,
        live=True,
        box=(1, 2, 3, 4),
        snapshot=f"/media/{camera}/snap.jpg.sealed",
        alarm=alarm,
        alarm_reason="stranger" if alarm else None,
        sub_label="stranger" if alarm else None,
    )


def _documented_verify() -> Callable[..., bool]:
    """Return the ``verify`` function exactly as the module's docstring tells receivers to write it."""
    doc = webhooks.__doc__ or ""
    snippet = doc.split("::\n", 1)[1].split("\n\n", 2)
    code = "\n\n".join(snippet[:2])
    lines = [line[4:] for line in code.splitlines()]
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def _wait_for_log(store: WebhookStore, webhook_id: int, done: Callable[[DeliveryRecord], bool]) -> DeliveryRecord:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = store.deliveries(webhook_id)
        if found and done(found[0]):
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"the delivery log never got there: {store.deliveries(webhook_id)}")


def test_a_delivery_is_signed_as_documented_and_a_wrong_secret_does_not_verify(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    receiver = receivers()
    hook, secret = homes.webhooks.create(homes.a, receiver.url, ["event_end"])
    dispatcher = dispatchers()
    record = _event("front_door")

    dispatcher(EventEnded(record))

    [request] = receiver.wait_for(1)
    verify = _documented_verify()
    assert verify(secret, request.headers, request.body)
    assert not verify("not-the-secret", request.headers, request.body)
    assert not verify(secret, request.headers, request.body + b" ")
    stale = {**request.headers, "X-Homewarden-Timestamp": str(int(time.time()) - 3600)}
    assert not verify(secret, stale, request.body)
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", request.headers["X-Homewarden-Signature"])
    message = request.json()
    assert message["type"] == "event_end"
    assert message["hub"] == "test-hub"
    assert message["data"]["id"] == record.id
    assert message["data"]["camera"] == "front_door"
    assert message["data"]["score"] == 0.912
    # Media never travels in a webhook: the snapshot is a path on the hub behind the household's sign-in.
    assert message["data"]["snapshot_url"] == f"/api/events/{record.id}/snapshot.jpg"
    assert "sealed" not in request.body.decode()
    [delivery] = homes.webhooks.deliveries(hook.id)
    assert request.headers["X-Homewarden-Delivery"] == delivery.id
    assert delivery.event_id == record.id


def test_a_failing_receiver_is_retried_with_growing_pauses_until_it_accepts(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    receiver = receivers()
    receiver.script = [500, 503, 500]
    hook, secret = homes.webhooks.create(homes.a, receiver.url, ["arming"])
    dispatcher = dispatchers(base_delay=0.2)

    dispatcher(ArmingChanged(homes.a, "away", "olivia"))

    requests = receiver.wait_for(4)
    delivery = _wait_for_log(homes.webhooks, hook.id, lambda d: d.delivered_at is not None)
    time.sleep(0.5)
    assert len(receiver.requests) == 4, "a delivered message is not sent again"
    pauses = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    # The schedule doubles from base_delay (0.2, 0.4, 0.8 s after each attempt starts); the seconds between arrivals
    # also hold the time an attempt takes, which a busy machine stretches, so only the growth is checked.
    assert pauses[0] < pauses[1] < pauses[2], pauses
    assert {request.headers["X-Homewarden-Delivery"] for request in requests} == {delivery.id}
    verify = _documented_verify()
    assert all(verify(secret, request.headers, request.body) for request in requests)
    assert requests[0].json()["data"] == {"mode": "away", "by": "olivia"}
    assert delivery.attempts == 4
    assert [attempt["status_code"] for attempt in delivery.history] == [500, 503, 500, 200]
    assert delivery.status_code == 200
    assert delivery.next_attempt_at is None


def test_a_client_error_is_not_retried_but_too_many_requests_is(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    refusing, busy = receivers(), receivers()
    refusing.then = 400
    busy.script = [429]
    refused, _ = homes.webhooks.create(homes.a, refusing.url, ["arming"])
    throttled, _ = homes.webhooks.create(homes.a, busy.url, ["arming"])
    dispatcher = dispatchers()

    dispatcher(ArmingChanged(homes.a, "home", "max"))

    busy.wait_for(2)
    failed = _wait_for_log(homes.webhooks, refused.id, lambda d: d.attempts == 1)
    time.sleep(0.5)
    assert len(refusing.requests) == 1
    assert failed.next_attempt_at is None
    assert failed.delivered_at is None
    assert failed.error == "HTTP 400"
    later = _wait_for_log(homes.webhooks, throttled.id, lambda d: d.delivered_at is not None)
    assert [attempt["status_code"] for attempt in later.history] == [429, 200]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_or_failing_receiver_is_given_up_after_the_last_attempt(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    broken = receivers()
    broken.then = 502
    # Nothing listens on this port: every attempt is a refused connection.
    gone, _ = homes.webhooks.create(homes.a, f"http://127.0.0.1:{_closed_port()}/hook", ["motion"])
    failing, _ = homes.webhooks.create(homes.a, broken.url, ["motion"])
    dispatcher = dispatchers(max_attempts=3, base_delay=0.05)

    dispatcher(MotionChanged("front_door", True, time.time()))

    broken.wait_for(3)
    refused = _wait_for_log(homes.webhooks, gone.id, lambda d: d.attempts == 3 and d.next_attempt_at is None)
    given_up = _wait_for_log(homes.webhooks, failing.id, lambda d: d.attempts == 3 and d.next_attempt_at is None)
    time.sleep(0.3)
    assert len(broken.requests) == 3
    assert all(attempt["status_code"] is None and attempt["error"] for attempt in refused.history)
    assert refused.error is not None
    assert "gave up after 3 attempts" in refused.error
    assert given_up.status_code == 502
    assert given_up.delivered_at is None


def test_only_the_webhooks_own_home_and_kinds_reach_it(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    at_a, at_b = receivers(), receivers()
    hook_a, _ = homes.webhooks.create(homes.a, at_a.url, ["event_end", "alarm", "arming"])
    homes.webhooks.create(homes.b, at_b.url, ["event_end", "alarm", "arming", "motion"])
    dispatcher = dispatchers()
    bus = HubBus()
    bus.subscribe("webhooks", dispatcher)
    bus.start()
    shed, front_door = _event("shed", alarm=True), _event("front_door", alarm=True)
    try:
        bus.publish(EventEnded(shed))
        bus.publish(ArmingChanged(homes.b, "away", "bob"))
        bus.publish(MotionChanged("front_door", True, time.time()))  # A's webhook did not ask for motion
        bus.publish(EventUpdated("front_door", front_door.id, "person", "stranger", True, "stranger", time.time()))
        bus.publish(EventUpdated("front_door", front_door.id, "person", "stranger", True, "stranger", time.time()))
        bus.publish(EventEnded(front_door))
        bus.publish(MotionChanged("camera_of_no_home", True, time.time()))
        bus.flush()
    finally:
        bus.stop()

    seen_at_a = at_a.wait_for(2)
    seen_at_b = at_b.wait_for(3)
    time.sleep(0.4)
    # The alarm is told once per event, though the update and the end both carry it.
    assert sorted(
        (r.json()["type"], r.json()["data"].get("event_id") or r.json()["data"].get("id")) for r in seen_at_a
    ) == [
        ("alarm", front_door.id),
        ("event_end", front_door.id),
    ]
    assert len(at_a.requests) == 2
    assert shed.id not in b"".join(r.body for r in at_a.requests).decode()
    assert sorted(r.json()["type"] for r in seen_at_b) == ["alarm", "arming", "event_end"]
    assert front_door.id not in b"".join(r.body for r in at_b.requests).decode()
    assert len(homes.webhooks.deliveries(hook_a.id)) == 2


def test_the_bus_is_never_held_up_by_a_slow_receiver(homes: Homes) -> None:
    hook, _ = homes.webhooks.create(homes.a, "http://10.255.255.1:9/never", ["motion"])
    dispatcher = WebhookDispatcher(homes.webhooks, homes.accounts)  # not started: nothing is sent
    began = time.monotonic()
    for _ in range(2000):
        dispatcher(MotionChanged("front_door", True, time.time()))
    assert time.monotonic() - began < 1.0
    assert dispatcher.dropped == 1000
    assert homes.webhooks.deliveries(hook.id) == []


def test_the_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    body = b'{"type":"test"}'
    expected = "sha256=" + hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhooks.sign("s3cret", "1700000000", body) == expected


def test_a_camera_offline_notice_and_camera_states_reach_the_webhooks_that_want_them(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    offline_only, both, other_home = receivers(), receivers(), receivers()
    homes.webhooks.create(homes.a, offline_only.url, ["camera_offline"])
    homes.webhooks.create(homes.a, both.url, ["camera_offline", "camera_status"])
    homes.webhooks.create(homes.b, other_home.url, ["camera_offline", "camera_status"])
    dispatcher = dispatchers()
    bus = HubBus()
    bus.subscribe("webhooks", dispatcher)
    bus.start()
    down_at = time.time() - 300
    try:
        bus.publish(CameraStatusChanged("front_door", "failed", "connection refused", down_at))
        bus.publish(CameraOffline("front_door", down_at, "connection refused", "away", down_at + 240))
        bus.publish(CameraStatusChanged("front_door", "online", None, down_at + 290))
        bus.flush()
    finally:
        bus.stop()

    [notice] = offline_only.wait_for(1)
    seen = both.wait_for(3)
    time.sleep(0.3)
    assert len(offline_only.requests) == 1
    assert other_home.requests == [], "another home's camera is none of its business"
    message = notice.json()
    assert message["type"] == "camera_offline"
    assert message["hub"] == "test-hub"
    assert message["at"] == datetime.fromtimestamp(down_at + 240, tz=UTC).isoformat()
    assert message["data"] == {
        "camera": "front_door",
        "down_since": datetime.fromtimestamp(down_at, tz=UTC).isoformat(),
        "reason": "connection refused",
        "mode": "away",
    }
    states = sorted((r.json()["type"], r.json()["data"].get("state")) for r in seen)
    assert states == [("camera_offline", None), ("camera_status", "failed"), ("camera_status", "online")]
    failed = next(r.json()["data"] for r in seen if r.json()["data"].get("state") == "failed")
    assert failed == {
        "camera": "front_door",
        "state": "failed",
        "reason": "connection refused",
        "since": datetime.fromtimestamp(down_at, tz=UTC).isoformat(),
    }


def test_a_full_storage_disk_reaches_the_homes_webhooks_and_so_does_its_end(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    mine, other_home = receivers(), receivers()
    homes.webhooks.create(homes.a, mine.url, ["storage_problem"])
    homes.webhooks.create(homes.b, other_home.url, ["storage_problem"])
    dispatcher = dispatchers()
    bus = HubBus()
    bus.subscribe("webhooks", dispatcher)
    bus.start()
    try:
        bus.publish(
            StorageProblem(homes.a, "the storage disk is full (3 MB free): clips could not be written", 3 << 20, 1.0)
        )
        bus.publish(StorageProblem(homes.a, None, 900 << 20, 2.0))
        bus.flush()
    finally:
        bus.stop()
    full, room = sorted((r.json() for r in mine.wait_for(2)), key=lambda m: m["at"])
    time.sleep(0.3)
    assert other_home.requests == []
    assert (full["type"], full["data"]["problem"], full["data"]["free_bytes"]) == ("storage_problem", True, 3 << 20)
    assert full["data"]["reason"].startswith("the storage disk is full")
    assert (room["data"]["problem"], room["data"]["reason"]) == (False, None)


def _resolver(answers: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    """Stand in for DNS (a boundary this machine cannot control): each name answers the addresses given."""

    def resolve(host: str, _port: int) -> list[str]:
        if host not in answers:
            raise OSError(f"{host} does not resolve")
        return answers[host]

    return resolve


def test_the_dispatcher_connects_to_the_address_it_checked_and_speaks_to_the_name(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    receiver = receivers()
    port = receiver.url.split(":")[2].split("/")[0]
    # The system's resolver knows no such name: only the address checked can have been connected to.
    resolver = _resolver({"hooks.example.net": ["127.0.0.1"]})
    homes.webhooks.create(homes.a, f"http://hooks.example.net:{port}/hook", ["arming"])
    dispatcher = dispatchers(destinations=webhook_destinations(allow_loopback=True, resolver=resolver))

    dispatcher(ArmingChanged(homes.a, "away", "olivia"))

    [request] = receiver.wait_for(1)
    assert request.headers["Host"] == f"hooks.example.net:{port}"


def test_a_name_that_turns_to_this_machine_after_the_check_is_refused_at_delivery(
    homes: Homes, receivers: Callable[[], Receiver], dispatchers: Callable[..., WebhookDispatcher]
) -> None:
    receiver = receivers()
    port = receiver.url.split(":")[2].split("/")[0]
    answers = {"rebind.example.net": ["192.168.1.20"], "split.example.net": ["192.168.1.21", "127.0.0.1"]}
    policy = webhook_destinations(resolver=_resolver(answers))
    policy.check_when_made(f"http://rebind.example.net:{port}/hook")  # made while the name pointed at the LAN
    rebound, _ = homes.webhooks.create(homes.a, f"http://rebind.example.net:{port}/hook", ["arming"])
    split, _ = homes.webhooks.create(homes.a, f"http://split.example.net:{port}/hook", ["arming"])
    answers["rebind.example.net"] = ["127.0.0.1"]  # DNS rebinding: the next answer is this machine
    dispatcher = dispatchers(destinations=policy)

    dispatcher(ArmingChanged(homes.a, "night", "olivia"))

    for hook, name in ((rebound, "rebind"), (split, "split")):
        delivery = _wait_for_log(homes.webhooks, hook.id, lambda d: d.attempts == 1)
        assert delivery.next_attempt_at is None, "a refused destination is not tried again"
        assert delivery.status_code is None
        assert delivery.error == (
            f"refused: a webhook URL may not reach this machine ({name}.example.net is 127.0.0.1); "
            "notify.webhooks.allow_loopback: true in the config allows it"
        )
    assert receiver.requests == []
