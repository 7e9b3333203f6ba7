"""`homewarden demo` / `serve` as a user runs them: a real process, a real port, real cameras and the real pipeline."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx2 as httpx
import pytest

PASSWORD = "demo owner passphrase"


def free_port() -> int:
    """Return a port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_until(process: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    """Read the process's output lines until one matches (fail loudly with what it printed otherwise)."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    process.kill()
    raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(seen)}")


@pytest.mark.slow
def test_demo_serves_a_stranger_alarm_and_a_pet_event_within_a_minute(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "homewarden", "demo", "--out", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        link = read_until(process, r"(http://127\.0\.0\.1:\d+)/setup\?token=(\S+)", timeout=120)
        base, token = link.group(1), link.group(2)
        client = httpx.Client(base_url=base, timeout=30)
        assert client.get("/api/events").status_code == 401
        done = client.post("/api/setup", json={"token": token, "username": "olivia", "password": PASSWORD})
        assert done.status_code == 200, done.text
        # The cookie is Secure: browsers send it to http://127.0.0.1, httpx only over https, so it is set by hand.
        client.cookies.set("hw_session", done.cookies["hw_session"])
        started = time.monotonic()
        events: list[dict[str, object]] = []
        while time.monotonic() - started < 90:
            events = client.get("/api/events").json()["events"]
            if {event["label"] for event in events} >= {"person", "cat"}:
                break
            time.sleep(2)
        labels = {event["label"]: event for event in events}
        # The scene loops every 40 s; 90 s is a deadline for a stuck hub, not a speed check.
        assert {"person", "cat"} <= set(labels), events
        assert labels["person"]["alarm"] is True
        assert labels["person"]["alarm_reason"] == "stranger"
        assert labels["cat"]["alarm"] is False
        clip = client.get(str(labels["person"]["clips"][0]["url"]))  # type: ignore[index]
        assert clip.status_code == 200
        with av.open(io.BytesIO(clip.content)) as container:
            assert sum(1 for _ in container.decode(video=0)) > 20
        live = client.get("/api/cameras/living_room/snapshot.jpg?boxes=true")
        assert live.status_code == 200
        assert live.content[:2] == b"\xff\xd8"
        page = client.get("/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            assert process.stdout is not None
            rest = process.stdout.read()
            process.stdout.close()
    assert code == 0, rest
    assert "stopped cleanly" in rest
