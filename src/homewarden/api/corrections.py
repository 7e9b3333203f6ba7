"""The household's corrections of person events: "mark as false alarm" and "this is <member>" teach this hub only."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from homewarden.api.deps import HOUSEHOLD, AccessibleEvent, Caller, Services, allow
from homewarden.api.schemas import Done, Incoming
from homewarden.detect.base import Image
from homewarden.events.record import EventRecord
from homewarden.hub.household_corrections import read_snapshot
from homewarden.hub.services import HubServices
from homewarden.i18n import _

router = APIRouter(prefix="/api/events", tags=["events"])

# The event attribute naming the member the household said a person event shows.
NAMED_ATTRIBUTE = "household_named"


class PersonCorrection(Incoming):
    """The household says an event shows a person: a member by name, or someone they do not name."""

    name: str | None = Field(default=None, min_length=1, max_length=128, description="the member it shows, if any")


def snapshot_image(hub: HubServices, record: EventRecord) -> Image | None:
    """Decode an event's snapshot with the held home key (None: no snapshot, recordings locked, or unreadable)."""
    return read_snapshot(hub.storage, hub.keys.keyring, record)


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
