"""The home's time zone: chosen at set-up (the browser's), changed by the owner, used by the schedule and the events."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from api.conftest import OWNER_PASSWORD, Hub, csrf_of, record_event, set_up_owner


def test_setup_stores_the_browsers_time_zone(hub: Hub) -> None:
    client = hub.client()
    response = client.post(
        "/api/setup",
        json={
            "token": hub.services.setup.token,
            "username": "olivia",
            "password": OWNER_PASSWORD,
            "timezone": "Europe/Berlin",
        },
    )

    assert response.status_code == 200, response.text
    assert client.get("/api/home").json()["timezone"] == "Europe/Berlin"
    assert client.get("/api/arming").json()["timezone"] == "Europe/Berlin"
    assert hub.services.accounts.home(hub.services.hub_home_id).timezone == "Europe/Berlin"  # type: ignore[union-attr]


def test_setup_with_an_unknown_time_zone_creates_nobody_and_the_link_still_works(hub: Hub) -> None:
    token = hub.services.setup.token
    body = {"token": token, "username": "olivia", "password": OWNER_PASSWORD, "timezone": "Mars/Olympus"}

    refused = hub.client().post("/api/setup", json=body)

    assert (refused.status_code, refused.json()["detail"]) == (400, "unknown time zone 'Mars/Olympus'")
    assert not hub.services.accounts.has_owner()
    assert hub.client().post("/api/setup", json={**body, "timezone": "Europe/Paris"}).status_code == 200


def test_the_owner_changes_the_time_zone_and_the_schedule_follows(hub: Hub) -> None:
    client = set_up_owner(hub)
    headers = csrf_of(client)
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    schedule = {
        "entries": [
            {"days": every_day, "at": "08:00", "mode": "away"},
            {"days": every_day, "at": "20:00", "mode": "home"},
        ]
    }
    assert client.put("/api/arming/schedule", json=schedule, headers=headers).status_code == 200

    changed = client.put("/api/home/timezone", json={"timezone": "Asia/Tokyo"}, headers=headers)

    assert (changed.status_code, changed.json()["timezone"]) == (200, "Asia/Tokyo")
    arming = client.get("/api/arming").json()
    assert arming["timezone"] == "Asia/Tokyo"
    assert [entry["at"] for entry in arming["schedule"]] == ["08:00", "20:00"]
    next_change = datetime.fromisoformat(arming["next_change"])
    assert next_change.astimezone(UTC).hour == {"away": 23, "home": 11}[arming["next_mode"]]  # Tokyo is UTC+9
    # A schedule saved without a time zone keeps the home's.
    assert client.put("/api/arming/schedule", json=schedule, headers=headers).json()["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "UTC+1"])
def test_an_unknown_time_zone_is_refused_and_nothing_changes(hub: Hub, zone: str) -> None:
    client = set_up_owner(hub)

    refused = client.put("/api/home/timezone", json={"timezone": zone}, headers=csrf_of(client))

    assert refused.status_code == 422
    assert refused.json()["detail"] == f"unknown time zone {zone!r}: choose one such as Europe/Berlin"
    assert client.get("/api/home").json()["timezone"] == hub.services.home_timezone(hub.services.hub_home_id).key
    assert hub.services.accounts.home(hub.services.hub_home_id).timezone is None  # type: ignore[union-attr]


def test_events_carry_the_home_zone_and_a_date_filter_means_the_homes_day(hub: Hub) -> None:
    client = set_up_owner(hub)
    client.put("/api/home/timezone", json={"timezone": "Pacific/Kiritimati"}, headers=csrf_of(client))  # UTC+14
    # 11:00 UTC on 1 December is 01:00 on 2 December at home: the UTC day and the home's day differ.
    start = datetime(2026, 12, 1, 11, tzinfo=UTC).timestamp()
    event = dataclasses.replace(record_event(hub, "front_door"), id="late-night", start=start, end=start + 2)
    hub.services.events.save_event(event)

    on_the_2nd = client.get("/api/events", params={"since": "2026-12-02", "until": "2026-12-02"}).json()
    until_the_1st = client.get("/api/events", params={"until": "2026-12-01"}).json()

    assert on_the_2nd["timezone"] == "Pacific/Kiritimati"
    assert [item["id"] for item in on_the_2nd["events"]] == ["late-night"]
    assert "late-night" not in [item["id"] for item in until_the_1st["events"]]
