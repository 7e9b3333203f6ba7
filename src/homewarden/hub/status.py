"""The running hub's status file: every camera's health, written each second, read by `homewarden status`."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from homewarden.camera.health import CameraHealth

STATUS_FILE = "hub-status.json"
# The hub rewrites the file every second; older than this, the hub that wrote it is not running.
FRESH_WITHIN = 10.0


@dataclass(frozen=True)
class HubStatus:
    """What the file says: who wrote it, when, and every camera's health."""

    written_at: float
    pid: int
    command: str
    cameras: dict[str, CameraHealth]
    stopped: bool

    def running(self, now: float | None = None) -> bool:
        """Tell whether the hub that wrote it is still running: it did not stop, and rewrote the file recently."""
        return not self.stopped and (now if now is not None else time.time()) - self.written_at <= FRESH_WITHIN


def status_path(storage_folder: Path) -> Path:
    """Return where the hub of a storage folder writes its status."""
    return storage_folder / STATUS_FILE


def write_status(path: Path, command: str, cameras: dict[str, CameraHealth], stopped: bool = False) -> None:
    """Replace the status file in one step (a reader never sees half of it); only the hub's user may read it."""
    document = {
        "written_at": time.time(),
        "pid": os.getpid(),
        "command": command,
        "stopped": stopped,
        "cameras": {name: asdict(health) for name, health in cameras.items()},
    }
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(document, out)
    os.replace(partial, path)


def read_status(path: Path) -> HubStatus | None:
    """Return the status a hub wrote, or None if there is none (or it cannot be read as one)."""
    try:
        document: dict[str, Any] = json.loads(path.read_text())
        return HubStatus(
            written_at=float(document["written_at"]),
            pid=int(document["pid"]),
            command=str(document["command"]),
            cameras={name: CameraHealth(**health) for name, health in document["cameras"].items()},
            stopped=bool(document.get("stopped", False)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
