"""Settings in the browser: the owner's changes saved to the hub's real YAML file, refused at the field when invalid.

The hub is the real one of tests/api/conftest.py; its config file is written here with comments, and the camera added
through the API is a real RTSP server (GStreamer, tests/camera/rtsp_server.py) or a real video file.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.conftest import Hub, csrf_of, set_up_owner
from camera.test_rtsp_server import RtspCamera
from conftest import media_file
from homewarden.config import load_config
from homewarden.store.retention import FootageKeeper
from video.synthetic import write_video


def config_text(folder: Path) -> str:
    """Return the YAML of the test hub's config (the same cameras and storage), with comments an owner wrote."""
    return f"""\
# Our house. Edited by hand and from the settings page.
cameras:
  front_door:  # by the bell
    source: {folder / "front_door.mp4"}
  garden:
    source: {folder / "garden.mp4"}
    # The hedge: ignore it.
    motion:
      threshold: 30
storage:
  folder: {folder / "data"}  # on the SSD
"""


@pytest.fixture
def owner(hub: Hub) -> tuple[TestClient, dict[str, str]]:
    """Give the hub its config file and return the signed-in owner's client and CSRF header."""
    path = hub.folder / "homewarden.yaml"
    path.write_text(config_text(hub.folder), encoding="utf-8")
    hub.services.config_path = path
    client = set_up_owner(hub)
    return client, csrf_of(client)


