"""Fixtures of the cloud's tests: a real S3 server, a fresh PostgreSQL database each, and a cloud on them.

Reusable elsewhere (the hub's cloud tests): ``s3_server`` (session-wide `rclone serve s3`), ``cloud_database_url``
(a new PostgreSQL database), ``cloud_config`` (a cloud.yaml on both, tasks in-process), ``cloud`` (the app in this
process, with a TestClient), ``cloud_service`` (a real `homewarden cloud serve` subprocess; ``.base_url``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cloud_process import CloudAccount, CloudProcess, S3Server, start_cloud_serve, start_s3_server, write_cloud_config
from homewarden.cloud.api.app import create_cloud_app
from homewarden.cloud.config import CloudConfig, load_cloud_config
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.services import CloudServices
from services import ensure_postgres, fresh_postgres_database


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Return the URL of the running test server, starting it when needed."""
    return ensure_postgres()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """Run one `rclone serve s3` for the session (each test takes a bucket of its own)."""
    server = start_s3_server(tmp_path_factory.mktemp("s3") / "buckets")
    yield server
    server.stop()


@pytest.fixture
def cloud_database_url(postgres_url: str) -> Iterator[str]:
    """Return a PostgreSQL database no other test uses."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def cloud_config(tmp_path: Path, cloud_database_url: str, s3_server: S3Server) -> Path:
    """Write a cloud.yaml on a fresh database and bucket, tasks in-process, sign-up open; migrate its database."""
    path = write_cloud_config(tmp_path / "cloud", cloud_database_url, s3=s3_server)
    CloudDatabase.open(cloud_database_url, migrate=True).close()
    return path


@dataclass
class CloudUnderTest:
    """A cloud app in this process: its services, config and a client."""

    services: CloudServices
    client: TestClient

    @property
    def config(self) -> CloudConfig:
        """Return the config it runs with."""
        return self.services.config

    def account(self) -> CloudAccount:
        """Sign up a new household."""
        return CloudAccount.sign_up(self.client)


@pytest.fixture
def cloud(cloud_config: Path) -> Iterator[CloudUnderTest]:
    """Yield the cloud app on PostgreSQL and S3, served in this process."""
    services = CloudServices.build(load_cloud_config(cloud_config), migrate=False)
    try:
        with TestClient(create_cloud_app(services), raise_server_exceptions=False) as client:
            yield CloudUnderTest(services, client)
    finally:
        services.close()


@pytest.fixture
def cloud_service(cloud_config: Path) -> Iterator[CloudProcess]:
    """Yield a real `homewarden cloud serve` process on PostgreSQL and S3 (its ``base_url`` to talk to)."""
    process = start_cloud_serve(cloud_config)
    yield process
    process.stop()
