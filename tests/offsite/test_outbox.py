"""The outbox file: durable across reopening, most urgent first, the latest intent per cloud id winning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from homewarden.offsite.outbox import PRIORITY_ALARM, PRIORITY_KEY_FILE, PRIORITY_OTHER, Outbox, Upload


def upload(cloud_id: str, priority: int = PRIORITY_OTHER, event_id: str | None = "e1") -> Upload:
    return Upload("object", cloud_id, f"cam/2024-01-01/{cloud_id}.mp4", event_id, priority)


def test_items_survive_reopening_and_go_most_urgent_first(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    assert outbox.enqueue([upload("other-0000000000"), upload("alarm-0000000000", PRIORITY_ALARM)], now=1.0) == 2
    outbox.enqueue([Upload("key_file", "home-key-file-v1", "", None, PRIORITY_KEY_FILE)], now=2.0)
    outbox.close()
    reopened = Outbox(tmp_path / "outbox.sqlite3")
    order = []
    while (item := reopened.next_due(now=10.0)) is not None:
        order.append(item.cloud_id)
        reopened.uploaded(item, "ab" * 32, 5, None, now=10.0)
    assert order == ["home-key-file-v1", "alarm-0000000000", "other-0000000000"]
    counts = reopened.counts()
    assert (counts.waiting, counts.sent) == (0, 3)
    assert reopened.state("last_success_at") == "10.0"


def test_what_was_sent_or_waits_is_not_queued_twice(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    assert outbox.enqueue([upload("a" * 16)]) == 1
    assert outbox.enqueue([upload("a" * 16)]) == 0
    item = outbox.next_due()
    assert item is not None
    outbox.uploaded(item, "ab", 1, None)
    assert outbox.enqueue([upload("a" * 16)]) == 0


def test_deleting_an_event_replaces_its_waiting_uploads_and_deletes_what_went(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.enqueue([upload("sent-00000000000"), upload("waiting-00000000"), upload("other-event-0000", event_id="e2")])
    first = outbox.next_due()
    assert first is not None
    outbox.uploaded(first, "ab", 1, None)
    assert outbox.enqueue_event_deletion("e1") == 2
    kinds = {item.cloud_id: item.kind for item in outbox.items()}
    assert kinds == {"sent-00000000000": "delete", "waiting-00000000": "delete", "other-event-0000": "object"}
    while (item := outbox.next_due()) is not None and item.kind == "delete":
        outbox.deleted(item)
    assert [entry.cloud_id for entry in outbox.sent_objects()] == []


def test_an_upload_cancelled_in_flight_is_deleted_after_it_lands(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.enqueue([upload("flying-000000000")])
    in_flight = outbox.next_due()
    assert in_flight is not None
    outbox.enqueue_event_deletion("e1")  # the owner deletes the event while its clip is being sent
    outbox.uploaded(in_flight, "ab", 1, None)  # the upload finishes
    remaining = outbox.items()
    assert [(item.cloud_id, item.kind) for item in remaining] == [("flying-000000000", "delete")]
    assert outbox.sent("flying-000000000") is not None


def test_failures_back_off_and_refusals_stop_until_retried(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.enqueue([upload("a" * 16), upload("b" * 16)], now=0.0)
    first = outbox.next_due(now=0.0)
    assert first is not None
    outbox.retry_later(first, "HTTP 503", at=100.0)
    second = outbox.next_due(now=1.0)
    assert second is not None
    assert second.cloud_id == "b" * 16
    outbox.fail(second, "HTTP 400: no")
    assert outbox.next_due(now=50.0) is None
    assert outbox.next_attempt_at() == 100.0
    counts = outbox.counts()
    assert (counts.waiting, counts.failed) == (1, 1)
    assert outbox.retry_failed() == 1
    again = outbox.next_due(now=50.0)
    assert again is not None
    assert again.cloud_id == "b" * 16


def test_an_outbox_made_before_donations_went_to_the_cloud_is_upgraded_with_its_rows(tmp_path: Path) -> None:
    """The item table of an older hub (no donation kinds, no meta column) is rebuilt; its waiting work stays."""
    path = tmp_path / "outbox.sqlite3"
    older = sqlite3.connect(path)
    older.executescript(
        """
        CREATE TABLE item (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            cloud_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('object', 'record', 'key_file', 'delete')),
            subject TEXT NOT NULL,
            event_id TEXT,
            priority INTEGER NOT NULL,
            created_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL DEFAULT 0,
            last_error TEXT,
            failed INTEGER NOT NULL DEFAULT 0,
            upload_id TEXT,
            part_size INTEGER,
            body_sha256 TEXT,
            body BLOB,
            version INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_item_order ON item (failed, priority, id);
        CREATE INDEX ix_item_event ON item (event_id);
        INSERT INTO item (cloud_id, kind, subject, event_id, priority, created_at)
            VALUES ('abc123', 'object', 'front_door/e1.mp4', 'e1', 2, 1.0);
        """
    )
    older.close()

    outbox = Outbox(path)
    outbox.enqueue_donation("donation-0123456789", b"sealed", "0" * 64, '{"key_id": "pk_x"}')
    outbox.enqueue_withdrawal("donation-0123456789")
    outbox.enqueue_withdrawal("donation-never-sent-00")
    items = outbox.items()
    assert [(item.kind, item.subject) for item in items] == [
        ("withdraw", "donation-0123456789"),
        ("withdraw", "donation-never-sent-00"),
        ("object", "front_door/e1.mp4"),
    ]
    assert items[0].body is None  # the sealed copy that had not gone is dropped with its upload
    Outbox(path).close()  # opening again changes nothing
    assert [item.cloud_id for item in Outbox(path).items()] == [item.cloud_id for item in items]
