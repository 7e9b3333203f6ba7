"""Scoring of analyze events against ground-truth intervals; every expected number is worked out by hand beside it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from detection_scoring import (
    ClipTruth,
    Ignored,
    Interval,
    ManifestError,
    SeenEvent,
    Track,
    VehicleTruth,
    Visit,
    events_from_json_lines,
    parse_manifest,
    score_clip,
    total_score,
)

MANIFESTS = Path(__file__).resolve().parents[2] / "bench" / "manifests"


def person(start: float, end: float, alarm: bool = False) -> SeenEvent:
    """Return a person event."""
    return SeenEvent("person", start, end, alarm)


def test_visits_found_missed_duplicated_and_false() -> None:
    truth = ClipTruth("room.mp4", 100.0, persons=(Visit(10, 20), Visit(40, 50), Visit(70, 80)))
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


def test_person_events_per_visit_show_a_split_visit() -> None:
    # Visit 1 (10-20): one walker at x 0-100, lost and found again: two events on their track, a split visit. Visit 2
    # (40-50): a pair, one event each: two events, not split. Visit 3 (70-80): a crowd (no tracks), two events: not
    # judged. Visit 4 (90-95): missed. The event at 85 s is on no visit.
    walker = Visit(10, 20, (track((10.0, 0, 0, 100, 100)),))
    pair = Visit(40, 50, (track((40.0, 0, 0, 100, 100)), track((40.0, 200, 0, 300, 100))))
    truth = ClipTruth("room.mp4", 100.0, persons=(walker, pair, Visit(70, 80), Visit(90, 95)))
    events = [
        boxed(11.0, 14.0, (40, 40, 60, 60)),
        boxed(15.0, 19.0, (40, 40, 60, 60)),
        boxed(41.0, 49.0, (40, 40, 60, 60)),
        boxed(41.0, 49.0, (240, 40, 260, 60)),
        person(71.0, 79.0),
        person(72.0, 78.0),
        person(85.0, 86.0),
    ]
    score = score_clip(truth, events)
    assert (score.events_per_visit, score.split_visits) == ([2, 2, 2, 0], 1)
    assert score.as_json()["person_events_per_visit"] == [2, 2, 2, 0]
    # One track's event seen on it at its box's time, another's only at the start of a long event: by when they were
    # seen the walker (x 0-100 at 10 s, x 900-1000 at 20 s) has one event on them; matched anywhere in time, two.
    sweep = Visit(10.0, 20.0, (track((10.0, 0, 0, 100, 100), (20.0, 900, 0, 1000, 100)),))
    late = ClipTruth("walk.mp4", 30.0, persons=(sweep,))
    at_door = replace(boxed(10.0, 20.0, (0, 0, 100, 100)), box_time=10.2)
    at_window_early = replace(boxed(10.0, 20.0, (900, 0, 1000, 100)), box_time=12.0)
    timed = score_clip(late, [at_door, at_window_early])
    assert (timed.events_per_visit, timed.split_visits, timed.false_person_events) == ([1], 0, 1)
    untimed = score_clip(late, [replace(at_door, box_time=None), replace(at_window_early, box_time=None)])
    assert (untimed.events_per_visit, untimed.split_visits) == ([2], 1)
    total = total_score([score, timed])
    assert (total.events_per_visit, total.split_visits) == ([2, 2, 2, 0, 1], 1)


def test_an_event_on_two_overlapping_tracks_counts_for_the_nearer_one() -> None:
    # The face-demographics GIF's pair, side by side: at 0 s the woman at x 235-315, the man at x 290-360 (enlarged:
    # 225-325 and 281-369). An event centred at x 273.5 lies on both; the woman's centre (275) is nearer than the
    # man's (325), so it is hers. A second event, on the man only: one each, no split.
    pair = Visit(0.0, 3.0, (track((0.0, 235, 100, 315, 270)), track((0.0, 290, 85, 360, 270))))
    truth = ClipTruth("pair.gif", 3.0, persons=(pair,))
    hers = replace(boxed(0.0, 2.3, (251, 115, 296, 265)), box_time=0.0)
    his = replace(boxed(0.0, 2.3, (310, 86, 350, 267)), box_time=2.3)
    assert score_clip(truth, [hers, his]).split_visits == 0
    # Two events both nearest the man: a split.
    assert score_clip(truth, [his, replace(his, start=2.4, end=2.9, box_time=2.6)]).split_visits == 1


@pytest.mark.parametrize(
    ("start", "found", "false"),
    [
        (20.5, 1, 0),  # 20.5 <= 20 + 0.5: touches the visit at the edge's tolerance
        (20.6, 0, 1),  # 20.6 > 20.5: after the visit, a false event
    ],
)
def test_interval_edges_count_within_half_a_second(start: float, found: int, false: int) -> None:
    truth = ClipTruth("edge.mp4", 60.0, persons=(Visit(10, 20),))
    score = score_clip(truth, [person(start, start + 2)])
    assert (score.visits_found, score.false_person_events) == (found, false)


def test_ignored_spans_are_not_scored() -> None:
    # The whole clip is uncertain (figures a few pixels tall): no visit is scored, the event is neither found nor false.
    tiny = ClipTruth("far.mkv", 10.0, persons=(Visit(0, 10),), ignore=(Ignored(0, 10),))
    score = score_clip(tiny, [person(3, 5, alarm=True)])
    assert (score.visits, score.visits_found, score.false_person_events, score.person_alarms) == (0, 0, 0, 0)
    assert score.recall is None
    assert score.alarms_per_visit is None

    # Only the visit's uncertain end is ignored: the visit (0-18.5) does not lie inside 17-19, so it is scored.
    walker = ClipTruth("lot.mp4", 47.4, persons=(Visit(0, 18.5),), ignore=(Ignored(17, 19),))
    events = [
        person(19.2, 19.4),  # 19.2 > 18.5 + 0.5, so it misses the visit, but 19.2 <= 19 + 0.5 touches the ignored end
        person(20.0, 21.0),  # 20.0 > 19.0 and > 19.5: touches neither, a false event
    ]
    score = score_clip(walker, events)
    assert (score.visits, score.visits_found, score.false_person_events) == (1, 0, 1)


def test_pet_only_alarms_and_animals_found() -> None:
    truth = ClipTruth(
        "yard.mp4", 40.0, persons=(Visit(20, 30),), animals=((Interval(0, 10), "cat"), (Interval(32, 35), "dog"))
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


def test_animal_events_where_no_animal_is_are_counted() -> None:
    truth = ClipTruth("gym.mp4", 75.0, persons=(Visit(0, 75),), animals=((Interval(40, 45), "dog"),))
    events = [
        SeenEvent("dog", 1.5, 30, alarm=False),  # a seated person taken for a dog: no animal there
        SeenEvent("bird", 10, 12, alarm=False),  # walkers seen from above
        SeenEvent("dog", 44, 50, alarm=False),  # the dog
        SeenEvent("car", 1, 2, alarm=False),  # not an animal
    ]
    score = score_clip(truth, events)
    assert (score.animals_found, score.false_animal_events) == (1, 2)
    assert total_score([score, score]).false_animal_events == 4


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
        ClipTruth("a.mp4", 100.0, persons=(Visit(10, 20), Visit(40, 50), Visit(70, 80))),
        [person(11, 19, alarm=True), person(40, 45), person(90, 91)],
    )
    second = score_clip(ClipTruth("b.mp4", 260.0, persons=(Visit(5, 6),)), [person(7.0, 8.0, alarm=True)])
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
    assert clip.persons == (Visit(0.0, 18.5),)
    assert clip.animals == ((Interval(1, 2), "dog"),)
    assert clip.vehicles == (
        VehicleTruth(Interval(0.0, 47.4), "car", "parked"),
        VehicleTruth(Interval(3, 4), None, None),
    )
    assert clip.ignore == (Ignored(17.0, 19.0),)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"file": "a.mp4", "persons": []}, "a.mp4: `duration`"),
        ({"file": "a.mp4", "duration": 5, "persons": [[3, 1]]}, "a.mp4: `persons` item [3, 1]"),
        ({"file": "a.mp4", "duration": 5, "persons": [[1, 2, 3]]}, "a.mp4: `persons` [1, 2]: a track must be"),
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
    truth = ClipTruth("gym.mp4", 100.0, persons=(Visit(0, 60), Visit(80, 90)))
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
    truth = ClipTruth("door.mp4", 30.0, persons=(Visit(0, 10), Visit(20, 25)))
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


def track(*keyframes: tuple[float, float, float, float, float]) -> Track:
    """Return a track from (t, x1, y1, x2, y2) keyframes."""
    return Track(tuple((at, (x1, y1, x2, y2)) for at, x1, y1, x2, y2 in keyframes))


def boxed(start: float, end: float, box: tuple[float, float, float, float], alarm: bool = False) -> SeenEvent:
    """Return a person event seen at a box."""
    return SeenEvent("person", start, end, alarm, "i" if alarm else None, box)


def test_an_event_on_a_post_beside_the_person_is_false_and_finds_nothing() -> None:
    # The parking lot's second visit: one person stands at 1020-1044 (generous), a white post 1044-1057 beside them.
    visit = Visit(21.0, 47.4, (track((36.0, 1020, 15, 1044, 55)),))
    truth = ClipTruth("lot.mp4", 47.4, persons=(visit,))
    post = boxed(37.7, 47.1, (1044, 28, 1057, 64), alarm=True)
    # The post's centre x is 1050.5; the person's box enlarged by 25 % of its 24 px width reaches 1044 + 3 = 1047.
    score = score_clip(truth, [post])
    assert (score.visits_found, score.false_person_events) == (0, 1)
    assert (score.person_alarms, score.visits_alarmed) == (0, 0)
    # By time alone (no box, as main scored it) the same event found the visit and was not false.
    by_time = score_clip(truth, [replace(post, box=None)])
    assert (by_time.visits_found, by_time.false_person_events, by_time.person_alarms) == (1, 0, 1)
    # An event on the person (centre 1034, 37.5) finds the visit, 40.0 - 21.0 = 19 s after it began.
    score = score_clip(truth, [post, boxed(40.0, 47.0, (1028, 25, 1040, 50))])
    assert (score.visits_found, score.false_person_events, score.delays) == (1, 1, [pytest.approx(19.0)])


def test_a_track_moves_linearly_between_keyframes_and_is_held_at_its_ends() -> None:
    # A 10 px box moving 100 px a second from x 0 (t 0) to x 1000 (t 10); enlarged by 25 % it is 12.5 px wide:
    # x1 = 100 t - 1.25, x2 = 100 t + 11.25, so the point x 500 is inside only for t in [4.8875, 5.0125].
    sweep = track((0.0, 0, 0, 10, 10), (10.0, 1000, 0, 1010, 10))
    assert sweep.box_at(5.0) == (500.0, 0.0, 510.0, 10.0)
    assert sweep.box_at(-3.0) == (0.0, 0.0, 10.0, 10.0)
    assert sweep.box_at(12.0) == (1000.0, 0.0, 1010.0, 10.0)
    # 4.1-5.2: neither end of the span has the point inside, the moment between does (solved, not sampled).
    assert sweep.reaches((500, 5), Interval(4.1, 5.2))
    assert not sweep.reaches((500, 5), Interval(1.5, 4.8))
    assert not sweep.reaches((500, 5), Interval(5.1, 9.0))
    # Held: before its first keyframe the box stays at x 0-10, after its last at x 1000-1010.
    assert sweep.reaches((5, 5), Interval(-2.0, -1.0))
    assert sweep.reaches((1005, 5), Interval(11.0, 12.0))
    assert not sweep.reaches((5, 5), Interval(0.5, 1.0))  # at 0.5 s x1 is 48.75 already


def test_visits_or_events_without_boxes_are_scored_by_time() -> None:
    walker = Visit(10.0, 20.0, (track((10.0, 0, 0, 100, 100)),))
    crowd = Visit(30.0, 40.0)  # no tracks: a crowd
    truth = ClipTruth("mixed.mp4", 60.0, persons=(walker, crowd))
    events = [
        boxed(31.0, 35.0, (500, 500, 600, 600)),  # anywhere in the crowd's time: found by time
        SeenEvent("person", 11.0, 12.0, False),  # no box (older analyze output): found by time
        boxed(15.0, 16.0, (500, 500, 600, 600)),  # the walker's time, far from their box: false
        boxed(19.0, 32.0, (500, 500, 600, 600)),  # off the walker's box but in the crowd's time: on the crowd
    ]
    score = score_clip(truth, events)
    assert (score.visits, score.visits_found, score.false_person_events) == (2, 2, 1)
    # Delays: the walker 11.0 - 10.0 = 1.0 (the event at 19.0 is not on them); the crowd max(0, 19.0 - 30.0) = 0.
    assert score.delays == [pytest.approx(1.0), 0.0]


def test_a_group_visit_is_found_by_an_event_on_any_of_its_tracks() -> None:
    # Two people side by side, one track each; an event between them is on neither (its centre x 200 is beyond
    # 150 + 6.25 and before 250 - 6.25).
    pair = Visit(0.0, 5.0, (track((0.0, 100, 0, 150, 100)), track((0.0, 250, 0, 300, 100))))
    truth = ClipTruth("pair.gif", 5.0, persons=(pair,))
    assert score_clip(truth, [boxed(0.0, 5.0, (150, 0, 250, 100))]).visits_found == 0
    score = score_clip(truth, [boxed(0.0, 5.0, (260, 0, 300, 100)), boxed(0.0, 5.0, (100, 0, 140, 100))])
    assert (score.visits_found, score.false_person_events) == (1, 0)


def test_manifest_reads_tracks_and_keeps_the_old_format() -> None:
    [clip] = parse_manifest(
        [
            {
                "file": "room.mp4",
                "duration": 30.0,
                "persons": [
                    [0.0, 10.0],
                    [12.0, 20.0, [[12.0, 1, 2, 30, 40], [19.5, 5, 6, 35, 46]], [[15, 0, 0, 9, 9]]],
                ],
            }
        ]
    )
    assert clip.persons == (
        Visit(0.0, 10.0),
        Visit(12.0, 20.0, (track((12.0, 1, 2, 30, 40), (19.5, 5, 6, 35, 46)), track((15.0, 0, 0, 9, 9)))),
    )


@pytest.mark.parametrize(
    ("visit", "message"),
    [
        ([0, 10, [[1, 0, 0, 5]]], r"keyframe \[1, 0, 0, 5\] is not \[t, x1, y1, x2, y2\]"),
        ([0, 10, [[1, 5, 0, 5, 9]]], "needs x1 < x2 and y1 < y2"),
        ([0, 10, [[11, 0, 0, 5, 9]]], "lies outside the visit"),
        ([0, 10, [[4, 0, 0, 5, 9], [4, 0, 0, 6, 9]]], "is not after the one before it"),
        ([0, 10, []], "a track must be a non-empty list"),
    ],
)
def test_manifest_track_errors_name_the_clip_and_visit(visit: list[object], message: str) -> None:
    with pytest.raises(ManifestError, match=r"a.mp4: `persons` \[0, 10\]: (keyframe .* )?" + message):
        parse_manifest([{"file": "a.mp4", "duration": 20, "persons": [visit]}])


def test_the_box_is_read_from_analyze_json_lines() -> None:
    lines = "\n".join(
        [
            json.dumps({"label": "person", "start": 1.0, "end": 2.0, "alarm": True, "box": [1, 2, 30, 40]}),
            json.dumps({"label": "dog", "start": 5.0, "end": 6.0, "alarm": False}),
        ]
    )
    assert [event.box for event in events_from_json_lines(lines)] == [(1.0, 2.0, 30.0, 40.0), None]


def test_a_box_with_its_time_is_matched_at_that_time_only() -> None:
    # A visitor walks from the door (x 0-100 at 10 s) to the window (x 900-1000 at 20 s); enlarged by 25 % their box is
    # 125 px wide. An event lasting the whole visit whose best sighting is the window (centre x 950):
    sweep = Visit(10.0, 20.0, (track((10.0, 0, 0, 100, 100), (20.0, 900, 0, 1000, 100)),))
    truth = ClipTruth("walk.mp4", 30.0, persons=(sweep,))
    window = (900.0, 0.0, 1000.0, 100.0)
    # Seen there at 19.8 s: the visitor is at x 882-982 then (869.5-994.5 enlarged), the centre inside.
    score = score_clip(truth, [replace(boxed(10.0, 20.0, window), box_time=19.8)])
    assert (score.visits_found, score.false_person_events) == (1, 0)
    # Seen there at 12.0 s, when the visitor stood at x 180-280: within ±0.5 s the enlarged box reaches at most
    # x 325 + 12.5 = 337.5 (at 12.5 s), short of 950. The event lasts the whole visit, yet is on no one.
    score = score_clip(truth, [replace(boxed(10.0, 20.0, window), box_time=12.0)])
    assert (score.visits_found, score.false_person_events) == (0, 1)
    # Without a time (JSON from before box_time) the same box is matched at any moment of the event: found.
    score = score_clip(truth, [boxed(10.0, 20.0, window)])
    assert (score.visits_found, score.false_person_events) == (1, 0)


def test_a_box_time_counts_within_half_a_second_of_the_annotation() -> None:
    # A box moving 100 px a second from x 0 (t 0); the point x 500 is inside its enlarged box for t in
    # [4.8875, 5.0125] (as in the test above): a box seen at 5.5 s is within 0.5 s of 5.0125, one at 5.6 s is not.
    visit = Visit(0.0, 10.0, (track((0.0, 0, 0, 10, 10), (10.0, 1000, 0, 1010, 10)),))
    truth = ClipTruth("sweep.mp4", 10.0, persons=(visit,))
    at_500 = (495.0, 0.0, 505.0, 10.0)
    assert score_clip(truth, [replace(boxed(0.0, 10.0, at_500), box_time=5.5)]).visits_found == 1
    assert score_clip(truth, [replace(boxed(0.0, 10.0, at_500), box_time=5.6)]).visits_found == 0
    assert score_clip(truth, [replace(boxed(0.0, 10.0, at_500), box_time=4.3)]).visits_found == 0


def test_the_box_time_is_read_from_analyze_json_lines() -> None:
    lines = "\n".join(
        json.dumps({"label": "person", "start": 1.0, "end": 9.0, "alarm": False} | extra)
        for extra in (
            {"box": [1, 2, 30, 40], "box_time": 4.2},
            {"box": [1, 2, 30, 40], "box_time": None},  # a doorbell ring: no one sighting
            {"box": [1, 2, 30, 40]},  # printed before box_time was
            {"box": [1, 2, 30, 40], "box_time": "2026-12-06T10:00:00Z"},  # a live source: not a clip's seconds
        )
    )
    assert [event.box_time for event in events_from_json_lines(lines)] == [4.2, None, None, None]


def test_the_shared_manifests_read_and_their_tracks_lie_in_the_picture() -> None:
    for name in ("real.json", "video.json"):
        data = json.loads((MANIFESTS / name).read_text(encoding="utf-8"))
        sizes = {entry["file"]: (entry["width"], entry["height"]) for entry in data}
        for clip in parse_manifest(data):
            width, height = sizes[clip.file]
            for visit in clip.persons:
                for person in visit.tracks:
                    for _at, (x1, y1, x2, y2) in person.keyframes:
                        assert 0 <= x1 < x2 <= width, (clip.file, visit)
                        assert 0 <= y1 < y2 <= height, (clip.file, visit)


def test_an_ignored_span_with_a_box_excuses_only_events_there() -> None:
    # The parking lot: the walker's uncertain exit at 17-19 s is near 860-960, 20-120 (enlarged 847.5-972.5, 7.5-132.5);
    # the visit ends at 16 s, so no event below starting at 16.8 s is on it (16.8 > 16 + 0.5).
    exit_ = Ignored(17.0, 19.0, (860, 20, 960, 120))
    truth = ClipTruth("lot.mp4", 47.4, persons=(Visit(0.0, 16.0, (track((0.0, 900, 20, 960, 120)),)),), ignore=(exit_,))
    events = [
        boxed(16.8, 26.5, (810, 0, 831, 48)),  # a cypress (centre x 820.5) in the exit's time, not where it is: false
        boxed(16.8, 18.0, (905, 60, 913, 82)),  # where the walker leaves: excused
        SeenEvent("person", 16.8, 18.0, False),  # no box: excused by time, as before
    ]
    score = score_clip(truth, events)
    assert (score.visits_found, score.false_person_events) == (0, 1)


def test_manifest_reads_an_ignored_span_with_a_box() -> None:
    entry = {"file": "a.mp4", "duration": 20, "ignore": [[1, 2], [3, 4, "exit"], [5, 6, "far", [10, 20, 30, 40]]]}
    [clip] = parse_manifest([entry])
    assert clip.ignore == (Ignored(1, 2), Ignored(3, 4), Ignored(5, 6, (10, 20, 30, 40)))
    with pytest.raises(ManifestError, match=r"a.mp4: `ignore` \[5, 6\]: box \[30, 20, 10, 40\] is not"):
        parse_manifest([entry | {"ignore": [[5, 6, "far", [30, 20, 10, 40]]]}])
