"""A hub's web app over a real SQLite database and a real sealed storage folder, driven in-process over HTTPS.

Nothing is faked: accounts, sessions, the home key (Argon2id), sealed clips and the event store are the real ones.
The cameras do not run here (tests/api/test_serve.py starts the whole `serve` command).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import pyotp
import pytest
from fastapi.testclient import TestClient

from homewarden.api.app import create_app
from homewarden.config import HomewardenConfig
from homewarden.detect.base import Image
from homewarden.events.record import ClipRecord, EventRecord
from homewarden.hub.hub import init_services
from homewarden.hub.services import HubServices
from homewarden.store.database import EventStore
from video.synthetic import frame_image, write_video

OWNER_PASSWORD = "owner passphrase for tests"
MEMBER_PASSWORD = "member password for tests"
CAMERAS = ("front_door", "garden")


@dataclass
class Hub:
    """A hub for one test: its services, a client factory and what it recorded."""

    services: HubServices
    folder: Path

    def client(self) -> TestClient:
        """Return a new browser-like client (its own cookie jar)."""
        return TestClient(create_app(self.services), base_url="https://testserver")


def hub_config(folder: Path, cameras: tuple[str, ...] = CAMERAS) -> HomewardenConfig:
    """Return a config with cameras that do not run, storing under ``folder``."""
    return HomewardenConfig.model_validate(
        {
            "cameras": {name: {"source": str(folder / f"{name}.mp4")} for name in cameras},
            "storage": {"folder": str(folder / "data")},
        }
    )


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """Yield a hub with no owner yet (its setup token waits)."""
    config = hub_config(tmp_path)
    store = EventStore.open(config.storage.resolved_database_url())
    try:
        yield Hub(init_services(config, store, None), tmp_path)
    finally:
        store.close()


def csrf_of(client: TestClient) -> dict[str, str]:
    """Return the CSRF header of the client's session."""
    token = client.get("/api/me").json()["csrf_token"]
    return {"X-CSRF-Token": token}


def set_up_owner(hub: Hub, username: str = "olivia") -> TestClient:
    """Do first-run setup as the owner; return their signed-in client."""
    client = hub.client()
    response = client.post(
        "/api/setup", json={"token": hub.services.setup.token, "username": username, "password": OWNER_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return client


def sign_in(hub: Hub, username: str, password: str, totp_secret: str | None = None) -> TestClient:
    """Return a client signed in as ``username``."""
    client = hub.client()
    body = {"username": username, "password": password}
    if totp_secret:
        body["totp_code"] = pyotp.TOTP(totp_secret).now()
    response = client.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    return client


def record_event(
    hub: Hub,
    camera: str,
    *,
    label: str = "person",
    alarm: bool = False,
    sub_label: str | None = None,
    seconds: float = 2.0,
    clip: bytes | None = None,
    intrusion: str | None = None,
    snapshot: Image | None = None,
    box: tuple[int, int, int, int] = (10, 10, 100, 200),
    box_after: float | None = None,
) -> EventRecord:
    """Store an event the way the recorder does: a real H.264 clip (or ``clip``) and a JPEG snapshot, sealed.

    ``box_after`` puts its box time that many seconds after its start (None: no box time).
    """
    media = hub.services.storage.media
    event_id = str(uuid.uuid4())
    clip_path = media.path_for(camera, event_id, ".mp4")
    if clip is None:
        plain = hub.folder / f"{event_id}.mp4"
        write_video(plain, seconds=seconds, fps=10, faststart=True)
        clip = plain.read_bytes()
        plain.unlink()
    media.write_atomically(clip_path, clip)
    snapshot_path = media.path_for(camera, event_id, ".jpg")
    ok, jpeg = cv2.imencode(".jpg", frame_image(3) if snapshot is None else snapshot)
    assert ok
    media.write_atomically(snapshot_path, jpeg.tobytes())
    start = time.time() - 60
    record = EventRecord(
        id=event_id,
        camera=camera,
        label=label,
        score=0.8,
        start=start,
        end=start + seconds,
        live=True,
        box=box,
        snapshot=str(snapshot_path),
        clips=(ClipRecord(str(clip_path), start, start + seconds),),
        alarm=alarm,
        alarm_reason="stranger" if alarm else None,
        sub_label=sub_label,
        source="test",
        intrusion_id=intrusion,
        box_time=None if box_after is None else start + box_after,
    )
    hub.services.events.save_event(record)
    return record
