"""The alarm decision end to end: `homewarden analyze` on real footage and on footage composed from real photos."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import analyze_json, init_home_key, media_file, write_config
from events.footage import crossing_the_room, portrait_cutout, sniffing_the_camera, visit
from homewarden.cli import main
from homewarden.demo import compose_demo_scene

pytestmark = pytest.mark.slow

GIFS = ["people-detection.gif", "face-demographics-walking.gif", "head-pose-face-detection-female-and-male.gif"]


def analyze(video: Path, folder: Path, *options: str, config_text: str = "") -> list[dict[str, Any]]:
    """Run `homewarden analyze --json` as a user would and return its events."""
    code, events = analyze_json(video, folder, *options, config_text=config_text)
    assert code == 0
    return events


def stored_attributes(folder: Path) -> dict[str, dict[str, str]]:
    """Return each stored event's attributes by id."""
    with sqlite3.connect(folder / "data" / "homewarden.db") as connection:
        return {row[0]: json.loads(row[1]) for row in connection.execute("select id, attributes from event")}


def test_one_by_one_in_away_with_nobody_enrolled_alarms_once_per_visit(one_by_one_analysis: dict[str, Any]) -> None:
    events = one_by_one_analysis["events"]

    assert [event["label"] for event in events] == ["person"] * 6
    assert all(event["alarm"] for event in events)
    # The six visitors are seen from behind: no face, so each alarm is for an unidentified person.
    assert [(event["alarm_reason"], event["sub_label"]) for event in events] == [("unidentified", None)] * 6


@pytest.mark.parametrize("gif", GIFS)
def test_every_person_in_the_shared_gifs_alarms_in_away(gif: str, tmp_path: Path) -> None:
    events = analyze(media_file(f"video/{gif}"), tmp_path)

    people = [event for event in events if event["label"] == "person"]
    assert people
    assert all(event["alarm"] and event["alarm_reason"] in ("stranger", "unidentified") for event in people)


def test_faces_seen_close_up_are_strangers(tmp_path: Path) -> None:
    events = analyze(media_file("video/head-pose-face-detection-female-and-male.gif"), tmp_path)

    assert [(event["sub_label"], event["alarm_reason"]) for event in events] == [("unknown", "stranger")] * 2


@pytest.mark.parametrize(("mode", "alarm"), [("away", True), ("night", True), ("home", False), ("disarmed", False)])
def test_modes(mode: str, alarm: bool, tmp_path: Path) -> None:
    events = analyze(media_file("video/people-detection.gif"), tmp_path, "--mode", mode)

    assert [event["alarm"] for event in events] == [alarm]
    assert stored_attributes(tmp_path)[events[0]["id"]]["arming_mode"] == mode


