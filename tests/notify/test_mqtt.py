"""The MQTT bridge against the real Mosquitto broker: discovery, events from real footage, arming, broker outages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import ONE_BY_ONE, media_file
from homewarden import __version__
from homewarden.camera.runner import CameraRunner
from homewarden.config.loader import single_source_config
from homewarden.config.model import AlarmConfig, ArmingMode, DoorbellConfig, FacesConfig, MqttConfig
from homewarden.detect import create_detector
from homewarden.events.alarm import UNIDENTIFIED, IntrusionWatch
from homewarden.events.arming import ArmingState
from homewarden.events.lifecycle import Look, TrackedObject
from homewarden.events.record import EventRecord
from homewarden.notify import mqtt as mqtt_bridge
from homewarden.notify.bus import (
    CameraOffline,
    CamerasChanged,
    CameraStatusChanged,
    DoorbellPressed,
    EventEnded,
    EventStarted,
    EventUpdated,
    HubBus,
    MotionChanged,
    OffsiteStatus,
    StorageProblem,
)
from homewarden.notify.mqtt import MqttBridge
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource
from notify.conftest import Namespace, PrivateBroker, Received, Subscriber

CAMERAS = ["front_door", "garden"]
DOORBELLS = {"gate": DoorbellConfig(camera="front_door")}
JPEG = b"\xff\xd8\xff\xe0 a picture \xff\xd9"


@dataclass
class Hub:
    """What the bridge may ask of the hub, recording each call."""

    mode: str = "away"
    modes_set: list[tuple[str, str]] = field(default_factory=list)
    rings: list[str] = field(default_factory=list)

    def set_mode(self, mode: ArmingMode, by: str) -> None:
        self.modes_set.append((mode, by))
        self.mode = mode

    def bridge(self, config: MqttConfig, cameras: list[str] = CAMERAS) -> MqttBridge:
        return MqttBridge(
            config,
            cameras,
            DOORBELLS,
            set_mode=self.set_mode,
            ring=self.rings.append,
            snapshot=lambda _camera: JPEG,
            current_mode=lambda: self.mode,
        )

    @contextmanager
    def bridged(self, config: MqttConfig, cameras: list[str] = CAMERAS) -> Iterator[tuple[MqttBridge, HubBus]]:
        """Run a bridge subscribed to a bus of its own; stop both at the end."""
        bridge = self.bridge(config, cameras)
        bus = HubBus()
        bus.subscribe("mqtt", bridge)
        bus.start()
        bridge.start()
        try:
            yield bridge, bus
        finally:
            bus.stop()
            bridge.stop()


def wait_online(namespace: Namespace | PrivateBroker, prefix: str, timeout: float = 10.0) -> None:
    with Subscriber(namespace.port, [f"{prefix}/available"]) as available:
        available.wait_for(lambda got: bool(got) and got[-1].text == "online", timeout)


def test_discovery_gives_home_assistant_what_it_requires(namespace: Namespace) -> None:
    hub = Hub()
    bridge = hub.bridge(namespace.config())
    bridge.start()
    try:
        wait_online(namespace, namespace.prefix)
        with Subscriber(namespace.port, [f"{namespace.discovery_prefix}/#"]) as ha:
            configs = ha.wait_for(lambda got: len(got) >= len(bridge.discovery))
            time.sleep(0.3)
            assert len(ha.messages) == len(bridge.discovery), "one retained config per entity"
            assert all(message.retain for message in configs), "discovery configs are retained"

            entities = {tuple(m.topic.split("/")[1:4]): json.loads(m.payload) for m in configs}
            prefix = namespace.prefix
            expected = {
                ("select", f"{prefix}_hub", "mode"),
                ("binary_sensor", f"{prefix}_hub", "alarm"),
                ("binary_sensor", f"{prefix}_hub", "storage"),
                ("sensor", f"{prefix}_hub", "offsite_lag"),
                ("binary_sensor", f"{prefix}_hub", "offsite_stuck"),
            }
            for camera in CAMERAS:
                node = f"{prefix}_{camera}"
                expected |= {
                    ("binary_sensor", node, "motion"),
                    ("binary_sensor", node, "person"),
                    ("binary_sensor", node, "pet"),
                    ("binary_sensor", node, "stranger"),
                    ("sensor", node, "last_person"),
                    ("camera", node, "snapshot"),
                    ("sensor", node, "state"),
                    ("binary_sensor", node, "offline"),
                }
            expected |= {
                ("binary_sensor", f"{prefix}_front_door", "doorbell_gate"),
                ("sensor", f"{prefix}_front_door", "doorbell_gate_visitor"),
            }
            assert set(entities) == expected
            assert all(topic.endswith("/config") for topic in (m.topic for m in configs))

            unique_ids = [entity["unique_id"] for entity in entities.values()]
            assert len(set(unique_ids)) == len(unique_ids), "unique_id is unique"
            for (component, node, object_id), entity in entities.items():
                assert entity["name"]
                camera_name = node.removeprefix(f"{prefix}_")
                if node.endswith("_hub") or object_id in ("state", "offline"):
                    # The hub's entities, and a camera's state and offline sensors (they tell that it is down).
                    assert entity["availability_topic"] == f"{prefix}/available"
                    assert (entity["payload_available"], entity["payload_not_available"]) == ("online", "offline")
                else:
                    # What a camera sees is available while the hub and that camera both are.
                    assert "availability_topic" not in entity
                    assert entity["availability_mode"] == "all"
                    assert entity["availability"] == [
                        {
                            "topic": f"{prefix}/{where}",
                            "payload_available": "online",
                            "payload_not_available": "offline",
                        }
                        for where in ("available", f"{camera_name}/available")
                    ]
                device = entity["device"]
                assert device["identifiers"] == [node]
                assert (device["manufacturer"], device["sw_version"]) == ("Homewarden", __version__)
                assert device["name"]
                assert device["model"]
                state = entity["topic"] if component == "camera" else entity["state_topic"]
                assert state.startswith(f"{prefix}/")
                if component == "binary_sensor" and "value_template" not in entity:
                    assert (entity["payload_on"], entity["payload_off"]) == ("ON", "OFF")

            classes = {key[2]: entities[key].get("device_class") for key in entities if key[1].endswith("front_door")}
            assert (classes["motion"], classes["person"], classes["stranger"]) == ("motion", "occupancy", "safety")
            camera = entities[("camera", f"{prefix}_front_door", "snapshot")]
            assert camera["topic"] == f"{prefix}/front_door/snapshot"
            assert "image_encoding" not in camera, "the snapshot is raw JPEG bytes"
            select = entities[("select", f"{prefix}_hub", "mode")]
            assert select["options"] == ["away", "home", "night", "disarmed"]
            assert (select["command_topic"], select["state_topic"]) == (f"{prefix}/mode/set", f"{prefix}/mode")

            # Home Assistant's birth message: everything again, so a restarted HA finds its entities.
            ha.client.publish(f"{namespace.discovery_prefix}/status", "online", qos=1).wait_for_publish(5.0)
            ha.wait_for(lambda got: len(got) >= 2 * len(bridge.discovery))

        # The states the entities read are retained from the start.
        with Subscriber(namespace.port, [f"{prefix}/#"]) as state:
            state.wait_for(lambda got: {f"{prefix}/mode", f"{prefix}/front_door/person"} <= {m.topic for m in got})
            assert state.on(f"{prefix}/mode") == ["away"]
            assert state.on(f"{prefix}/front_door/person") == ["OFF"]
            assert json.loads(state.on(f"{prefix}/alarm")[0]) == {"mode": "away", "active": False, "cameras": []}
    finally:
        bridge.stop()
    with Subscriber(namespace.port, [f"{namespace.prefix}/available"]) as available:
        assert available.wait_for(lambda got: bool(got))[-1].text == "offline"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_subscriber_follows_the_one_by_one_footage(namespace: Namespace, tmp_path: Path) -> None:
    video = media_file(ONE_BY_ONE)
    config, camera = single_source_config(str(video))
    prefix = namespace.prefix
    watched = [f"{prefix}/events", f"{prefix}/{camera}/person", f"{prefix}/{camera}/motion"]
    with Hub().bridged(namespace.config(), [camera]) as (_bridge, bus):
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, watched) as sub:
            runner = CameraRunner(
                camera, config, create_detector(config.detector), MediaFolder(tmp_path), lambda _: None, bus=bus
            )
            source = VideoSource(str(video))
            source.open()
            runner.run_file(source)
            bus.flush()
            person = f"{prefix}/{camera}/person"
            sub.wait_for(
                lambda got: sum(b'"type": "end"' in m.payload for m in got) >= 6 and sub.on(person)[-1:] == ["OFF"],
                timeout=20.0,
            )
            # What came before the first event is the states the bridge (re)published as it connected.
            first = next(i for i, m in enumerate(sub.messages) if m.topic == f"{prefix}/events")
            live = sub.messages[first:]

    events = [json.loads(m.payload) for m in live if m.topic == f"{prefix}/events"]
    ended = [event["after"] for event in events if event["type"] == "end"]
    assert [event["label"] for event in ended] == ["person"] * 6
    assert all(event["alarm"] for event in ended), "away mode: every visitor is an alarm"
    for event in events:
        assert set(event["after"]) == {
            "id", "camera", "label", "sub_label", "score", "start", "end", "alarm", "alarm_reason"
        }  # fmt: skip
    # Each event starts before it ends; the person sensor is ON exactly while an event runs. An event ends when its
    # clip closes, after the post-roll, so a visitor coming soon after the last one overlaps it.
    timeline = [timeline_entry(m, prefix) for m in live if m.topic != f"{prefix}/{camera}/motion"]
    visits = [entry for entry in timeline if entry[0] != "update"]
    expected: list[tuple[str, str]] = []
    running: set[str] = set()
    for kind, event_id in visits:
        if kind in ("new", "end"):
            was = bool(running)
            (running.add if kind == "new" else running.discard)(event_id)
            expected.append((kind, event_id))
            if bool(running) != was:
                expected.append(("ON" if running else "OFF", ""))
    assert visits == expected
    news = [event_id for kind, event_id in visits if kind == "new"]
    ends = [event_id for kind, event_id in visits if kind == "end"]
    assert len(set(news)) == 6
    assert sorted(news) == sorted(ends)
    assert all(visits.index(("new", event_id)) < visits.index(("end", event_id)) for event_id in news)
    assert [kind for kind, _ in visits].count("ON") >= 4, "the person sensor turns OFF between most visits"
    assert visits[-1] == ("OFF", "")
    for event in events:
        if event["type"] != "new":
            assert event["before"] is not None
            assert event["before"]["id"] == event["after"]["id"]
    assert all(event["end"] > event["start"] for event in ended)
    motion = [m.text for m in sub.messages if m.topic == f"{prefix}/{camera}/motion"]
    motion = motion[motion.index("ON") :]
    # (The footage ends with motion in the picture; the pipeline does not announce its end then.)
    assert len(motion) >= 4
    assert motion == ["ON", "OFF"] * (len(motion) // 2) + ["ON"] * (len(motion) % 2)


def timeline_entry(message: Received, prefix: str) -> tuple[str, str]:
    if message.topic == f"{prefix}/events":
        event = json.loads(message.payload)
        return event["type"], event["after"]["id"]
    return message.text, ""


def person_track(object_id: str) -> TrackedObject:
    """Return a confirmed person track standing in the middle of a 768x432 picture, seen for 20 s."""
    obj = TrackedObject(id=object_id, first_seen=0.0, last_seen=20.0, box=(300.0, 50.0, 450.0, 400.0))
    obj.label_votes["person"] = 8.0
    obj.scores.extend([0.8] * 8)
    obj.recent_looks.extend(Look(float(t), "person", 0.8, obj.box) for t in range(8))
    return obj


def test_arming_by_mqtt_changes_the_alarm_decision(namespace: Namespace) -> None:
    arming = ArmingState(AlarmConfig(mode="away", grace_period=10.0))
    watch = IntrusionWatch("front_door", arming.alarm, FacesConfig(), (768, 432), None, live=False, arming=arming)
    calls: list[tuple[str, str]] = []

    def set_mode(mode: ArmingMode, by: str) -> None:
        calls.append((mode, by))
        arming.set_manual(mode, by)

    bridge = MqttBridge(
        namespace.config(),
        CAMERAS,
        {},
        set_mode=set_mode,
        ring=lambda _bell: None,
        snapshot=lambda _camera: None,
        current_mode=lambda: arming.mode_at(datetime.now(UTC)),
    )
    bridge.start()
    prefix = namespace.prefix
    try:
        with Subscriber(namespace.port, [f"{prefix}/available", f"{prefix}/mode"]) as sub:
            sub.wait_for(lambda got: "online" in [m.text for m in got] and "away" in [m.text for m in got])
            before = watch.follow(person_track("before"), 10.0)
            assert before is not None
            assert (before.alarm, before.reason) == (True, UNIDENTIFIED)

            sub.client.publish(f"{prefix}/mode/set", "home", qos=1).wait_for_publish(5.0)
            sub.wait_for(lambda got: got[-1].topic == f"{prefix}/mode" and got[-1].text == "home")
            assert calls == [("home", "mqtt")]

            sub.client.publish(f"{prefix}/mode/set", "party", qos=1).wait_for_publish(5.0)
            sub.client.publish(f"{prefix}/mode/set", "Disarmed", qos=1).wait_for_publish(5.0)
            sub.wait_for(lambda got: got[-1].topic == f"{prefix}/mode" and got[-1].text == "disarmed")
            assert calls == [("home", "mqtt"), ("disarmed", "mqtt")], "an unknown mode is refused"

            after = watch.follow(person_track("after"), 10.0)
            assert after is not None
            assert (after.alarm, after.mode) == (False, "disarmed")

        with Subscriber(namespace.port, [f"{prefix}/mode", f"{prefix}/alarm"]) as late:
            late.wait_for(lambda got: len(got) >= 2)
            assert late.on(f"{prefix}/mode") == ["disarmed"], "the retained mode follows"
            assert json.loads(late.on(f"{prefix}/alarm")[0])["mode"] == "disarmed"
    finally:
        bridge.stop()


def test_a_doorbell_rings_by_mqtt_and_tells_who_came(namespace: Namespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt_bridge, "PRESSED_SECONDS", 0.5)
    hub = Hub()
    bridge = hub.bridge(namespace.config())
    bridge.start()
    prefix = namespace.prefix
    try:
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, [f"{prefix}/doorbell/#", f"{prefix}/front_door/snapshot"]) as sub:
            sub.client.publish(f"{prefix}/doorbell/gate/press", "", qos=1).wait_for_publish(5.0)
            sub.client.publish(f"{prefix}/doorbell/shed/press", "", qos=1).wait_for_publish(5.0)
            deadline = time.monotonic() + 5.0
            while not hub.rings and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            assert hub.rings == ["gate"], "only a configured bell rings"

            # The paired camera recorded and looked at the visitor: the bus says so.
            bridge.handle(DoorbellPressed("front_door", "ring-1", time.time(), "alice", JPEG))
            sub.wait_for(lambda got: sub.on(f"{prefix}/doorbell/gate/pressed")[-2:] == ["ON", "OFF"])
            assert sub.on(f"{prefix}/doorbell/gate/visitor")[-1] == "alice"
            snapshots = [m.payload for m in sub.messages if m.topic == f"{prefix}/front_door/snapshot"]
            assert snapshots[-1] == JPEG
    finally:
        bridge.stop()


def event_started(camera: str, event_id: str) -> EventStarted:
    return EventStarted(camera, event_id, "person", 0.8, time.time())


def event_ended(camera: str, event_id: str) -> EventEnded:
    now = time.time()
    record = EventRecord(event_id, camera, "person", 0.8, now - 5, now, True, (0, 0, 10, 10), None, alarm=True)
    return EventEnded(record)


@pytest.mark.timeout(60)
def test_the_bridge_rides_out_a_broker_that_is_down_then_restarts(
    private_broker: PrivateBroker, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = "hwtest-restart"
    config = MqttConfig(
        enabled=True,
        port=private_broker.port,
        topic_prefix=prefix,
        discovery_prefix="hwtest-restart-ha",
        client_id="hw-bridge-restart",
        keepalive=5,
    )
    hub = Hub()
    bridge = hub.bridge(config)

    def timed(message: Any) -> None:
        started = time.perf_counter()
        bridge.handle(message)
        assert time.perf_counter() - started < 0.05, f"handle({type(message).__name__}) blocked"

    # The broker is down as the hub starts: nothing fails, nothing waits.
    bridge.start()
    timed(event_started("front_door", "early"))
    timed(MotionChanged("front_door", True, time.time()))
    timed(EventUpdated("front_door", "early", "person", None, True, UNIDENTIFIED, time.time()))
    time.sleep(1.5)
    assert not bridge.connected
    private_broker.start()
    # A persistent session survives the broker's restart, so no message is lost to a subscriber reconnecting late.
    subscriber = Subscriber(private_broker.port, [f"{prefix}/#", "hwtest-restart-ha/#"], "hw-sub-restart", True)
    with subscriber as sub:
        got = sub.wait_for(
            lambda got: (
                "online" in [m.text for m in got if m.topic == f"{prefix}/available"]
                and sum(m.topic.startswith("hwtest-restart-ha/") for m in got) >= len(bridge.discovery)
            ),
            timeout=20.0,
        )
        early = [json.loads(m.payload) for m in got if m.topic == f"{prefix}/events"]
        assert [(e["type"], e["after"]["id"]) for e in early] == [("new", "early"), ("update", "early")]
        sub.wait_for(lambda got: sub.on(f"{prefix}/front_door/stranger")[-1:] == ["ON"])
        assert sub.on(f"{prefix}/front_door/motion")[-1] == "ON"

        private_broker.stop()
        time.sleep(0.5)
        assert not bridge.connected
        timed(event_ended("front_door", "early"))
        timed(event_started("garden", "late"))
        timed(MotionChanged("front_door", False, time.time()))
        time.sleep(1.0)
        private_broker.start()

        def events(got: list[Received]) -> list[tuple[str, str]]:
            payloads = [json.loads(m.payload) for m in got if m.topic == f"{prefix}/events"]
            return [(event["type"], event["after"]["id"]) for event in payloads]

        sub.wait_for(lambda got: len(events(got)) >= 4, timeout=25.0)
        assert events(sub.messages) == [("new", "early"), ("update", "early"), ("end", "early"), ("new", "late")]
        sub.wait_for(lambda got: sub.on(f"{prefix}/front_door/stranger")[-1:] == ["OFF"])
        sub.wait_for(lambda got: sub.on(f"{prefix}/front_door/motion")[-1:] == ["OFF"])
        sub.wait_for(lambda got: sub.on(f"{prefix}/garden/person")[-1:] == ["ON"])
        assert bridge.connected
    bridge.stop()
    warnings = [r.getMessage() for r in caplog.records if r.name == "homewarden.notify.mqtt" and r.levelno >= 30]
    assert 1 <= sum("cannot reach" in line for line in warnings) <= 2, "each outage is logged once, not each retry"


def test_a_camera_going_down_and_offline_is_told_to_home_assistant(namespace: Namespace) -> None:
    prefix = namespace.prefix
    garden = f"{prefix}/garden"
    with Hub().bridged(namespace.config()) as (_bridge, bus):
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, [f"{prefix}/#"]) as sub:
            # Retained from the start: a camera is taken to be up, and no notice is out.
            sub.wait_for(
                lambda got: sub.on(f"{garden}/available") == ["online"] and sub.on(f"{garden}/offline") == ["OFF"]
            )

            down_at = time.time()
            bus.publish(CameraStatusChanged("garden", "reconnecting", "connection refused", down_at))
            bus.publish(CameraStatusChanged("garden", "failed", "connection refused", down_at + 30))
            bus.publish(CameraOffline("garden", down_at, "connection refused", "away", down_at + 120))
            sub.wait_for(lambda got: sub.on(f"{garden}/offline")[-1:] == ["ON"])
            assert sub.on(f"{garden}/available") == ["online", "offline"], "offline once, however it is down"
            states = [json.loads(text) for text in sub.on(f"{garden}/status")]
            assert [(s["state"], s["reason"]) for s in states] == [
                ("reconnecting", "connection refused"),
                ("failed", "connection refused"),
            ]
            assert states[-1]["camera"] == "garden"
            notice = json.loads(sub.on(f"{garden}/offline/notice")[-1])
            assert notice == {
                "camera": "garden",
                "down_since": datetime.fromtimestamp(down_at, tz=UTC).isoformat(),
                "reason": "connection refused",
                "mode": "away",
            }
            assert sub.on(f"{prefix}/front_door/available") == ["online"], "the other camera is untouched"

            bus.publish(CameraStatusChanged("garden", "online", None, time.time()))
            sub.wait_for(lambda got: sub.on(f"{garden}/offline")[-1:] == ["OFF"])
            assert sub.on(f"{garden}/available")[-1] == "online"
            assert json.loads(sub.on(f"{garden}/status")[-1])["state"] == "online"

            bus.publish(CameraStatusChanged("garden", "failed", "no such file", time.time()))
            sub.wait_for(lambda got: sub.on(f"{garden}/available")[-1:] == ["offline"])

        # A subscriber coming later (Home Assistant restarting) finds the current state retained.
        with Subscriber(namespace.port, [f"{garden}/#"]) as late:
            late.wait_for(lambda got: {f"{garden}/available", f"{garden}/status"} <= {m.topic for m in got})
            assert late.on(f"{garden}/available") == ["offline"]
            assert json.loads(late.on(f"{garden}/status")[0])["reason"] == "no such file"


def test_cameras_renamed_added_and_turned_off_in_the_settings_reach_home_assistant(namespace: Namespace) -> None:
    prefix, discovery = namespace.prefix, namespace.discovery_prefix

    def config_topic(camera: str, object_id: str) -> str:
        component = "camera" if object_id == "snapshot" else "binary_sensor"
        return f"{discovery}/{component}/{prefix}_{camera}/{object_id}/config"

    with Hub().bridged(namespace.config()) as (bridge, bus):
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, [f"{discovery}/#", f"{prefix}/porch/#"]) as ha:
            ha.wait_for(lambda got: len(got) >= len(bridge.discovery))
            assert json.loads(ha.on(config_topic("front_door", "motion"))[0])["device"]["name"] == "Front door"

            # The front door renamed, the garden turned off, a porch camera added.
            names = (("front_door", "Haustür"), ("garden", "Garten"), ("porch", "Porch"))
            bus.publish(CamerasChanged(("front_door", "porch"), names, time.time()))

            ha.wait_for(lambda got: bool(ha.on(config_topic("porch", "snapshot"))))
            ha.wait_for(lambda got: len(ha.on(config_topic("garden", "motion"))) == 2)
            assert json.loads(ha.on(config_topic("front_door", "motion"))[-1])["device"]["name"] == "Haustür"
            assert ha.on(config_topic("garden", "motion"))[-1] == "", "an empty config removes the entity"
            porch = json.loads(ha.on(config_topic("porch", "motion"))[-1])
            assert porch["device"]["name"] == "Porch"
            assert porch["state_topic"] == f"{prefix}/porch/motion"
            ha.wait_for(lambda got: ha.on(f"{prefix}/porch/available") == ["online"])
            assert ha.on(f"{prefix}/porch/motion") == ["OFF"]
    assert not any(config_topic("garden", "x").rsplit("/", 2)[0] in topic for topic in bridge.discovery)


def test_a_full_storage_disk_is_told_to_home_assistant_and_so_is_its_end(namespace: Namespace) -> None:
    prefix = namespace.prefix
    with Hub().bridged(namespace.config()) as (_bridge, bus):
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, [f"{prefix}/storage"]) as sub:
            bus.publish(
                StorageProblem(1, "the storage disk is full (3 MB free): clips could not be written", 3 << 20, 1.0)
            )
            bus.publish(StorageProblem(1, None, 900 << 20, 2.0))
            sub.wait_for(lambda got: len(sub.on(f"{prefix}/storage")) == 2)
            full, room = (json.loads(text) for text in sub.on(f"{prefix}/storage"))
        assert (full["problem"], full["free_bytes"]) == (True, 3 << 20)
        assert full["reason"].startswith("the storage disk is full")
        assert room == {"problem": False, "reason": None, "free_bytes": 900 << 20}


def test_the_off_site_lag_is_a_home_assistant_sensor(namespace: Namespace) -> None:
    prefix = namespace.prefix
    with Hub().bridged(namespace.config()) as (bridge, bus):
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, [f"{prefix}/offsite"]) as sub:
            bus.publish(OffsiteStatus(1, 3, 4321.4, None, True, "cannot reach the cloud", 10.0))
            bus.publish(OffsiteStatus(1, 0, 0.0, 20.0, False, None, 20.0))
            sub.wait_for(lambda got: len(sub.on(f"{prefix}/offsite")) == 2)
            behind, caught_up = (json.loads(text) for text in sub.on(f"{prefix}/offsite"))
        assert behind == {
            "lag_seconds": 4321,
            "waiting": 3,
            "last_success": None,
            "stuck": True,
            "last_error": "cannot reach the cloud",
        }
        assert (caught_up["lag_seconds"], caught_up["stuck"]) == (0, False)
        lag = bridge.discovery[f"{namespace.discovery_prefix}/sensor/{prefix}_hub/offsite_lag/config"]
        assert (lag["state_topic"], lag["unit_of_measurement"]) == (f"{prefix}/offsite", "s")


def test_two_people_side_by_side_are_one_intrusion_on_the_intrusions_topic(
    namespace: Namespace, tmp_path: Path
) -> None:
    """Real footage of two people walking together: one intrusion, "new", updated to two people and an alarm, "end"."""
    video = media_file("video/face-demographics-walking.gif")
    config, camera = single_source_config(str(video))
    prefix = namespace.prefix
    with Hub().bridged(namespace.config(), [camera]) as (_bridge, bus):
        wait_online(namespace, prefix)
        with Subscriber(namespace.port, [f"{prefix}/intrusions", f"{prefix}/events"]) as sub:
            runner = CameraRunner(
                camera, config, create_detector(config.detector), MediaFolder(tmp_path), lambda _: None, bus=bus
            )
            source = VideoSource(str(video))
            source.open()
            runner.run_file(source)
            bus.flush()
            topic = f"{prefix}/intrusions"
            sub.wait_for(lambda got: any(m.topic == topic and b'"type": "end"' in m.payload for m in got))
            told = [json.loads(m.payload) for m in sub.messages if m.topic == f"{prefix}/intrusions"]
            events = [json.loads(m.payload) for m in sub.messages if m.topic == f"{prefix}/events"]

    assert len({message["id"] for message in told}) == 1
    kinds = [message["type"] for message in told]
    assert kinds[0] == "new"
    assert kinds[-1] == "end"
    assert set(kinds[1:-1]) == {"update"}
    assert told[0]["people"] == 1
    assert told[0]["alarm"] is False
    last = told[-1]
    assert (last["people"], last["alarm"], last["alarm_reason"], last["cameras"]) == (2, True, "unidentified", [camera])
    assert last["end"] is not None
    assert sorted(last["events"]) == sorted({event["after"]["id"] for event in events})
    # The first alarm raised the intrusion; the second person's alarm only updated it (same id, still one).
    raised = [message for message in told if message["alarm"]]
    assert raised
    assert raised[0]["people"] >= 1
