"""What the hub says about its bus messages to the outside world: the one serialiser of the API and every channel.

An event looks the same in the REST API and in a webhook (``event_public``); MQTT keeps the Frigate-like shape its
subscribers know (``frigate_event``); a camera's state and the armed-mode "camera offline" notice have one shape each.
``outgoing`` turns a bus message into what webhooks receive. docs/integrations.md lists every payload.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from homewarden.events.record import EventRecord, IntrusionRecord
from homewarden.events.wording import event_sentence, name_of, place
from homewarden.faces.gallery import UNKNOWN
from homewarden.i18n import ENGLISH, use_language
from homewarden.notify.bus import (
    ArmingChanged,
    CameraOffline,
    CameraStatusChanged,
    DoorbellPressed,
    EventEnded,
    EventStarted,
    EventUpdated,
    IntrusionChanged,
    Message,
    MotionChanged,
    OffsiteStatus,
    OffsiteStuck,
    StorageProblem,
)

# A camera's states (CameraStatusChanged.state); only "online" makes its entities available.
CAMERA_STATES = ("starting", "online", "reconnecting", "failed", "stopped")


class ClipPublic(BaseModel):
    """One clip of an event."""

    index: int
    start: float
    end: float
    url: str
    # The clip keeps the camera's codec; a browser that cannot play it (H.265) asks for this copy instead.
    h264_url: str


class EventPublic(BaseModel):
    """An event as the household sees it."""

    id: str
    camera: str
    camera_name: str = Field(description='The camera\'s display name ("Front door").')
    title: str = Field(description='The event in plain words: "Unfamiliar person at the front door".')
    place: str = Field(description='Where the camera looks, as a sentence ends: "at the front door".')
    label: str
    sub_label: str | None
    score: float
    box: list[int] = Field(description="The object's box on the snapshot, in its pixels: x1, y1, x2, y2.")
    started_at: datetime | None
    ended_at: datetime | None
    box_time: datetime | None = Field(
        default=None,
        description="The moment shown by `box` and the snapshot (the event's best view), within its clips. None for "
        "events from files (like `started_at`), for a doorbell ring, and for events stored before migration 0014.",
    )
    box_at: float | None = Field(
        default=None,
        description="The same moment on the clips' clock (`clips[].start`): Unix seconds for a live event, seconds "
        "into the file for an event from a file, so a player can start any event at its best view. None where "
        "`box_time` is None for want of one (a doorbell ring, events stored before migration 0014).",
    )
    duration: float
    alarm: bool
    alarm_reason: str | None
    zones: list[str]
    household_verdict: str | None = None
    # Whether the caller has reviewed it (the API fills it in per user; webhooks leave it out).
    reviewed: bool | None = None
    snapshot_url: str | None
    clips: list[ClipPublic]
    # The intrusion a person event belongs to (GET /api/intrusions/{id}): the people seen with this one.
    intrusion_id: str | None = None


def iso(moment: float) -> str:
    """Return a Unix time as an ISO-8601 UTC time."""
    return datetime.fromtimestamp(moment, tz=UTC).isoformat()


def snapshot_path(event_id: str) -> str:
    """Return the URL path of an event's snapshot on the hub (behind the household's sign-in)."""
    return f"/api/events/{event_id}/snapshot.jpg"


def event_public(record: EventRecord, camera_names: Mapping[str, str] | None = None) -> EventPublic:
    """Show an event, with its sentence and the URLs of its media (never the media); names are display names by id."""
    camera_name = name_of(record.camera, camera_names or {})
    live_box_time = record.box_time if record.live else None
    return EventPublic(
        id=record.id,
        camera=record.camera,
        camera_name=camera_name,
        title=event_sentence(record.label, record.sub_label, camera_name),
        place=place(camera_name),
        label=record.label,
        sub_label=record.sub_label,
        score=round(record.score, 3),
        box=list(record.box),
        started_at=datetime.fromtimestamp(record.start, tz=UTC) if record.live else None,
        ended_at=datetime.fromtimestamp(record.end, tz=UTC) if record.live else None,
        box_time=datetime.fromtimestamp(live_box_time, tz=UTC) if live_box_time is not None else None,
        box_at=record.box_time,
        duration=round(record.end - record.start, 1),
        alarm=record.alarm,
        alarm_reason=record.alarm_reason,
        zones=list(record.zones),
        household_verdict=record.attributes.get("household_verdict"),
        intrusion_id=record.intrusion_id,
        snapshot_url=snapshot_path(record.id) if record.snapshot else None,
        clips=[
            ClipPublic(
                index=index,
                start=clip.start,
                end=clip.end,
                url=f"/api/events/{record.id}/clips/{index}.mp4",
                h264_url=f"/api/events/{record.id}/clips/{index}/h264.mp4",
            )
            for index, clip in enumerate(record.clips)
        ],
    )


class IntrusionPublic(BaseModel):
    """An intrusion as the household sees it: the people seen together (one alarm) and each one's event and clips."""

    id: str
    cameras: list[str]
    started_at: datetime | None
    ended_at: datetime | None
    duration: float
    people: int
    names: list[str]
    strangers: int
    alarm: bool
    alarm_reason: str | None
    snapshot_url: str | None
    events: list[EventPublic]


