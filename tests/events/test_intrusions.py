"""Intrusions: person tracks close in time on one camera or area are one alarm (unit and on real footage)."""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import analyze_json, media_file
from homewarden.config.loader import ConfigError, validate_config
from homewarden.events.intrusions import CONFIRMATION_SLACK, IntrusionBoard, IntrusionSummary
from homewarden.faces.gallery import UNKNOWN


def test_overlapping_people_on_one_camera_are_one_intrusion_and_alarm_once() -> None:
    board = IntrusionBoard(window=30.0)
    first = board.join("door", "a", 0.0)
    second = board.join("door", "b", 2.0)

    assert second.id == first.id
    assert second.people == 2
    raised = board.alarm("a", "unidentified")
    again = board.alarm("b", "stranger")
    assert raised is not None
    assert raised.first
    assert raised.summary.alarm_reason == "unidentified"
    # The second person's alarm only updates it: the reason stays the first one's.
    assert again is not None
    assert not again.first
    assert again.summary.alarm_reason == "unidentified"


def test_a_person_confirmed_after_the_window_who_appeared_within_it_still_joins() -> None:
    board = IntrusionBoard(window=30.0)
    first = board.join("door", "a", 0.0)
    board.end("a", 10.0)
    # Seen at 39.5, confirmed (and joining) a second later, after a check for over intrusions at 40.5.
    assert board.expire(40.5) == []
    assert board.join("door", "b", 39.5).id == first.id


def test_a_person_within_the_window_after_the_last_joins_later_ones_open_a_new_intrusion() -> None:
    board = IntrusionBoard(window=30.0)
    first = board.join("door", "a", 0.0)
    board.end("a", 10.0)
    # 10 + 30 = 40: a person appearing at 40 still joins, at 40.5 no longer.
    assert board.join("door", "b", 40.0).id == first.id
    board.end("b", 45.0)
    assert board.join("door", "c", 75.5).id != first.id


def test_a_track_not_yet_ended_counts_from_its_last_sighting() -> None:
    board = IntrusionBoard(window=0.0)
    first = board.join("door", "a", 0.0)
    board.seen("a", 19.5)
    # "a" left the picture at 19.5 and its track ends only at 23.5: someone appearing at 23.1 came on their own.
    assert board.join("door", "b", 23.1).id != first.id
    board.seen("b", 30.0)
    # Someone appearing while "b" is still seen joins them.
    assert board.join("door", "c", 29.0).id == board.join("door", "b", 23.1).id


def test_a_running_track_without_sightings_reported_is_under_way() -> None:
    board = IntrusionBoard(window=0.0)
    first = board.join("door", "a", 0.0)
    assert board.join("door", "b", 100.0).id == first.id


def test_join_is_idempotent_and_a_joined_track_stays_in_its_intrusion() -> None:
    board = IntrusionBoard(window=5.0)
    first = board.join("door", "a", 0.0)
    assert board.join("door", "a", 0.0).people == 1
    assert board.join("door", "a", 100.0).id == first.id


def test_cameras_of_one_area_share_intrusions_other_cameras_do_not() -> None:
    board = IntrusionBoard(window=30.0, areas={"garden": ["front", "side"]})
    front = board.join("front", "a", 0.0)
    side = board.join("side", "b", 3.0)
    garage = board.join("garage", "c", 3.0)

    assert side.id == front.id
    assert side.cameras == ("front", "side")
    assert garage.id != front.id
    assert garage.cameras == ("garage",)


def test_names_and_strangers_are_counted() -> None:
    board = IntrusionBoard(window=30.0)
    for track in ("a", "b", "c"):
        board.join("door", track, 0.0)
    board.identify("a", "alice")
    board.identify("b", UNKNOWN)
    summary = board.summary_of("c")

    assert summary is not None
    assert (summary.people, summary.names, summary.strangers) == (3, ("alice",), 1)


def test_a_track_held_back_as_a_pet_leaves_and_an_empty_intrusion_is_gone() -> None:
    board = IntrusionBoard(window=30.0)
    board.join("door", "a", 0.0)
    board.join("door", "cat", 1.0)

    after = board.leave("cat")
    assert after is not None
    assert after.people == 1
    assert board.leave("a") is None
    assert board.intrusion_of("a") is None


def test_an_intrusion_closes_once_its_last_person_left_more_than_the_window_ago() -> None:
    board = IntrusionBoard(window=30.0)
    board.join("door", "a", 0.0)
    board.join("door", "b", 5.0)
    board.end("a", 10.0)
    # b is still in view: nothing closes however late it is.
    assert board.expire(1000.0) == []
    board.end("b", 20.0)
    # 20 + 30 s, plus the slack for a person seen within the window whose event starts a few detections later.
    assert board.expire(20.0 + 30.0 + CONFIRMATION_SLACK) == []
    closed = board.expire(20.5 + 30.0 + CONFIRMATION_SLACK)
    assert [(summary.people, summary.start, summary.end) for summary in closed] == [(2, 0.0, 20.0)]
    assert board.intrusion_of("a") is None


