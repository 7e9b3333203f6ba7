"""Scoring of analyze events against ground-truth intervals; every expected number is worked out by hand beside it."""

from __future__ import annotations

import json

import pytest

from detection_scoring import (
    ClipTruth,
    Interval,
    ManifestError,
    SeenEvent,
    VehicleTruth,
    events_from_json_lines,
    parse_manifest,
    score_clip,
    total_score,
)


def person(start: float, end: float, alarm: bool = False) -> SeenEvent:
    """Return a person event."""
    return SeenEvent("person", start, end, alarm)


def test_visits_found_missed_duplicated_and_false() -> None:
    truth = ClipTruth("room.mp4", 100.0, persons=(Interval(10, 20), Interval(40, 50), Interval(70, 80)))
    events = [
        person(11.0, 19.0, alarm=True),  # visit 1 found, 1.0 s after it began
        person(15.0, 18.0, alarm=True),  # visit 1 again: a second alarm for the same visit
        person(39.7, 45.0),  # visit 2 found 0.3 s before its edge: within ±0.5, so no delay
        person(85.0, 86.0, alarm=True),  # 85 > 80 + 0.5: touches no visit, a false event (its alarm is not a visit's)
    ]
    score = score_clip(truth, events)
    # Visit 3 (70-80) has no event: 2 of 3 found.
    assert (score.visits, score.visits_found) == (3, 2)
    assert score.recall == pytest.approx(2 / 3)
    assert score.person_events == 4
    assert score.false_person_events == 1
    # One false event in 100 s of video = 1 / (100 / 3600) h = 36 per hour.
    assert score.false_per_hour == pytest.approx(36.0)
    # Two alarms touch visits (both on visit 1) over three visits.
    assert score.person_alarms == 2
    assert score.alarms_per_visit == pytest.approx(2 / 3)
    # Delays: visit 1 → 11.0 - 10 = 1.0 (the earlier of its two events); visit 2 → max(0, 39.7 - 40) = 0.0.
    assert score.delays == [pytest.approx(1.0), 0.0]
    assert score.median_delay == pytest.approx(0.5)
    assert score.max_delay == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("start", "found", "false"),
    [
        (20.5, 1, 0),  # 20.5 <= 20 + 0.5: touches the visit at the edge's tolerance
        (20.6, 0, 1),  # 20.6 > 20.5: after the visit, a false event
    ],
)
def test_interval_edges_count_within_half_a_second(start: float, found: int, false: int) -> None:
    truth = ClipTruth("edge.mp4", 60.0, persons=(Interval(10, 20),))
    score = score_clip(truth, [person(start, start + 2)])
    assert (score.visits_found, score.false_person_events) == (found, false)


def test_ignored_spans_are_not_scored() -> None:
    # The whole clip is uncertain (figures a few pixels tall): no visit is scored, the event is neither found nor false.
    tiny = ClipTruth("far.mkv", 10.0, persons=(Interval(0, 10),), ignore=(Interval(0, 10),))
    score = score_clip(tiny, [person(3, 5, alarm=True)])
    assert (score.visits, score.visits_found, score.false_person_events, score.person_alarms) == (0, 0, 0, 0)
    assert score.recall is None
    assert score.alarms_per_visit is None

    # Only the visit's uncertain end is ignored: the visit (0-18.5) does not lie inside 17-19, so it is scored.
    walker = ClipTruth("lot.mp4", 47.4, persons=(Interval(0, 18.5),), ignore=(Interval(17, 19),))
    events = [
        person(19.2, 19.4),  # 19.2 > 18.5 + 0.5, so it misses the visit, but 19.2 <= 19 + 0.5 touches the ignored end
        person(20.0, 21.0),  # 20.0 > 19.0 and > 19.5: touches neither, a false event
    ]
    score = score_clip(walker, events)
    assert (score.visits, score.visits_found, score.false_person_events) == (1, 0, 1)


def test_pet_only_alarms_and_animals_found() -> None:
    truth = ClipTruth(
        "yard.mp4", 40.0, persons=(Interval(20, 30),), animals=((Interval(0, 10), "cat"), (Interval(32, 35), "dog"))
    )
    events = [
        SeenEvent("cat", 1, 9, alarm=False),  # the cat found, no alarm
        person(2, 4, alarm=True),  # on the cat, nobody there: pet-only alarm (and a false person event)
        person(9, 21, alarm=True),  # touches the cat and the person (20 <= 21 + 0.5): a person is there, not pet-only
        person(25, 26, alarm=True),  # only the person: not pet-only
    ]
    score = score_clip(truth, events)
    assert score.pet_only_alarms == 1
    assert score.false_person_events == 1
    # The dog (32-35) has no animal event: 1 of 2 animals found.
    assert (score.animals, score.animals_found) == (2, 1)


def test_vehicle_events_on_parked_vehicles() -> None:
    truth = ClipTruth(
        "street.mp4",
        60.0,
        persons=(),
        vehicles=(
            VehicleTruth(Interval(0, 60), "car", "parked"),
            VehicleTruth(Interval(30, 40), "car", "moving"),
        ),
    )
    events = [
        SeenEvent("car", 0, 60, alarm=False),  # spans the moving car too: a vehicle event, not known to be parked
        SeenEvent("car", 5, 10, alarm=False),  # only parked cars in view (10 + 0.5 < 30): on a parked vehicle
        SeenEvent("car", 31, 35, alarm=False),  # a moving car is in view: not counted as parked
        SeenEvent("truck", 50, 55, alarm=False),  # after the moving car (50 > 40 + 0.5): on a parked vehicle
        SeenEvent("person", 1, 2, alarm=False),  # not a vehicle
    ]
    score = score_clip(truth, events)
    assert (score.vehicle_events, score.parked_vehicle_events) == (4, 2)


