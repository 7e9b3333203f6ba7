"""Each camera's health: online, reconnecting, failed or stopped and why, with its frame, detection and drop rates."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

CameraState = Literal["starting", "online", "reconnecting", "failed", "stopped"]
DOWN_STATES: frozenset[CameraState] = frozenset({"reconnecting", "failed"})
# Rates are measured over at least this long, so one slow frame does not make a camera look stalled.
RATE_WINDOW = 5.0


@dataclass(frozen=True)
class CameraHealth:
    """What is known of one camera now; ``since`` is when its state began (Unix seconds)."""

    camera: str
    state: CameraState
    reason: str | None
    since: float
    frames_per_second: float = 0.0
    detections_per_second: float = 0.0
    frames_analysed: int = 0
    detector_calls: int = 0
    frames_dropped: int = 0
    restarts: int = 0
    reconnects: int = 0
    last_frame_at: float | None = None

    @property
    def down(self) -> bool:
        """Tell whether the camera is failing to deliver (reconnecting or failed)."""
        return self.state in DOWN_STATES


@dataclass
class _Counters:
    at: float
    frames: int
    detections: int


StateListener = Callable[[CameraHealth], None]


class CameraHealthBoard:
    """Keep every camera's health (thread-safe); tell the listener of each change of state or reason."""

    def __init__(self, cameras: list[str], on_change: StateListener | None = None) -> None:
        """Start every camera as "starting"."""
        now = time.time()
        self._health = {name: CameraHealth(name, "starting", None, now) for name in cameras}
        self._window: dict[str, _Counters] = {}
        self._on_change = on_change
        self._lock = threading.Lock()

    def set_state(self, camera: str, state: CameraState, reason: str | None = None) -> None:
        """Record a camera's state; the listener hears of it only when state or reason changed."""
        with self._lock:
            current = self._health.get(camera) or CameraHealth(camera, "starting", None, time.time())
            if current.state == state and current.reason == reason:
                return
            since = current.since if current.state == state else time.time()
            changed = replace(current, state=state, reason=reason, since=since)
            self._health[camera] = changed
        if self._on_change is not None:
            self._on_change(changed)

    def frame_arrived(self, camera: str) -> None:
        """Note a frame from the camera: it is online (a stream that opens but sends nothing is not)."""
        with self._lock:
            current = self._health.get(camera)
            if current is not None:
                self._health[camera] = replace(current, last_frame_at=time.time())
        if current is None or current.state != "online":
            self.set_state(camera, "online")

    def count_restart(self, camera: str) -> None:
        """Count a restart of the camera's thread after a failure."""
        self._bump(camera, restarts=1)

    def count_reconnect(self, camera: str) -> None:
        """Count a reconnection of the camera's source."""
        self._bump(camera, reconnects=1)

    def measure(self, camera: str, frames: int, detector_calls: int, dropped: int) -> None:
        """Update a camera's totals (since its current thread started) and its rates over the last RATE_WINDOW."""
        now = time.monotonic()
        with self._lock:
            current = self._health.get(camera)
            if current is None:
                return
            window = self._window.get(camera)
            if window is None or frames < window.frames:
                # First measurement, or the camera's thread restarted and its totals began again.
                self._window[camera] = _Counters(now, frames, detector_calls)
                window = self._window[camera]
            fps, dps = current.frames_per_second, current.detections_per_second
            elapsed = now - window.at
            if elapsed >= RATE_WINDOW:
                fps = (frames - window.frames) / elapsed
                dps = (detector_calls - window.detections) / elapsed
                self._window[camera] = _Counters(now, frames, detector_calls)
            if current.down:
                fps, dps = 0.0, 0.0
            self._health[camera] = replace(
                current,
                frames_per_second=fps,
                detections_per_second=dps,
                frames_analysed=frames,
                detector_calls=detector_calls,
                frames_dropped=dropped,
            )

    def health(self, camera: str) -> CameraHealth | None:
        """Return one camera's health, or None for a camera the board does not know."""
        with self._lock:
            return self._health.get(camera)

    def all(self) -> dict[str, CameraHealth]:
        """Return every camera's health."""
        with self._lock:
            return dict(self._health)

    def _bump(self, camera: str, restarts: int = 0, reconnects: int = 0) -> None:
        with self._lock:
            current = self._health.get(camera)
            if current is not None:
                self._health[camera] = replace(
                    current, restarts=current.restarts + restarts, reconnects=current.reconnects + reconnects
                )
