"""The cloud's tasks on RabbitMQ with two real `homewarden cloud worker` processes: retention, quota, deletions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from cloud.review.conftest import donate, new_donation_id, seal_to_program
from cloud_process import (
    RABBITMQ_URL,
    CloudAccount,
    CloudProcess,
    S3Server,
    SignedHub,
    start_cloud_worker,
    write_cloud_config,
)
from conftest import media_file
from homewarden.cloud.api.app import create_cloud_app
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.models import BlobDeletion, Home, ReviewCheckpoint, ReviewDonation, StoredObject
from homewarden.cloud.services import CloudServices
from homewarden.cloud.tasks import SCREEN_DONATION, CloudTasks, producer_tasks
from services import fresh_postgres_database
from waiting import wait_for

# Clean footage the cloud's screen lets through (tests/privacy/test_screening.py).
CLEAN_CLIP = "video/head-pose-face-detection-female-and-male.gif"
# Two worker processes take about 20 s to start and stop: the module's tests share them and run in `make test`.
pytestmark = pytest.mark.slow


@dataclass
class WorkedCloud:
    """A cloud whose tasks go through RabbitMQ to two worker processes."""

    services: CloudServices
    client: TestClient
    tasks: CloudTasks
    bucket: str
    workers: list[CloudProcess]
    worker_names: list[str]


@pytest.fixture(scope="module")
def worked_cloud(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, s3_server: S3Server
) -> Iterator[WorkedCloud]:
    """Yield a cloud on PostgreSQL, S3 and RabbitMQ (a queue of its own) with two workers, for this module's tests.

    Starting two workers takes many seconds, so the tests share them; each test works in a home of its own.
    """
    with fresh_postgres_database() as database_url:
        yield from _worked_cloud(tmp_path_factory.mktemp("worked-cloud"), database_url, s3_server)


def _worked_cloud(folder: Path, cloud_database_url: str, s3_server: S3Server) -> Iterator[WorkedCloud]:
    bucket = s3_server.new_bucket()
    config_path = write_cloud_config(
        folder / "cloud",
        cloud_database_url,
        s3=s3_server,
        bucket=bucket,
        broker_url=RABBITMQ_URL,
        queue=f"hw-cloud-test-{uuid.uuid4().hex[:12]}",
    )
    CloudDatabase.open(cloud_database_url, migrate=True).close()
    tag = uuid.uuid4().hex[:8]
    names = [f"first-{tag}", f"second-{tag}"]
    workers: list[CloudProcess] = []
    services = CloudServices.build(load_cloud_config(config_path), migrate=False)
    try:
        for name in names:
            workers.append(start_cloud_worker(config_path, f"{name}@%h"))
        with TestClient(create_cloud_app(services), raise_server_exceptions=False) as client:
            yield WorkedCloud(services, client, producer_tasks(services), bucket, workers, names)
    finally:
        for worker in workers:
            worker.stop()
        services.close()


def test_retention_runs_on_the_workers_and_deletes_old_unpinned_objects(
    worked_cloud: WorkedCloud,
) -> None:
    cloud = worked_cloud
    hub = CloudAccount.sign_up(cloud.client).pair_hub()
    old = [f"old_{number:02d}_0123456789ab" for number in range(6)]
    for object_id in old:
        assert hub.put(object_id, object_id.encode()).status_code == 201
    assert hub.put("old_pinned_0123456789", b"home key file", pinned=True).status_code == 201
    assert hub.put("new_00_0123456789abcd", b"yesterday's clip").status_code == 201
    _backdate(cloud.services, hub.home_id, [*old, "old_pinned_0123456789"], days=31)

    cloud.tasks.retention.delay()

    expected = sorted(f"homes/{hub.home_id}/{name}" for name in ("new_00_0123456789abcd", "old_pinned_0123456789"))
    wait_for(lambda: _keys(cloud, hub) == expected, 60, "the workers to delete the old blobs")
    listed = hub.request("GET", "/api/v1/objects").json()["objects"]
    assert sorted(item["id"] for item in listed) == ["new_00_0123456789abcd", "old_pinned_0123456789"]
    wait_for(lambda: _pending_deletions(cloud.services) == 0, 30, "every pending deletion to be done")
    answered = cloud.tasks.app.control.ping(destination=[f"{name}@{_host()}" for name in cloud.worker_names], timeout=5)
    assert sorted(name for reply in answered for name in reply) == sorted(
        f"{name}@{_host()}" for name in cloud.worker_names
    )


def test_a_deleted_objects_blob_is_removed_by_a_worker(worked_cloud: WorkedCloud) -> None:
    cloud = worked_cloud
    hub = CloudAccount.sign_up(cloud.client).pair_hub()
    assert hub.put("gone_0123456789abcdef", b"deleted on the hub").status_code == 201

    assert hub.request("DELETE", "/api/v1/objects/gone_0123456789abcdef").status_code == 204

    assert hub.request("GET", "/api/v1/objects/gone_0123456789abcdef").status_code == 404
    wait_for(lambda: _keys(cloud, hub) == [], 60, "a worker to delete the blob")


def test_a_home_above_a_lowered_quota_is_trimmed_oldest_first(worked_cloud: WorkedCloud) -> None:
    cloud = worked_cloud
    hub: SignedHub = CloudAccount.sign_up(cloud.client).pair_hub()
    names = [f"clip_{number}_0123456789abcdef" for number in range(4)]
    for age, name in enumerate(reversed(names)):
        assert hub.put(name, b"x" * 100).status_code == 201
        _backdate(cloud.services, hub.home_id, [name], days=0, hours=age + 1)
    with cloud.services.database.session() as session:
        session.execute(update(Home).where(Home.id == hub.home_id).values(quota_bytes=250))

    cloud.tasks.retention.delay()

    # names[0] was uploaded first (4 hours ago): the two oldest go, the two newest stay.
    kept = [f"homes/{hub.home_id}/{name}" for name in names[2:]]
    wait_for(lambda: _keys(cloud, hub) == kept, 60, "the workers to trim the home to its quota")
    assert hub.request("GET", "/api/v1/home").json()["bytes"] == 200


def _backdate(services: CloudServices, home_id: str, object_ids: list[str], days: int, hours: int = 0) -> None:
    """Make objects look uploaded long ago (how a test makes time pass for the database)."""
    moment = datetime.now(UTC) - timedelta(days=days, hours=hours)
    with services.database.session() as session:
        session.execute(
            update(StoredObject)
            .where(StoredObject.home_id == home_id, StoredObject.id.in_(object_ids))
            .values(uploaded_at=moment)
        )


def _keys(cloud: WorkedCloud, hub: SignedHub) -> list[str]:
    """List the home's blobs through S3, as the operator would see them."""
    return sorted(cloud.services.store.keys(f"homes/{hub.home_id}/"))