def test_total_adds_counts_and_takes_rates_over_all_clips() -> None:
    first = score_clip(
        ClipTruth("a.mp4", 100.0, persons=(Interval(10, 20), Interval(40, 50), Interval(70, 80))),
        [person(11, 19, alarm=True), person(40, 45), person(90, 91)],
    )
    second = score_clip(ClipTruth("b.mp4", 260.0, persons=(Interval(5, 6),)), [person(7.0, 8.0, alarm=True)])
    total = total_score([first, second])
    # Visits: 3 + 1 = 4. Found: 2 in a.mp4 (10-20 and 40-50) + 0 in b.mp4 (its event starts at 7.0 > 6 + 0.5).
    assert (total.visits, total.visits_found) == (4, 2)
    # False: a.mp4's 90-91 and b.mp4's 7-8 (it touches no visit) = 2 in 360 s = 2 / 0.1 h = 20 per hour.
    assert total.false_person_events == 2
    assert total.false_per_hour == pytest.approx(20.0)
    # Alarms touching a visit: only a.mp4's first event → 1 over 4 visits.
    assert total.alarms_per_visit == pytest.approx(0.25)
    # Delays: 11 - 10 = 1.0 and 40 - 40 = 0.0.
    assert total.delays == [pytest.approx(1.0), 0.0]


def test_manifest_reads_the_shared_format_with_ignore_spans() -> None:
    [clip] = parse_manifest(
        [
            {
                "file": "lot.mp4",
                "duration": 47.4,
                "persons": [[0.0, 18.5]],
                "animals": [[1, 2, "dog"]],
                "vehicles": [[0.0, 47.4, "car", "parked"], [3, 4]],
                "ignore": [[17.0, 19.0, "end uncertain"]],
                "notes": "read by people only",
            }
        ]
    )
    assert clip.persons == (Interval(0.0, 18.5),)
    assert clip.animals == ((Interval(1, 2), "dog"),)
    assert clip.vehicles == (
        VehicleTruth(Interval(0.0, 47.4), "car", "parked"),
        VehicleTruth(Interval(3, 4), None, None),
    )
    assert clip.ignore == (Interval(17.0, 19.0),)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"file": "a.mp4", "persons": []}, "a.mp4: `duration`"),
        ({"file": "a.mp4", "duration": 5, "persons": [[3, 1]]}, "a.mp4: `persons` item [3, 1]"),
        ({"file": "a.mp4", "duration": 5, "persons": [[1, 2, 3]]}, "a.mp4: `persons` item"),
        ({"file": "a.mp4", "duration": 5, "vehicles": [[1, 2, "car", "stopped"]]}, "state 'stopped'"),
        ({"duration": 5}, "entry 0"),
    ],
)
def test_manifest_errors_name_the_clip_and_key(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ManifestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_manifest([entry])


def test_events_from_analyze_json_lines() -> None:
    lines = "\n".join(
        json.dumps({"label": label, "start": start, "end": end, "alarm": alarm, "score": 0.8})
        for label, start, end, alarm in [("person", 1.2, 5.0, True), ("car", 0.0, 3.5, False)]
    )
    assert events_from_json_lines(lines + "\n\n") == [
        SeenEvent("person", 1.2, 5.0, True),
        SeenEvent("car", 0.0, 3.5, False),
    ]


def test_alarms_of_one_intrusion_count_once_and_alarmed_visits_are_counted() -> None:
    truth = ClipTruth("gym.mp4", 100.0, persons=(Interval(0, 60), Interval(80, 90)))
    events = [
        SeenEvent("person", 1.0, 30.0, True, "a"),  # intrusion a: its first alarm
        SeenEvent("person", 5.0, 40.0, True, "a"),  # a again: an update, not a second alarm
        SeenEvent("person", 20.0, 50.0, False, "a"),  # a member's track in it: no alarm
        SeenEvent("person", 81.0, 85.0, True, None),  # an alarm without an intrusion counts alone
        SeenEvent("person", 82.0, 84.0, True, None),  # and so does this one
    ]
    score = score_clip(truth, events)
    # Alarms: {a, event 3, event 4} = 3 over 2 visits.
    assert score.person_alarms == 3
    assert score.alarms_per_visit == pytest.approx(1.5)
    # Both visits have an alarmed event on them.
    assert score.visits_alarmed == 2
    assert total_score([score, score]).visits_alarmed == 4


def test_a_visit_with_no_alarmed_event_is_not_alarmed() -> None:
    truth = ClipTruth("door.mp4", 30.0, persons=(Interval(0, 10), Interval(20, 25)))
    score = score_clip(truth, [SeenEvent("person", 1, 9, True, "x"), SeenEvent("person", 21, 24, False, "x")])
    assert (score.person_alarms, score.visits_alarmed) == (1, 1)


def test_the_intrusion_is_read_from_analyze_json_lines() -> None:
    lines = "\n".join(
        [
            json.dumps({"label": "person", "start": 1.0, "end": 2.0, "alarm": True, "intrusion": "abc"}),
            json.dumps({"label": "car", "start": 3.0, "end": 4.0, "alarm": False, "intrusion": None}),
            json.dumps({"label": "dog", "start": 5.0, "end": 6.0, "alarm": False}),
        ]
    )
    events = events_from_json_lines(lines)
    assert [event.intrusion for event in events] == ["abc", None, None]
