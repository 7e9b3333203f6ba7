"""The event timeline: list and filter events, show one, delete one, and serve its snapshot and clips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response

from homewarden.api.deps import (
    HOUSEHOLD,
    OWNER,
    AccessibleEvent,
    Caller,
    CurrentUser,
    Services,
    accessible_event,
    allow,
)
from homewarden.api.media import MediaInMemory, open_sealed, serve_object, starts_playback
from homewarden.api.schemas import Done, EventIds, EventList, EventPublic, Neighbours, ReviewedChange
from homewarden.events.alarm import STRANGER
from homewarden.events.record import ClipRecord, EventRecord
from homewarden.faces.gallery import UNKNOWN
from homewarden.hub.services import HubServices
from homewarden.i18n import _, counted
from homewarden.notify.payloads import event_public
from homewarden.store.crypto import SealedObjectError
from homewarden.store.deletion import delete_event
from homewarden.store.viewing import EventReviews
from homewarden.video.transcode import TranscodeError

router = APIRouter(prefix="/api/events", tags=["events"])


def audit_view(
    hub: HubServices, caller: CurrentUser, action: str, record: EventRecord, request: Request | None, detail: str = ""
) -> None:
    """Write a view of footage to the audit log: once per playback (its first request), not once per seek."""
    if hub.audit is None:
        return
    if request is not None and not starts_playback(request):
        return
    hub.audit.record(
        caller.actor,
        action,
        f"event:{record.id}",
        home_id=hub.accounts.home_of_camera(record.camera),
        detail=detail,
    )


def shown_events(records: list[EventRecord], hub: HubServices, caller: CurrentUser) -> list[EventPublic]:
    """Show events in plain words, each marked whether the caller has reviewed it."""
    reviewed = EventReviews(hub.events.engine).reviewed(caller.id, [record.id for record in records])
    return [
        event_public(record, hub.camera_names).model_copy(update={"reviewed": record.id in reviewed})
        for record in records
    ]


def moment(text: str | None, end_of_day: bool, zone: tzinfo) -> datetime | None:
    """Read an ISO-8601 date or time in the home's ``zone`` unless it says; a date alone means the day's start.

    For ``until`` a date means the next day's start. The answer is in UTC: the database compares stored UTC times
    as text, so a moment with another offset would be misread.
    """
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            when = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), tzinfo=zone)
        else:
            when = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, _("not an ISO-8601 date or time: {text!r}").format(text=text)
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(UTC)


@router.get("")
@allow(*HOUSEHOLD, token_scope="events:read")
def list_events(
    caller: Caller,
    hub: Services,
    camera: Annotated[str | None, Query(max_length=128)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    person: Annotated[str | None, Query(max_length=128, description="a member's name, unknown or stranger")] = None,
    alarm: bool | None = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventList:
    """List the events of the cameras the caller may watch, newest first."""
    cameras = [name for name in caller.cameras if camera is None or name == camera]
    zone = hub.home_timezone(caller.home_id) if caller.home_id is not None else UTC
    if not cameras:
        return EventList(events=[], timezone=str(zone))
    records = hub.events.list_events(
        cameras=cameras,
        label=label or None,
        sub_label=(UNKNOWN if person == STRANGER else person) or None,
        alarm=alarm,
        since=moment(since, end_of_day=False, zone=zone),
        until=moment(until, end_of_day=True, zone=zone),
        limit=limit,
    )
    return EventList(events=shown_events(records, hub, caller), timezone=str(zone))


@router.get("/{event_id}")
@allow(*HOUSEHOLD, token_scope="events:read")
def get_event(record: AccessibleEvent, hub: Services, caller: Caller) -> EventPublic:
    """Show one event."""
    [shown] = shown_events([record], hub, caller)
    return shown


@router.delete("/{event_id}")
@allow(*OWNER)
def remove_event(record: AccessibleEvent, hub: Services, caller: Caller) -> Done:
    """Delete an event and crypto-shred its footage."""
    report = delete_event(hub.events, hub.storage.media, record)
    if hub.household_corrections is not None:
        hub.household_corrections.forget(record.id)
    audit_view(hub, caller, "event_deleted", record, None)
    return Done(
        detail=counted(
            "event deleted; {count} object shredded", "event deleted; {count} objects shredded", report.objects
        )
    )


@router.get("/{event_id}/snapshot.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
@allow(*HOUSEHOLD, token_scope="media:read", media=True)
def event_snapshot(record: AccessibleEvent, hub: Services, caller: Caller, request: Request) -> Response:
    """Serve the event's snapshot, decrypted."""
    if record.snapshot is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("this event has no snapshot"))
    reader = open_sealed(hub, record.snapshot)
    audit_view(hub, caller, "view_snapshot", record, request)
    return serve_object(request, reader, "image/jpeg")


def clip_of(record: EventRecord, index: int) -> ClipRecord:
    """Return the event's clip ``index``, or answer 404."""
    if not 0 <= index < len(record.clips):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, _("event {event} has no clip {index}").format(event=record.id, index=index)
        )
    return record.clips[index]


