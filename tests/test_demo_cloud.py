"""`homewarden demo --cloud` as a newcomer runs it: a real process with the hub and a local cloud beside it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from demo_process import free_port, start_demo

PASSWORD = "demo owner passphrase"
CLOUD_LINE = (
    r"Homewarden Cloud \(local, for the demo\) at (http://127\.0\.0\.1:\d+)/ - account '(\S+)', password '(\S+)'"
)


@pytest.mark.slow
def test_demo_with_cloud_pairs_after_setup_and_sends_clips_off_site(tmp_path: Path) -> None:
    cloud_port = free_port()
    demo = start_demo(tmp_path, extra_args=["--cloud", "--cloud-port", str(cloud_port)])
    try:
        with httpx.Client(base_url=demo.base_url, timeout=30) as client:
            # Before setup the hub has no home key, so it is not paired yet.
            done = client.post(
                "/api/setup", json={"token": demo.setup_token, "username": "olivia", "password": PASSWORD}
            )
            assert done.status_code == 200, done.text
            client.cookies.set("hw_session", done.cookies["hw_session"])
            started = time.monotonic()
            state: dict[str, object] = {}
            # The scene loops every 40 s; 150 s is a deadline for a stuck hub, not a speed check.
            while time.monotonic() - started < 150:
                state = client.get("/api/offsite").json()
                if state["paired"] and int(state["sent"]) >= 3 and state["waiting"] == 0:  # type: ignore[call-overload]
                    break
                time.sleep(2)
            assert state["paired"] is True, state
            assert state["cloud_url"] == f"http://127.0.0.1:{cloud_port}"
            assert int(state["sent"]) >= 3, state  # type: ignore[call-overload]  # key file, a clip, a record
        announced = re.search(CLOUD_LINE, "".join(demo.logged))
        assert announced is not None, "".join(demo.logged)
        assert announced.group(1) == f"http://127.0.0.1:{cloud_port}"
        # The printed account signs in to the cloud and sees this hub there.
        with httpx.Client(base_url=announced.group(1), timeout=30) as cloud:
            signed_in = cloud.post(
                "/api/v1/session", json={"username": announced.group(2), "password": announced.group(3)}
            )
            assert signed_in.status_code == 200, signed_in.text
            hubs = cloud.get("/api/v1/hubs", headers={"Authorization": f"Bearer {signed_in.json()['token']}"})
            assert hubs.status_code == 200, hubs.text
            assert len(hubs.json()) == 1, hubs.json()
    finally:
        code = demo.stop()
    log = "".join(demo.logged)
    assert code == 0, log
    assert "stopped cleanly" in log
    objects = [path for path in (tmp_path / "cloud" / "objects").rglob("*") if path.is_file()]
    assert len(objects) >= 3, objects
    assert (tmp_path / "cloud" / "cloud.db").is_file()