def intrusion_public(
    intrusion: IntrusionRecord,
    camera_names: Mapping[str, str] | None = None,
    reviewed: Collection[str] | None = None,
) -> IntrusionPublic:
    """Show an intrusion (only the events given: the caller's cameras'), first person first.

    ``camera_names`` gives display names by id; ``reviewed`` marks the events the caller has reviewed (None: unknown).
    """
    events = [
        event_public(record, camera_names).model_copy(
            update={"reviewed": None if reviewed is None else record.id in reviewed}
        )
        for record in intrusion.events
    ]
    alarmed = [record for record in intrusion.events if record.alarm]
    # The picture to show is the first alarming person's, else the first person's.
    shown = next((record for record in alarmed + list(intrusion.events) if record.snapshot), None)
    live = intrusion.events[0].live
    return IntrusionPublic(
        id=intrusion.id,
        cameras=list(intrusion.cameras),
        started_at=datetime.fromtimestamp(intrusion.start, tz=UTC) if live else None,
        ended_at=datetime.fromtimestamp(intrusion.end, tz=UTC) if live else None,
        duration=round(intrusion.end - intrusion.start, 1),
        people=len(intrusion.events),
        names=sorted({r.sub_label for r in intrusion.events if r.sub_label and r.sub_label != UNKNOWN}),
        strangers=sum(1 for record in intrusion.events if record.sub_label == UNKNOWN),
        alarm=bool(alarmed),
        alarm_reason=alarmed[0].alarm_reason if alarmed else None,
        snapshot_url=snapshot_path(shown.id) if shown is not None else None,
        events=events,
    )


def frigate_event(message: EventStarted | EventUpdated | EventEnded, before: dict[str, Any] | None) -> dict[str, Any]:
    """Return an event's fields as MQTT's ``events`` topic shows them (Frigate-like), updating ``before``."""
    if isinstance(message, EventStarted):
        return {
            "id": message.event_id,
            "camera": message.camera,
            "label": message.label,
            "sub_label": None,
            "score": message.score,
            "start": message.at,
            "end": None,
            "alarm": False,
            "alarm_reason": None,
        }
    if isinstance(message, EventUpdated):
        after = dict(before or {"id": message.event_id, "camera": message.camera, "start": None, "end": None})
        after.update(
            label=message.label,
            sub_label=message.sub_label,
            alarm=message.alarm,
            alarm_reason=message.alarm_reason,
        )
        after.setdefault("score", None)
        return after
    record = message.record
    return {
        "id": record.id,
        "camera": record.camera,
        "label": record.label,
        "sub_label": record.sub_label,
        "score": record.score,
        "start": record.start,
        "end": record.end,
        "alarm": record.alarm,
        "alarm_reason": record.alarm_reason,
    }


def intrusion_state(message: IntrusionChanged) -> dict[str, Any]:
    """Return an intrusion as MQTT and webhooks show it: its people (count, names, strangers), cameras and alarm.

    ``start`` and ``end`` are in the cameras' time (Unix seconds for live cameras); ``end`` is None while someone is
    in view.
    """
    intrusion = message.intrusion
    return {
        "type": message.kind,
        "id": intrusion.id,
        "cameras": list(intrusion.cameras),
        "events": list(intrusion.events),
        "people": intrusion.people,
        "names": list(intrusion.names),
        "strangers": intrusion.strangers,
        "start": intrusion.start,
        "end": intrusion.end,
        "alarm": intrusion.alarm,
        "alarm_reason": intrusion.alarm_reason,
    }


def camera_status(message: CameraStatusChanged) -> dict[str, Any]:
    """Return a camera's state as MQTT and webhooks show it: state, why it is down, since when."""
    return {"camera": message.camera, "state": message.state, "reason": message.reason, "since": iso(message.at)}


def camera_offline(message: CameraOffline) -> dict[str, Any]:
    """Return the "camera offline" notice as MQTT and webhooks show it."""
    return {
        "camera": message.camera,
        "down_since": iso(message.down_since),
        "reason": message.reason,
        "mode": message.mode,
    }


