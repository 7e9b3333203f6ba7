"""Intrusions: person tracks close in time on one camera or area are one alarm (unit and on real footage)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import analyze_json, media_file
from homewarden.config.loader import ConfigError, validate_config
from homewarden.events.intrusions import CONFIRMATION_SLACK, IntrusionBoard
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
