"""The household's corrections of person events: "mark as false alarm" and "this is <member>" teach this hub only."""

from __future__ import annotations

import cv2
import numpy as np
from fastapi import APIRouter, HTTPException
from pydantic import Field

from homewarden.api.deps import HOUSEHOLD, AccessibleEvent, Caller, Services, allow
from homewarden.api.media import open_sealed
from homewarden.api.schemas import Done, Incoming
from homewarden.detect.base import Image
from homewarden.events.record import EventRecord
from homewarden.hub.services import HubServices
from homewarden.i18n import _
from homewarden.store.crypto import SealedObjectError

router = APIRouter(prefix="/api/events", tags=["events"])

# The event attribute naming the member the household said a person event shows.
NAMED_ATTRIBUTE = "household_named"


class PersonCorrection(Incoming):
    """The household says an event shows a person: a member by name, or someone they do not name."""

    name: str | None = Field(default=None, min_length=1, max_length=128, description="the member it shows, if any")


def snapshot_image(hub: HubServices, record: EventRecord) -> Image | None:
    """Decode an event's snapshot (None: no snapshot, recordings locked, or it cannot be read)."""
    if record.snapshot is None:
        return None
    try:
        data = open_sealed(hub, record.snapshot).read()
    except (HTTPException, SealedObjectError, OSError):
        # The verdict still counts; only its example for the calibration is missing.
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image)


def learn_verdict(hub: HubServices, record: EventRecord, person: bool) -> str:
    """Record the household's verdict and, for a person event, teach the household calibration; say what happened."""
    corrections = hub.household_corrections
    if corrections is None or record.label != "person":
        return ""
    learned = corrections.learn(record, person, snapshot_image(hub, record))
    return _("; this hub's own calibration learned from it") if learned else ""


@router.post("/{event_id}/person")
@allow(*HOUSEHOLD)
def confirm_person(record: AccessibleEvent, body: PersonCorrection, caller: Caller, hub: Services) -> Done:
    """Say an event shows a person (a member, by name): the household calibration keeps such people."""
    hub.events.set_attribute(record.id, "household_verdict", "person")
    if body.name is not None:
        hub.events.set_attribute(record.id, NAMED_ATTRIBUTE, body.name)
    return Done(detail=_("marked as a person") + learn_verdict(hub, record, person=True))
