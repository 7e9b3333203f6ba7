"""`homewarden serve` with MQTT on, as a user runs it: the real hub process publishes Home Assistant discovery and
the demo scene's events to the real broker, takes its arming mode from MQTT, and records a doorbell press."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from demo_process import free_port, read_until
from homewarden.demo import compose_demo_scene
from notify.conftest import Namespace, Subscriber

PASSWORD = "integration owner passphrase"


@pytest.mark.slow
def test_serve_publishes_events_takes_mode_commands_and_rings(tmp_path: Path, namespace: Namespace) -> None:
    scene = compose_demo_scene(tmp_path / "scene.mp4")
    config = tmp_path / "hub.yaml"
    config.write_text(
        f"cameras:\n  front_door:\n    source: {json.dumps(str(scene))}\n    loop: true\n"
        f"storage:\n  folder: {json.dumps(str(tmp_path / 'data'))}\n"
        f"mqtt:\n  enabled: true\n  port: {namespace.port}\n  topic_prefix: {namespace.prefix}\n"
        f"  discovery_prefix: {namespace.discovery_prefix}\n  client_id: hw-serve-{namespace.prefix[-6:]}\n"
        "doorbells:\n  front:\n    camera: front_door\n    record_seconds: 5\n"
    )
    prefix = namespace.prefix
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "homewarden", "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with Subscriber(namespace.port, [f"{prefix}/#", f"{namespace.discovery_prefix}/#"]) as seen:
            link = read_until(process, r"(http://127\.0\.0\.1:\d+)/setup\?token=(\S+)", timeout=120)
            seen.wait_for(
                lambda messages: any(m.topic == f"{prefix}/available" and m.text == "online" for m in messages)
            )
            discovered = {m.topic for m in seen.messages if m.topic.startswith(namespace.discovery_prefix)}
            assert f"{namespace.discovery_prefix}/select/{prefix}_hub/mode/config" in discovered
            assert any(topic.startswith(f"{namespace.discovery_prefix}/binary_sensor/") for topic in discovered)
            with httpx.Client(base_url=link.group(1), timeout=30) as client:
                done = client.post(
                    "/api/setup", json={"token": link.group(2), "username": "olivia", "password": PASSWORD}
                )
                assert done.status_code == 200, done.text
                client.cookies.set("hw_session", done.cookies["hw_session"])
                # The scene's stranger walks in within a few seconds of the cameras starting (a deadline, not speed).
                seen.wait_for(
                    lambda messages: any(
                        m.topic == f"{prefix}/events" and json.loads(m.payload)["type"] == "end" for m in messages
                    ),
                    timeout=90,
                )
                ends = [json.loads(p) for p in seen.on(f"{prefix}/events") if json.loads(p)["type"] == "end"]
                assert ends[0]["after"]["label"] == "person"
                assert ends[0]["after"]["alarm"] is True
                assert "ON" in seen.on(f"{prefix}/front_door/person")

                seen.client.publish(f"{prefix}/mode/set", b"disarmed", qos=1).wait_for_publish(5)
                seen.wait_for(
                    lambda messages: (
                        f"{prefix}/mode" in {m.topic for m in messages} and seen.on(f"{prefix}/mode")[-1] == "disarmed"
                    )
                )
                assert client.get("/api/arming").json()["mode"] == "disarmed"

                seen.client.publish(f"{prefix}/doorbell/front/press", b"PRESS", qos=1).wait_for_publish(5)
                seen.wait_for(lambda _m: "ON" in seen.on(f"{prefix}/doorbell/front/pressed"), timeout=30)
                deadline = time.monotonic() + 60
                doorbell: list[dict[str, object]] = []
                while time.monotonic() < deadline and not doorbell:
                    doorbell = client.get("/api/events?label=doorbell").json()["events"]
                    time.sleep(1)
                assert doorbell, "the press made no doorbell event"
                assert doorbell[0]["clips"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        finally:
            assert process.stdout is not None
            rest = process.stdout.read()
            process.stdout.close()
    assert code == 0, rest
