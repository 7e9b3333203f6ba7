"""Settings changed in the browser: written back to the hub's config file, and applied at once where the hub can."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

from homewarden.config.loader import ConfigError
from homewarden.config.model import HomewardenConfig
from homewarden.config.writer import REMOVE, ConfigChange, ConfigChangeError, ConfigWriter
from homewarden.errors import InvalidFieldsError, Refusal, RefusedError
from homewarden.hub.services import HubServices
from homewarden.i18n import _
from homewarden.notify.bus import CamerasChanged
from homewarden.video.snapshot import take_snapshot
from homewarden.video.source import SourceError

Applies = Literal["now", "after a restart"]
# Long enough for a camera on Wi-Fi to answer; short enough that the owner is not left waiting.
CONNECTION_TEST_SECONDS = 10.0
# One change saved and applied at a time: two requests applying their saved files out of order would leave the
# running hub on the older one.
_APPLYING = threading.Lock()


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
    with _APPLYING:
        running = set(hub.config.cameras)
        _apply_live(hub, _save(hub, changes))
    return [AppliedChange(_dotted(c), "now" if _live(hub, c, running) else "after a restart") for c in changes]


def try_camera(source: str) -> bytes:
    """Open ``source`` and return its first picture as JPEG; the problem is a sentence at the source field."""
    try:
        return take_snapshot(source, CONNECTION_TEST_SECONDS)
    except SourceError as exc:
        problem = _("The camera did not answer: {problem}.").format(problem=exc)
        raise InvalidFieldsError(problem, {"source": problem}) from None


def add_camera(hub: HubServices, camera_id: str, source: str, name: str | None) -> tuple[bytes, AppliedChange]:
    """Test the camera, then save it (and start it, when the cameras run); return its first picture."""
    if camera_id in saved_config(hub).cameras:
        problem = _("A camera called {camera} exists already.").format(camera=camera_id)
        raise InvalidFieldsError(problem, {"id": problem})
    snapshot = try_camera(source)
    camera: dict[str, str] = {"source": source}
    if name:
        camera["name"] = name
    change = ConfigChange(("cameras", camera_id), camera)
    with _APPLYING:
        saved = _save(hub, [change])
        # The hub's home owns it, as every camera of the config file is given a home when the hub starts.
        hub.accounts.ensure_home("Home", [camera_id])
        _apply_live(hub, saved)
    return snapshot, AppliedChange(_dotted(change), "now" if _live(hub, change, set()) else "after a restart")


def reload_settings(hub: HubServices) -> None:
    """Apply the config file as it is now (edited by hand), as far as the running hub can without a restart."""
    with _APPLYING:
        _apply_live(hub, saved_config(hub))


def remove_camera(hub: HubServices, camera_id: str) -> AppliedChange:
    """Remove a camera from the config file (and stop it, when the cameras run); its recorded events stay."""
    if camera_id not in saved_config(hub).cameras:
        raise RefusedError(_("There is no camera called {camera}.").format(camera=camera_id), Refusal.NOT_FOUND)
    change = ConfigChange(("cameras", camera_id), REMOVE)
    with _APPLYING:
        _apply_live(hub, _save(hub, [change]))
    return AppliedChange(_dotted(change), "now" if _live(hub, change, set()) else "after a restart")


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
    """Take over what the running hub can: retention and the disk cap, names, and every camera setting it restarts.

    Without running cameras (a hub waiting for its first-run setup, or one built by a test) only display names and
    retention change; the other camera settings apply when the hub next starts.
    """
    before = hub.config
    retention = saved.storage.retention
    storage = before.storage.model_copy(update={"retention": retention})
    if hub.supervisor is None:
        cameras = {
            camera_id: camera.model_copy(update={"name": saved.cameras[camera_id].name})
            if camera_id in saved.cameras
            else camera
            for camera_id, camera in before.cameras.items()
        }
        hub.config = before.model_copy(update={"cameras": cameras, "storage": storage})
    else:
        # Cameras are built from hub.config when they (re)start, so it takes the saved cameras and object filters.
        hub.config = before.model_copy(update={"cameras": saved.cameras, "objects": saved.objects, "storage": storage})
        restart, retire = cameras_to_restart(before, hub.config)
        for camera_id in retire:
            hub.supervisor.retire(camera_id)
        for camera_id in restart:
            hub.supervisor.restart(camera_id)
    if hub.keeper is not None:
        # The keeper reads its policy at each sweep and before each write: the next one uses the new limits.
        hub.keeper.policy = retention
    if hub.config.cameras != before.cameras:
        # MQTT discovery follows (webhooks and push read the names at each message).
        on = tuple(camera_id for camera_id, camera in hub.config.cameras.items() if camera.enabled)
        hub.bus.publish(CamerasChanged(on, tuple(hub.camera_names.items()), time.time()))


def cameras_to_restart(before: HomewardenConfig, after: HomewardenConfig) -> tuple[list[str], list[str]]:
    """Return the cameras to (re)start and those to stop for a change from ``before`` to ``after``.

    A camera restarts when a setting of its own other than its display name changed, or the object filters every
    camera uses did; a camera turned on (or added) starts; one turned off (or removed) stops.
    """
    objects_changed = before.objects != after.objects
    restart, retire = [], []
    for camera_id in sorted(set(before.cameras) | set(after.cameras)):
        old, new = before.cameras.get(camera_id), after.cameras.get(camera_id)
        was_on = old is not None and old.enabled
        is_on = new is not None and new.enabled
        if was_on and not is_on:
            retire.append(camera_id)
        elif is_on and (
            not was_on
            or objects_changed
            or (old is not None and new is not None and old.model_copy(update={"name": new.name}) != new)
        ):
            restart.append(camera_id)
    return restart, retire


def _live(hub: HubServices, change: ConfigChange, running: set[str]) -> bool:
    path = change.path
    if path[:2] == ("storage", "retention"):
        return True
    if hub.supervisor is not None:
        return path[0] in ("cameras", "objects")
    return len(path) == 3 and path[0] == "cameras" and path[1] in running and path[2] == "name"


def _dotted(change: ConfigChange) -> str:
    return ".".join(str(part) for part in change.path)


def _sentence(message: str) -> str:
    """Return a validation message as a sentence: capital first letter, full stop."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "?", "!")) else ".")
