"""Sign-in throttling shared by API processes: two apps on one PostgreSQL database count the same failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cloud.conftest import CloudUnderTest
from cloud_process import ACCOUNT_PASSWORD
from homewarden.cloud.api.app import create_cloud_app
from homewarden.cloud.config import load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.models import SignInAttempt
from homewarden.cloud.services import CloudServices
from homewarden.cloud.throttle import SharedSignInThrottle, user_key

WRONG = "not the password at all"


@pytest.fixture
def second_process(cloud_config: Path, cloud: CloudUnderTest) -> Iterator[TestClient]:
    """Yield a second API app on the same database and store, as a second `cloud serve` process would be."""
    services = CloudServices.build(load_cloud_config(cloud_config), migrate=False)
    try:
        with TestClient(create_cloud_app(services), raise_server_exceptions=False) as client:
            yield client
    finally:
        services.close()


def test_failures_on_two_processes_are_counted_together(cloud: CloudUnderTest, second_process: TestClient) -> None:
    name = cloud.account().username
    wrong = {"username": name, "password": WRONG}

    first = [cloud.client.post("/api/v1/session", json=wrong).status_code for _ in range(3)]
    second = [second_process.post("/api/v1/session", json=wrong).status_code for _ in range(2)]
    sixth = cloud.client.post("/api/v1/session", json=wrong)
    right = second_process.post("/api/v1/session", json={"username": name, "password": ACCOUNT_PASSWORD})

    assert first + second == [401] * 5
    assert sixth.status_code == 429
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) > 0


def test_a_success_on_one_process_clears_the_names_failures_on_the_other(
    cloud: CloudUnderTest, second_process: TestClient
) -> None:
    name = cloud.account().username
    wrong = {"username": name, "password": WRONG}

    before = [cloud.client.post("/api/v1/session", json=wrong).status_code for _ in range(4)]
    right = second_process.post("/api/v1/session", json={"username": name, "password": ACCOUNT_PASSWORD})
    after = [cloud.client.post("/api/v1/session", json=wrong).status_code for _ in range(6)]

    assert before == [401] * 4
    assert right.status_code == 200
    assert after == [401] * 5 + [429]


def test_attempts_racing_on_two_processes_pass_no_more_than_the_limit(
    cloud: CloudUnderTest, second_process: TestClient
) -> None:
    name = cloud.account().username
    start = threading.Barrier(10)
    statuses: list[int] = []

    def attempt(client: TestClient) -> None:
        start.wait()
        statuses.append(client.post("/api/v1/session", json={"username": name, "password": WRONG}).status_code)

    threads = [
        threading.Thread(target=attempt, args=(cloud.client if number % 2 else second_process,)) for number in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(statuses) == 10
    assert set(statuses) <= {401, 429}
    # Attempts meeting at the limit may both be refused; never more than five may check a password.
    assert 1 <= statuses.count(401) <= 5


def test_attempts_past_the_window_are_pruned_and_no_longer_counted(cloud_config: Path) -> None:
    # The database alone: an app's in-process sweep would prune the old rows first.
    database = CloudDatabase.open(load_cloud_config(cloud_config).database_url, migrate=False)
    try:
        throttle = SharedSignInThrottle(database)
        long_ago = datetime.now(UTC) - timedelta(minutes=16)
        with database.session() as session:
            session.add_all(SignInAttempt(key_digest=user_key("Someone"), attempted_at=long_ago) for _ in range(5))

        attempt = throttle.begin("someone", "192.0.2.7")
        pruned = throttle.prune()
        with database.session() as session:
            left = session.scalar(select(func.count()).select_from(SignInAttempt))
    finally:
        database.close()

    assert attempt.retry_after == 0
    assert pruned == 5
    assert left == 2
