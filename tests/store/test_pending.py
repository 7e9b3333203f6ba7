"""The event outbox against a real PostgreSQL that goes away: events wait on disk, in order, across a restart."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from homewarden.events.record import ClipRecord, EventRecord
from homewarden.store.database import EventStore
from homewarden.store.errors import StoreError
from homewarden.store.pending import EventOutbox, record_from_json, record_to_json
from services import private_postgres
from waiting import wait_for


def event(number: int) -> EventRecord:
    """Return a finished live event with a clip."""
    start = 1_790_000_000.0 + number * 60
    return EventRecord(
        id=f"event-{number}",
        camera="hall",
        label="person",
        score=0.8,
        start=start,
        end=start + 20,
        live=True,
        box=(10, 20, 110, 220),
        snapshot=f"/data/media/hall/event-{number}.jpg.sealed",
        clips=(ClipRecord(f"/data/media/hall/event-{number}-1.mp4.sealed", start - 5, start + 25),),
        zones=("porch",),
        alarm=True,
        alarm_reason="stranger",
        sub_label="stranger",
        attributes={"alarm_mode": "away"},
    )


def test_a_record_survives_its_json_form() -> None:
    assert record_from_json(record_to_json(event(1))) == event(1)


def test_the_moment_of_the_box_survives_and_older_files_read_without_it() -> None:
    seen = replace(event(2), box_time=event(2).start + 7.5)
    assert record_from_json(record_to_json(seen)) == seen
    # A pending file written before events carried it.
    older = record_to_json(event(3))
    del older["box_time"]
    assert record_from_json(older).box_time is None


def test_waiting_events_reach_the_database_with_their_box_time(tmp_path: Path) -> None:
    """A kept event is saved later with its box time; one kept by a hub from before box_time is saved without it."""
    refusing = True

    def save(record: EventRecord) -> None:
        if refusing:
            raise StoreError("database away")
        store.save_event(record)

    seen = replace(event(5), box_time=event(5).start + 3.25)
    with EventStore.open(f"sqlite:///{tmp_path / 'homewarden.db'}") as store:
        outbox = EventOutbox(tmp_path / "pending", save, lambda record: None)
        assert not outbox.save(seen)
        assert not outbox.save(event(6))
        older = next((tmp_path / "pending").glob("*-event-6.json"))
        document = json.loads(older.read_text())
        del document["box_time"]
        older.write_text(json.dumps(document))
        refusing = False

        assert outbox.save_waiting() == 2

        assert store.get_event("event-5") == seen
        assert store.get_event("event-6") == event(6)


@pytest.mark.postgres
def test_events_refused_while_postgres_is_down_are_saved_in_order_after_a_restart(tmp_path: Path) -> None:
    with private_postgres(Path(tempfile.mkdtemp(prefix="homewarden-pg-"))) as postgres:
        store = EventStore.open(postgres.url)
        saved: list[str] = []
        try:
            outbox = EventOutbox(tmp_path / "pending", store.save_event, lambda record: saved.append(record.id))
            assert outbox.save(event(1))
            postgres.stop()
            assert not outbox.save(event(2))
            assert not outbox.save(event(3))
            assert outbox.pending() == ["event-2", "event-3"]
            # The hub stops while the database is still away: the events stay on disk.
            outbox.stop()
            assert outbox.pending() == ["event-2", "event-3"]
            postgres.start()
            # The next start finds them and saves them, oldest first, before anything new.
            restarted = EventOutbox(tmp_path / "pending", store.save_event, lambda record: saved.append(record.id))
            restarted.start()
            restarted.save(event(4))  # kept behind the waiting ones if they are not in yet
            wait_for(lambda: restarted.pending() == [], 30, "the waiting events to be saved")
            restarted.stop()
            assert saved == ["event-1", "event-2", "event-3", "event-4"]
            stored = {number: store.get_event(f"event-{number}") for number in range(1, 5)}
        finally:
            store.close()
    assert all(record is not None for record in stored.values())
    third = stored[3]
    assert third is not None
    assert (third.clips, third.sub_label, third.alarm) == (event(3).clips, "stranger", True)
