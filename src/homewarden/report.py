"""What the command line prints for events: JSON lines, or one readable line each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from homewarden.events.record import EventRecord


def event_json(record: EventRecord) -> dict[str, Any]:
    """Return the JSON object printed for an event."""

    def when(seconds: float) -> float | str:
        if record.live:
            return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")
        return round(seconds, 3)

    return {
        "id": record.id,
        "camera": record.camera,
        "label": record.label,
        "sub_label": record.sub_label,
        "score": record.score,
        "start": when(record.start),
        "end": when(record.end),
        "clip": record.clips[0].path if record.clips else None,
        "clips": [clip.path for clip in record.clips],
        "snapshot": record.snapshot,
        "box": list(record.box),
        "box_time": None if record.box_time is None else when(record.box_time),
        "zones": list(record.zones),
        "alarm": record.alarm,
        "alarm_reason": record.alarm_reason,
        "intrusion": record.intrusion_id,
        "clip_error": record.clip_error,
    }


def report_events(events: list[EventRecord], as_json: bool) -> None:
    """Print the events: JSON lines, or one readable line each."""
    for record in sorted(events, key=lambda r: r.start):
        if as_json:
            print(json.dumps(event_json(record)), flush=True)
        else:
            data = event_json(record)
            print(
                f"{data['label']:<8} {data['start']} → {data['end']}  score {data['score']:.2f}  "
                f"alarm {'yes' if data['alarm'] else 'no '}  clip {data['clip'] or '-'}"
            )
    if not as_json and not events:
        print("no events")