def test_the_owner_reads_the_settings_without_camera_passwords(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, _ = owner
    path = hub.services.config_path
    assert path is not None
    path.write_text(
        config_text(hub.folder).replace(str(hub.folder / "garden.mp4"), "rtsp://admin:hunter2@192.0.2.7/live"),
        encoding="utf-8",
    )

    settings = client.get("/api/settings").json()

    assert settings["config_path"] == str(path)
    assert [(c["id"], c["display_name"], c["source"]) for c in settings["cameras"]] == [
        ("front_door", "Front door", str(hub.folder / "front_door.mp4")),
        ("garden", "Garden", "rtsp://admin:***@192.0.2.7/live"),
    ]
    assert settings["retention"] == {"alarm_days": 30, "other_days": 7, "max_gb": None}


def test_a_rename_is_saved_with_the_comments_and_applies_now(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner

    answer = client.patch("/api/settings", json={"cameras": {"front_door": {"name": "Haustür"}}}, headers=csrf)

    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"] == [{"key": "cameras.front_door.name", "applies": "now"}]
    assert answer.json()["message"] == "Saved. The changes apply now."
    assert hub.services.camera_names["front_door"] == "Haustür"
    assert hub.services.config_path is not None
    text = hub.services.config_path.read_text(encoding="utf-8")
    assert text == config_text(hub.folder).replace(
        f"    source: {hub.folder / 'front_door.mp4'}\n",
        f"    source: {hub.folder / 'front_door.mp4'}\n    name: Haustür\n",
    )
    assert load_config(hub.services.config_path).cameras["front_door"].name == "Haustür"


def test_retention_and_the_disk_cap_apply_now_and_the_rest_after_a_restart(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    # The keeper `serve` builds when it opens the media folder (the API tests' hub starts no cameras).
    hub.services.keeper = FootageKeeper(
        hub.services.events, hub.services.storage.media, hub.services.config.storage.retention
    )
    body = {
        "cameras": {"garden": {"enabled": False, "motion_threshold": 45}},
        "objects": {"track": ["person", "cat"], "min_scores": {"person": 0.6}},
        "retention": {"alarm_days": 60, "max_gb": 120.5},
    }

    answer = client.patch("/api/settings", json=body, headers=csrf)

    assert answer.status_code == 200, answer.text
    applies = {change["key"]: change["applies"] for change in answer.json()["changes"]}
    assert applies == {
        "cameras.garden.enabled": "after a restart",
        "cameras.garden.motion.threshold": "after a restart",
        "objects.track": "after a restart",
        "objects.filters.person.min_score": "after a restart",
        "storage.retention.alarm_days": "now",
        "storage.retention.max_gb": "now",
    }
    assert "after a restart" in answer.json()["message"]
    assert hub.services.config.storage.retention.max_gb == 120.5
    assert hub.services.keeper is not None
    assert hub.services.keeper.policy.alarm_days == 60
    # Saved, not yet running: the camera still runs as started.
    assert hub.services.config.cameras["garden"].enabled is True
    settings = answer.json()["settings"]
    assert settings["cameras"][1]["enabled"] is False
    assert settings["cameras"][1]["motion_threshold"] == 45
    assert settings["min_scores"] == {"person": 0.6}
    assert settings["default_min_score"] == 0.35

    removed = client.patch("/api/settings", json={"retention": {"max_gb": None}}, headers=csrf)
    assert removed.status_code == 200, removed.text
    assert removed.json()["settings"]["retention"]["max_gb"] is None


def test_an_invalid_change_is_refused_at_its_field_and_nothing_is_saved(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    path = hub.services.config_path
    assert path is not None
    before = path.read_text(encoding="utf-8")

    answer = client.patch(
        "/api/settings",
        json={"cameras": {"front_door": {"name": "Porch", "motion_threshold": 999}}, "retention": {"other_days": 0}},
        headers=csrf,
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == {
        "cameras.front_door.motion.threshold": "Input should be less than or equal to 255.",
        "storage.retention.other_days": "Input should be greater than or equal to 1.",
    }
    assert answer.json()["detail"].startswith("Nothing was saved: ")
    assert path.read_text(encoding="utf-8") == before
    assert hub.services.camera_names["front_door"] == "Front door"


def test_an_unknown_camera_is_not_found(owner: tuple[TestClient, dict[str, str]]) -> None:
    client, csrf = owner

    answer = client.patch("/api/settings", json={"cameras": {"attic": {"name": "Attic"}}}, headers=csrf)

    assert answer.status_code == 404
    assert answer.json()["detail"] == "There is no camera called attic."


def test_a_hub_started_without_a_config_file_says_so(hub: Hub) -> None:
    client = set_up_owner(hub)

    answer = client.get("/api/settings")

    assert answer.status_code == 409
    assert "started without a config file" in answer.json()["detail"]


def test_the_connection_test_returns_the_first_picture_of_a_file(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    video = write_video(hub.folder / "porch.mp4", seconds=1, fps=10)

    answer = client.post("/api/settings/camera-test", json={"source": str(video)}, headers=csrf)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/jpeg"
    picture = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    assert picture.shape[0] > 0


def test_a_camera_that_does_not_answer_is_refused_at_the_source_field(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    path = hub.services.config_path
    assert path is not None
    before = path.read_text(encoding="utf-8")

    answer = client.post(
        "/api/settings/cameras",
        json={"id": "porch", "source": "rtsp://admin:hunter2@127.0.0.1:1/live", "name": "Porch"},
        headers=csrf,
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == {
        "source": "The camera did not answer: rtsp://admin:***@127.0.0.1:1/live: cannot connect (Connection refused)."
    }
    assert "hunter2" not in answer.text
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.slow  # a GStreamer RTSP server process, which `make check` does not install
@pytest.mark.timeout(120)
def test_a_camera_is_added_by_its_rtsp_url_after_a_real_connection_test(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    camera = RtspCamera(media_file("video/one-by-one-person-detection.mp4"))
    camera.start()
    try:
        answer = client.post(
            "/api/settings/cameras", json={"id": "porch", "source": camera.url, "name": "Porch"}, headers=csrf
        )
    finally:
        camera.stop()

    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"] == [{"key": "cameras.porch", "applies": "after a restart"}]
    assert answer.json()["snapshot"].startswith("data:image/jpeg;base64,")
    assert hub.services.config_path is not None
    saved = load_config(hub.services.config_path)
    assert saved.cameras["porch"].source == camera.url
    assert saved.cameras["porch"].name == "Porch"
    assert "# by the bell" in hub.services.config_path.read_text(encoding="utf-8")

    again = client.post(
        "/api/settings/cameras", json={"id": "porch", "source": camera.url, "name": "Porch"}, headers=csrf
    )
    assert again.status_code == 422
    assert again.json()["fields"] == {"id": "A camera called porch exists already."}


def test_motion_masks_and_zones_are_saved_as_flow_lists_and_apply_after_a_restart(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    porch = [[0, 300], [640, 300], [640, 480]]
    hedge = [[10, 10], [200, 10], [200, 90], [10, 90]]

    answer = client.patch(
        "/api/settings",
        json={"cameras": {"garden": {"motion_mask": [hedge], "zones": {"porch": porch}}}},
        headers=csrf,
    )

    assert answer.status_code == 200, answer.text
    assert {change["applies"] for change in answer.json()["changes"]} == {"after a restart"}
    garden = answer.json()["settings"]["cameras"][1]
    assert garden["motion_mask"] == [hedge]
    assert garden["zones"] == {"porch": porch}
    assert hub.services.config_path is not None
    text = hub.services.config_path.read_text(encoding="utf-8")
    assert "    # The hedge: ignore it.\n    motion:\n      threshold: 30\n      mask:\n      - - [10, 10]\n" in text
    assert "        - [0, 300]\n" in text

    removed = client.patch("/api/settings", json={"cameras": {"garden": {"zones": {"porch": []}}}}, headers=csrf)
    assert removed.json()["settings"]["cameras"][1]["zones"] == {}

    too_few = client.patch(
        "/api/settings", json={"cameras": {"garden": {"zones": {"porch": [[0, 0], [5, 5]]}}}}, headers=csrf
    )
    assert too_few.status_code == 422
    assert too_few.json()["fields"] == {
        "cameras.garden.zones.porch.coordinates": "List should have at least 3 items after validation, not 2."
    }


def test_a_camera_is_removed_from_the_file_with_the_others_comments_kept(
    hub: Hub, owner: tuple[TestClient, dict[str, str]]
) -> None:
    client, csrf = owner
    assert hub.services.config_path is not None

    answer = client.delete("/api/settings/cameras/garden", headers=csrf)

    assert answer.status_code == 200, answer.text
    # This test hub runs no cameras, so nothing stops now; a hub whose cameras run stops it at once
    # (tests/hub/test_settings_live.py).
    assert answer.json()["changes"] == [{"key": "cameras.garden", "applies": "after a restart"}]
    assert [camera["id"] for camera in answer.json()["settings"]["cameras"]] == ["front_door"]
    text = hub.services.config_path.read_text(encoding="utf-8")
    assert "garden" not in text
    assert "front_door:  # by the bell" in text
    assert "storage:" in text

    unknown = client.delete("/api/settings/cameras/garden", headers=csrf)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "There is no camera called garden."


def test_the_file_edited_by_hand_is_applied_on_request(hub: Hub, owner: tuple[TestClient, dict[str, str]]) -> None:
    client, csrf = owner
    assert hub.services.config_path is not None
    hub.services.config_path.write_text(
        config_text(hub.folder).replace("  garden:\n", "  garden:\n    name: Garten\n"), encoding="utf-8"
    )

    answer = client.post("/api/settings/reload", headers=csrf)

    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == "The config file's settings apply when the cameras start."
    assert hub.services.camera_names["garden"] == "Garten", "a name applies at once, cameras running or not"
