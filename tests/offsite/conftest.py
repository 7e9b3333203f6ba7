"""A real Homewarden Cloud for the hub's off-site tests, and a hub's storage to send from.

The cloud is `homewarden cloud serve` (a subprocess) on PostgreSQL and `rclone serve s3`, started by
tests/cloud_process.py exactly as the cloud's own tests start it. The hub side is the real storage folder, vault,
event database and OffsiteSync a running hub uses; only the cameras are left out (events are recorded by sealing clip
bytes directly).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from api.conftest import Hub, hub_config
from cloud_process import (
    RABBITMQ_URL,
    CloudAccount,
    CloudProcess,
    S3Server,
    running,
    start_cloud_serve,
    start_cloud_worker,
    start_s3_server,
    write_cloud_config,
)
from conftest import TEST_PASSPHRASE
from homewarden.cloud.database import CloudDatabase
from homewarden.config.model import OffsiteConfig
from homewarden.events.record import ClipRecord, EventRecord
from homewarden.hub.hub import init_services
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.sync import OffsiteSync
from homewarden.store.database import EventStore
from homewarden.store.keys import Argon2Parameters, HomeKeyFile
from homewarden.store.sealed_media import HubStorage, open_hub_storage
from services import ensure_postgres, fresh_postgres_database

# Cheap Argon2 for tests: the key file's format is the same, only slower to guess.
TEST_ARGON2 = Argon2Parameters(time_cost=1, memory_cost_kib=8 * 1024, parallelism=1)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Return the URL of the running test server, starting it when needed."""
    return ensure_postgres()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """Run one `rclone serve s3` for the session (each cloud gets a bucket of its own)."""
    server = start_s3_server(tmp_path_factory.mktemp("s3") / "buckets")
    yield server
    server.stop()


@dataclass
class Cloud:
    """A running cloud: its process, config, bucket, and a plain client of its account API."""

    config: Path
    bucket: str
    s3: S3Server
    process: CloudProcess
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.process.base_url, timeout=30)

    @property
    def url(self) -> str:
        """Return the cloud's address."""
        return self.process.base_url

    def account(self) -> CloudAccount:
        """Sign up a household."""
        return CloudAccount.sign_up(self.client)

    def stop(self) -> None:
        """Stop the cloud process (an outage)."""
        self.process.stop()

    def restart(self) -> None:
        """Start the cloud again on the same port, database and bucket."""
        port = int(self.url.rsplit(":", 1)[1])
        self.process = start_cloud_serve(self.config, port=port)
        self.client.close()
        self.client = httpx.Client(base_url=self.process.base_url, timeout=30)

    def stored_bytes(self) -> dict[str, bytes]:
        """Return every object in the cloud's bucket, by S3 key, as an operator could read it."""
        s3 = self.s3.client()
        return {key: s3.get_object(Bucket=self.bucket, Key=key)["Body"].read() for key in self.s3.keys(self.bucket)}


@pytest.fixture
def cloud(tmp_path: Path, postgres_url: str, s3_server: S3Server) -> Iterator[Cloud]:
    """Run `homewarden cloud serve` on a fresh database and bucket."""
    with fresh_postgres_database() as database_url:
        bucket = s3_server.new_bucket()
        config = write_cloud_config(tmp_path / "cloud", database_url, s3=s3_server, bucket=bucket)
        CloudDatabase.open(database_url, migrate=True).close()
        running = Cloud(config, bucket, s3_server, start_cloud_serve(config))
        try:
            yield running
        finally:
            running.client.close()
            running.process.stop()


