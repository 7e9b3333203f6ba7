"""The alarm policy on its own: arming schedule, per-camera and per-zone rules, the decision and the guard."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from homewarden.config import ConfigError, validate_config
from homewarden.config.model import AlarmConfig, CameraAlarmRule, FacesConfig
from homewarden.errors import UserError
from homewarden.events.alarm import (
    STRANGER,
    UNIDENTIFIED,
    GuardVerdict,
    IntrusionWatch,
    TrackEvidence,
    armed_for,
    decide_alarm,
    decision_attributes,
    judge_person_track,
)
from homewarden.events.arming import mode_at
from homewarden.events.lifecycle import PersonView, TrackedObject
from homewarden.faces.identity import PersonIdentifier

WEEK = AlarmConfig.model_validate(
    {
        "mode": "disarmed",
        "timezone": "Europe/Paris",
        "schedule": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "at": "08:30", "mode": "away"},
            {"days": ["mon", "tue", "wed", "thu", "fri"], "at": "18:00", "mode": "home"},
            {"at": "23:00", "mode": "night"},
            {"days": ["sat", "sun"], "at": "09:00", "mode": "home"},
        ],
    }
)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """Return a moment in June 2026 (Monday 1 June), Paris time."""
    return datetime(2026, 6, day, hour, minute, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    ("moment", "mode"),
    [
        (paris(1, 8, 29), "night"),  # Monday before work: Sunday's 23:00 entry still holds
        (paris(1, 8, 30), "away"),
        (paris(1, 17, 59), "away"),
        (paris(1, 18, 0), "home"),
        (paris(1, 23, 30), "night"),
        (paris(2, 1, 0), "night"),  # after midnight
        (paris(6, 8, 45), "night"),  # Saturday: no work entry
        (paris(6, 9, 0), "home"),
        (paris(7, 23, 59), "night"),  # Sunday night, before the week wraps
    ],
)
def test_weekly_schedule(moment: datetime, mode: str) -> None:
    assert mode_at(WEEK, moment) == mode


def test_without_a_schedule_the_mode_holds() -> None:
    assert mode_at(AlarmConfig(mode="night"), datetime(2026, 6, 1, 12, tzinfo=UTC)) == "night"


def test_schedule_follows_its_time_zone() -> None:
    tokyo = WEEK.model_copy(update={"timezone": "Asia/Tokyo"})
    # 00:00 UTC on Monday is 09:00 in Tokyo (away) but 02:00 in Paris (night).
    moment = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    assert (mode_at(tokyo, moment), mode_at(WEEK, moment)) == ("away", "night")


def test_default_camera_rule_alarms_in_away_and_night() -> None:
    rule = CameraAlarmRule()

    assert [armed_for(rule, mode, []) for mode in ("disarmed", "home", "away", "night")] == [False, False, True, True]


def test_night_only_on_the_ground_floor() -> None:
    """The issue's example: in night mode only the ground-floor cameras alarm."""
    upstairs = CameraAlarmRule(modes=["away"])
    ground_floor = CameraAlarmRule(modes=["away", "night"])

    assert not armed_for(upstairs, "night", [])
    assert armed_for(upstairs, "away", [])
    assert armed_for(ground_floor, "night", [])


def test_a_zone_arms_more_modes() -> None:
    """At home, the garden camera alarms only for someone who came up to the back door."""
    garden = CameraAlarmRule(modes=["away", "night"], zones={"back_door": ["home"]})

    assert not armed_for(garden, "home", ["lawn"])
    assert armed_for(garden, "home", ["lawn", "back_door"])
    assert not armed_for(garden, "disarmed", ["back_door"])


PERSON = GuardVerdict(True)
PET = GuardVerdict(False, ("wider than tall (0.56)", "fills 99% of the picture"), "cat")


