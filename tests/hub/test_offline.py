"""The "camera offline" notice: once per outage, only after the allowed time, only when the mode arms the camera."""

from __future__ import annotations

from homewarden.camera.health import CameraHealth
from homewarden.config.model import ArmingMode
from homewarden.hub.offline import OfflineNotices
from homewarden.notify.bus import CameraOffline


def notices(armed: dict[str, ArmingMode | None]) -> tuple[OfflineNotices, list[CameraOffline]]:
    published: list[CameraOffline] = []
    return OfflineNotices(60.0, lambda camera: armed.get(camera), published.append), published


def down(camera: str, since: float) -> CameraHealth:
    return CameraHealth(camera, "reconnecting", "rtsp://door: connection refused", since)


def test_one_notice_per_outage_after_the_allowed_time() -> None:
    watcher, published = notices({"door": "away"})
    assert watcher.check({"door": down("door", 1000.0)}, 1030.0) == []
    raised = watcher.check({"door": down("door", 1000.0)}, 1061.0)
    assert [(n.camera, n.down_since, n.mode, n.reason) for n in raised] == [
        ("door", 1000.0, "away", "rtsp://door: connection refused")
    ]
    assert watcher.check({"door": down("door", 1000.0)}, 1200.0) == []
    assert published == raised
    # Back online, then down again: a new outage, a new notice.
    watcher.check({"door": CameraHealth("door", "online", None, 1300.0)}, 1300.0)
    assert len(watcher.check({"door": down("door", 1400.0)}, 1500.0)) == 1


def test_an_outage_that_flips_between_reconnecting_and_failed_counts_from_its_start() -> None:
    watcher, _ = notices({"door": "night"})
    watcher.check({"door": down("door", 1000.0)}, 1010.0)
    failed = CameraHealth("door", "failed", "KeyError: 'x'", 1050.0)
    assert [n.down_since for n in watcher.check({"door": failed}, 1065.0)] == [1000.0]


def test_no_notice_while_the_mode_does_not_arm_the_camera() -> None:
    watcher, published = notices({"door": None})
    assert watcher.check({"door": down("door", 0.0)}, 1000.0) == []
    assert published == []


def test_a_camera_stopped_with_the_hub_is_not_offline() -> None:
    watcher, _ = notices({"door": "away"})
    assert watcher.check({"door": CameraHealth("door", "stopped", "stopped", 0.0)}, 1000.0) == []
