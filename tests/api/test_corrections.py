"""The household's corrections through the API: a false alarm marked on a real snapshot teaches this hub's own
calibration, "this is <member>" likewise, the settings page says so, and a deleted event takes its correction along.

Real NanoDet, real sealed snapshots (a frame of tests/data/video/one-by-one-person-detection.mp4 with nobody in it,
and one with a visitor), the real event store.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.conftest import Hub, csrf_of, record_event, set_up_owner
from api.test_settings import config_text
from homewarden.hub.household_corrections import FEATURES_ATTRIBUTE, HouseholdCorrections
from verifier_samples import EMPTY_BOXES, detector, frames

WALL = tuple(round(value) for value in EMPTY_BOXES[0])


@pytest.fixture
def owner(hub: Hub) -> TestClient:
    """Give the hub its household calibration (as Hub.build does with NanoDet) and return the owner's client."""
    hub.services.household_corrections = HouseholdCorrections(hub.services.events, detector())
    path = hub.folder / "homewarden.yaml"
    path.write_text(config_text(hub.folder), encoding="utf-8")
    hub.services.config_path = path
    return set_up_owner(hub)


def test_a_false_alarm_and_a_named_person_teach_this_hub_and_a_deleted_event_is_forgotten(
    hub: Hub, owner: TestClient
) -> None:
    corrections = hub.services.household_corrections
    assert corrections is not None
    empty = next(f for f in frames() if f.donation.startswith("empty"))
    visit = next(f for f in frames() if f.donation.startswith("visit") and f.detections)
    x1, y1, x2, y2 = (round(v) for v in visit.detections[0].box)
    ghost = record_event(hub, "front_door", snapshot=empty.image, box=(WALL[0], WALL[1], WALL[2], WALL[3]))
    visitor = record_event(hub, "front_door", snapshot=visit.image, box=(x1, y1, x2, y2))
    cat = record_event(hub, "garden", label="cat", snapshot=empty.image)

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