@pytest.mark.parametrize(
    ("label", "mode", "armed", "sub_label", "verdict", "alarm", "reason", "shown"),
    [
        ("person", "away", True, None, PERSON, True, UNIDENTIFIED, "person"),
        ("person", "away", True, "unknown", PERSON, True, STRANGER, "person"),
        ("person", "away", True, "obama", PERSON, False, None, "person"),
        ("person", "home", False, "unknown", PERSON, False, None, "person"),
        ("person", "disarmed", False, None, PERSON, False, None, "person"),
        ("person", "away", True, None, PET, False, None, "cat"),
        ("cat", "away", True, None, PERSON, False, None, "cat"),
        ("dog", "night", True, None, PERSON, False, None, "dog"),
    ],
)
def test_decision(
    label: str,
    mode: str,
    armed: bool,
    sub_label: str | None,
    verdict: GuardVerdict,
    alarm: bool,
    reason: str | None,
    shown: str,
) -> None:
    decision = decide_alarm(label=label, mode=mode, armed=armed, sub_label=sub_label, verdict=verdict, at=3.0)  # type: ignore[arg-type]

    assert (decision.alarm, decision.reason, decision.label, decision.at) == (alarm, reason, shown, 3.0)


FRAME = (768, 432)


def evidence(votes: dict[str, float], median: float, box: tuple[float, float], face: bool = False) -> TrackEvidence:
    width, height = box
    return TrackEvidence(votes, median, [(0.0, 0.0, width, height)] * 5, FRAME, face)


# Tracks measured on real and composed footage (docs/faces.md): votes, median score, box width x height.
PET_TRACKS = {
    "cat sniffing the lens, 800 px": evidence({"person": 2.71, "dog": 0.35}, 0.71, (764, 430)),
    "cat sniffing the lens, 800 px, mirrored": evidence({"person": 2.13, "dog": 0.40}, 0.52, (764, 432)),
    "cat sniffing the lens, 900 px": evidence({"person": 2.55, "dog": 0.35}, 0.63, (764, 429)),
    "cat sniffing the lens, no animal votes": evidence({"person": 3.0}, 0.75, (764, 430)),
    "cat on the sofa, half the picture": evidence({"person": 2.0, "cat": 0.3}, 0.55, (420, 300)),
}
PEOPLE_TRACKS = {
    "people-detection.gif": evidence({"person": 1.69}, 0.54, (59, 106)),
    "face-demographics-walking.gif": evidence({"person": 6.73}, 0.55, (45, 149)),
    "head-pose close-up": evidence({"person": 4.42}, 0.88, (200, 218)),
    "one-by-one, with a cat vote": evidence({"person": 13.78, "cat": 0.56}, 0.75, (148, 225)),
    "one-by-one, square box": evidence({"person": 12.03}, 0.88, (299, 298)),
    "face at the lens": evidence({"person": 2.0, "dog": 0.4}, 0.5, (764, 430), face=True),
    # Size and a weak score alone are no animal's: someone walking up to the camera with their back turned.
    "back to the camera, filling the picture": evidence({"person": 3.0}, 0.5, (420, 432)),
}


@pytest.mark.parametrize("name", PET_TRACKS)
def test_guard_takes_pets_for_pets(name: str) -> None:
    verdict = judge_person_track(PET_TRACKS[name])

    assert not verdict.person
    assert len(verdict.doubts) >= 2


@pytest.mark.parametrize("name", PEOPLE_TRACKS)
def test_guard_keeps_people(name: str) -> None:
    assert judge_person_track(PEOPLE_TRACKS[name]).person


def test_mostly_animal_votes_is_a_pet_whatever_else() -> None:
    verdict = judge_person_track(evidence({"person": 2.0, "dog": 1.0}, 0.9, (100, 250)))

    assert (verdict.person, verdict.animal) == (False, "dog")


@pytest.mark.parametrize(
    ("alarm", "message"),
    [
        ({"cameras": {"garage": {}}}, "alarm.cameras.garage: no camera of that name"),
        (
            {"cameras": {"porch": {"zones": {"gate": ["home"]}}}},
            "alarm.cameras.porch.zones.gate: camera porch has no zone",
        ),
        ({"cameras": {"porch": {"modes": ["disarmed"]}}}, "alarm.cameras.porch.modes: disarmed never raises alarms"),
        ({"schedule": [{"at": 1080, "mode": "home"}]}, "write the time in quotes"),
        ({"schedule": [{"at": "25:00", "mode": "home"}]}, "'25:00' is not a time of day"),
        ({"schedule": [{"at": "08:00", "mode": "holiday"}]}, "alarm.schedule.0.mode"),
        ({"schedule": [{"days": ["someday"], "at": "08:00", "mode": "home"}]}, "alarm.schedule.0.days.0"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"grace_period": -1}, "alarm.grace_period"),
    ],
)
def test_bad_alarm_config_names_the_key(alarm: dict[str, object], message: str) -> None:
    data = {
        "cameras": {"porch": {"source": "porch.mp4", "zones": {"steps": {"coordinates": [[0, 0], [9, 0], [9, 9]]}}}},
        "alarm": alarm,
    }

    with pytest.raises(ConfigError, match=message):
        validate_config(data)


