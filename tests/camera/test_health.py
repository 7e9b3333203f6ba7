"""The camera health board: states, who hears of changes, and rates."""

from __future__ import annotations

import time

import pytest

from homewarden.camera import health as health_module
from homewarden.camera.health import CameraHealth, CameraHealthBoard


def test_listener_hears_each_change_once() -> None:
    heard: list[tuple[str, str | None]] = []
    board = CameraHealthBoard(["hall"], lambda health: heard.append((health.state, health.reason)))
    board.set_state("hall", "reconnecting", "rtsp://cam: connection refused")
    board.set_state("hall", "reconnecting", "rtsp://cam: connection refused")
    board.frame_arrived("hall")
    board.frame_arrived("hall")
    board.set_state("hall", "failed", "KeyError: 'x'")
    assert heard == [("reconnecting", "rtsp://cam: connection refused"), ("online", None), ("failed", "KeyError: 'x'")]
    current = board.health("hall")
    assert current is not None
    assert current.down
    assert current.last_frame_at is not None


def test_a_camera_is_online_only_once_a_frame_arrives() -> None:
    board = CameraHealthBoard(["hall"])
    assert board.all()["hall"].state == "starting"
    board.frame_arrived("hall")
    assert board.all()["hall"].state == "online"


def test_rates_are_measured_over_a_window_and_reset_with_a_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health_module, "RATE_WINDOW", 0.2)
    board = CameraHealthBoard(["hall"])
    board.frame_arrived("hall")
    board.measure("hall", frames=0, detector_calls=0, dropped=0)
    time.sleep(0.25)
    board.measure("hall", frames=10, detector_calls=2, dropped=1)
    measured = board.all()["hall"]
    assert 10 / 0.5 < measured.frames_per_second <= 10 / 0.2
    assert 0 < measured.detections_per_second < measured.frames_per_second
    assert (measured.frames_analysed, measured.detector_calls, measured.frames_dropped) == (10, 2, 1)
    # A restarted camera counts from zero again: no negative rate.
    board.measure("hall", frames=1, detector_calls=0, dropped=0)
    time.sleep(0.25)
    board.measure("hall", frames=3, detector_calls=0, dropped=0)
    assert board.all()["hall"].frames_per_second > 0


def test_a_camera_that_is_down_shows_no_rate() -> None:
    board = CameraHealthBoard(["hall"])
    board.set_state("hall", "reconnecting", "gone")
    board.measure("hall", frames=5, detector_calls=5, dropped=0)
    assert board.all()["hall"] == CameraHealth(
        "hall", "reconnecting", "gone", board.all()["hall"].since, frames_analysed=5, detector_calls=5
    )
