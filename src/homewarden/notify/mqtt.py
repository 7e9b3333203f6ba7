"""MQTT: the hub's events and states on the home's broker, Home Assistant discovery, and commands coming back.

`MqttBridge` is the only code that talks to the broker. It subscribes to the hub's bus and turns each message into
retained state topics (motion, person, pet, stranger, last person, snapshot, arming mode, alarm, each camera's
availability and state, "camera offline"), a Frigate-like `events` stream and an `intrusions` stream (people seen
together: one alarm, updated as more join); it arms the hub from `mode/set` and
rings doorbells from `doorbell/<bell>/press`. docs/integrations.md lists every topic and payload.

Like every channel it only queues what the bus hands it (`notify/channel.py`); its worker publishes, releases the
doorbell sensors, polls the scheduled mode and republishes after a connect.

The broker may be down when the hub starts or go away while it runs: paho connects in its own thread and retries
with backoff, and messages published meanwhile wait in its queue (QoS 1). Once connected again the bridge republishes
availability, discovery and every current state *after* paho has re-sent what it queued, so a stale state queued
during the outage can never land after the fresh one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from homewarden import __version__
from homewarden.config.model import ArmingMode, DoorbellConfig, MqttConfig
from homewarden.events.wording import name_of
from homewarden.faces.gallery import UNKNOWN
from homewarden.notify.bus import (
    ArmingChanged,
    CameraOffline,
    CamerasChanged,
    CameraStatusChanged,
    DoorbellPressed,
    EventEnded,
    EventStarted,
    EventUpdated,
    IntrusionChanged,
    Message,
    MotionChanged,
    OffsiteStatus,
    StorageProblem,
)
from homewarden.notify.channel import Channel
from homewarden.notify.payloads import (
    CAMERA_STATES,
    camera_offline,
    camera_status,
    frigate_event,
    intrusion_state,
    offsite_status,
    storage_problem,
)

log = logging.getLogger(__name__)

MODES: tuple[ArmingMode, ...] = ("away", "home", "night", "disarmed")
MODE_BY_NAME: dict[str, ArmingMode] = {mode: mode for mode in MODES}
PET_LABELS = frozenset({"cat", "dog", "bird"})
STRANGER = "stranger"
ON, OFF = "ON", "OFF"
ONLINE, OFFLINE = "online", "offline"
QOS = 1
# Events and states wait in paho's queue while the broker is away; snapshots (large, soon stale) are not queued.
MAX_QUEUED_MESSAGES = 1000
RECONNECT_MIN_DELAY, RECONNECT_MAX_DELAY = 1, 30
# After a (re)connect paho re-sends its queue; republishing a moment later puts the current states after it.
REPUBLISH_DELAY = 0.3
# How long a doorbell's "pressed" sensor stays ON.
PRESSED_SECONDS = 5.0
# The arming mode also changes on the schedule, which announces nothing: look at it this often.
MODE_POLL_SECONDS = 30.0
STOP_TIMEOUT = 3.0
QUEUE_SIZE = 1000


class MqttBridge(Channel):
    """Publish the hub's bus to an MQTT broker (with Home Assistant discovery) and take commands from it.

    Subscribe it to the bus (``bus.subscribe("mqtt", bridge)``) and ``start()`` it.
    """

    def __init__(
        self,
        config: MqttConfig,
        cameras: list[str],
        doorbells: dict[str, DoorbellConfig],
        *,
        set_mode: Callable[[ArmingMode, str], object],
        ring: Callable[[str], object],
        snapshot: Callable[[str], bytes | None],
        current_mode: Callable[[], str],
        names: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare the client; nothing touches the network before start(). ``names`` are display names by camera id."""
        super().__init__("mqtt-bridge", queue_size=QUEUE_SIZE)
        self.config = config
        self.cameras = list(cameras)
        self.names = dict(names or {})
        self.doorbells = dict(doorbells)
        self._set_mode = set_mode
        self._ring = ring
        self._snapshot = snapshot
        self._current_mode = current_mode
        self.prefix = config.topic_prefix.rstrip("/")
        self.discovery = self._discovery()

        self._lock = threading.Lock()
        self._states: dict[str, str] = {}  # topic -> retained payload: what the broker should hold now
        self._snapshots: dict[str, bytes] = {}  # camera -> latest JPEG
        self._events: dict[str, dict[str, Any]] = {}  # running event id -> its last published fields
        self._pressed_until: dict[str, float] = {}  # bell -> when its pressed sensor goes OFF
        self._last_failure: str | None = None
        self._dropped = 0
        for camera in self.cameras:
            self._states.update(self._first_states(camera))
        for bell in self.doorbells:
            self._states[self.topic("doorbell", bell, "pressed")] = OFF

        self._republish_at: float | None = None
        self._next_mode_poll = 0.0
        self._client = self._make_client()

    def topic(self, *parts: str) -> str:
        """Return a topic under the prefix."""
        return "/".join((self.prefix, *parts))

    def _discovery(self) -> dict[str, dict[str, Any]]:
        if not self.config.discovery:
            return {}
        return discovery_configs(self.config, self.cameras, self.doorbells, self.names)

    def _first_states(self, camera: str) -> dict[str, str]:
        """Return a camera's states before anything happened on it."""
        states = {self.topic(camera, kind): OFF for kind in ("motion", "person", "pet", "stranger")}
        # Until the hub says otherwise a camera is taken to be up, as it was before cameras reported their state.
        states[self.topic(camera, "available")] = ONLINE
        states[self.topic(camera, "offline")] = OFF
        return states

    @property
    def connected(self) -> bool:
        """Return whether the broker is connected now."""
        return self._client.is_connected()

    def start(self) -> None:
        """Connect in the background (a broker that is down is retried with backoff; the hub goes on)."""
        if self._thread is not None:
            return
        self._refresh_mode()
        self._next_mode_poll = time.monotonic() + MODE_POLL_SECONDS
        super().start()
        self._client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive)
        self._client.loop_start()
        log.info("MQTT: connecting to %s:%d (topics under %s/)", self.config.host, self.config.port, self.prefix)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Publish what is queued, say offline, disconnect and stop the network thread."""
        super().stop(timeout)
        if self._client.is_connected():
            info = self._client.publish(self.topic("available"), OFFLINE, qos=QOS, retain=True)
            # Refused by paho (queue full, connection gone): the broker's last will says offline instead.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(STOP_TIMEOUT)
        self._client.disconnect()
        self._client.loop_stop()

    def handle(self, message: Message) -> None:
        """Queue a bus message for the bridge's worker (the same as calling the bridge; never blocks)."""
        self(message)

    def deliver(self, message: Message) -> None:
        """Publish what a bus message changes (paho queues it while the broker is away)."""
        if isinstance(message, EventStarted):
            self._event_started(message)
        elif isinstance(message, EventUpdated):
            self._event_updated(message)
        elif isinstance(message, EventEnded):
            self._event_ended(message)
        elif isinstance(message, IntrusionChanged):
            # A stream like `events`, not a state: "new" once, "update" as people join or one alarms, then "end".
            self._send(self.topic("intrusions"), json.dumps(intrusion_state(message)), retain=False)
        elif isinstance(message, MotionChanged):
            self._set_state(self.topic(message.camera, "motion"), ON if message.active else OFF)
        elif isinstance(message, ArmingChanged):
            self._refresh_mode()
        elif isinstance(message, DoorbellPressed):
            self._doorbell_pressed(message)
        elif isinstance(message, CameraStatusChanged):
            self._camera_status(message)
        elif isinstance(message, CameraOffline):
            self._set_state(self.topic(message.camera, "offline", "notice"), json.dumps(camera_offline(message)))
            self._set_state(self.topic(message.camera, "offline"), ON)
        elif isinstance(message, StorageProblem):
            self._set_state(self.topic("storage"), json.dumps(storage_problem(message)))
        elif isinstance(message, OffsiteStatus):
            self._set_state(self.topic("offsite"), json.dumps(offsite_status(message)))
        elif isinstance(message, CamerasChanged):
            self._cameras_changed(message)

    # Bus messages

    def _cameras_changed(self, message: CamerasChanged) -> None:
        """Follow a change in the settings: discovery for new cameras and new names, removal for cameras gone."""
        added = [camera for camera in message.cameras if camera not in self.cameras]
        self.cameras = list(message.cameras)
        self.names = dict(message.names)
        before, self.discovery = self.discovery, self._discovery()
        for topic in before.keys() - self.discovery.keys():
            # An empty retained config is how Home Assistant is told an entity is gone.
            self._send(topic, "", retain=True)
        for topic, entity in self.discovery.items():
            if before.get(topic) != entity:
                self._send(topic, json.dumps(entity), retain=True)
        for camera in added:
            for topic, payload in self._first_states(camera).items():
                self._set_state(topic, payload)

    def _event_started(self, message: EventStarted) -> None:
        after = frigate_event(message, None)
        with self._lock:
            self._events[message.event_id] = after
        self._publish_event("new", None, after)
        self._publish_camera_states(message.camera)
        self._publish_snapshot(message.camera, self._snapshot(message.camera))

    def _event_updated(self, message: EventUpdated) -> None:
        with self._lock:
            before = self._events.get(message.event_id)
            after = frigate_event(message, before)
            self._events[message.event_id] = after
        self._publish_event("update", before, after)
        self._publish_camera_states(message.camera)
        if message.label == "person" and message.sub_label is not None:
            self._set_state(self.topic(message.camera, "last_person"), person_name(message.sub_label))
        if message.alarm:
            self._publish_snapshot(message.camera, self._snapshot(message.camera))

    def _event_ended(self, message: EventEnded) -> None:
        record = message.record
        after = frigate_event(message, None)
        with self._lock:
            before = self._events.pop(record.id, None)
        self._publish_event("end", before, after)
        self._publish_camera_states(record.camera)
        if record.label == "person":
            self._set_state(self.topic(record.camera, "last_person"), person_name(record.sub_label))

    def _doorbell_pressed(self, message: DoorbellPressed) -> None:
        # A press names its bell; a message without one (older publishers) rings every bell of that camera.
        bells = [message.bell] if message.bell in self.doorbells else []
        bells = bells or [name for name, bell in self.doorbells.items() if bell.camera == message.camera]
        visitor = message.visitor or UNKNOWN
        for bell in bells:
            self._set_state(self.topic("doorbell", bell, "visitor"), visitor)
            self._set_state(self.topic("doorbell", bell, "pressed"), ON)
            with self._lock:
                self._pressed_until[bell] = time.monotonic() + PRESSED_SECONDS
        self.wake()
        self._publish_snapshot(message.camera, message.snapshot_jpeg)

    def _camera_status(self, message: CameraStatusChanged) -> None:
        camera = message.camera
        self._set_state(self.topic(camera, "status"), json.dumps(camera_status(message)))
        self._set_state(self.topic(camera, "available"), ONLINE if message.state == "online" else OFFLINE)
        if message.state == "online":
            self._set_state(self.topic(camera, "offline"), OFF)

    # Publishing

    def _publish_event(self, kind: str, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        payload = json.dumps({"type": kind, "before": before, "after": after})
        self._send(self.topic("events"), payload, retain=False)

    def _publish_camera_states(self, camera: str) -> None:
        with self._lock:
            running = [event for event in self._events.values() if event["camera"] == camera]
            alarm_cameras = sorted({event["camera"] for event in self._events.values() if event["alarm"]})
        labels = {event["label"] for event in running}
        self._set_state(self.topic(camera, "person"), ON if "person" in labels else OFF)
        self._set_state(self.topic(camera, "pet"), ON if labels & PET_LABELS else OFF)
        self._set_state(self.topic(camera, "stranger"), ON if camera in alarm_cameras else OFF)
        self._publish_alarm(alarm_cameras)

    def _publish_alarm(self, alarm_cameras: list[str] | None = None) -> None:
        with self._lock:
            if alarm_cameras is None:
                alarm_cameras = sorted({event["camera"] for event in self._events.values() if event["alarm"]})
            mode = self._states.get(self.topic("mode"))
        payload = json.dumps({"mode": mode, "active": bool(alarm_cameras), "cameras": alarm_cameras})
        self._set_state(self.topic("alarm"), payload)

    def _refresh_mode(self) -> None:
        try:
            mode = self._current_mode()
        except Exception:
            log.exception("MQTT: cannot read the arming mode")
            return
        self._set_state(self.topic("mode"), mode)
        self._publish_alarm()

    def _publish_snapshot(self, camera: str, jpeg: bytes | None) -> None:
        if jpeg is None:
            return
        with self._lock:
            self._snapshots[camera] = jpeg
        # QoS 0: while the broker is away paho drops it instead of queueing megabytes of stale pictures; the
        # newest one is republished on reconnect.
        self._client.publish(self.topic(camera, "snapshot"), jpeg, qos=0, retain=True)

    def _set_state(self, topic: str, payload: str) -> None:
        with self._lock:
            if self._states.get(topic) == payload:
                return
            self._states[topic] = payload
        self._send(topic, payload, retain=True)

    def _send(self, topic: str, payload: str | bytes, *, retain: bool) -> None:
        info = self._client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 100 == 0:
                log.warning("MQTT: broker away too long: %d message(s) dropped (states are resent)", self._dropped)

    def _republish(self) -> None:
        """Publish discovery, every current state, then availability (after a connect, or when HA starts)."""
        for topic, config in self.discovery.items():
            self._client.publish(topic, json.dumps(config), qos=QOS, retain=True)
        self._refresh_mode()
        with self._lock:
            states = list(self._states.items())
            snapshots = list(self._snapshots.items())
        for topic, payload in states:
            self._client.publish(topic, payload, qos=QOS, retain=True)
        for camera, jpeg in snapshots:
            self._client.publish(self.topic(camera, "snapshot"), jpeg, qos=0, retain=True)
        # Last, so an entity is available only once its discovery and state are in place.
        self._client.publish(self.topic("available"), ONLINE, qos=QOS, retain=True)

    # The bridge's worker between messages: deferred republishing, doorbell sensors going OFF, the scheduled mode.

    def next_wait(self) -> float:
        """Sleep until the next republish, doorbell sensor release or mode poll."""
        with self._lock:
            deadlines = [self._next_mode_poll, *self._pressed_until.values()]
            if self._republish_at is not None:
                deadlines.append(self._republish_at)
        return max(0.0, min(deadlines) - time.monotonic())

    def tick(self) -> None:
        """Do what is due: republish after a connect, turn pressed doorbells OFF, read the scheduled mode."""
        now = time.monotonic()
        with self._lock:
            republish = self._republish_at is not None and self._republish_at <= now
            if republish:
                self._republish_at = None
            released = [bell for bell, until in self._pressed_until.items() if until <= now]
            for bell in released:
                del self._pressed_until[bell]
        if republish:
            self._republish()
        for bell in released:
            self._set_state(self.topic("doorbell", bell, "pressed"), OFF)
        if now >= self._next_mode_poll:
            self._next_mode_poll = now + MODE_POLL_SECONDS
            self._refresh_mode()

    def _request_republish(self) -> None:
        # After a (re)connect paho re-sends its queue first; republishing a moment later lands after it.
        with self._lock:
            self._republish_at = time.monotonic() + REPUBLISH_DELAY
        self.wake()

    # paho callbacks (on paho's network thread)

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.config.client_id)
        if self.config.username is not None:
            client.username_pw_set(self.config.username, self.config.password)
        client.will_set(self.topic("available"), OFFLINE, qos=QOS, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_DELAY, RECONNECT_MAX_DELAY)
        client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._failed(f"the MQTT broker at {self.where} refused the connection: {reason}")
            return
        if self._last_failure is not None:
            log.warning("MQTT: connected to %s again", self.where)
        else:
            log.info("MQTT: connected to %s", self.where)
        self._last_failure = None
        client.subscribe(
            [
                (self.topic("mode", "set"), QOS),
                (self.topic("doorbell", "+", "press"), QOS),
                (f"{self.config.discovery_prefix}/status", QOS),
            ]
        )
        self._request_republish()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        self._failed(f"cannot reach the MQTT broker at {self.where} (retrying, at most every {RECONNECT_MAX_DELAY} s)")

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if not self.stopping.is_set():
            self._failed(f"lost the MQTT broker at {self.where} ({reason}); reconnecting")

    def _failed(self, why: str) -> None:
        if why != self._last_failure:
            log.warning("MQTT: %s", why)
            self._last_failure = why

    @property
    def where(self) -> str:
        """Return the broker's address for messages."""
        return f"{self.config.host}:{self.config.port}"

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            self._command(message)
        except Exception:  # a bad command must not stop paho's network thread
            log.exception("MQTT: command on %s failed", message.topic)

    def _command(self, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        payload = message.payload.decode("utf-8", "replace").strip()
        if topic == f"{self.config.discovery_prefix}/status":
            if payload == ONLINE:
                log.info("MQTT: Home Assistant started: republishing discovery and states")
                self._request_republish()
            return
        if message.retain:
            # A retained command would be obeyed again at every reconnect.
            log.warning("MQTT: ignored a retained command on %s (publish commands without retain)", topic)
            return
        if topic == self.topic("mode", "set"):
            mode = MODE_BY_NAME.get(payload.lower())
            if mode is None:
                log.warning("MQTT: %s: unknown mode %r (expected one of %s)", topic, payload, ", ".join(MODES))
                return
            self._set_mode(mode, "mqtt")
            self._refresh_mode()
            return
        bell = doorbell_of(topic, self.prefix)
        if bell is not None:
            if bell not in self.doorbells:
                log.warning("MQTT: %s: no doorbell named %r", topic, bell)
                return
            self._ring(bell)


def doorbell_of(topic: str, prefix: str) -> str | None:
    """Return the bell a `<prefix>/doorbell/<bell>/press` topic names, or None for another topic."""
    match = re.fullmatch(re.escape(prefix) + r"/doorbell/([^/]+)/press", topic)
    return match.group(1) if match else None


def person_name(sub_label: str | None) -> str:
    """Return who a person event showed: a member's name, "stranger" (a face nobody knows) or "unknown" (no face)."""
    if sub_label is None:
        return UNKNOWN
    return STRANGER if sub_label == UNKNOWN else sub_label


def node_id(config: MqttConfig, name: str) -> str:
    """Return the discovery node id of a device: the topic prefix (made safe) and the camera's name."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", config.topic_prefix.strip("/")) + "_" + name


def discovery_configs(
    config: MqttConfig,
    cameras: list[str],
    doorbells: dict[str, DoorbellConfig],
    names: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Return Home Assistant's discovery config of every entity, by its config topic."""
    prefix = config.topic_prefix.rstrip("/")
    hub = node_id(config, "hub")
    availability = {
        "availability_topic": f"{prefix}/available",
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
    }
    configs: dict[str, dict[str, Any]] = {}

    def add(
        component: str,
        node: str,
        device: dict[str, Any],
        object_id: str,
        entity: dict[str, Any],
        camera: str | None = None,
    ) -> None:
        """Add an entity, available while the hub is; one of a camera's while the hub and the camera both are."""
        unique_id = f"{node}_{object_id}"
        available: dict[str, Any] = availability
        if camera is not None:
            available = {
                "availability": [
                    {"topic": f"{prefix}/available", "payload_available": ONLINE, "payload_not_available": OFFLINE},
                    {
                        "topic": f"{prefix}/{camera}/available",
                        "payload_available": ONLINE,
                        "payload_not_available": OFFLINE,
                    },
                ],
                "availability_mode": "all",
            }
        configs[f"{config.discovery_prefix}/{component}/{node}/{object_id}/config"] = {
            "unique_id": unique_id,
            **entity,
            **available,
            "device": device,
        }

    def binary(topic: str, name: str, device_class: str | None, **extra: Any) -> dict[str, Any]:
        entity: dict[str, Any] = {"name": name, "state_topic": topic, "payload_on": ON, "payload_off": OFF, **extra}
        if device_class is not None:
            entity["device_class"] = device_class
        return entity

    hub_device = {
        "identifiers": [hub],
        "name": "Homewarden",
        "manufacturer": "Homewarden",
        "model": "Homewarden hub",
        "sw_version": __version__,
    }
    add(
        "select",
        hub,
        hub_device,
        "mode",
        {
            "name": "Arming mode",
            "state_topic": f"{prefix}/mode",
            "command_topic": f"{prefix}/mode/set",
            "options": list(MODES),
            "qos": QOS,
            "icon": "mdi:shield-home",
        },
    )
    add(
        "binary_sensor",
        hub,
        hub_device,
        "alarm",
        binary(f"{prefix}/alarm", "Alarm", "safety", value_template="{{ 'ON' if value_json.active else 'OFF' }}"),
    )
    add(
        "binary_sensor",
        hub,
        hub_device,
        "storage",
        binary(
            f"{prefix}/storage",
            "Storage full",
            "problem",
            value_template="{{ 'ON' if value_json.problem else 'OFF' }}",
            json_attributes_topic=f"{prefix}/storage",
        ),
    )
    add(
        "sensor",
        hub,
        hub_device,
        "offsite_lag",
        {
            "name": "Off-site lag",
            "state_topic": f"{prefix}/offsite",
            "value_template": "{{ value_json.lag_seconds }}",
            "unit_of_measurement": "s",
            "device_class": "duration",
            "state_class": "measurement",
            "json_attributes_topic": f"{prefix}/offsite",
            "icon": "mdi:cloud-upload",
        },
    )
    add(
        "binary_sensor",
        hub,
        hub_device,
        "offsite_stuck",
        binary(
            f"{prefix}/offsite",
            "Off-site copies stuck",
            "problem",
            value_template="{{ 'ON' if value_json.stuck else 'OFF' }}",
        ),
    )
    for camera in cameras:
        node = node_id(config, camera)
        device = {
            "identifiers": [node],
            "name": name_of(camera, names or {}),
            "manufacturer": "Homewarden",
            "model": "Homewarden camera",
            "sw_version": __version__,
            "via_device": hub,
        }
        # What the camera sees is unknown while it is down: those entities follow its availability too.
        add("binary_sensor", node, device, "motion", binary(f"{prefix}/{camera}/motion", "Motion", "motion"), camera)
        add(
            "binary_sensor",
            node,
            device,
            "person",
            binary(f"{prefix}/{camera}/person", "Person", "occupancy"),
            camera,
        )
        add(
            "binary_sensor",
            node,
            device,
            "pet",
            binary(f"{prefix}/{camera}/pet", "Pet", "occupancy", icon="mdi:paw"),
            camera,
        )
        add(
            "binary_sensor",
            node,
            device,
            "stranger",
            binary(f"{prefix}/{camera}/stranger", "Stranger alarm", "safety"),
            camera,
        )
        add(
            "sensor",
            node,
            device,
            "last_person",
            {"name": "Last recognised person", "state_topic": f"{prefix}/{camera}/last_person", "icon": "mdi:account"},
            camera,
        )
        # An MQTT camera reads raw JPEG bytes from `topic` (no image_encoding means raw; HA has no state_topic here).
        add("camera", node, device, "snapshot", {"name": "Snapshot", "topic": f"{prefix}/{camera}/snapshot"}, camera)
        # The camera's own state stays available while it is down: saying that it is down is its whole point.
        add(
            "sensor",
            node,
            device,
            "state",
            {
                "name": "Camera state",
                "state_topic": f"{prefix}/{camera}/status",
                "value_template": "{{ value_json.state }}",
                "json_attributes_topic": f"{prefix}/{camera}/status",
                "device_class": "enum",
                "options": list(CAMERA_STATES),
                "entity_category": "diagnostic",
                "icon": "mdi:cctv",
            },
        )
        add(
            "binary_sensor",
            node,
            device,
            "offline",
            binary(
                f"{prefix}/{camera}/offline",
                "Camera offline",
                "problem",
                json_attributes_topic=f"{prefix}/{camera}/offline/notice",
            ),
        )
        for bell, doorbell in doorbells.items():
            if doorbell.camera != camera:
                continue
            add(
                "binary_sensor",
                node,
                device,
                f"doorbell_{bell}",
                binary(f"{prefix}/doorbell/{bell}/pressed", f"Doorbell {bell}", None, icon="mdi:doorbell"),
                camera,
            )
            add(
                "sensor",
                node,
                device,
                f"doorbell_{bell}_visitor",
                {
                    "name": f"Doorbell {bell} visitor",
                    "state_topic": f"{prefix}/doorbell/{bell}/visitor",
                    "icon": "mdi:account-question",
                },
                camera,
            )
    return configs
