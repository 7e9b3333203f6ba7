"""`homewarden status`: what the running hub of a config reports about its cameras (it reads the status file only)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from homewarden.camera.health import CameraHealth
from homewarden.config import load_config
from homewarden.errors import UserError
from homewarden.hub.status import read_status, status_path
from homewarden.i18n import _

EXIT_CAMERA_DOWN = 1


def status_command(config_path: Path, as_json: bool) -> int:
    """Print what the hub of this config reports about its cameras; exit 1 if it is not running or a camera is down."""
    config = load_config(config_path)
    path = status_path(config.storage.folder)
    status = read_status(path)
    if status is None:
        raise UserError(
            _("no hub has reported for {config} yet ({path} is missing): start `homewarden run` first").format(
                config=config_path, path=path
            )
        )
    running = status.running()
    if as_json:
        print(
            json.dumps(
                {
                    "running": running,
                    "command": status.command,
                    "pid": status.pid,
                    "written_at": _iso(status.written_at),
                    "cameras": {name: _health_json(health) for name, health in status.cameras.items()},
                }
            )
        )
    else:
        when = _iso(status.written_at)
        if running:
            print(
                _("hub running (`homewarden {command}`, pid {pid}), status of {when}").format(
                    command=status.command, pid=status.pid, when=when
                )
            )
        elif status.stopped:
            print(
                _("hub NOT running: its last status is of {when} (pid {pid}, stopped)").format(
                    when=when, pid=status.pid
                )
            )
        else:
            print(_("hub NOT running: its last status is of {when} (pid {pid})").format(when=when, pid=status.pid))
        for name, health in status.cameras.items():
            print(_health_line(name, health))
    down = any(health.down for health in status.cameras.values())
    return 0 if running and not down else EXIT_CAMERA_DOWN


def _health_line(name: str, health: CameraHealth) -> str:
    since = time.time() - health.since
    state = _("{state} for {duration}").format(state=health.state, duration=_duration(since))
    if health.reason and health.state != "online":
        state += f" ({health.reason})"
    return "  " + _(
        "{name}: {state}; {fps} frames/s, {dps} detections/s, {dropped} dropped, {restarts} restart(s), "
        "{reconnects} reconnect(s)"
    ).format(
        name=name,
        state=state,
        fps=f"{health.frames_per_second:.1f}",
        dps=f"{health.detections_per_second:.1f}",
        dropped=health.frames_dropped,
        restarts=health.restarts,
        reconnects=health.reconnects,
    )


def _health_json(health: CameraHealth) -> dict[str, object]:
    return {
        "state": health.state,
        "reason": health.reason,
        "since": _iso(health.since),
        "frames_per_second": round(health.frames_per_second, 2),
        "detections_per_second": round(health.detections_per_second, 2),
        "frames_analysed": health.frames_analysed,
        "detector_calls": health.detector_calls,
        "frames_dropped": health.frames_dropped,
        "restarts": health.restarts,
        "reconnects": health.reconnects,
        "last_frame_at": _iso(health.last_frame_at) if health.last_frame_at else None,
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
