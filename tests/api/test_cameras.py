"""The camera list: each camera's health as the supervisor keeps it (state, why it is down, rates)."""

from __future__ import annotations

from api.conftest import Hub, set_up_owner


def test_the_camera_list_shows_state_reason_and_rates(hub: Hub) -> None:
    owner = set_up_owner(hub)
    board = hub.services.health
    # The board is the real one the supervisor writes to; here the test plays the cameras' part.
    board.frame_arrived("front_door")
    board.measure("front_door", frames=120, detector_calls=30, dropped=4)
    board.set_state("garden", "reconnecting", "rtsp://garden: connection refused")
    board.count_reconnect("garden")
    cameras = {camera["name"]: camera for camera in owner.get("/api/cameras").json()}
    front, garden = cameras["front_door"], cameras["garden"]
    assert (front["state"], front["reason"], front["frames_dropped"]) == ("online", None, 4)
    assert (garden["state"], garden["reason"], garden["reconnects"]) == (
        "reconnecting",
        "rtsp://garden: connection refused",
        1,
    )
    assert garden["frames_per_second"] == 0
    assert garden["state_since"].endswith(("Z", "+00:00"))


def test_a_camera_not_started_yet_is_starting(hub: Hub) -> None:
    owner = set_up_owner(hub)
    states = {camera["name"]: (camera["state"], camera["online"]) for camera in owner.get("/api/cameras").json()}
    assert states == {"front_door": ("starting", False), "garden": ("starting", False)}
