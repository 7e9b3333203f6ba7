"""The review program's audit chain on PostgreSQL: appended at once by many processes and threads, still one chain."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import select

from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.models import ReviewAuditEntry
from homewarden.cloud.review.audit import (
    GENESIS_HASH,
    content_hash_of,
    entry_of,
    first_broken_link,
    link_hash,
    receipt,
    record,
)
from homewarden.cloud.review.signatures import canonical_json, decode_signature

APPENDS_EACH = 25


class KeyForTests:
    """A bare Ed25519 signer (the program key has its own tests; this one only signs)."""

    def __init__(self) -> None:
        """Make a fresh key."""
        self._key = SigningKey.generate()
        self.key_id = "pk_0123456789abcdef"

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``."""
        return self._key.sign(message).signature

    @property
    def verify_key(self) -> VerifyKey:
        """Return the public half."""
        return self._key.verify_key


def _append(database_url: str, worker: int) -> None:
    """Append APPENDS_EACH entries, one transaction each, from a process of its own."""
    database = CloudDatabase.open(database_url, migrate=False)
    try:
        for number in range(APPENDS_EACH):
            with database.session() as session:
                record(
                    session,
                    home_id=f"h_home{worker}",
                    donation_id=f"donation_{worker}_{number:04d}",
                    action="view",
                    actor="reviewer:r_0123abcd",
                    details={"worker": worker, "number": number},
                )
    finally:
        database.close()


@pytest.fixture
def database(cloud_database_url: str) -> CloudDatabase:
    """Return a migrated PostgreSQL database of this test's own."""
    return CloudDatabase.open(cloud_database_url, migrate=True)


def test_many_processes_and_threads_append_one_contiguous_chain(
    database: CloudDatabase, cloud_database_url: str
) -> None:
    processes = [
        multiprocessing.get_context("spawn").Process(target=_append, args=(cloud_database_url, worker))
        for worker in range(3)
    ]
    for process in processes:
        process.start()
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda worker: _append(cloud_database_url, worker), range(3, 6)))
    for process in processes:
        process.join(timeout=120)
    try:
        assert [process.exitcode for process in processes] == [0, 0, 0]
        with database.session() as session:
            rows = session.scalars(select(ReviewAuditEntry).order_by(ReviewAuditEntry.seq)).all()
            entries = [entry_of(row) for row in rows]
    finally:
        database.close()

    assert [entry.seq for entry in entries] == list(range(1, 6 * APPENDS_EACH + 1))
    assert entries[0].prev_hash == GENESIS_HASH
    assert len({entry.prev_hash for entry in entries}) == len(entries)
    assert first_broken_link([(entry.seq, entry.content_hash, entry.entry_hash) for entry in entries]) is None
    assert all(content_hash_of(entry.content()) == entry.content_hash for entry in entries)


def test_a_rewritten_entry_breaks_the_chain_at_its_seq(database: CloudDatabase) -> None:
    try:
        with database.session() as session:
            for number in range(4):
                record(
                    session,
                    home_id="h_home",
                    donation_id=f"donation_{number:012d}",
                    action="received",
                    actor="cloud",
                    details={},
                )
        with database.session() as session:
            links = [
                (row.seq, row.content_hash, row.entry_hash)
                for row in session.scalars(select(ReviewAuditEntry).order_by(ReviewAuditEntry.seq))
            ]
    finally:
        database.close()
    forged = content_hash_of({"seq": 3, "forged": True})

    assert first_broken_link(links) is None
    assert first_broken_link([*links[:2], (3, forged, links[2][2]), links[3]]) == 3
    # Recomputing every hash after the forgery still breaks at the next untouched link.
    assert first_broken_link([*links[:2], (3, forged, link_hash(links[1][2], forged)), links[3]]) == 4
    assert first_broken_link(links[:1] + links[2:]) == 3


def test_a_receipt_verifies_with_the_program_key(database: CloudDatabase) -> None:
    signer = KeyForTests()
    try:
        with database.session() as session:
            entry = record(
                session,
                home_id="h_home",
                donation_id="donation_000000000001",
                action="label",
                actor="reviewer:r_89abcdef",
                details={"label": "person", "ünicode": "kept as is"},
            )
    finally:
        database.close()

    signed = receipt(entry, signer)
    unsigned = {key: value for key, value in signed.items() if key != "signature"}

    signer.verify_key.verify(canonical_json(unsigned), decode_signature(signed["signature"]))
    assert signed["key_id"] == signer.key_id
    assert signed["content"]["seq"] == 1
    assert signed["content"]["actor"] == "reviewer:r_89abcdef"
    assert signed["content_hash"] == content_hash_of(signed["content"])
    assert signed["entry_hash"] == link_hash(GENESIS_HASH, signed["content_hash"])


def test_an_unknown_action_or_a_named_actor_is_refused(database: CloudDatabase) -> None:
    try:
        with database.session() as session:
            with pytest.raises(ValueError, match="unknown review action"):
                record(session, home_id="h", donation_id="d" * 16, action="download", actor="cloud", details={})
            with pytest.raises(ValueError, match="an actor is"):
                record(session, home_id="h", donation_id="d" * 16, action="view", actor="reviewer:alice", details={})
    finally:
        database.close()


def test_threads_append_one_chain_on_a_sqlite_trial_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cloud.db'}"
    CloudDatabase.open(url, migrate=True).close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda worker: _append(url, worker), range(4)))

    database = CloudDatabase.open(url, migrate=False)
    try:
        with database.session() as session:
            links = [
                (row.seq, row.content_hash, row.entry_hash)
                for row in session.scalars(select(ReviewAuditEntry).order_by(ReviewAuditEntry.seq))
            ]
    finally:
        database.close()
    assert [seq for seq, _content, _entry in links] == list(range(1, 4 * APPENDS_EACH + 1))
    assert first_broken_link(links) is None
