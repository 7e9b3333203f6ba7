"""The household's corrections through the API: a false alarm marked on a real snapshot teaches this hub's own
calibration, "this is <member>" likewise, the settings page says so, and a deleted event takes its correction along.

Real NanoDet, real sealed snapshots (a frame of tests/data/video/one-by-one-person-detection.mp4 with nobody in it,
and one with a visitor), the real event store.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.conftest import OWNER_PASSWORD, Hub, csrf_of, record_event, set_up_owner, sign_in
from api.test_settings import config_text
from homewarden.detect.household_calibration import FALSE_ALARM, PERSON, VERDICT_ATTRIBUTE
from homewarden.detect.verifier import FEATURES
from homewarden.events.record import EventRecord
from homewarden.hub.household_corrections import FEATURES_ATTRIBUTE, HouseholdCorrections
from homewarden.hub.hub import household_corrections
from verifier_samples import EMPTY_BOXES, FrameSamples, detector, frames

WALL = tuple(round(value) for value in EMPTY_BOXES[0])


@pytest.fixture
def owner(hub: Hub) -> TestClient:
    """Give the hub its household calibration (as Hub.build does with NanoDet) and return the owner's client."""
    hub.services.household_corrections = household_corrections(hub.services, detector())
    path = hub.folder / "homewarden.yaml"
    path.write_text(config_text(hub.folder), encoding="utf-8")
    hub.services.config_path = path
    return set_up_owner(hub)


def empty_room() -> FrameSamples:
    """Return a frame of the room with nobody in it."""
    return next(f for f in frames() if f.donation.startswith("empty"))


def ghost_and_visitor(hub: Hub) -> tuple[EventRecord, EventRecord]:
    """Record a person event on the empty room's wall (a false alarm) and one on a real visitor, with snapshots."""
    visit = next(f for f in frames() if f.donation.startswith("visit") and f.detections)
    x1, y1, x2, y2 = (round(v) for v in visit.detections[0].box)
    ghost = record_event(hub, "front_door", snapshot=empty_room().image, box=(WALL[0], WALL[1], WALL[2], WALL[3]))
    visitor = record_event(hub, "front_door", snapshot=visit.image, box=(x1, y1, x2, y2))
    return ghost, visitor


def test_a_false_alarm_and_a_named_person_teach_this_hub_and_a_deleted_event_is_forgotten(
    hub: Hub, owner: TestClient
) -> None:
    corrections = hub.services.household_corrections
    assert corrections is not None
    ghost, visitor = ghost_and_visitor(hub)
    cat = record_event(hub, "garden", label="cat", snapshot=empty_room().image)

    answer = owner.post(f"/api/events/{ghost.id}/false-alarm", headers=csrf_of(owner))
    assert answer.status_code == 200, answer.text
    assert "this hub's own calibration learned from it" in answer.json()["detail"]
    answer = owner.post(f"/api/events/{visitor.id}/person", json={"name": "Olivia"}, headers=csrf_of(owner))
    assert answer.status_code == 200, answer.text
    # Only person events teach the person verifier; the cat's verdict is kept all the same.
    assert "calibration" not in owner.post(f"/api/events/{cat.id}/false-alarm", headers=csrf_of(owner)).json()["detail"]

    calibration = corrections.calibration
    assert (calibration.false_alarms, calibration.persons) == (1, 1)
    stored = hub.services.events.get_event(visitor.id)
    assert stored is not None
    assert stored.attributes["household_verdict"] == "person"
    assert stored.attributes["household_named"] == "Olivia"
    assert stored.attributes[FEATURES_ATTRIBUTE].startswith("nanodet-groups-bodyparts-v2:")
    assert "1 false alarm and 1 confirmed person marked" in owner.get("/api/settings").json()["household_calibration"]

    # After a restart the calibration is rebuilt from the events alone: the same examples.
    again = HouseholdCorrections(hub.services.events, detector())
    assert again.load() == calibration

    assert owner.delete(f"/api/events/{ghost.id}", headers=csrf_of(owner)).status_code == 200
    assert (corrections.calibration.false_alarms, corrections.calibration.persons) == (0, 1)
    assert HouseholdCorrections(hub.services.events, detector()).load() == corrections.calibration


def test_a_correction_with_an_unknown_event_or_a_bad_name_is_refused(hub: Hub, owner: TestClient) -> None:
    missing = owner.post("/api/events/no-such-event/person", json={}, headers=csrf_of(owner))
    assert missing.status_code == 404
    event = record_event(hub, "front_door")
    empty_name = owner.post(f"/api/events/{event.id}/person", json={"name": ""}, headers=csrf_of(owner))
    assert empty_name.status_code == 422
    assert hub.services.household_corrections is not None
    assert hub.services.household_corrections.calibration.corrections == ()


def test_verdicts_given_while_locked_or_before_an_upgrade_are_relearned_when_the_owner_unlocks(
    hub: Hub, owner: TestClient
) -> None:
    corrections = hub.services.household_corrections
    assert corrections is not None
    ghost, visitor = ghost_and_visitor(hub)
    events = hub.services.events
    # Marked before an upgrade changed the verifier's features: the stored example is of another feature set.
    events.set_attribute(ghost.id, VERDICT_ATTRIBUTE, FALSE_ALARM)
    events.set_attribute(ghost.id, FEATURES_ATTRIBUTE, "nanodet-classes-v1:" + ",".join(["0.5"] * 86))
    # Marked while the recordings were locked: the verdict alone.
    hub.services.keys.release()
    locked = owner.post(f"/api/events/{visitor.id}/person", json={}, headers=csrf_of(owner))
    assert locked.status_code == 200, locked.text
    assert "calibration" not in locked.json()["detail"]
    assert HouseholdCorrections(events, detector()).load().corrections == ()

    sign_in(hub, "olivia", OWNER_PASSWORD)  # unlocks the recordings
    deadline = time.monotonic() + 60
    while corrections.calibration.corrections == () and time.monotonic() < deadline:
        time.sleep(0.1)
    calibration = corrections.calibration
    assert (calibration.false_alarms, calibration.persons) == (1, 1)
    for event_id in (ghost.id, visitor.id):
        stored = events.get_event(event_id)
        assert stored is not None
        assert stored.attributes[FEATURES_ATTRIBUTE].startswith(FEATURES + ":")
    assert stored.attributes[VERDICT_ATTRIBUTE] == PERSON
    # Kept in the events: a restart rebuilds the same examples without the key.
    assert HouseholdCorrections(events, detector()).load() == calibration
