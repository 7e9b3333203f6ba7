"""A home's quota under concurrent uploads on PostgreSQL: the check and the reservation are one step."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import text, update

from cloud.conftest import CloudUnderTest
from cloud_process import CloudAccount, CloudProcess
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.homes import StoreResult
from homewarden.cloud.models import Home, StoredObject
from homewarden.errors import Refusal, RefusedError
from waiting import wait_for

SIZE = 1000


def test_an_upload_at_the_quota_edge_waits_for_a_reservation_in_progress_and_counts_it(
    cloud: CloudUnderTest,
) -> None:
    home_id = cloud.account().pair_hub().home_id
    database = cloud.services.database
    _set_quota(database, home_id, SIZE)
    outcome: list[StoreResult | RefusedError] = []

    with database.engine.connect() as other:
        # Another upload of the same home, caught between its quota check and its commit: it holds the home's lock.
        other.execute(update(Home).where(Home.id == home_id).values(quota_bytes=Home.quota_bytes))
        upload = threading.Thread(target=_record(outcome, lambda: _put(cloud, home_id, "racing_0123456789ab")))
        upload.start()
        wait_for(
            lambda: not upload.is_alive() or _waiting_on_a_lock(database) > 0,
            30,
            "the upload to wait for the home's lock",
        )
        other.execute(
            StoredObject.__table__.insert().values(
                home_id=home_id,
                id="first_0123456789abc",
                size=1,
                sha256="0" * 64,
                uploaded_at=datetime.now(UTC),
                pinned=False,
                stored=False,
            )
        )
        other.commit()
    upload.join(timeout=30)

    assert len(outcome) == 1
    refused = outcome[0]
    assert isinstance(refused, RefusedError), "the upload did not wait for the other reservation"
    assert refused.refusal is Refusal.QUOTA_EXHAUSTED
    assert cloud.services.home_objects(home_id).usage().objects == 0


@pytest.mark.slow
def test_concurrent_puts_at_the_quota_edge_store_only_what_fits(
    cloud_config: Path, cloud_service: CloudProcess
) -> None:
    with httpx.Client(base_url=cloud_service.base_url, timeout=60) as client:
        hub = CloudAccount.sign_up(client).pair_hub()
        database = CloudDatabase.open(load_cloud_config(cloud_config).database_url, migrate=False)
        try:
            _set_quota(database, hub.home_id, 3 * SIZE + SIZE // 2)
        finally:
            database.close()
        start = threading.Barrier(8)
        statuses: list[int] = []

        def put(number: int) -> None:
            body = bytes([number]) * SIZE
            start.wait()
            statuses.append(hub.put(f"edge_{number:02d}_0123456789ab", body).status_code)

        threads = [threading.Thread(target=put, args=(number,)) for number in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        home = hub.request("GET", "/api/v1/home").json()

    assert sorted(statuses) == [201] * 3 + [507] * 5
    assert home["objects"] == 3
    assert home["bytes"] == 3 * SIZE


def _put(cloud: CloudUnderTest, home_id: str, object_id: str) -> StoreResult:
    body = b"r" * SIZE
    return cloud.services.home_objects(home_id).put(object_id, body, hashlib.sha256(body).hexdigest(), pinned=False)


def _record(outcome: list[StoreResult | RefusedError], action: Callable[[], StoreResult]) -> Callable[[], None]:
    def run() -> None:
        try:
            outcome.append(action())
        except RefusedError as error:
            outcome.append(error)

    return run


def _waiting_on_a_lock(database: CloudDatabase) -> int:
    with database.engine.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


def _set_quota(database: CloudDatabase, home_id: str, quota: int) -> None:
    with database.session() as session:
        session.execute(update(Home).where(Home.id == home_id).values(quota_bytes=quota))
