"""The timeline by intrusion: people seen together on a camera or area, one item each, with their events and clips."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query

from homewarden.api.deps import HOUSEHOLD, AccessibleIntrusion, Caller, CurrentUser, Services, allow
from homewarden.api.events import moment
from homewarden.api.schemas import IntrusionList, IntrusionPublic
from homewarden.events.record import IntrusionRecord
from homewarden.hub.services import HubServices
from homewarden.notify.payloads import intrusion_public
from homewarden.store.viewing import EventReviews

router = APIRouter(prefix="/api/intrusions", tags=["intrusions"])


@router.get("")
@allow(*HOUSEHOLD, token_scope="events:read")
def list_intrusions(
    caller: Caller,
    hub: Services,
    camera: Annotated[str | None, Query(max_length=128)] = None,
    alarm: bool | None = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> IntrusionList:
    """List intrusions newest first, each with only its events on the cameras the caller may watch."""
    cameras = [name for name in caller.cameras if camera is None or name == camera]
    if not cameras:
        return IntrusionList(intrusions=[])
    zone = hub.home_timezone(caller.home_id) if caller.home_id is not None else UTC
    records = hub.events.list_intrusions(
        cameras=cameras,
        alarm=alarm,
        since=moment(since, end_of_day=False, zone=zone),
        until=moment(until, end_of_day=True, zone=zone),
        limit=limit,
    )
    return IntrusionList(intrusions=[shown_intrusion(record, hub, caller) for record in records])


@router.get("/{intrusion_id}")
@allow(*HOUSEHOLD, token_scope="events:read")
def get_intrusion(record: AccessibleIntrusion, caller: Caller, hub: Services) -> IntrusionPublic:
    """Show one intrusion: its people's events (on the caller's cameras) with their snapshots and clips."""
    return shown_intrusion(record, hub, caller)


def shown_intrusion(record: IntrusionRecord, hub: HubServices, caller: CurrentUser) -> IntrusionPublic:
    """Show an intrusion with display names, each event marked whether the caller has reviewed it."""
    reviewed = EventReviews(hub.events.engine).reviewed(caller.id, [event.id for event in record.events])
    return intrusion_public(record, hub.camera_names, reviewed)
