"""One process at a time migrates a database: two that start together on a new database would both create its tables.

Shared by the hub's database and the cloud's (a hub started beside a command-line tool, several cloud API processes
and workers started at once): the second waits for the first, then finds the schema at its head and does nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Connection, Engine, text

from homewarden.store.durable_files import PRIVATE_FILE


@contextmanager
def migrating(engine: Engine, name: str) -> Iterator[Connection]:
    """Open the transaction to migrate in, once no other process holds the database's migration lock ``name``.

    PostgreSQL: a transaction-level advisory lock (released at commit or rollback, or by the server if the process
    dies); a SQLite file: an exclusive ``flock`` on ``<database>.<name>.lock`` beside it; a database in memory: none.
    """
    database = engine.url.database
    with ExitStack() as stack:
        if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
            descriptor = os.open(f"{database}.{name}.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
            stack.callback(os.close, descriptor)
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # released when the descriptor closes
        connection = stack.enter_context(engine.begin())
        if engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield connection
