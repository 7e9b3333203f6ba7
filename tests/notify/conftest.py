"""The machine's Mosquitto broker (started when it is not running), a private broker to stop, and a subscriber."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from homewarden.config.model import MqttConfig

BROKER_HOST, BROKER_PORT = "127.0.0.1", 1883
MOSQUITTO_CONF = "/etc/mosquitto/mosquitto.conf"


def broker_answers(port: int, timeout: float = 2.0) -> bool:
    """Return whether an MQTT broker on 127.0.0.1:port completes a CONNECT (an open port is not enough)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"hw-probe-{uuid.uuid4().hex[:8]}")
    try:
        client.connect(BROKER_HOST, port, keepalive=5)
    except OSError:
        return False
    try:
        deadline = time.monotonic() + timeout
        while not client.is_connected() and time.monotonic() < deadline:
            client.loop(0.1)
        return client.is_connected()
    finally:
        client.disconnect()


@pytest.fixture(scope="session")
def mosquitto() -> int:
    """Return the port of the machine's broker, starting it as its service would when it is not running."""
    if broker_answers(BROKER_PORT):
        return BROKER_PORT
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    started = subprocess.run([binary, "-d", "-c", MOSQUITTO_CONF], capture_output=True, text=True, check=False)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if broker_answers(BROKER_PORT):
            return BROKER_PORT
        time.sleep(0.2)
    pytest.fail(
        f"the Mosquitto broker does not answer on {BROKER_HOST}:{BROKER_PORT} and `{binary} -d -c {MOSQUITTO_CONF}` "
        f"did not start it (exit {started.returncode}): {started.stderr.strip() or started.stdout.strip()}"
    )


@dataclass
class Namespace:
    """Topic and discovery prefixes no other test uses, on one broker."""

    port: int
    prefix: str
    discovery_prefix: str

    def config(self, **update: Any) -> MqttConfig:
        """Return the bridge's config for this namespace."""
        return MqttConfig(
            enabled=True,
            host=BROKER_HOST,
            port=self.port,
            topic_prefix=self.prefix,
            discovery_prefix=self.discovery_prefix,
            client_id=f"hw-bridge-{uuid.uuid4().hex[:8]}",
            keepalive=5,
            **update,
        )


@pytest.fixture
def namespace(mosquitto: int) -> Iterator[Namespace]:
    """Give a test its own prefixes on the shared broker; clear the retained messages it left (the broker persists)."""
    tag = uuid.uuid4().hex[:10]
    space = Namespace(mosquitto, f"hwtest-{tag}", f"hwtest-ha-{tag}")
    yield space
    clear_retained(mosquitto, [f"{space.prefix}/#", f"{space.discovery_prefix}/#"])


def clear_retained(port: int, patterns: list[str]) -> None:
    """Delete every retained message under some topic patterns."""
    with Subscriber(port, patterns) as found:
        time.sleep(0.5)  # retained messages arrive right after the subscription
        topics = {message.topic for message in found.messages if message.retain}
        for topic in topics:
            found.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5.0)


@dataclass(frozen=True)
class Received:
    """One message a subscriber received."""

    topic: str
    payload: bytes
    retain: bool

    @property
    def text(self) -> str:
        """Return the payload as text."""
        return self.payload.decode()


@dataclass
class Subscriber:
    """A paho client collecting what it receives on some topics (resubscribing after every reconnect)."""

    port: int
    patterns: list[str]
    client_id: str = field(default_factory=lambda: f"hw-sub-{uuid.uuid4().hex[:8]}")
    persistent: bool = False
    messages: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=not self.persistent
        )
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: self._subscribed.set()

    def __enter__(self) -> Subscriber:
        self.client.connect_async(BROKER_HOST, self.port, keepalive=5)
        self.client.loop_start()
        assert self._subscribed.wait(10.0), f"subscriber could not subscribe on port {self.port}"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        if not reason.is_failure:
            client.subscribe([(pattern, 1) for pattern in self.patterns])

    def _on_message(self, _client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(Received(message.topic, bytes(message.payload), bool(message.retain)))
            self._changed.notify_all()

    def wait_for(self, done: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        """Wait until the messages received satisfy ``done``; fail with what arrived otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"timed out; received {[(m.topic, m.payload[:80]) for m in self.messages]}")
                self._changed.wait(remaining)
            return list(self.messages)

    def on(self, topic: str) -> list[str]:
        """Return the text payloads received on a topic, in order."""
        with self._changed:
            return [message.text for message in self.messages if message.topic == topic]


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((BROKER_HOST, 0))
        return int(probe.getsockname()[1])


class PrivateBroker:
    """A Mosquitto of the test's own on a free port, persistent, that a test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        """Write its config; nothing runs before start()."""
        self.port = free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} {BROKER_HOST}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            # Stay the user running the tests (as root, Mosquitto would switch to its own user and lose the folder).
            f"user {getpass.getuser()}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it answers."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        with (self.folder / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen([binary, "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if broker_answers(self.port, 1.0):
                return
            time.sleep(0.1)
        log_text = (self.folder / "mosquitto.log").read_text()
        pytest.fail(f"private mosquitto on port {self.port} did not start: {log_text}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM: it saves its sessions and queued messages, as a service restart does)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10.0)
        self.process = None


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    """Give a test a broker it may stop and restart without disturbing the shared one (not started yet)."""
    folder = Path(tempfile.mkdtemp(prefix="hw-mosquitto-"))
    broker = PrivateBroker(folder)
    yield broker
    broker.stop()
    shutil.rmtree(folder, ignore_errors=True)
