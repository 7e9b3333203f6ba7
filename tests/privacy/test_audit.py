"""The audit log's hash chain: intact as written; any edit, removal, reordering or truncation is reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from sqlalchemy import text

from conftest import write_config
from homewarden.cli import main
from homewarden.config import load_config
from homewarden.offsite.identity import OffsiteFolder
from homewarden.privacy.audit import Actor, AuditLog
from homewarden.review.cloud_chain import CloudChainRecords, check_checkpoint, check_receipt
from homewarden.review.program_key import PinnedKeys, ProgramKey
from homewarden.store.database import EventStore
from review.cloud_signer import CloudChain, program_of

OWNER = Actor("owner", "olivia")
REVIEWER = Actor("reviewer", "reviewer:r_1a2b3c4d")


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[EventStore, AuditLog, Path]]:
    """Yield a store and its audit log holding five entries, and the config naming them."""
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    store = EventStore.open(config.storage.resolved_database_url())
    log = AuditLog(store.engine, config.storage.folder.resolve())
    log.record(OWNER, "view_clip", "event:e1", home_id=1)
    log.record(REVIEWER, "review.view", "donation:d1", home_id=1, detail="cloud seq 7")
    log.record(Actor("member", "max"), "refused", "/api/events/e1/clips/0.mp4", home_id=None, outcome="refused")
    log.record(OWNER, "donation_withdrawn", "donation:d1", home_id=1, detail="copy shredded")
    log.record(OWNER, "view_snapshot", "event:e2", home_id=2)
    try:
        yield store, log, config_path
    finally:
        store.close()


def sql(store: EventStore, statement: str) -> None:
    """Change the log behind its back, as someone with database access could."""
    with store.engine.begin() as connection:
        connection.execute(text(statement))


def test_an_untouched_log_verifies_and_lists_per_home(
    logged: tuple[EventStore, AuditLog, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _store, log, config_path = logged
    result = log.verify()
    assert result.intact
    assert result.entries == 5
    assert [entry.action for entry in log.entries(home_id=1)] == [
        "donation_withdrawn",
        "review.view",
        "view_clip",
    ]
    assert main(["audit", "verify", "--config", str(config_path)]) == 0
    assert "intact: 5 entries" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("tampering", "expected"),
    [
        ("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 2", "entry 2 was changed"),
        ("UPDATE audit_entry SET outcome = 'ok' WHERE seq = 3", "entry 3 was changed"),
        ("DELETE FROM audit_entry WHERE seq = 3", "entries 3–3 are missing"),
        ("DELETE FROM audit_entry WHERE seq = 5", "the newest entries were removed"),
        ("DELETE FROM audit_entry", "the newest entries were removed"),
    ],
)
def test_tampering_is_reported(
    logged: tuple[EventStore, AuditLog, Path], tampering: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store, log, config_path = logged
    sql(store, tampering)
    result = log.verify()
    assert not result.intact
    assert any(expected in problem for problem in result.problems), result.problems
    assert main(["audit", "verify", "--config", str(config_path)]) == 1
    assert "TAMPERED" in capsys.readouterr().out


def test_swapping_two_entries_is_reported(logged: tuple[EventStore, AuditLog, Path]) -> None:
    store, log, _ = logged
    # Reorder: entry 2 takes entry 4's content and hashes and the other way round, sequence numbers kept.
    columns = "at, actor_role, actor, action, home_id, object, outcome, detail, prev_hash, hash"
    sql(store, f"CREATE TABLE swap AS SELECT seq, {columns} FROM audit_entry WHERE seq IN (2, 4)")
    for target, source in ((2, 4), (4, 2)):
        assignments = ", ".join(f"{c} = (SELECT {c} FROM swap WHERE seq = {source})" for c in columns.split(", "))
        sql(store, f"UPDATE audit_entry SET {assignments} WHERE seq = {target}")
    sql(store, "DROP TABLE swap")
    problems = log.verify().problems
    assert any("does not follow" in problem for problem in problems)
    assert any("was changed" in problem for problem in problems)


def test_a_rewritten_checkpoint_or_log_without_it_is_reported(logged: tuple[EventStore, AuditLog, Path]) -> None:
    _store, log, _ = logged
    log.checkpoint.unlink()
    assert any("checkpoint" in problem for problem in log.verify().problems)
    log.checkpoint.write_text("not json")
    assert not log.verify().intact


def test_a_repeated_access_is_written_once_per_window_per_person_and_object(
    logged: tuple[EventStore, AuditLog, Path],
) -> None:
    _, log, _ = logged
    before = len(log.entries())
    member = Actor("member", "max")

    written = [log.record_once_per(60, member, "view_live", "camera:front_door", home_id=1) for _ in range(5)]
    written.append(log.record_once_per(60, OWNER, "view_live", "camera:front_door", home_id=1))
    written.append(log.record_once_per(60, member, "view_live", "camera:garden", home_id=1))
    without_window = [log.record_once_per(0, member, "view_live", "camera:porch", home_id=1) for _ in range(2)]

    assert written[1:5] == [None] * 4
    assert all(seq is not None for seq in (written[0], written[5], written[6], *without_window))
    assert len(log.entries()) == before + 5
    assert log.verify().intact


def test_audit_verify_checks_the_clouds_receipts_and_names_a_rewrite_of_its_log(
    logged: tuple[EventStore, AuditLog, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The cloud's part, kept by the hub as its receipts and checkpoints, is checked too; a rewrite is named."""
    store, _log, config_path = logged
    chain = CloudChain(SigningKey.generate())
    keys = PinnedKeys((ProgramKey.from_document(program_of(chain.key)),))
    OffsiteFolder(load_config(config_path).storage.folder).save_program_keys(keys)
    records = CloudChainRecords(store.engine)
    receipt = chain.add("home-a", "d-0123456789abcdef", "view", "reviewer:r_0a1b2c3d")
    records.add_receipt(1, check_receipt(receipt, keys))
    chain.add("home-b", "d-other-00000000", "queued")
    records.add_checkpoint(check_checkpoint(chain.checkpoint(), keys), chain.links(0))
    assert main(["audit", "verify", "--config", str(config_path)]) == 0
    assert "1 signed receipt(s), each at its place in 1 signed checkpoint(s)" in capsys.readouterr().out

    # Someone with the hub's database "corrects" the receipt the cloud signed: its signature no longer holds.
    sql(store, "UPDATE cloud_receipt SET document = replace(document, 'reviewer:r_0a1b2c3d', 'cloud')")
    assert main(["audit", "verify", "--config", str(config_path)]) == 1
    out = capsys.readouterr().out
    assert "audit log intact" in out
    assert "the cloud's review log does NOT check out" in out
    assert "does not match its own content hash" in out
