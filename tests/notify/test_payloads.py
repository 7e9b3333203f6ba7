"""The one serialiser: webhooks' alarm once per intrusion, the intrusion's own message, and its public shape."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from homewarden.events.intrusions import IntrusionSummary
from homewarden.events.record import EventRecord, IntrusionRecord
from homewarden.i18n import use_language
from homewarden.notify.bus import EventEnded, EventUpdated, IntrusionChanged
from homewarden.notify.payloads import AlarmMemory, event_public, intrusion_public, outgoing


def alarm(event_id: str, intrusion: str | None) -> EventUpdated:
    return EventUpdated("door", event_id, "person", None, True, "unidentified", time.time(), intrusion)


def test_webhooks_get_one_alarm_per_intrusion_and_an_update_per_event() -> None:
    memory = AlarmMemory()
    kinds = [[item.kind for item in outgoing(alarm(event, "i1"), memory)] for event in ("a", "b")]
    assert kinds == [["event_update", "alarm"], ["event_update"]]
    # Events without an intrusion keep their alarm each.
    assert [item.kind for item in outgoing(alarm("c", None), memory)] == ["event_update", "alarm"]
    assert [item.kind for item in outgoing(alarm("d", None), memory)] == ["event_update", "alarm"]
    ended = EventRecord("b", "door", "person", 0.9, 1.0, 2.0, True, (0, 0, 1, 1), None, alarm=True, intrusion_id="i1")
    assert [item.kind for item in outgoing(EventEnded(ended), memory)] == ["event_end"]


def test_an_intrusion_message_carries_its_people() -> None:
    summary = IntrusionSummary(
        id="i1", area="camera:door", cameras=("door",), events=("a", "b"), people=2, names=("alice",),
        strangers=1, start=10.0, end=None, alarm=True, alarm_reason="stranger",
    )  # fmt: skip
    [item] = outgoing(IntrusionChanged("update", summary, 12.0), AlarmMemory())
    assert item.kind == "intrusion"
    assert item.data == {
        "type": "update", "id": "i1", "cameras": ["door"], "events": ["a", "b"], "people": 2, "names": ["alice"],
        "strangers": 1, "start": 10.0, "end": None, "alarm": True, "alarm_reason": "stranger",
    }  # fmt: skip


def test_the_public_intrusion_counts_names_and_strangers_and_shows_the_first_alarm() -> None:
    def event(event_id: str, start: float, **fields: object) -> EventRecord:
        return EventRecord(event_id, "door", "person", 0.9, start, start + 5, True, (0, 0, 1, 1), "snap.jpg", **fields)

    record = IntrusionRecord(
        "i1",
        (
            event("a", 1000.0, sub_label="alice"),
            event("b", 1002.0, sub_label="unknown", alarm=True, alarm_reason="stranger"),
            event("c", 1003.0),
        ),
    )
    shown = intrusion_public(record)
    assert (shown.people, shown.names, shown.strangers, shown.alarm, shown.alarm_reason) == (
        3, ["alice"], 1, True, "stranger"
    )  # fmt: skip
    assert shown.snapshot_url == "/api/events/b/snapshot.jpg"
    assert shown.duration == 8.0
    assert [e.id for e in shown.events] == ["a", "b", "c"]


def test_a_webhook_speaks_english_even_when_sent_while_german_is_spoken() -> None:
    ended = EventRecord("e", "front_door", "cat", 0.9, 1.0, 2.0, True, (0, 0, 1, 1), None, alarm=True)
    with use_language("de"):
        [end, _alarm] = outgoing(EventEnded(ended), AlarmMemory(), {"front_door": "Front door"})
        # The REST API, serving a German request, says it in German.
        assert event_public(ended, {"front_door": "Front door"}).title == "Katze – Front door"
    assert (end.data["title"], end.data["place"]) == ("Cat at the front door", "at the front door")


def test_every_event_gives_its_best_view_on_the_clips_clock() -> None:
    """box_at is the best view in clip time for live and file events; box_time (UTC) only for live ones."""
    live = EventRecord(
        "l", "door", "person", 0.9, 1_700_000_000.0, 1_700_000_010.0, True, (0, 0, 1, 1), None, box_time=1_700_000_004.5
    )
    from_file = EventRecord("f", "door", "person", 0.9, 12.0, 30.0, False, (0, 0, 1, 1), None, box_time=17.25)
    unknown = EventRecord("u", "door", "person", 0.9, 12.0, 30.0, False, (0, 0, 1, 1), None)

    assert event_public(live).box_at == 1_700_000_004.5
    assert event_public(live).box_time == datetime.fromtimestamp(1_700_000_004.5, tz=UTC)
    assert (event_public(from_file).box_at, event_public(from_file).box_time) == (17.25, None)
    assert (event_public(unknown).box_at, event_public(unknown).box_time) == (None, None)
