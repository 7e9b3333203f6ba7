"""The alarm policy on its own: arming schedule, per-camera and per-zone rules, the decision and the guard."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from homewarden.config import ConfigError, validate_config
from homewarden.config.model import AlarmConfig, CameraAlarmRule, FacesConfig, ObjectsConfig
from homewarden.detect.base import Detection
from homewarden.errors import UserError
from homewarden.events.alarm import (
    STRANGER,
    UNIDENTIFIED,
    AlarmDecision,
    GuardVerdict,
    IntrusionWatch,
    TrackEvidence,
    armed_for,
    decide_alarm,
    decision_attributes,
    judge_person_track,
    stood_up,
)
from homewarden.events.arming import mode_at
from homewarden.events.lifecycle import EventLifecycle, EventStarted, Look, PersonView, TrackedObject
from homewarden.faces.identity import PersonIdentifier
from homewarden.track.bytetrack import TrackedDetection

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
    obj.recent_looks.extend(Look(float(t), "person", 0.8, obj.box) for t in range(8))
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


GYM = (480, 360)
Box4 = tuple[float, float, float, float]
# The gym crowd's woman by the bench (docs/benchmarks.md, stand16): crouching on the floor (`cow`, then `dog` with low
# `person` scores on the same box, and weak `person`), standing up at 11.3 s and walking off: (time, label, score,
# `person` score on the same box, box), as NanoDet saw her.
CROUCHING_THEN_STANDING: list[tuple[float, str, float, float, Box4]] = [
    (1.5, "person", 0.394, 0.394, (169, 236, 202, 319)),
    (3.733, "cow", 0.357, 0.15, (170, 248, 210, 330)),
    (7.333, "dog", 0.401, 0.054, (168, 278, 236, 352)),
    (8.333, "person", 0.483, 0.483, (176, 280, 216, 338)),
    (8.533, "dog", 0.451, 0.276, (178, 279, 214, 329)),
    (8.733, "dog", 0.454, 0.271, (178, 280, 215, 334)),
    (8.9, "dog", 0.395, 0.338, (178, 280, 214, 334)),
    (9.1, "person", 0.503, 0.503, (177, 280, 216, 338)),
    (9.3, "person", 0.404, 0.404, (177, 280, 216, 338)),
    (9.5, "dog", 0.409, 0.321, (178, 280, 214, 334)),
    (10.1, "person", 0.402, 0.402, (178, 280, 216, 339)),
    (10.3, "dog", 0.409, 0.268, (179, 279, 214, 334)),
    (10.5, "person", 0.382, 0.382, (178, 281, 216, 339)),
    (11.3, "person", 0.658, 0.658, (174, 233, 212, 332)),
    (11.5, "person", 0.518, 0.518, (181, 225, 212, 330)),
    (11.7, "person", 0.678, 0.678, (181, 223, 209, 323)),
    (11.9, "person", 0.712, 0.712, (188, 222, 224, 326)),
    (12.1, "person", 0.774, 0.774, (206, 215, 237, 320)),
    (13.5, "person", 0.765, 0.765, (208, 184, 236, 288)),
    (13.7, "person", 0.537, 0.537, (234, 153, 270, 273)),
    (13.9, "person", 0.679, 0.679, (264, 166, 292, 255)),
    (14.1, "person", 0.404, 0.404, (268, 136, 313, 241)),
    (14.5, "person", 0.594, 0.594, (322, 150, 347, 215)),
]


def watch_lifecycle(
    looks: list[tuple[float, str, float, float, Box4]],
) -> tuple[list[AlarmDecision], IntrusionWatch, TrackedObject]:
    """Feed looks to a lifecycle as `analyze` does and follow the started event; return every decision made."""
    events = EventLifecycle(ObjectsConfig(), {})
    watch = IntrusionWatch("gym", AlarmConfig(mode="away"), FacesConfig(), GYM, None, live=False)
    started: list[TrackedObject] = []
    decisions = []
    for time, label, score, person_score, box in looks:
        detection = Detection(label, score, box, person_score=person_score)
        changes = events.update(time, [TrackedDetection(4, detection)], np.zeros((360, 480, 3), np.uint8), motion=[box])
        started += [change.obj for change in changes if isinstance(change, EventStarted)]
        for obj in started:
            decision = watch.follow(obj, time)
            if decision is not None:
                decisions.append(decision)
    [obj] = started
    return decisions, watch, obj


def test_a_person_held_back_as_a_dog_while_crouching_alarms_once_she_stands_up() -> None:
    decisions, watch, obj = watch_lifecycle(CROUCHING_THEN_STANDING)

    held_back, stood = decisions
    assert (held_back.label, held_back.alarm, held_back.at) == ("dog", False, 13.5)
    assert (stood.label, stood.alarm, stood.reason, stood.at, stood.stood_up_at) == (
        "person",
        True,
        UNIDENTIFIED,
        13.7,
        13.7,
    )
    conclusion = watch.conclude(obj)
    assert (conclusion.label, conclusion.decision) == ("person", stood)
    attributes = decision_attributes(conclusion.decision)
    assert attributes["held_back_as_pet"] == "animal votes 15%; median score 0.59"
    assert (attributes["stood_up_at"], attributes["alarm_decided_at"]) == ("13.700", "13.700")


def held_back_track(votes: dict[str, float]) -> tuple[IntrusionWatch, TrackedObject]:
    """Return a watch that has just held back a person track with these votes, at 10 s, as a pet."""
    watch = IntrusionWatch("den", AlarmConfig(mode="away", grace_period=10.0), FacesConfig(), FRAME, None, live=False)
    obj = TrackedObject(id="d1", first_seen=0.0, last_seen=10.0, box=(300.0, 300.0, 420.0, 400.0))
    obj.label_votes.update(votes)
    obj.scores.extend([0.45] * 10)
    obj.recent_looks.extend(Look(t / 2, "person", 0.45, obj.box) for t in range(20))
    decision = watch.follow(obj, 10.0)
    assert decision is not None
    assert decision.doubts
    assert not decision.alarm
    return watch, obj


def looked(obj: TrackedObject, time: float, label: str, score: float, box: Box4) -> None:
    """Add a look to a track as the lifecycle does."""
    obj.last_seen, obj.box = time, box
    obj.scores.append(score)
    obj.label_votes[label] += score
    obj.recent_looks.append(Look(time, label, score, box))


def test_a_dog_scored_person_on_some_looks_stays_held_back() -> None:
    # A dog that sits up and turns about: the detector calls it `person` up to 0.6 on boxes 2.2 times as tall as wide
    # (three of every eight looks), and 0.71-0.75 on boxes as tall as wide (the cat fed by hand: `person` 0.71-0.75 on
    # its square boxes). It stays held back only because of the score and the shape the rule asks for.
    watch, obj = held_back_track({"person": 6.0, "dog": 0.9})
    sitting_up, square, lying = (340.0, 220.0, 390.0, 330.0), (300.0, 280.0, 400.0, 380.0), (280.0, 330.0, 420.0, 400.0)
    pattern = [
        ("person", 0.6, sitting_up),
        ("person", 0.75, square),
        ("person", 0.6, sitting_up),
        ("person", 0.5, lying),
        ("person", 0.6, sitting_up),
        ("person", 0.71, square),
        ("person", 0.45, lying),
        ("person", 0.73, square),
    ]
    decisions = []
    for step in range(40):
        label, score, box = pattern[step % len(pattern)]
        looked(obj, 10.2 + step * 0.2, label, score, box)
        decisions.append(watch.follow(obj, obj.last_seen))

    assert decisions == [None] * 40
    conclusion = watch.conclude(obj)
    assert (conclusion.label, conclusion.decision.alarm) == ("dog", False)


def test_a_track_that_stood_up_alarms_once_even_if_it_crouches_and_stands_again() -> None:
    watch, obj = held_back_track({"person": 6.0, "dog": 0.9})
    standing, crouching = (340.0, 150.0, 380.0, 330.0), (330.0, 280.0, 390.0, 340.0)
    looks = [("person", 0.8, standing)] * 6 + [("dog", 0.45, crouching)] * 6 + [("person", 0.8, standing)] * 6
    alarms = []
    for step, (label, score, box) in enumerate(looks):
        looked(obj, 10.2 + step * 0.2, label, score, box)
        decision = watch.follow(obj, obj.last_seen)
        if decision is not None:
            alarms.append((decision.label, decision.alarm, round(decision.at, 1)))

    assert alarms == [("person", True, 10.6)]
    conclusion = watch.conclude(obj)
    assert (conclusion.label, conclusion.decision.alarm, conclusion.decision.held_back) == (
        "person",
        True,
        ("animal votes 13%", "median score 0.45"),
    )


STANDING = Look(0.0, "person", 0.8, (340.0, 150.0, 380.0, 330.0))


@pytest.mark.parametrize(
    ("window", "standing"),
    [
        ([STANDING] * 3, True),
        ([STANDING] * 2 + [Look(0.0, "person", 0.69, STANDING.box)] * 6, False),
        # One look calling it an animal among the last eight: not yet.
        ([STANDING] * 3 + [Look(0.0, "dog", 0.4, STANDING.box)], False),
        # Eight later looks push it out of the window.
        ([Look(0.0, "dog", 0.4, STANDING.box)] + [STANDING] * 8, True),
        # Tall, not standing: a box under twice as tall as wide (a cat sitting up).
        ([Look(0.0, "person", 0.8, (340.0, 200.0, 380.0, 279.0))] * 3, False),
    ],
)
def test_standing_means_three_sure_upright_person_looks_and_no_animal_among_the_last_eight(
    window: list[Look], standing: bool
) -> None:
    assert stood_up(window, FRAME) is standing
