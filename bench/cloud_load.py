"""Load Homewarden Cloud with N simulated hubs and measure what one machine of it serves.

Every hub is paired through the real account routes (sign-up, sign-in, pairing code, pair) with an Ed25519 key of
its own and signs every request as docs/cloud-protocol.md says. Each hub has 20 events a day, in bursts (a few
events seconds apart: someone walking past several cameras), and ``--hours`` of that day are compressed into
``--duration`` seconds. An event is a sealed clip (random bytes of a 20–30 s 720p clip's size: the cloud never sees
plaintext), a snapshot and a small sealed record, uploaded one after the other as the hub's outbox does. In the
steady state of retention a home deletes as much as it adds, so after each event a hub deletes its events older
than the last ``--keep-events`` (the deletions are what the Celery workers do).

Services are the real ones: `homewarden cloud serve` (``--api-processes`` of them, hubs spread across them as a
round-robin load balancer would), `homewarden cloud worker` processes on RabbitMQ (``--workers``), PostgreSQL (a
fresh database) and `rclone serve s3`. The baseline is the same schedule of the same bytes PUT straight to rclone
(presigned URLs, the same HTTP client): the object store's own limit on this machine, so the API's overhead is a
ratio. Printed per phase: uploads and bytes per second, p50/p95 upload latency per kind, the off-site lag of the
clips, the Celery queue depth (RabbitMQ's ready messages, by a passive queue declare), the deletions still pending,
and the CPU of every process. Not a test: timings on a shared machine swing; docs/scaling.md keeps the numbers.

    PYTHONPATH=src .venv/bin/python bench/cloud_load.py --hubs 200 --hours 1 --duration 60 \
        --workers 1,2 --api-processes 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import amqp
import boto3
import httpx2 as httpx
import psycopg
import pytest
from botocore.config import Config
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from cloud_process import (  # noqa: E402  (the tests' helpers start rclone and the cloud's processes)
    ACCOUNT_PASSWORD,
    RABBITMQ_URL,
    CloudProcess,
    HubKey,
    S3Server,
    run_cloud_command,
    start_cloud_serve,
    start_cloud_worker,
    start_s3_server,
    write_cloud_config,
)
from services import fresh_postgres_database  # noqa: E402

EVENTS_PER_DAY = 20
# A burst is 1 to 5 events (mean 2.7) a few seconds apart; bursts are spread evenly over the run.
BURST_SIZES = (1, 1, 2, 3, 4, 5)
BURST_GAP_SECONDS = (0.5, 4.0)
CLIP_BYTES = (1_500_000, 6_000_000)
SNAPSHOT_BYTES = (50_000, 150_000)
RECORD_BYTES = (1_000, 4_000)
BODY_POOL = 12
SAMPLE_SECONDS = 0.5
TICKS = os.sysconf("SC_CLK_TCK")
ATTEMPTS = 5
DRAIN_TIMEOUT_SECONDS = 180.0
PAIRING_CONCURRENCY = 8
MB = 1_000_000


@dataclass(frozen=True)
class Body:
    """Sealed-looking bytes (random) and their SHA-256, computed once."""

    data: bytes
    sha256: str


@dataclass(frozen=True)
class PlannedEvent:
    """One event of a hub: when it happens (seconds into the run) and its three bodies."""

    at: float
    clip: Body
    snapshot: Body
    record: Body


@dataclass
class Hub:
    """A paired simulated hub: its key, its cloud and its events."""

    index: int
    key: HubKey
    base_url: str = ""
    events: list[PlannedEvent] = field(default_factory=list)


@dataclass
class Upload:
    """One finished object upload as a hub saw it."""

    kind: str
    size: int
    started: float
    seconds: float
    status: int
    attempts: int


@dataclass
class PhaseResult:
    """What one phase measured."""

    name: str
    api_processes: int
    workers: int
    uploads: list[Upload] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    deletes: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    drain_seconds: float | None = None
    queue_samples: list[int] = field(default_factory=list)
    pending_samples: list[int] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    machine_busy_cores: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def stored(self) -> list[Upload]:
        """Return the uploads that succeeded."""
        return [upload for upload in self.uploads if upload.status in (200, 201)]

    def cpu_per_work(self, uploads: int, total_bytes: int) -> dict[str, float]:
        """Return CPU per unit of work, which the machine's other load does not change as much as wall time."""

        def seconds(prefix: str) -> float:
            return sum(value for name, value in self.cpu_seconds.items() if name.startswith(prefix))

        gigabytes = max(total_bytes / 1e9, 1e-9)
        return {
            "api_cpu_ms_per_upload": round(seconds("api") * 1000 / max(uploads, 1), 1),
            "api_cpu_s_per_gb": round(seconds("api") / gigabytes, 1),
            "rclone_cpu_s_per_gb": round(seconds("rclone") / gigabytes, 1),
            "postgres_cpu_ms_per_upload": round(seconds("postgres") * 1000 / max(uploads, 1), 2),
            "worker_cpu_ms_per_delete": round(seconds("worker") * 1000 / max(self.deletes, 1), 1),
        }

    def summary(self) -> dict[str, Any]:
        """Return the phase's numbers."""
        stored = self.stored()
        total_bytes = sum(upload.size for upload in stored)
        wall = max(self.wall_seconds, 1e-9)
        by_kind = {}
        for kind in ("clip", "snapshot", "record"):
            times = [upload.seconds for upload in stored if upload.kind == kind]
            by_kind[kind] = {"count": len(times), "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}
        return {
            "phase": self.name,
            "api_processes": self.api_processes,
            "workers": self.workers,
            "uploads": len(stored),
            "bytes": total_bytes,
            "wall_seconds": round(self.wall_seconds, 1),
            "uploads_per_second": round(len(stored) / wall, 2),
            "megabytes_per_second": round(total_bytes / wall / MB, 2),
            "latency": by_kind,
            "clip_lag_p50_s": round(percentile(self.lags, 50) / 1000, 2),
            "clip_lag_p95_s": round(percentile(self.lags, 95) / 1000, 2),
            "retries": sum(upload.attempts - 1 for upload in self.uploads),
            "failures": self.failures,
            "deletes": self.deletes,
            "queue_max": max(self.queue_samples, default=0),
            "queue_mean": round(statistics.fmean(self.queue_samples), 1) if self.queue_samples else 0.0,
            "pending_deletions_max": max(self.pending_samples, default=0),
            "drain_seconds": None if self.drain_seconds is None else round(self.drain_seconds, 1),
            "cpu_cores": {name: round(cores, 2) for name, cores in self.cpu.items()},
            "cpu_per_work": self.cpu_per_work(len(stored), total_bytes),
            "machine_busy_cores": round(self.machine_busy_cores, 2),
            "load_average": self.load_average,
        }


def percentile(values: list[float], which: int) -> float:
    """Return the ``which``-th percentile of seconds, in milliseconds (0 for no values)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[which - 1] * 1000, 1)


def random_bodies(rng: random.Random, sizes: tuple[int, int]) -> list[Body]:
    """Return a pool of random bodies of sizes within ``sizes`` (reused by many objects: ids differ, bytes may not)."""
    bodies = []
    for _ in range(BODY_POOL):
        data = rng.randbytes(rng.randint(*sizes))
        bodies.append(Body(data, hashlib.sha256(data).hexdigest()))
    return bodies


def plan_events(rng: random.Random, hubs: list[Hub], hours: float, duration: float) -> None:
    """Give every hub its events: ``hours`` of 20 a day, in bursts, spread over ``duration`` seconds."""
    clips = random_bodies(rng, CLIP_BYTES)
    snapshots = random_bodies(rng, SNAPSHOT_BYTES)
    records = random_bodies(rng, RECORD_BYTES)
    mean_burst = statistics.fmean(BURST_SIZES)
    events_per_hub = EVENTS_PER_DAY * hours / 24
    for hub in hubs:
        hub.events = []
        # Bursts arrive at random (a Poisson number of them, uniformly over the run).
        bursts = poisson(rng, events_per_hub / mean_burst)
        for _ in range(bursts):
            at = rng.uniform(0, duration)
            for _ in range(rng.choice(BURST_SIZES)):
                hub.events.append(PlannedEvent(at, rng.choice(clips), rng.choice(snapshots), rng.choice(records)))
                at += rng.uniform(*BURST_GAP_SECONDS)
        hub.events.sort(key=lambda event: event.at)


def poisson(rng: random.Random, mean: float) -> int:
    """Draw from a Poisson distribution (Knuth's method; the means here are small)."""
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# What a phase's hubs call to store and delete one object; the API and raw S3 differ only here.
Put = Callable[[httpx.AsyncClient, Hub, str, Body], Awaitable[int]]
Delete = Callable[[httpx.AsyncClient, Hub, str], Awaitable[int]]


def signed_headers(key: HubKey, method: str, path: str, body_sha256: str) -> dict[str, str]:
    """Return the contract's four signature headers (the body's SHA-256 computed once per pooled body)."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    message = "\n".join(("HW1", method, path, timestamp, nonce, body_sha256)).encode("utf-8")
    signature = base64.urlsafe_b64encode(key.private_key.sign(message)).rstrip(b"=").decode("ascii")
    return {"X-HW-Hub": key.hub_id, "X-HW-Timestamp": timestamp, "X-HW-Nonce": nonce, "X-HW-Signature": signature}


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


async def api_put(client: httpx.AsyncClient, hub: Hub, object_id: str, body: Body) -> int:
    """PUT an object through the cloud's signed API."""
    path = f"/api/v1/objects/{object_id}"
    headers = signed_headers(hub.key, "PUT", path, body.sha256) | {"X-HW-Content-SHA256": body.sha256}
    answer = await client.put(hub.base_url + path, content=body.data, headers=headers)
    return answer.status_code


async def api_delete(client: httpx.AsyncClient, hub: Hub, object_id: str) -> int:
    """DELETE an object through the cloud's signed API."""
    path = f"/api/v1/objects/{object_id}"
    answer = await client.delete(hub.base_url + path, headers=signed_headers(hub.key, "DELETE", path, EMPTY_SHA256))
    return answer.status_code


class RawS3:
    """The baseline: the same bytes PUT straight to the object store with presigned URLs (no cloud in between)."""

    def __init__(self, server: S3Server, bucket: str) -> None:
        """Presign against ``bucket`` of ``server``."""
        self._bucket = bucket
        self._client = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            aws_access_key_id=server.access_key,
            aws_secret_access_key=server.secret_key,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        self._lock = threading.Lock()

    def _url(self, method: str, hub: Hub, object_id: str) -> str:
        with self._lock:
            return str(
                self._client.generate_presigned_url(
                    method, Params={"Bucket": self._bucket, "Key": f"homes/{hub.index}/{object_id}"}, ExpiresIn=3600
                )
            )

    async def put(self, client: httpx.AsyncClient, hub: Hub, object_id: str, body: Body) -> int:
        """PUT the bytes as they are."""
        answer = await client.put(self._url("put_object", hub, object_id), content=body.data)
        return 201 if answer.status_code == 200 else answer.status_code

    async def delete(self, client: httpx.AsyncClient, hub: Hub, object_id: str) -> int:
        """DELETE the object."""
        return (await client.delete(self._url("delete_object", hub, object_id))).status_code


async def run_hubs(hubs: list[Hub], put: Put, delete: Delete, keep_events: int, result: PhaseResult) -> None:
    """Play every hub's events at their times, each hub one request at a time, as an outbox does."""
    limits = httpx.Limits(max_connections=len(hubs) + 10, max_keepalive_connections=len(hubs) + 10)
    timeout = httpx.Timeout(300.0, connect=30.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        started = time.monotonic()
        await asyncio.gather(*(play_hub(client, hub, put, delete, keep_events, started, result) for hub in hubs))
        result.wall_seconds = time.monotonic() - started


async def play_hub(
    client: httpx.AsyncClient,
    hub: Hub,
    put: Put,
    delete: Delete,
    keep_events: int,
    started: float,
    result: PhaseResult,
) -> None:
    """Upload one hub's events (clip, snapshot, record), deleting its older events as retention would."""
    sent: list[list[str]] = []
    for event in hub.events:
        wait = started + event.at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        ids = []
        for kind, body in (("clip", event.clip), ("snapshot", event.snapshot), ("record", event.record)):
            object_id = secrets.token_hex(16)
            upload = await with_retries(
                kind, body, lambda object_id=object_id, body=body: put(client, hub, object_id, body)
            )
            result.uploads.append(upload)
            if upload.status not in (200, 201):
                result.failures[f"{kind} {upload.status}"] = result.failures.get(f"{kind} {upload.status}", 0) + 1
            ids.append(object_id)
            if kind == "clip" and upload.status in (200, 201):
                # The off-site lag: from the moment the event's clip was ready to the moment the cloud kept it.
                result.lags.append(time.monotonic() - (started + event.at))
        sent.append(ids)
        while keep_events >= 0 and len(sent) > keep_events:
            for object_id in sent.pop(0):
                status = await delete(client, hub, object_id)
                result.deletes += 1
                if status not in (200, 204):
                    result.failures[f"delete {status}"] = result.failures.get(f"delete {status}", 0) + 1


async def with_retries(kind: str, body: Body, send: Callable[[], Awaitable[int]]) -> Upload:
    """Send until stored or refused for good; 5xx, 429 and connection errors are retried with backoff."""
    first = time.monotonic()
    status = 0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            status = await send()
        except httpx.TransportError:
            status = 599
        if status < 500 and status != 429:
            break
        await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
    return Upload(kind, len(body.data), first, time.monotonic() - first, status, attempt)


class Monitor:
    """Sample the Celery queue (RabbitMQ's ready messages), pending deletions and CPU while a phase runs."""

    def __init__(self, queue: str, database_url: str, processes: dict[str, int], result: PhaseResult) -> None:
        """Watch ``queue``, the database and the named process trees."""
        self._queue = queue
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._database = make_url(database_url).database
        self._processes = processes
        self._result = result
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._cpu_at_start: dict[str, dict[int, int]] = {}
        self._machine_at_start = (0, 0)
        self._started = 0.0

    def start(self) -> None:
        """Note the CPU counters and start sampling."""
        self._started = time.monotonic()
        self._cpu_at_start = self._cpu_ticks()
        self._machine_at_start = machine_ticks()
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and work out each process's cores over the phase."""
        self._stop.set()
        self._thread.join(timeout=30)
        wall = time.monotonic() - self._started
        at_end = self._cpu_ticks()
        for name, ticks in at_end.items():
            before = self._cpu_at_start.get(name, {})
            used = sum(count - before.get(pid, 0) for pid, count in ticks.items())
            self._result.cpu_seconds[name] = used / TICKS
            self._result.cpu[name] = used / TICKS / wall
        busy, total = machine_ticks()
        busy_before, total_before = self._machine_at_start
        self._result.machine_busy_cores = (busy - busy_before) / max(1, total - total_before) * (os.cpu_count() or 1)
        self._result.load_average = os.getloadavg()

    def pending_deletions(self) -> int:
        """Return the deletions whose blob is not yet deleted."""
        with psycopg.connect(self._conninfo) as connection:
            row = connection.execute("SELECT count(*) FROM cloud_blob_deletion").fetchone()
        return int(row[0]) if row else 0

    def queue_depth(self) -> int:
        """Return the ready messages of the Celery queue (0 before anything declared it)."""
        return queue_depth(self._queue)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._result.queue_samples.append(self.queue_depth())
            self._result.pending_samples.append(self.pending_deletions())

    def _cpu_ticks(self) -> dict[str, dict[int, int]]:
        ticks = {name: {p: cpu_ticks(p) for p in process_tree(pid)} for name, pid in self._processes.items()}
        ticks["postgres (this database)"] = {p: cpu_ticks(p) for p in self._postgres_backends()}
        ticks["bench client"] = {os.getpid(): cpu_ticks(os.getpid())}
        return ticks

    def _postgres_backends(self) -> list[int]:
        with psycopg.connect(self._conninfo) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (self._database,)
            ).fetchall()
        return [int(row[0]) for row in rows]


def queue_depth(queue: str) -> int:
    """Return the ready messages of ``queue`` by a passive declare (RabbitMQ's management API is not enabled here)."""
    connection = rabbitmq_connection()
    try:
        connection.connect()
        channel = connection.channel()
        try:
            _name, ready, _consumers = channel.queue_declare(queue=queue, passive=True)
        except amqp.exceptions.NotFound:
            return 0
        return int(ready)
    finally:
        connection.collect()


def rabbitmq_connection() -> amqp.Connection:
    """Return an (unopened) AMQP connection to the tests' RabbitMQ."""
    url = urlsplit(RABBITMQ_URL)
    return amqp.Connection(host=f"{url.hostname}:{url.port}", userid=url.username, password=url.password)


def delete_queue(queue: str) -> None:
    """Remove the bench's Celery queue from RabbitMQ."""
    connection = rabbitmq_connection()
    try:
        connection.connect()
        connection.channel().queue_delete(queue)
    except amqp.exceptions.AMQPError:
        pass
    finally:
        connection.collect()


def cpu_ticks(pid: int) -> int:
    """Return the user + system CPU ticks of ``pid`` (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and its descendants (a Celery worker forks its pool)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def machine_ticks() -> tuple[int, int]:
    """Return (busy, total) CPU ticks of the whole machine: how much the other work on it takes."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


async def pair_hubs(base_url: str, count: int) -> list[Hub]:
    """Make ``count`` households and pair a hub with each, through the real routes, a few at a time."""
    gate = asyncio.Semaphore(PAIRING_CONCURRENCY)

    async def pair_one(client: httpx.AsyncClient, index: int) -> Hub:
        async with gate:
            name = f"bench-{index:05d}-{uuid.uuid4().hex[:6]}"
            made = await client.post("/api/v1/accounts", json={"username": name, "password": ACCOUNT_PASSWORD})
            made.raise_for_status()
            session = await client.post("/api/v1/session", json={"username": name, "password": ACCOUNT_PASSWORD})
            session.raise_for_status()
            auth = {"Authorization": f"Bearer {session.json()['token']}"}
            code = await client.post("/api/v1/pairing-codes", headers=auth)
            code.raise_for_status()
            key = HubKey()
            paired = await client.post(
                "/api/v1/hubs/pair",
                json={"code": code.json()["code"], "public_key": key.public_key_base64, "name": f"hub {index}"},
            )
            paired.raise_for_status()
            key.hub_id = paired.json()["hub_id"]
            return Hub(index=index, key=key)

    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(120.0)) as client:
        return list(await asyncio.gather(*(pair_one(client, index) for index in range(count))))


def wait_for_drain(monitor: Monitor) -> float | None:
    """Wait until no deletion is pending; return how long that took (None: not within the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT_SECONDS:
        if monitor.pending_deletions() == 0 and monitor.queue_depth() == 0:
            return time.monotonic() - started
        time.sleep(SAMPLE_SECONDS)
    return None


def print_phase(summary: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    """Print one phase's numbers (and its ratios to the raw S3 baseline)."""
    latency = summary["latency"]
    print(
        f"\n== {summary['phase']}: {summary['uploads']} uploads, {summary['bytes'] / MB:.0f} MB in "
        f"{summary['wall_seconds']} s"
    )
    print(
        f"   {summary['uploads_per_second']} uploads/s, {summary['megabytes_per_second']} MB/s; "
        f"clip p50/p95 {latency['clip']['p50_ms']:.0f}/{latency['clip']['p95_ms']:.0f} ms, "
        f"snapshot {latency['snapshot']['p50_ms']:.0f}/{latency['snapshot']['p95_ms']:.0f} ms, "
        f"record {latency['record']['p50_ms']:.0f}/{latency['record']['p95_ms']:.0f} ms; "
        f"clip off-site lag p50/p95 {summary['clip_lag_p50_s']}/{summary['clip_lag_p95_s']} s"
    )
    print(
        f"   deletes {summary['deletes']}, retries {summary['retries']}, failures {summary['failures'] or 'none'}; "
        f"queue ready max {summary['queue_max']} mean {summary['queue_mean']}, pending deletions max "
        f"{summary['pending_deletions_max']}, drained {summary['drain_seconds']} s after the last upload"
    )
    cores = ", ".join(f"{name} {value}" for name, value in summary["cpu_cores"].items())
    print(f"   cores: {cores}; whole machine busy {summary['machine_busy_cores']} of {os.cpu_count()}")
    print("   CPU per work: " + ", ".join(f"{name} {value}" for name, value in summary["cpu_per_work"].items()))
    print(f"   load average at the end {', '.join(f'{value:.1f}' for value in summary['load_average'])}")
    if baseline is not None and baseline is not summary:
        print(
            "   vs raw S3: uploads/s x{:.2f}, MB/s x{:.2f}, clip p50 x{:.2f}, clip p95 x{:.2f}".format(
                ratio(summary["uploads_per_second"], baseline["uploads_per_second"]),
                ratio(summary["megabytes_per_second"], baseline["megabytes_per_second"]),
                ratio(latency["clip"]["p50_ms"], baseline["latency"]["clip"]["p50_ms"]),
                ratio(latency["clip"]["p95_ms"], baseline["latency"]["clip"]["p95_ms"]),
            )
        )


def ratio(value: float, base: float) -> float:
    """Return value / base (0 when there is no base)."""
    return value / base if base else 0.0


def parse_counts(text: str) -> list[int]:
    """Parse '1,2' into [1, 2]."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of counts: {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"counts are 1 or more: {text!r}")
    return counts


class Cloud:
    """The cloud's processes for one phase: API processes and workers, started and stopped together."""

    def __init__(self, config: Path) -> None:
        """Run processes of ``config``."""
        self.config = config
        self.apis: list[CloudProcess] = []
        self.workers: list[CloudProcess] = []

    def use_apis(self, count: int) -> None:
        """Run exactly ``count`` API processes."""
        if len(self.apis) == count:
            return
        for api in self.apis:
            api.stop()
        self.apis = [start_cloud_serve(self.config) for _ in range(count)]

    def use_workers(self, count: int) -> None:
        """Run exactly ``count`` worker processes (one task at a time each)."""
        for worker in self.workers:
            worker.stop()
        self.workers = [
            start_cloud_worker(self.config, f"bench-{index}-{uuid.uuid4().hex[:6]}@load") for index in range(count)
        ]

    def processes(self) -> dict[str, int]:
        """Return the name and pid of every process."""
        named = {f"api {index + 1}": api.process.pid for index, api in enumerate(self.apis)}
        named |= {f"worker {index + 1}": worker.process.pid for index, worker in enumerate(self.workers)}
        return named

    def stop(self) -> None:
        """Stop everything."""
        for process in [*self.apis, *self.workers]:
            process.stop()
        self.apis, self.workers = [], []


def run_phase(
    name: str,
    hubs: list[Hub],
    put: Put,
    delete: Delete,
    args: argparse.Namespace,
    queue: str,
    database_url: str,
    processes: dict[str, int],
    api_processes: int,
    workers: int,
) -> dict[str, Any]:
    """Play the schedule once against one set-up and return its summary."""
    result = PhaseResult(name=name, api_processes=api_processes, workers=workers)
    monitor = Monitor(queue, database_url, processes, result)
    print(
        f"\n-- {name}: {sum(len(hub.events) for hub in hubs)} events of {len(hubs)} hubs over {args.duration} s",
        flush=True,
    )
    monitor.start()
    try:
        asyncio.run(run_hubs(hubs, put, delete, args.keep_events, result))
        result.drain_seconds = wait_for_drain(monitor) if workers else 0.0
    finally:
        monitor.stop()
    return result.summary()


def main() -> int:
    """Set up the services, pair the hubs, run the baseline and each set-up, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=200, help="simulated hubs, each its own household (200)")
    parser.add_argument("--hours", type=float, default=24.0, help="hours of each hub's day played (24: 20 events)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds those hours are compressed into")
    parser.add_argument("--workers", type=parse_counts, default=[1, 2], help="worker processes to try, e.g. 1,2")
    parser.add_argument("--api-processes", type=parse_counts, default=[1], help="API processes to try, e.g. 1,2")
    parser.add_argument(
        "--keep-events", type=int, default=2, help="each hub deletes its events beyond the last N (-1: none)"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, help="also write every phase's numbers here")
    args = parser.parse_args()
    if args.hubs < 1 or args.duration <= 0 or args.hours <= 0:
        parser.error("--hubs, --hours and --duration are positive")

    print(
        f"cloud_load {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} cores "
        f"({cpu_model()}), load average {', '.join(f'{value:.1f}' for value in os.getloadavg())}",
        flush=True,
    )
    summaries: list[dict[str, Any]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="cloud-load-") as temporary:
        folder = Path(temporary)
        s3 = start_s3_server(folder / "buckets")
        stack.callback(s3.stop)
        database_url = stack.enter_context(fresh_postgres_database())
        queue = f"hw-cloud-load-{uuid.uuid4().hex[:8]}"
        stack.callback(delete_queue, queue)
        config = write_cloud_config(folder / "cloud", database_url, s3=s3, broker_url=RABBITMQ_URL, queue=queue)
        migrated = run_cloud_command("migrate", "--config", str(config))
        if migrated.returncode != 0:
            raise SystemExit(f"cloud migrate failed: {migrated.stdout}{migrated.stderr}")
        cloud = Cloud(config)
        stack.callback(cloud.stop)
        cloud.use_apis(1)
        started = time.monotonic()
        hubs = asyncio.run(pair_hubs(cloud.apis[0].base_url, args.hubs))
        print(f"paired {len(hubs)} hubs through the account routes in {time.monotonic() - started:.0f} s", flush=True)
        rng = random.Random(args.seed)
        plan_events(rng, hubs, args.hours, args.duration)

        raw = RawS3(s3, s3.new_bucket())
        baseline = run_phase(
            "raw S3 PUT (baseline)",
            hubs,
            raw.put,
            raw.delete,
            args,
            queue,
            database_url,
            {"rclone": s3.process.pid},
            0,
            0,
        )
        print_phase(baseline, None)
        summaries.append(baseline)
        for api_count in args.api_processes:
            cloud.use_apis(api_count)
            for index, hub in enumerate(hubs):
                hub.base_url = cloud.apis[index % api_count].base_url
            for worker_count in args.workers:
                cloud.use_workers(worker_count)
                processes = cloud.processes() | {"rclone": s3.process.pid}
                name = f"API x{api_count}, workers x{worker_count}"
                summary = run_phase(
                    name, hubs, api_put, api_delete, args, queue, database_url, processes, api_count, worker_count
                )
                print_phase(summary, baseline)
                summaries.append(summary)
    if args.json:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"json": str(args.json)}, "phases": summaries}, indent=2, default=str)
        )
    return 0


def cpu_model() -> str:
    """Return the CPU's model name."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except pytest.fail.Exception as error:
        raise SystemExit(f"cloud_load: {error.msg}") from None
