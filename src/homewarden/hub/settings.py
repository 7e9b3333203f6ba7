"""Settings changed in the browser: written back to the hub's config file, and applied at once where the hub can."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from homewarden.config.loader import ConfigError
from homewarden.config.model import HomewardenConfig
from homewarden.config.writer import ConfigChange, ConfigChangeError, ConfigWriter
from homewarden.errors import InvalidFieldsError, Refusal, RefusedError
from homewarden.hub.services import HubServices
from homewarden.i18n import _
from homewarden.video.snapshot import take_snapshot
from homewarden.video.source import SourceError

Applies = Literal["now", "after a restart"]
# Long enough for a camera on Wi-Fi to answer; short enough that the owner is not left waiting.
CONNECTION_TEST_SECONDS = 10.0


@dataclass(frozen=True)
class AppliedChange:
    """One saved key (dotted, as in the config file) and when the hub acts on it."""

    key: str
    applies: Applies


def settings_writer(hub: HubServices) -> ConfigWriter:
    """Return the writer of the hub's config file; refused when the hub was started without one."""
    if hub.config_path is None:
        raise RefusedError(
            _(
                "This hub was started without a config file, so settings cannot be saved. "
                "Start it with --config homewarden.yaml."
            ),
            Refusal.CONFLICT,  # how the hub was started, not a passing outage: trying again will not help
        )
    return ConfigWriter(hub.config_path)


def saved_config(hub: HubServices) -> HomewardenConfig:
    """Return the config as saved in the file (changes waiting for a restart included)."""
    try:
        return settings_writer(hub).read()
    except ConfigError as exc:
        raise RefusedError(str(exc), Refusal.CONFLICT) from None


def change_settings(hub: HubServices, changes: list[ConfigChange]) -> list[AppliedChange]:
    """Save ``changes`` to the config file, apply the ones the running hub can, and say when each takes effect."""
    running = set(hub.config.cameras)
    saved = _save(hub, changes)
    _apply_live(hub, saved)
    return [AppliedChange(_dotted(c), "now" if _live(c, running) else "after a restart") for c in changes]


def try_camera(source: str) -> bytes:
    """Open ``source`` and return its first picture as JPEG; the problem is a sentence at the source field."""
    try:
        return take_snapshot(source, CONNECTION_TEST_SECONDS)
    except SourceError as exc:
        problem = _("The camera did not answer: {problem}.").format(problem=exc)
        raise InvalidFieldsError(problem, {"source": problem}) from None


def add_camera(hub: HubServices, camera_id: str, source: str, name: str | None) -> tuple[bytes, AppliedChange]:
    """Test the camera, then save it (it runs after a restart); return its first picture."""
    if camera_id in saved_config(hub).cameras:
        problem = _("A camera called {camera} exists already.").format(camera=camera_id)
        raise InvalidFieldsError(problem, {"id": problem})
    snapshot = try_camera(source)
    camera: dict[str, str] = {"source": source}
    if name:
        camera["name"] = name
    _save(hub, [ConfigChange(("cameras", camera_id), camera)])
    return snapshot, AppliedChange(f"cameras.{camera_id}", "after a restart")


def _save(hub: HubServices, changes: list[ConfigChange]) -> HomewardenConfig:
    writer = settings_writer(hub)
    try:
        return writer.apply(changes)
    except ConfigChangeError as exc:
        fields = {key: _sentence(message) for key, message in exc.problems}
        raise InvalidFieldsError(
            _("Nothing was saved: {problems}").format(problems="; ".join(fields.values())), fields
        ) from None
    except ConfigError as exc:
        raise RefusedError(str(exc), Refusal.CONFLICT) from None


def _apply_live(hub: HubServices, saved: HomewardenConfig) -> None:
    """Take over the display names of running cameras, the retention days and the disk cap."""
    cameras = {
        camera_id: camera.model_copy(update={"name": saved.cameras[camera_id].name})
        if camera_id in saved.cameras
        else camera
        for camera_id, camera in hub.config.cameras.items()
    }
    retention = saved.storage.retention
    storage = hub.config.storage.model_copy(update={"retention": retention})
    hub.config = hub.config.model_copy(update={"cameras": cameras, "storage": storage})
    if hub.keeper is not None:
        # The keeper reads its policy at each sweep and before each write: the next one uses the new limits.
        hub.keeper.policy = retention


def _live(change: ConfigChange, running: set[str]) -> bool:
    path = change.path
    renames_running_camera = len(path) == 3 and path[0] == "cameras" and path[1] in running and path[2] == "name"
    return renames_running_camera or path[:2] == ("storage", "retention")


def _dotted(change: ConfigChange) -> str:
    return ".".join(str(part) for part in change.path)


def _sentence(message: str) -> str:
    """Return a validation message as a sentence: capital first letter, full stop."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "?", "!")) else ".")