def storage_problem(message: StorageProblem) -> dict[str, Any]:
    """Return the storage disk's state as MQTT and webhooks show it: whether clips are at risk, why, free bytes."""
    return {"problem": message.problem is not None, "reason": message.problem, "free_bytes": message.free_bytes}


def offsite_status(message: OffsiteStatus) -> dict[str, Any]:
    """Return how far the off-site copies are behind, as MQTT shows it."""
    return {
        "lag_seconds": round(message.lag_seconds),
        "waiting": message.waiting,
        "last_success": iso(message.last_success_at) if message.last_success_at is not None else None,
        "stuck": message.stuck,
        "last_error": message.last_error,
    }


def offsite_stuck(message: OffsiteStuck) -> dict[str, Any]:
    """Return the "off-site copies stuck" notice (or its end) as webhooks show it."""
    return {
        "stuck": message.problem is not None,
        "reason": message.problem,
        "waiting": message.waiting,
        "since": iso(message.since) if message.since is not None else None,
    }


@dataclass(frozen=True)
class Outgoing:
    """What one bus message becomes for webhooks: its kind, the event it is about and its ``data``."""

    kind: str
    event_id: str | None
    data: dict[str, Any]
    at: float


class AlarmMemory:
    """The intrusions (or lone events) an alarm was already announced for, so each is told once (bounded)."""

    def __init__(self, size: int = 1000) -> None:
        """Remember up to ``size`` events."""
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def first_time(self, event_id: str, intrusion_id: str | None = None) -> bool:
        """Return whether this is the first alarm of the event's intrusion (or of the event alone), and remember it."""
        key = event_id if intrusion_id is None else f"intrusion:{intrusion_id}"
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


def outgoing(message: Message, alarms: AlarmMemory, camera_names: Mapping[str, str] | None = None) -> list[Outgoing]:
    """Turn a bus message into what webhooks receive (an alarm also becomes an ``alarm`` message once per intrusion)."""
    now = time.time()
    if isinstance(message, EventStarted):
        data: dict[str, Any] = {"event_id": message.event_id, "camera": message.camera, "label": message.label}
        data |= {"score": round(message.score, 3), "started_at": iso(message.at)}
        return [Outgoing("event_start", message.event_id, data, message.at)]
    if isinstance(message, EventUpdated):
        data = {
            "event_id": message.event_id,
            "camera": message.camera,
            "label": message.label,
            "sub_label": message.sub_label,
            "alarm": message.alarm,
            "alarm_reason": message.alarm_reason,
        }
        found = [Outgoing("event_update", message.event_id, data, message.at)]
        if message.alarm and alarms.first_time(message.event_id, message.intrusion_id):
            found.append(
                Outgoing(
                    "alarm", message.event_id, data | {"snapshot_url": snapshot_path(message.event_id)}, message.at
                )
            )
        return found
    if isinstance(message, EventEnded):
        record = message.record
        # Webhooks are an API: their sentences stay English whoever's language the hub speaks at the moment.
        with use_language(ENGLISH):
            event = event_public(record, camera_names).model_dump(mode="json")
        found = [Outgoing("event_end", record.id, event, record.end if record.live else now)]
        if record.alarm and alarms.first_time(record.id, record.intrusion_id):
            found.append(Outgoing("alarm", record.id, event, record.end if record.live else now))
        return found
    if isinstance(message, IntrusionChanged):
        return [Outgoing("intrusion", None, intrusion_state(message), message.at)]
    if isinstance(message, DoorbellPressed):
        data = {
            "event_id": message.event_id,
            "camera": message.camera,
            "visitor": message.visitor,
            "snapshot_url": snapshot_path(message.event_id),
        }
        return [Outgoing("doorbell", message.event_id, data, message.at)]
    if isinstance(message, MotionChanged):
        return [Outgoing("motion", None, {"camera": message.camera, "active": message.active}, message.at)]
    if isinstance(message, ArmingChanged):
        return [Outgoing("arming", None, {"mode": message.mode, "by": message.by}, now)]
    if isinstance(message, CameraStatusChanged):
        return [Outgoing("camera_status", None, camera_status(message), message.at)]
    if isinstance(message, CameraOffline):
        return [Outgoing("camera_offline", None, camera_offline(message), message.at)]
    if isinstance(message, StorageProblem):
        return [Outgoing("storage_problem", None, storage_problem(message), message.at)]
    if isinstance(message, OffsiteStuck):
        return [Outgoing("offsite_stuck", None, offsite_stuck(message), message.at)]
    return []
