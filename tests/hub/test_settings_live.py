"""Settings changed in the browser apply to a running hub: the camera concerned restarts with them, the others go on.

A real hub (`Hub.build` from a config file, real detector, looping real footage as live cameras); the changes go
through the same `change_settings` / `add_camera` the settings API calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import init_home_key, media_file, write_config
from homewarden.config import load_config
from homewarden.config.writer import ConfigChange
from homewarden.hub.hub import Hub
from homewarden.hub.settings import add_camera, change_settings, reload_settings, remove_camera
from homewarden.notify.bus import CamerasChanged, Message
from waiting import wait_for

pytestmark = pytest.mark.slow


def analysed(hub: Hub, camera: str) -> int:
    health = hub.services.health.health(camera)
    return 0 if health is None else health.frames_analysed


def state_of(hub: Hub, camera: str) -> str:
    health = hub.services.health.health(camera)
    return "unknown" if health is None else health.state


def goes_on(hub: Hub, camera: str) -> Callable[[], bool]:
    """Return a check that the camera's current runner analyses frames."""
    runner = hub.services.runners[camera]
    return lambda: runner is hub.services.runners[camera] and runner.counters()[0] > 3


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[tuple[Hub, list[Message]]]:
    video = media_file("video/people-detection.gif")
    cameras = "".join(f"  {name}:\n    source: {video}\n    loop: true\n" for name in ("hall", "kitchen"))
    config = write_config(tmp_path, f"cameras:\n{cameras}")
    init_home_key(tmp_path)
    hub = Hub.build(config, "serve")
    heard: list[Message] = []
    hub.services.bus.subscribe("test", heard.append)
    hub.start(wait_for_setup=False)
    try:
        for camera in ("hall", "kitchen"):
            wait_for(lambda camera=camera: camera in hub.services.runners, 30, f"{camera} to start")
            wait_for(goes_on(hub, camera), 60, f"{camera} to analyse")
        yield hub, heard
    finally:
        hub.stop()


def test_a_camera_setting_restarts_that_camera_with_it_and_leaves_the_other_running(
    running_hub: tuple[Hub, list[Message]],
) -> None:
    hub, _heard = running_hub
    services = hub.services
    hall, kitchen = services.runners["hall"], services.runners["kitchen"]
    mask = [[0, 0], [100, 0], [100, 100]]

    applied = change_settings(
        services,
        [
            ConfigChange(("cameras", "hall", "motion", "threshold"), 44),
            ConfigChange(("cameras", "hall", "motion", "mask"), [mask]),
        ],
    )

    assert {change.applies for change in applied} == {"now"}
    wait_for(lambda: services.runners["hall"] is not hall, 30, "the hall camera to restart")
    wait_for(goes_on(hub, "hall"), 60, "the restarted hall camera to analyse")
    restarted = services.runners["hall"].config.cameras["hall"]
    assert restarted.motion.threshold == 44
    assert [[list(point) for point in polygon] for polygon in restarted.motion.mask] == [mask]
    assert services.runners["kitchen"] is kitchen, "the kitchen camera was not touched"
    health = services.health.health("hall")
    assert health is not None
    assert health.state == "online"
    assert health.restarts == 0, "a restart for new settings is no failure"


def test_object_filters_restart_every_camera(running_hub: tuple[Hub, list[Message]]) -> None:
    hub, _heard = running_hub
    services = hub.services
    before = dict(services.runners)

    change_settings(services, [ConfigChange(("objects", "filters", "person", "min_score"), 0.7)])

    for camera in ("hall", "kitchen"):
        wait_for(lambda camera=camera: services.runners[camera] is not before[camera], 30, f"{camera} to restart")
        assert services.runners[camera].config.objects.filters["person"].min_score == 0.7


def test_a_camera_turned_off_stops_and_one_added_starts_without_a_restart_of_the_hub(
    running_hub: tuple[Hub, list[Message]],
) -> None:
    hub, heard = running_hub
    services = hub.services
    assert services.config_path is not None

    applied = change_settings(services, [ConfigChange(("cameras", "kitchen", "enabled"), False)])

    assert [change.applies for change in applied] == ["now"]
    wait_for(lambda: state_of(hub, "kitchen") == "stopped", 30, "the kitchen camera to stop")
    assert (services.health.health("kitchen") or pytest.fail("no kitchen")).reason == "turned off"
    hall_frames = analysed(hub, "hall")
    wait_for(lambda: analysed(hub, "hall") > hall_frames + 3, 30, "the hall camera to go on")

    snapshot, added = add_camera(services, "porch", str(media_file("video/people-detection.gif")), "Porch")

    assert snapshot.startswith(b"\xff\xd8")
    assert added.applies == "now"
    wait_for(lambda: "porch" in services.runners, 30, "the porch camera to start")
    wait_for(goes_on(hub, "porch"), 60, "the porch camera to analyse")
    assert services.accounts.home_of_camera("porch") == services.hub_home_id
    assert services.camera_names["porch"] == "Porch"
    assert load_config(services.config_path).cameras["porch"].name == "Porch"

    # Turned on again, the kitchen comes back.
    change_settings(services, [ConfigChange(("cameras", "kitchen", "enabled"), True)])
    wait_for(goes_on(hub, "kitchen"), 60, "the kitchen camera to come back")

    time.sleep(0.5)  # the bus delivers on its own thread
    changes = [message for message in heard if isinstance(message, CamerasChanged)]
    assert [message.cameras for message in changes] == [
        ("hall",),
        ("hall", "porch"),
        ("hall", "kitchen", "porch"),
    ]
    assert dict(changes[-1].names)["porch"] == "Porch"


def test_a_rename_restarts_nothing_and_reaches_the_channels_names(running_hub: tuple[Hub, list[Message]]) -> None:
    hub, _heard = running_hub
    services = hub.services
    before = dict(services.runners)
    names = services.live_camera_names()

    applied = change_settings(services, [ConfigChange(("cameras", "hall", "name"), "Flur")])

    assert [change.applies for change in applied] == ["now"]
    assert names["hall"] == "Flur", "webhooks and push read the names through this view"
    time.sleep(1.0)
    assert services.runners == before


def test_a_removed_camera_stops_and_a_file_edited_by_hand_applies_on_request(
    running_hub: tuple[Hub, list[Message]],
) -> None:
    hub, _heard = running_hub
    services = hub.services
    assert services.config_path is not None
    hall = services.runners["hall"]

    removed = remove_camera(services, "kitchen")

    assert removed.applies == "now"
    wait_for(lambda: state_of(hub, "kitchen") == "stopped", 30, "the removed kitchen camera to stop")
    assert "kitchen" not in load_config(services.config_path).cameras
    assert services.runners["hall"] is hall

    text = services.config_path.read_text(encoding="utf-8")
    services.config_path.write_text(
        text.replace("    loop: true\n", "    loop: true\n    motion:\n      threshold: 61\n", 1)
    )
    reload_settings(services)

    wait_for(lambda: services.runners["hall"] is not hall, 30, "the hall camera to restart with the edited file")
    assert services.runners["hall"].config.cameras["hall"].motion.threshold == 61