def _pending_deletions(services: CloudServices) -> int:
    with services.database.session() as session:
        return len(session.scalars(select(BlobDeletion.key)).all())


def _host() -> str:
    import socket

    return socket.gethostname()


@pytest.fixture(scope="module")
def review_worked_cloud(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, s3_server: S3Server
) -> Iterator[WorkedCloud]:
    """Yield a cloud with one worker running beat: the review sweep every 5 s, a checkpoint every 10 s."""
    with fresh_postgres_database() as database_url:
        folder = tmp_path_factory.mktemp("review-worked-cloud")
        bucket = s3_server.new_bucket()
        config_path = write_cloud_config(
            folder / "cloud",
            database_url,
            s3=s3_server,
            bucket=bucket,
            broker_url=RABBITMQ_URL,
            extra={"review": {"sweep_every_seconds": 5, "checkpoint_every_seconds": 10}},
        )
        CloudDatabase.open(database_url, migrate=True).close()
        name = f"review-{uuid.uuid4().hex[:8]}"
        services = CloudServices.build(load_cloud_config(config_path), migrate=False)
        worker = start_cloud_worker(config_path, f"{name}@%h", beat=True)
        try:
            with TestClient(create_cloud_app(services), raise_server_exceptions=False) as client:
                yield WorkedCloud(services, client, producer_tasks(services), bucket, [worker], [name])
        finally:
            worker.stop()
            services.close()


def test_a_worker_screens_a_donated_copy_into_the_queue(review_worked_cloud: WorkedCloud) -> None:
    cloud = review_worked_cloud
    hub = CloudAccount.sign_up(cloud.client).pair_hub()
    donation_id = new_donation_id()
    blob = seal_to_program(hub.program, donation_id, media_file(CLEAN_CLIP).read_bytes())

    assert donate(hub, donation_id, blob).status_code == 201

    wait_for(lambda: _donation_state(hub, donation_id) == "queued", 180, "the worker to screen and queue the copy")
    assert list(cloud.services.store.keys("review/")) == [f"review/{donation_id}"]
    assert SCREEN_DONATION in cloud.workers[0].output()


def test_a_worker_refuses_a_copy_the_program_key_cannot_open(review_worked_cloud: WorkedCloud) -> None:
    cloud = review_worked_cloud
    hub = CloudAccount.sign_up(cloud.client).pair_hub()
    donation_id = new_donation_id()
    blob = seal_to_program(hub.program, "d_sealed_for_another_id", b"moved bytes")

    assert donate(hub, donation_id, blob).status_code == 201

    wait_for(lambda: _donation_state(hub, donation_id) == "refused", 180, "the worker to refuse the copy")
    # The bytes go right after the refusal is committed (the worker deletes what the transaction handed back).
    wait_for(
        lambda: f"review/{donation_id}" not in list(cloud.services.store.keys("review/")),
        30,
        "the refused copy to leave the object store",
    )
    actions = [r["content"]["action"] for r in hub.request("GET", "/api/v1/review/receipts").json()["receipts"]]
    assert actions == ["received", "screened", "refused"]


def test_the_beat_sweep_deletes_an_expired_copy_and_signs_checkpoints(review_worked_cloud: WorkedCloud) -> None:
    cloud = review_worked_cloud
    hub = CloudAccount.sign_up(cloud.client).pair_hub()
    donation_id = new_donation_id()
    blob = seal_to_program(hub.program, donation_id, media_file(CLEAN_CLIP).read_bytes())
    assert donate(hub, donation_id, blob).status_code == 201
    wait_for(lambda: _donation_state(hub, donation_id) == "queued", 180, "the copy to be queued")

    with cloud.services.database.session() as session:
        session.execute(
            update(ReviewDonation)
            .where(ReviewDonation.donation_id == donation_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    wait_for(lambda: _donation_state(hub, donation_id) == "expired", 60, "the beat's review sweep to expire the copy")
    assert f"review/{donation_id}" not in list(cloud.services.store.keys("review/"))
    receipts = hub.request("GET", "/api/v1/review/receipts").json()["receipts"]
    assert receipts[-1]["content"]["action"] == "expired"
    head = receipts[-1]["content"]["seq"]
    wait_for(lambda: _latest_checkpoint_seq(cloud.services) >= head, 60, "the beat to sign a checkpoint of the head")


def _donation_state(hub: SignedHub, donation_id: str) -> str:
    return str(hub.request("GET", f"/api/v1/donations/{donation_id}").json()["state"])


def _latest_checkpoint_seq(services: CloudServices) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.max(ReviewCheckpoint.seq))) or 0)