def test_a_camera_whose_stream_is_over_closes_only_its_own_areas_intrusions() -> None:
    board = IntrusionBoard(window=30.0, areas={"garden": ["front", "side"]})
    garden = board.join("front", "a", 0.0)
    board.end("a", 10.0)
    door = board.join("door", "b", 0.0)
    board.end("b", 10.0)
    # The door camera's file is over at 12 s (as CameraPipeline.finish closes them); the garden's cameras play on.
    closed = board.expire(float("inf"), board.area_of("door"))
    assert [summary.id for summary in closed] == [door.id]
    # Someone on the side camera at 20 s is the same visit as "a" at 10 s: one intrusion, one alarm.
    assert board.join("side", "c", 20.0).id == garden.id


def test_cameras_joining_at_once_from_threads_make_one_intrusion() -> None:
    board = IntrusionBoard(window=30.0, areas={"yard": [f"cam{i}" for i in range(8)]})
    ids: list[str] = []
    lock = threading.Lock()

    def join(index: int) -> None:
        summary = board.join(f"cam{index}", f"t{index}", float(index))
        with lock:
            ids.append(summary.id)

    threads = [threading.Thread(target=join, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert board.summary_of("t0") is not None
    assert board.summary_of("t0").people == 8  # type: ignore[union-attr]


# Two cameras of one area, each in its own thread as a hub runs them, over the same stretch of time (kept within
# half a second of each other, as live cameras on one clock are). Each visit: a person on one camera, a second on the
# other while the first is still there, and a third on the first camera two seconds after the second was last seen
# (their track ends, as a pipeline reports it, four seconds after that sighting). The next visit starts 3.5 s after
# the third person was last seen: beyond the window, though the third's track has not ended yet.
WINDOW = 3.0
TRACK_END_DELAY = 4.0
VISIT_PERIOD = 17.5
VISITS = 20
STEP = 0.1
STEPS_IN_STEP = 5  # steps each thread runs between meetings


def visit_tracks(visit: int) -> list[tuple[str, str, float, float]]:
    """Return a visit's tracks: (camera, track id, first sighting, last sighting); the cameras swap each visit."""
    first, other = ("front", "side") if visit % 2 == 0 else ("side", "front")
    base = visit * VISIT_PERIOD
    return [
        (first, f"{visit}-a", base, base + 6.0),
        (other, f"{visit}-b", base + 4.0, base + 10.0),
        (first, f"{visit}-c", base + 12.0, base + 14.0),
    ]


def test_two_cameras_of_one_area_in_their_threads_group_each_visit_once_and_lose_nothing() -> None:
    board = IntrusionBoard(window=WINDOW, areas={"garden": ["front", "side"]})
    tracks = [track for visit in range(VISITS) for track in visit_tracks(visit)]
    joined: dict[str, str] = {}
    raised: list[str] = []
    closed: list[IntrusionSummary] = []
    failures: list[BaseException] = []
    record = threading.Lock()
    steps = round(VISITS * VISIT_PERIOD / STEP) + 200
    meeting = threading.Barrier(2)

    def camera(name: str) -> None:
        mine = [track for track in tracks if track[0] == name]
        try:
            for step in range(steps):
                now = round(step * STEP, 6)
                for _camera, track_id, first, last in mine:
                    if now == first:
                        summary = board.join(name, track_id, first)
                        outcome = board.alarm(track_id, "stranger")
                        board.identify(track_id, UNKNOWN)
                        with record:
                            joined[track_id] = summary.id
                            if outcome is not None and outcome.first:
                                raised.append(outcome.summary.id)
                    if first <= now <= last:
                        board.seen(track_id, now)
                        board.summary_of(track_id)
                    if now == round(last + TRACK_END_DELAY, 6):
                        board.end(track_id, last)
                over = board.expire(now)
                with record:
                    closed.extend(over)
                if step % STEPS_IN_STEP == STEPS_IN_STEP - 1:
                    meeting.wait(timeout=30)
        except BaseException as exc:
            failures.append(exc)
            meeting.abort()

    switch_interval = sys.getswitchinterval()
    # Threads switch far more often than by default, so the two cameras' calls interleave within each step.
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=camera, args=(name,)) for name in ("front", "side")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    closed += board.expire(float("inf"))

    assert failures == []
    assert sorted(joined) == sorted(track_id for _camera, track_id, _first, _last in tracks)
    per_visit = [{joined[track_id] for _camera, track_id, _first, _last in visit_tracks(v)} for v in range(VISITS)]
    # One intrusion per visit, a different one for each.
    assert all(len(ids) == 1 for ids in per_visit)
    assert len(set.union(*per_visit)) == VISITS
    # Each closed once, whole, and alarmed once.
    assert sorted(summary.id for summary in closed) == sorted(set.union(*per_visit))
    assert sorted(raised) == sorted(set.union(*per_visit))
    for summary in closed:
        visit = round(summary.start / VISIT_PERIOD)
        assert (summary.people, summary.strangers, summary.cameras) == (3, 3, ("front", "side"))
        assert (summary.start, summary.end) == (visit * VISIT_PERIOD, visit * VISIT_PERIOD + 14.0)
        assert summary.alarm


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ({"garden": ["nope"]}, "areas.garden: no camera named 'nope'"),
        ({"garden": []}, "areas.garden: list at least one camera"),
        ({"garden": ["door"], "street": ["door"]}, "areas.street: camera 'door' is already in area 'garden'"),
        ({"bad name": ["door"]}, "areas.bad name: an area name may hold only"),
    ],
)
def test_bad_areas_name_the_key(areas: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        validate_config({"cameras": {"door": {"source": "x.mp4"}}, "areas": areas})


def test_group_window_and_push_interval_have_bounds() -> None:
    with pytest.raises(ConfigError, match=r"alarm\.group_window"):
        validate_config({"alarm": {"group_window": -1}})
    with pytest.raises(ConfigError, match=r"notify\.push\.min_interval"):
        validate_config({"notify": {"push": {"min_interval": 99999}}})
    config = validate_config({})
    assert (config.alarm.group_window, config.notify.push.min_interval) == (30.0, 60.0)


# On real footage, through `homewarden analyze` as a user runs it.


def stored_intrusions(folder: Path) -> dict[str, tuple[float, float, bool]]:
    """Return the intrusion rows `analyze` stored, by id."""
    with sqlite3.connect(folder / "data" / "homewarden.db") as connection:
        rows = connection.execute('select id, start, "end", alarm from intrusion')
        return {row[0]: (row[1], row[2], bool(row[3])) for row in rows}


@pytest.mark.slow
@pytest.mark.parametrize("gif", ["face-demographics-walking.gif", "head-pose-face-detection-female-and-male.gif"])
def test_two_people_side_by_side_are_one_intrusion(gif: str, tmp_path: Path) -> None:
    code, events = analyze_json(media_file(f"video/{gif}"), tmp_path)

    assert code == 0
    people = [event for event in events if event["label"] == "person"]
    assert len(people) == 2
    assert all(event["alarm"] for event in people)
    # Both tracks still alarm (the decision is per person), but as one intrusion: one alarm to the household.
    assert len({event["intrusion"] for event in people}) == 1
    stored = stored_intrusions(tmp_path)
    assert list(stored) == [people[0]["intrusion"]]
    start, end, alarm = stored[people[0]["intrusion"]]
    assert alarm
    assert start == min(e["start"] for e in people)
    assert end == max(e["end"] for e in people)


@pytest.mark.slow
def test_one_by_one_visitors_seconds_apart_are_one_intrusion(one_by_one_analysis: dict[str, Any]) -> None:
    events = one_by_one_analysis["events"]
    # The visitors come 4-8 s after one another: within the default 30 s they are one intrusion.
    assert len(events) == 6
    assert len({event["intrusion"] for event in events}) == 1


@pytest.mark.slow
def test_without_a_window_each_visit_of_one_by_one_is_its_own_intrusion(tmp_path: Path) -> None:
    code, events = analyze_json(
        media_file("video/one-by-one-person-detection.mp4"), tmp_path, config_text="alarm:\n  group_window: 0\n"
    )

    assert code == 0
    assert len(events) == 6
    assert len({event["intrusion"] for event in events}) == 6


@pytest.mark.slow
def test_a_person_who_appears_inside_an_entry_only_zone_and_stays_there_raises_no_alarm(tmp_path: Path) -> None:
    """A passer-by: the zone covers the whole picture, so the person is first seen inside it."""
    video = media_file("video/people-detection.gif")
    street = (
        f"cameras:\n  shop:\n    source: {video}\n    zones:\n      street:\n"
        "        coordinates: [[0, 0], [2000, 0], [2000, 2000], [0, 2000]]\n"
        "        alarm_on_entry_from_outside: true\n"
    )
    code, events = analyze_json(video, tmp_path, config_text=street)

    assert code == 0
    assert [(event["label"], event["alarm"], event["zones"]) for event in events] == [("person", False, ["street"])]
    with sqlite3.connect(tmp_path / "data" / "homewarden.db") as connection:
        (attributes,) = connection.execute("select attributes from event").fetchone()
    assert json.loads(attributes)["stayed_in_zone"] == "street"
