"""The event timeline: list and filter events, show one, delete one, and serve its snapshot and clips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response

from homewarden.api.deps import HOUSEHOLD, OWNER, AccessibleEvent, Caller, CurrentUser, Services, allow
from homewarden.api.media import MediaInMemory, open_sealed, serve_object, starts_playback
from homewarden.api.schemas import Done, EventList, EventPublic
from homewarden.events.alarm import STRANGER
from homewarden.events.record import ClipRecord, EventRecord
from homewarden.faces.gallery import UNKNOWN
from homewarden.hub.services import HubServices
from homewarden.notify.payloads import event_public
from homewarden.store.crypto import SealedObjectError
from homewarden.store.deletion import delete_event
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


def moment(text: str | None, end_of_day: bool) -> datetime | None:
    """Read an ISO-8601 date or time; a date alone means its start (or, for ``until``, the next day's start)."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            when = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), tzinfo=UTC)
        else:
            when = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"not an ISO-8601 date or time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
    if not cameras:
        return EventList(events=[])
    records = hub.events.list_events(
        cameras=cameras,
        label=label or None,
        sub_label=(UNKNOWN if person == STRANGER else person) or None,
        alarm=alarm,
        since=moment(since, end_of_day=False),
        until=moment(until, end_of_day=True),
        limit=limit,
    )
    return EventList(events=[event_public(record) for record in records])


@router.get("/{event_id}")
@allow(*HOUSEHOLD, token_scope="events:read")
def get_event(record: AccessibleEvent) -> EventPublic:
    """Show one event."""
    return event_public(record)


@router.delete("/{event_id}")
@allow(*OWNER)
def remove_event(record: AccessibleEvent, hub: Services, caller: Caller) -> Done:
    """Delete an event and crypto-shred its footage."""
    report = delete_event(hub.events, hub.storage.media, record)
    audit_view(hub, caller, "event_deleted", record, None)
    return Done(detail=f"event deleted; {report.objects} object(s) shredded")


@router.get("/{event_id}/snapshot.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
@allow(*HOUSEHOLD, token_scope="media:read", media=True)
def event_snapshot(record: AccessibleEvent, hub: Services, caller: Caller, request: Request) -> Response:
    """Serve the event's snapshot, decrypted."""
    if record.snapshot is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this event has no snapshot")
    reader = open_sealed(hub, record.snapshot)
    audit_view(hub, caller, "view_snapshot", record, request)
    return serve_object(request, reader, "image/jpeg")


def clip_of(record: EventRecord, index: int) -> ClipRecord:
    """Return the event's clip ``index``, or answer 404."""
    if not 0 <= index < len(record.clips):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event {record.id} has no clip {index}")
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
        raise HTTPException(status.HTTP_409_CONFLICT, f"this footage cannot be opened: {exc}") from None
    except TranscodeError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"this clip cannot be converted to H.264: {exc}") from None
    audit_view(hub, caller, "view_clip", record, request, f"clip {index} (H.264 copy)")
    return serve_object(request, MediaInMemory(copy), "video/mp4")
