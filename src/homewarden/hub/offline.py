"""The "camera offline" notice: in an armed mode, a camera down for longer than allowed is itself worth knowing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from homewarden.camera.health import CameraHealth
from homewarden.config.model import ArmingMode
from homewarden.notify.bus import CameraOffline

log = logging.getLogger(__name__)


class OfflineNotices:
    """Raise one notice per outage: a camera down ``after`` seconds while the mode arms it."""

    def __init__(
        self,
        after: float,
        armed_mode: Callable[[str], ArmingMode | None],
        publish: Callable[[CameraOffline], None],
    ) -> None:
        """``armed_mode(camera)`` returns the mode now if it arms that camera, else None."""
        self.after = after
        self._armed_mode = armed_mode
        self._publish = publish
        self._down_since: dict[str, float] = {}
        self._told: set[str] = set()

    def check(self, cameras: dict[str, CameraHealth], now: float) -> list[CameraOffline]:
        """Look at every camera once; publish and return the notices raised now."""
        raised = []
        for name, health in cameras.items():
            if not health.down:
                self._down_since.pop(name, None)
                self._told.discard(name)
                continue
            since = self._down_since.setdefault(name, health.since)
            if name in self._told or now - since < self.after:
                continue
            mode = self._armed_mode(name)
            if mode is None:
                continue
            notice = CameraOffline(name, since, health.reason or health.state, mode, now)
            log.warning("camera %s has been offline for %.0f s in mode %s: %s", name, now - since, mode, notice.reason)
            self._publish(notice)
            self._told.add(name)
            raised.append(notice)
        return raised