@router.get("/{event_id}/clips/{index}.mp4", response_class=Response, responses={200: {"content": {"video/mp4": {}}}})
@allow(*HOUSEHOLD, token_scope="media:read", media=True)
def event_clip(record: AccessibleEvent, index: int, hub: Services, caller: Caller, request: Request) -> Response:
    """Serve one clip of the event, decrypted, with byte ranges for seeking."""
    reader = open_sealed(hub, clip_of(record, index).path)
    audit_view(hub, caller, "view_clip", record, request, f"clip {index}")
    return serve_object(request, reader, "video/mp4")


@router.get(
    "/{event_id}/clips/{index}/h264.mp4", response_class=Response, responses={200: {"content": {"video/mp4": {}}}}
)
@allow(*HOUSEHOLD, token_scope="media:read", media=True)
def event_clip_h264(record: AccessibleEvent, index: int, hub: Services, caller: Caller, request: Request) -> Response:
    """Serve an H.264 copy of one clip, made on demand for browsers that cannot play the camera's H.265."""
    path = clip_of(record, index).path
    reader = open_sealed(hub, path)
    name = hub.storage.media.object_name(Path(path))
    assert name is not None  # open_sealed answered 404 otherwise
    try:
        copy = hub.h264_copies.get(name, reader.read)
    except SealedObjectError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, _("this footage cannot be opened: {problem}").format(problem=exc)
        ) from None
    except TranscodeError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, _("this clip cannot be converted to H.264: {problem}").format(problem=exc)
        ) from None
    audit_view(hub, caller, "view_clip", record, request, f"clip {index} (H.264 copy)")
    return serve_object(request, MediaInMemory(copy), "video/mp4")


# The review flow (issue 17): previous/next, reviewed marks, bulk deletion and downloads. -------------------------


@router.get("/{event_id}/neighbours")
@allow(*HOUSEHOLD, token_scope="events:read")
def event_neighbours(record: AccessibleEvent, hub: Services, caller: Caller) -> Neighbours:
    """Name the events beside this one in the timeline (of the caller's cameras): the next newer and older."""
    newer, older = hub.events.neighbours(record.id, caller.cameras)
    return Neighbours(newer=newer, older=older)


def accessible_events(event_ids: list[str], caller: CurrentUser, hub: HubServices) -> list[EventRecord]:
    """Return the events, each the caller's; 404 naming the first that is not, before anything is changed."""
    records: list[EventRecord] = []
    for event_id in dict.fromkeys(event_ids):
        records.append(accessible_event(event_id, caller, hub))
    return records


@router.put("/reviewed")
@allow(*HOUSEHOLD)
def mark_reviewed(body: ReviewedChange, hub: Services, caller: Caller) -> Done:
    """Mark events reviewed (or not) for the caller alone; the rest of the household keeps its own marks."""
    records = accessible_events(body.event_ids, caller, hub)
    EventReviews(hub.events.engine).mark(caller.id, [record.id for record in records], body.reviewed)
    if body.reviewed:
        return Done(detail=counted("{count} event marked reviewed", "{count} events marked reviewed", len(records)))
    return Done(detail=counted("{count} event marked not reviewed", "{count} events marked not reviewed", len(records)))


@router.post("/delete")
@allow(*OWNER)
def remove_events(body: EventIds, hub: Services, caller: Caller) -> Done:
    """Delete several events and crypto-shred their footage; nothing is deleted if one of them is not the owner's."""
    records = accessible_events(body.event_ids, caller, hub)
    shredded = 0
    for record in records:
        shredded += delete_event(hub.events, hub.storage.media, record).objects
        if hub.household_corrections is not None:
            hub.household_corrections.forget(record.id)
        audit_view(hub, caller, "event_deleted", record, None)
    return Done(
        detail=_("{events} deleted; {objects} shredded").format(
            events=counted("{count} event", "{count} events", len(records)),
            objects=counted("{count} object", "{count} objects", shredded),
        )
    )


@router.get(
    "/{event_id}/clips/{index}/download", response_class=Response, responses={200: {"content": {"video/mp4": {}}}}
)
@allow(*HOUSEHOLD, token_scope="media:read", media=True)
def download_clip(record: AccessibleEvent, index: int, hub: Services, caller: Caller, request: Request) -> Response:
    """Serve one clip as a file to save (audited as a download: a copy leaves the hub's protection)."""
    reader = open_sealed(hub, clip_of(record, index).path)
    audit_view(hub, caller, "download_clip", record, request, f"clip {index}")
    answer = serve_object(request, reader, "video/mp4")
    answer.headers["Content-Disposition"] = f'attachment; filename="{download_name(record, index)}"'
    return answer


def download_name(record: EventRecord, index: int) -> str:
    """Name a downloaded clip by its camera, time and clip: "front_door-2026-12-06-0712-1.mp4" (ASCII only)."""
    moment = datetime.fromtimestamp(record.start, tz=UTC).strftime("%Y-%m-%d-%H%M") if record.live else record.id[:8]
    camera = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in record.camera)
    return f"{camera}-{moment}-{index + 1}.mp4"
