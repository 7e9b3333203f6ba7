"""Real services the tests run against, started on demand."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=2"
POSTGRES_CONFIG_FOLDER = Path("/etc/postgresql")
POSTGRES_START_SECONDS = 30.0


def ensure_postgres() -> str:
    """Start the local PostgreSQL cluster unless it already accepts connections; return its base URL."""
    if _postgres_refusal() is None:
        return POSTGRES_URL
    versions = sorted(
        (folder.name for folder in POSTGRES_CONFIG_FOLDER.glob("*") if folder.name.replace(".", "").isdigit()),
        key=lambda name: tuple(int(part) for part in name.split(".")),
    )
    if not versions:
        pytest.fail(f"PostgreSQL is not installed: no cluster under {POSTGRES_CONFIG_FOLDER}", pytrace=False)
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    try:
        started = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.fail(f"cannot start PostgreSQL with {' '.join(command)}: {error}", pytrace=False)
    if started.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited with {started.returncode}: {started.stderr.strip()}", pytrace=False)
    deadline = time.monotonic() + POSTGRES_START_SECONDS
    while (refusal := _postgres_refusal()) is not None:
        if time.monotonic() > deadline:
            pytest.fail(
                f"PostgreSQL started but refused connections for {POSTGRES_START_SECONDS:.0f} s: {refusal}",
                pytrace=False,
            )
        time.sleep(0.5)
    return POSTGRES_URL


def _postgres_refusal() -> str | None:
    """Return why the test database refuses a connection, or None when it accepts one."""
    try:
        with psycopg.connect(POSTGRES_CONNINFO):
            return None
    except psycopg.OperationalError as error:
        return " ".join(str(error).split())


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty, uniquely named database on the test server; drop it afterwards. Yields its URL."""
    base_url = make_url(ensure_postgres())
    name = f"homewarden_test_{uuid.uuid4().hex}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield base_url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class PrivatePostgres:
    """A PostgreSQL server of the test's own, on its own port, that the test may stop and start again.

    The suite's shared server must stay up for every other test; this one is made with initdb in a temporary
    folder (as the ``postgres`` user when the tests run as root, since PostgreSQL refuses to run as root).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "cluster"
        self.port = _port_outside_the_ephemeral_range()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def create(self) -> None:
        """Make the cluster (trust authentication on 127.0.0.1) and start it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self.start()

    def start(self) -> None:
        """Start the server and wait until it accepts connections; a failure says what the server logged."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.folder / "log"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start", log=log)

    def stop(self) -> None:
        """Stop the server at once (open connections are cut, as in a restart)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def _run(self, program: str, *arguments: str, log: Path | None = None) -> None:
        binary = _postgres_binary(program)
        command = ["runuser", "-u", "postgres", "--", binary, *arguments] if os.geteuid() == 0 else [binary, *arguments]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            logged = log.read_text(errors="replace").strip().splitlines()[-5:] if log and log.is_file() else []
            pytest.fail(
                f"{' '.join(command)} exited with {result.returncode}: {result.stderr.strip()} {' | '.join(logged)}",
                pytrace=False,
            )


def _port_outside_the_ephemeral_range() -> int:
    """Return a free port below the kernel's ephemeral range, so no outgoing connection takes it while it is closed.

    A test that stops its server and starts it again on the same port lost it once to such a connection (CI: pg_ctl
    "could not start server" at the restart).
    """
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        port = random.randrange(max(1024, first_ephemeral - 12000), first_ephemeral)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    pytest.fail("no free port below the ephemeral range for a private PostgreSQL", pytrace=False)


def _postgres_binary(program: str) -> str:
    """Return the newest installed PostgreSQL's ``program`` (initdb, pg_ctl), or fail the test saying it is missing."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3].split(".")[0]))
    if not found:
        pytest.fail(f"PostgreSQL's {program} is not installed under /usr/lib/postgresql", pytrace=False)
    return str(found[-1])


@contextmanager
def private_postgres(folder: Path) -> Iterator[PrivatePostgres]:
    """Run a PostgreSQL server of the test's own for the block; it is stopped and its files removed afterwards."""
    server = PrivatePostgres(folder)
    server.create()
    try:
        yield server
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                _postgres_binary("pg_ctl"),
                "-D",
                str(server.data),
                "-m",
                "immediate",
                "stop",
            ]
            if os.geteuid() == 0
            else [_postgres_binary("pg_ctl"), "-D", str(server.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
