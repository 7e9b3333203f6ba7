"""Events in plain words: the sentence the timeline, the event page and the notifications show."""

from __future__ import annotations

import pytest

from homewarden.config import HomewardenConfig
from homewarden.events.wording import camera_display_name, camera_names, event_sentence, place, subject
from homewarden.i18n import use_language


@pytest.mark.parametrize(
    ("camera_id", "shown"),
    [("front_door", "Front door"), ("living_room", "Living room"), ("cam-2", "Cam 2"), ("garage", "Garage")],
)
def test_a_camera_without_a_name_is_shown_as_its_id_in_words(camera_id: str, shown: str) -> None:
    assert camera_display_name(camera_id) == shown


def test_the_configured_name_wins_and_every_camera_has_one() -> None:
    config = HomewardenConfig.model_validate(
        {"cameras": {"front_door": {"source": "a.mp4", "name": "Haustür"}, "living_room": {"source": "b.mp4"}}}
    )
    assert camera_names(config) == {"front_door": "Haustür", "living_room": "Living room"}


@pytest.mark.parametrize(
    ("label", "sub_label", "camera", "sentence"),
    [
        ("person", "unknown", "Front door", "Unfamiliar person at the front door"),
        ("person", "stranger", "Front door", "Unfamiliar person at the front door"),
        ("person", "Anna", "Front door", "Anna at the front door"),
        ("person", None, "Front door", "Person at the front door"),
        ("cat", None, "Living room", "Cat in the living room"),
        ("car", None, "Driveway", "Car in the driveway"),
        ("motorcycle", None, "Garden", "Motorbike in the garden"),
        ("dog", None, "CAM 2", "Dog at CAM 2"),
        ("person", "unknown", "Anna's desk", "Unfamiliar person at Anna's desk"),
    ],
)
def test_an_event_reads_as_a_sentence(label: str, sub_label: str | None, camera: str, sentence: str) -> None:
    assert event_sentence(label, sub_label, camera) == sentence


def test_the_place_of_an_empty_name_is_nothing() -> None:
    assert place("") == ""


@pytest.mark.parametrize(
    ("label", "sub_label", "camera", "sentence"),
    [
        ("person", "unknown", "Haustür", "Unbekannte Person – Haustür"),
        ("person", "stranger", "Einfahrt", "Unbekannte Person – Einfahrt"),
        ("person", "Anna", "Haustür", "Anna – Haustür"),
        ("person", None, "Garten", "Person – Garten"),
        ("cat", None, "Wohnzimmer", "Katze – Wohnzimmer"),
        ("motorcycle", None, "Front door", "Motorrad – Front door"),
        ("dog", None, "CAM 2", "Hund – CAM 2"),
        # A label without a German word keeps the detector's English one rather than showing nothing.
        ("kite", None, "Garten", "Kite – Garten"),
    ],
)
def test_in_german_the_camera_is_named_as_written_after_a_dash(
    label: str, sub_label: str | None, camera: str, sentence: str
) -> None:
    with use_language("de"):
        assert event_sentence(label, sub_label, camera) == sentence
        assert sentence == f"{subject(label, sub_label)} {place(camera)}"
    # Outside the block the hub speaks English again.
    assert event_sentence(label, sub_label, "Front door").endswith("at the front door")