def test_good_alarm_config() -> None:
    config = validate_config(
        {
            "cameras": {
                "porch": {"source": "porch.mp4", "zones": {"steps": {"coordinates": [[0, 0], [9, 0], [9, 9]]}}}
            },
            "alarm": {
                "cameras": {"porch": {"modes": ["away"], "zones": {"steps": ["home", "night"]}}},
                "grace_period": 5,
            },
            "faces": {"match_threshold": 0.5},
        }
    )

    assert config.alarm.cameras["porch"].zones == {"steps": ["home", "night"]}
    assert config.faces.match_threshold == 0.5


def person_track(first_seen: float = 0.0, last_seen: float = 20.0) -> TrackedObject:
    """Return a confirmed person track standing in the middle of a 768x432 picture, with one head region kept."""
    obj = TrackedObject(id="p1", first_seen=first_seen, last_seen=last_seen, box=(300.0, 50.0, 450.0, 400.0))
    obj.label_votes["person"] = 8.0
    obj.scores.extend([0.8] * 8)
    obj.recent_boxes.extend([obj.box] * 8)
    obj.person_views.append(PersonView(1.0, 0.8, obj.box, (280, 30), np.zeros((200, 190, 3), dtype=np.uint8)))
    return obj


def test_the_decision_waits_for_the_grace_period_then_stands() -> None:
    watch = IntrusionWatch("door", AlarmConfig(grace_period=10.0), FacesConfig(), FRAME, None, live=False)
    obj = person_track()

    assert watch.follow(obj, 9.9) is None
    decision = watch.follow(obj, 10.0)
    assert decision is not None
    assert (decision.alarm, decision.reason, decision.at) == (True, UNIDENTIFIED, 10.0)
    assert watch.follow(obj, 12.0) is None
    assert watch.conclude(obj).decision == decision


def test_a_track_shorter_than_the_grace_period_is_decided_when_it_ends() -> None:
    watch = IntrusionWatch("door", AlarmConfig(grace_period=10.0), FacesConfig(), FRAME, None, live=False)
    obj = person_track(last_seen=3.0)

    watch.follow(obj, 3.0)
    conclusion = watch.conclude(obj)

    assert (conclusion.label, conclusion.sub_label, conclusion.decision.alarm, conclusion.decision.at) == (
        "person",
        None,
        True,
        3.0,
    )


def test_without_the_household_people_still_alarm(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> PersonIdentifier:
        raise UserError("cannot read the household: database is locked")

    watch = IntrusionWatch("door", AlarmConfig(), FacesConfig(), FRAME, broken, live=False)

    conclusion = watch.conclude(person_track())

    assert (conclusion.decision.alarm, conclusion.decision.reason) == (True, UNIDENTIFIED)
    assert "face recognition is off for this run: cannot read the household" in caplog.text


def test_a_passer_by_in_an_entry_only_zone_does_not_alarm_until_they_leave_it() -> None:
    watch = IntrusionWatch("shop", AlarmConfig(grace_period=10.0), FacesConfig(), FRAME, None, live=False)
    obj = person_track()
    obj.stayed_inside = ["street"]

    decision = watch.follow(obj, 10.0)
    assert decision is not None
    assert (decision.alarm, decision.stayed_in) == (False, ("street",))
    assert decision_attributes(decision)["stayed_in_zone"] == "street"
    assert watch.follow(obj, 11.0) is None
    # Off the street towards the door: decided again, and now an intruder.
    obj.stayed_inside = []
    again = watch.follow(obj, 12.0)
    assert again is not None
    assert (again.alarm, again.stayed_in, again.at) == (True, (), 12.0)
    assert watch.conclude(obj).decision == again
