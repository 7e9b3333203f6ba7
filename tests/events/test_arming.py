"""The arming mode while the hub runs: a manual choice over the schedule, until the schedule's next entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from homewarden.config.model import AlarmConfig, FacesConfig, ScheduleEntry
from homewarden.events.alarm import UNIDENTIFIED, IntrusionWatch
from homewarden.events.arming import ArmingState
from homewarden.events.lifecycle import Look, TrackedObject

# Weekdays away from 08:00 and home from 18:00; the weekend has no entry, so Friday's 18:00 holds till Monday.
WEEK = AlarmConfig.model_validate(
    {
        "mode": "disarmed",
        "timezone": "Europe/Paris",
        "schedule": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "at": "08:00", "mode": "away"},
            {"days": ["mon", "tue", "wed", "thu", "fri"], "at": "18:00", "mode": "home"},
        ],
    }
)
PARIS = ZoneInfo("Europe/Paris")
FRAME = (768, 432)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """Return a moment in June 2026 (Monday 1 June), Paris time."""
    return datetime(2026, 6, day, hour, minute, tzinfo=PARIS)


def test_without_a_manual_choice_the_schedule_rules() -> None:
    arming = ArmingState(WEEK)

    assert arming.manual is None
    assert [arming.mode_at(paris(1, hour)) for hour in (7, 8, 18)] == ["home", "away", "home"]


def test_a_manual_choice_holds_until_the_next_schedule_entry() -> None:
    arming = ArmingState(WEEK)

    manual = arming.set_manual("disarmed", by="alice", at=paris(1, 19))

    assert (manual.mode, manual.set_by, manual.until) == ("disarmed", "alice", paris(2, 8))
    assert arming.mode_at(paris(1, 18, 59)) == "home", "the choice does not reach back before it was made"
    assert arming.mode_at(paris(1, 19)) == "disarmed"
    assert arming.mode_at(paris(2, 7, 59)) == "disarmed"
    assert arming.mode_at(paris(2, 8)) == "away", "disarm now does not survive the scheduled away"
    assert arming.manual == manual, "an expired choice is still shown for what it was"
    assert [manual.holds_at(moment) for moment in (paris(1, 18), paris(1, 19), paris(2, 8))] == [False, True, False]


def test_an_entry_that_keeps_the_mode_still_ends_the_manual_choice() -> None:
    arming = ArmingState(WEEK)
    arming.set_manual("night", by="alice", at=paris(1, 9))  # the 18:00 entry says home, as before 09:00 it said away

    assert arming.mode_at(paris(1, 17)) == "night"
    assert arming.mode_at(paris(1, 18)) == "home"


def test_a_manual_choice_on_friday_evening_holds_over_the_weekend() -> None:
    """The week wraps: after Friday 18:00 the next entry is Monday 08:00."""
    arming = ArmingState(WEEK)
    manual = arming.set_manual("away", by="bob", at=paris(5, 20))

    assert manual.until == paris(8, 8)
    assert arming.mode_at(paris(7, 23, 59)) == "away"
    assert arming.mode_at(paris(8, 8)) == "away"
    assert arming.mode_at(paris(8, 18)) == "home"


def test_the_week_wraps_for_an_entry_earlier_the_same_weekday() -> None:
    sunday_only = AlarmConfig.model_validate(
        {"timezone": "Europe/Paris", "schedule": [{"days": ["sun"], "at": "10:00", "mode": "home"}]}
    )
    arming = ArmingState(sunday_only)

    manual = arming.set_manual("away", by="alice", at=paris(7, 11))

    assert manual.until == paris(14, 10)
    assert arming.mode_at(paris(14, 9, 59)) == "away"
    assert arming.mode_at(paris(14, 10)) == "home"


def test_without_a_schedule_a_manual_choice_holds_until_cleared() -> None:
    arming = ArmingState(AlarmConfig(mode="away"))
    arming.set_manual("disarmed", by="alice", at=datetime(2026, 6, 1, 12, tzinfo=UTC))

    assert arming.mode_at(datetime(2030, 1, 1, tzinfo=UTC)) == "disarmed"
    assert arming.next_change(datetime(2026, 6, 2, tzinfo=UTC)) is None
    arming.clear_manual()
    assert arming.manual is None
    assert arming.mode_at(datetime(2030, 1, 1, tzinfo=UTC)) == "away"


def test_next_change() -> None:
    arming = ArmingState(WEEK)

    assert arming.next_change(paris(1, 9)) == (paris(1, 18), "home")
    assert arming.next_change(paris(1, 18)) == (paris(2, 8), "away"), "strictly after the moment"
    assert arming.next_change(paris(5, 19)) == (paris(8, 8), "away"), "over the weekend"


def test_next_change_skips_an_entry_that_keeps_the_mode() -> None:
    arming = ArmingState(WEEK)
    arming.set_manual("home", by="alice", at=paris(1, 9))

    # The 18:00 entry ends the manual choice but the mode stays home; the next change is Tuesday's away.
    assert arming.next_change(paris(1, 10)) == (paris(2, 8), "away")
    arming.set_manual("disarmed", by="alice", at=paris(1, 10))
    assert arming.next_change(paris(1, 11)) == (paris(1, 18), "home")


def test_a_schedule_with_one_mode_never_changes() -> None:
    always_away = AlarmConfig.model_validate({"schedule": [{"at": "08:00", "mode": "away"}]})

    assert ArmingState(always_away).next_change(datetime(2026, 6, 1, tzinfo=UTC)) is None


def test_replacing_the_schedule() -> None:
    arming = ArmingState(WEEK)
    arming.set_manual("disarmed", by="alice", at=paris(1, 19))

    arming.replace_schedule([ScheduleEntry(at="22:00", mode="night")], "Europe/Paris")

    assert arming.alarm.schedule == [ScheduleEntry(at="22:00", mode="night")]
    manual = arming.manual
    assert manual is not None
    assert manual.until == paris(1, 22), "the manual choice ends at the new schedule's entry"
    assert arming.mode_at(paris(1, 21)) == "disarmed"
    assert arming.mode_at(paris(2, 9)) == "night"
    with pytest.raises(ValidationError, match="unknown time zone"):
        arming.replace_schedule([], "Mars/Olympus")


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        ArmingState(WEEK).set_manual("away", by="alice", at=datetime(2026, 6, 1, 12))


def person_track(object_id: str) -> TrackedObject:
    """Return a confirmed person track standing in the middle of a 768x432 picture, seen for 20 s."""
    obj = TrackedObject(id=object_id, first_seen=0.0, last_seen=20.0, box=(300.0, 50.0, 450.0, 400.0))
    obj.label_votes["person"] = 8.0
    obj.scores.extend([0.8] * 8)
    obj.recent_looks.extend(Look(float(t), "person", 0.8, obj.box) for t in range(8))
    return obj


def test_a_person_decided_after_disarming_does_not_alarm() -> None:
    arming = ArmingState(AlarmConfig(mode="away", grace_period=10.0))
    # Two cameras share the state: what the owner sets on one holds on all.
    porch = IntrusionWatch("porch", arming.alarm, FacesConfig(), FRAME, None, live=False, arming=arming)
    garden = IntrusionWatch("garden", arming.alarm, FacesConfig(), FRAME, None, live=False, arming=arming)

    before = porch.follow(person_track("before"), 10.0)
    assert before is not None
    assert (before.alarm, before.reason, before.mode) == (True, UNIDENTIFIED, "away")

    arming.set_manual("disarmed", by="alice", at=datetime.now(UTC) - timedelta(seconds=1))

    after = garden.follow(person_track("after"), 10.0)
    assert after is not None
    assert (after.alarm, after.mode) == (False, "disarmed")
    assert porch.conclude(person_track("before")).decision == before, "a decision made stands"


def test_live_decisions_use_the_event_time() -> None:
    """Live, a track is decided at its own time: one decided before the owner disarmed still alarms."""
    arming = ArmingState(AlarmConfig(mode="away", grace_period=10.0))
    watch = IntrusionWatch("porch", arming.alarm, FacesConfig(), FRAME, None, live=True, arming=arming)
    disarmed_at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    arming.set_manual("disarmed", by="alice", at=disarmed_at)
    earlier, later = person_track("earlier"), person_track("later")
    for obj, start in ((earlier, disarmed_at.timestamp() - 60), (later, disarmed_at.timestamp() + 60)):
        obj.first_seen, obj.last_seen = start, start + 20

    assert watch.conclude(earlier).decision.alarm
    assert not watch.conclude(later).decision.alarm


BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BERLIN_DAYS = AlarmConfig.model_validate(
    {
        "mode": "home",
        "timezone": "Europe/Berlin",
        "schedule": [
            {"days": EVERY_DAY, "at": "08:00", "mode": "away"},
            {"days": EVERY_DAY, "at": "18:00", "mode": "home"},
        ],
    }
)


@pytest.mark.parametrize(
    ("day", "offset_before", "offset_after"),
    [
        (29, 1, 2),  # 29 March 2026: clocks go from 02:00 to 03:00 (CET, UTC+1, to CEST, UTC+2)
        (25, 2, 1),  # 25 October 2026: clocks go from 03:00 back to 02:00
    ],
)
def test_the_schedule_follows_the_homes_wall_clock_across_a_daylight_saving_change(
    day: int, offset_before: int, offset_after: int
) -> None:
    month = 3 if day == 29 else 10
    arming = ArmingState(BERLIN_DAYS)

    def utc(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, month, day, hour, minute, tzinfo=UTC)

    # 08:00 on the changing day is after the change: UTC is 08:00 minus the new offset.
    assert arming.mode_at(utc(7 - offset_after, 59)) == "home"
    assert arming.mode_at(utc(8 - offset_after)) == "away"
    assert arming.mode_at(utc(18 - offset_after)) == "home"
    # The day before, the old offset held.
    assert ArmingState(BERLIN_DAYS).mode_at(utc(8 - offset_before) - timedelta(days=1)) == "away"
    assert ArmingState(BERLIN_DAYS).mode_at(utc(8 - offset_before) - timedelta(days=1, minutes=1)) == "home"
    change = arming.next_change(utc(1))
    assert change == (datetime(2026, month, day, 8, tzinfo=BERLIN), "away")
    assert change[0].astimezone(UTC) == utc(8 - offset_after)


def test_the_hubs_own_time_zone_is_a_named_zone_so_daylight_saving_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    from homewarden.events.arming import local_timezone, schedule_timezone

    monkeypatch.setenv("TZ", "Europe/Berlin")

    assert local_timezone() == BERLIN
    unset = BERLIN_DAYS.model_copy(update={"timezone": None})
    assert schedule_timezone(unset) == BERLIN
    winter, summer = datetime(2026, 1, 5, 12, tzinfo=UTC), datetime(2026, 7, 6, 12, tzinfo=UTC)
    assert [ArmingState(unset).mode_at(moment.replace(hour=6, minute=59)) for moment in (winter, summer)] == [
        "home",
        "away",  # 08:59 in Berlin in July, 07:59 in January
    ]