@dataclass
class HubUnderTest:
    """A hub's storage folder, event database and off-site sync, as `homewarden run` builds them."""

    folder: Path
    storage: HubStorage
    events: EventStore
    sync: OffsiteSync

    def record(self, camera: str = "front_door", *, alarm: bool = False, clip: bytes | None = None) -> EventRecord:
        """Record an event as a camera does: its clip and snapshot sealed into the vault, then the event saved."""
        event_id = str(uuid.uuid4())
        media = self.storage.media
        clip_path = media.path_for(camera, event_id, ".mp4")
        media.write_atomically(clip_path, clip if clip is not None else fake_mp4(event_id))
        snapshot_path = media.path_for(camera, event_id, ".jpg")
        media.write_atomically(snapshot_path, b"\xff\xd8\xff\xe0 JFIF snapshot of " + event_id.encode())
        record = EventRecord(
            id=event_id,
            camera=camera,
            label="person",
            score=0.91,
            start=1_700_000_000.0,
            end=1_700_000_012.0,
            live=True,
            box=(10, 20, 110, 220),
            snapshot=str(snapshot_path),
            clips=(ClipRecord(str(clip_path), 1_700_000_000.0, 1_700_000_012.0),),
            box_time=1_700_000_004.5,
            alarm=alarm,
            alarm_reason="stranger" if alarm else None,
            sub_label="Stranger Danger" if alarm else "Alice Example",
        )
        self.events.save_event(record)
        self.sync.event_saved(record)
        return record


def fake_mp4(tag: str, size: int = 200_000) -> bytes:
    """Return bytes that start like an MP4 (an ``ftyp`` box), for the plaintext scan to look for."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + tag.encode()
    return (head * (size // len(head) + 1))[:size]


def open_hub(folder: Path, config: OffsiteConfig | None = None) -> HubUnderTest:
    """Open (creating when new) a hub's storage with a home key, its SQLite database and its off-site sync."""
    storage = open_hub_storage(folder)
    if not storage.key_file.exists():
        storage.key_file.create(TEST_PASSPHRASE, TEST_ARGON2)
    events = EventStore.open(f"sqlite:///{folder / 'homewarden.db'}")
    sync = OffsiteSync(
        OffsiteFolder(folder),
        storage,
        events,
        config or OffsiteConfig(retry_max_seconds=2.0, reconcile_seconds=5.0),
        home_id=1,
    )
    events.deletion_listeners.append(sync.event_deleted)
    return HubUnderTest(folder, storage, events, sync)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubUnderTest]:
    """Yield a hub with a home key and nothing recorded yet (its sync not started)."""
    opened = open_hub(tmp_path / "hub")
    yield opened
    opened.sync.stop()
    opened.events.close()


def home_key(folder: Path) -> HomeKeyFile:
    """Return the key file of a hub folder."""
    return HomeKeyFile.in_folder(folder)


@contextmanager
def running_paired_hub(folder: Path, cloud: Cloud) -> Iterator[Hub]:
    """Yield a hub in ``folder`` paired with ``cloud``, its off-site worker running; stop it all after."""
    config = hub_config(folder)
    store = EventStore.open(config.storage.resolved_database_url())
    hub = Hub(init_services(config, store, None), folder)
    sync = hub.services.offsite
    assert sync is not None
    try:
        sync.pair(cloud.url, cloud.account().pairing_code())
        sync.start()
        yield hub
    finally:
        sync.stop()
        if hub.services.donations is not None:
            hub.services.donations.close()
        store.close()


@contextmanager
def running_cloud_with_worker(
    folder: Path, s3_server: S3Server, name: str, extra: dict[str, Any] | None = None
) -> Iterator[Cloud]:
    """Run `cloud serve` and one `cloud worker` on RabbitMQ (its own queue), a fresh database and bucket."""
    with fresh_postgres_database() as database_url:
        bucket = s3_server.new_bucket()
        config = write_cloud_config(
            folder,
            database_url,
            s3=s3_server,
            bucket=bucket,
            broker_url=RABBITMQ_URL,
            queue=f"hw-cloud-{name}-{uuid.uuid4().hex[:12]}",
            extra=extra,
        )
        CloudDatabase.open(database_url, migrate=True).close()
        with running(start_cloud_worker(config, f"{name}-{uuid.uuid4().hex[:8]}@%h")):
            cloud = Cloud(config, bucket, s3_server, start_cloud_serve(config))
            try:
                yield cloud
            finally:
                cloud.client.close()
                cloud.process.stop()