def test_camera_and_zone_rules(tmp_path: Path) -> None:
    """Upstairs does not alarm at night, except for someone who walks into the landing zone."""
    video = media_file("video/people-detection.gif")
    camera = f"cameras:\n  upstairs:\n    source: {video}\n"
    landing = "    zones:\n      landing: {coordinates: [[0, 0], [480, 0], [480, 270], [0, 270]]}\n"
    no_night = "alarm:\n  cameras:\n    upstairs: {modes: [away]}\n"
    landing_at_night = "alarm:\n  cameras:\n    upstairs: {modes: [away], zones: {landing: [night]}}\n"

    assert [e["alarm"] for e in analyze(video, tmp_path / "a", "--mode", "night", config_text=camera + no_night)] == [
        False
    ]
    assert [e["alarm"] for e in analyze(video, tmp_path / "b", "--mode", "away", config_text=camera + no_night)] == [
        True
    ]
    at_night = analyze(video, tmp_path / "c", "--mode", "night", config_text=camera + landing + landing_at_night)
    assert [(e["alarm"], e["zones"]) for e in at_night] == [(True, ["landing"])]


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Compose visits by a household member (Obama) and a stranger, from the probe photos."""
    folder = tmp_path_factory.mktemp("visits")
    probe = media_file("faces/probe/obama1.jpg").parent
    return {
        "obama": visit(folder / "obama.mp4", portrait_cutout(probe / "obama1.jpg", (380, 90, 1100, 832), 320)),
        "stranger": visit(
            folder / "stranger.mp4", portrait_cutout(probe / "johnsnow_test1.jpg", (60, 40, 660, 1154), 380)
        ),
    }


def test_a_household_member_coming_home_does_not_alarm(visits: dict[str, Path], tmp_path: Path) -> None:
    household = media_file("faces/enroll/obama/obama.jpg").parents[1]

    events = analyze(visits["obama"], tmp_path, "--faces", str(household))

    assert [(e["label"], e["sub_label"], e["alarm"], e["alarm_reason"]) for e in events] == [
        ("person", "obama", False, None)
    ]


def test_a_stranger_alarms_even_with_a_household(visits: dict[str, Path], tmp_path: Path) -> None:
    household = media_file("faces/enroll/obama/obama.jpg").parents[1]

    events = analyze(visits["stranger"], tmp_path, "--faces", str(household))

    assert [(e["label"], e["sub_label"], e["alarm"], e["alarm_reason"]) for e in events] == [
        ("person", "unknown", True, "stranger")
    ]


def test_an_enrolled_member_is_recognised_from_the_database(visits: dict[str, Path], tmp_path: Path) -> None:
    enroll = media_file("faces/enroll/obama/obama.jpg").parent
    config = write_config(tmp_path)
    init_home_key(tmp_path)  # enrolment seals the gallery key's copy to it
    assert main(["faces", "enroll", "obama", *map(str, sorted(enroll.glob("*.jpg"))), "--config", str(config)]) == 0

    events = analyze(visits["obama"], tmp_path)

    assert [(e["sub_label"], e["alarm"]) for e in events] == [("obama", False)]


@pytest.fixture(scope="module")
def pet_footage(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Compose pet-only footage from Chelsea (scikit-image): at the lens, and crossing the room at two sizes."""
    folder = tmp_path_factory.mktemp("pets")
    return [
        sniffing_the_camera(folder / "sniff-800.mp4", 800),
        sniffing_the_camera(folder / "sniff-800-mirrored.mp4", 800, flip=True),
        sniffing_the_camera(folder / "sniff-900.mp4", 900),
        sniffing_the_camera(folder / "sniff-900-mirrored.mp4", 900, flip=True),
        sniffing_the_camera(folder / "sniff-1000.mp4", 1000),
        crossing_the_room(folder / "floor-200.mp4", 200, floor=True),
        crossing_the_room(folder / "sofa-330.mp4", 330, floor=False),
    ]


def test_pets_never_raise_a_person_alarm(pet_footage: list[Path], tmp_path: Path) -> None:
    held_back = 0
    for index, video in enumerate(pet_footage):
        folder = tmp_path / str(index)
        events = analyze(video, folder)
        assert events, video
        assert not any(event["alarm"] for event in events), (video, events)
        held_back += sum("held_back_as_pet" in attributes for attributes in stored_attributes(folder).values())
    # NanoDet calls the cat at the lens a person (median scores 0.5-0.7): the guard, not the detector, held those back.
    # Three, not four, since cats are events at a median of 0.45: sniff-900-mirrored's cat is confirmed at 3.0 s (3
    # hits, median 0.49) instead of 3.2 s, the 2 s re-looks fall at 5.0, 7.0 and 9.1 s, and the last votes `cat`, so
    # the object ends a cat and no person track is left to hold back (docs/benchmarks.md, crf16).
    assert held_back >= 3


def test_demo_scene_alarms_for_the_person_not_the_cat(tmp_path: Path) -> None:
    scene = compose_demo_scene(tmp_path / "demo-scene.mp4")

    events = analyze(scene, tmp_path)

    assert [(e["label"], e["alarm"], e["alarm_reason"]) for e in events] == [
        ("person", True, "stranger"),
        ("cat", False, None),
    ]
