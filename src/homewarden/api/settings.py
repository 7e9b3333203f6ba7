"""Settings in the browser: the owner reads and changes the hub's config file (saved with its comments kept)."""

from __future__ import annotations

import base64

from fastapi import APIRouter
from fastapi.responses import Response

from homewarden.api.deps import OWNER, HubHome, Services, allow
from homewarden.api.schemas import (
    AppliedChangePublic,
    CameraAdded,
    CameraAddIn,
    CameraSettingsIn,
    CameraSettingsPublic,
    CameraTestIn,
    RetentionSettings,
    SettingsChangeIn,
    SettingsPublic,
    SettingsSaved,
)
from homewarden.config.model import HomewardenConfig, LabelFilter
from homewarden.config.writer import REMOVE, ConfigChange
from homewarden.errors import Refusal, RefusedError
from homewarden.events.wording import camera_display_name
from homewarden.hub.services import HubServices
from homewarden.hub.settings import (
    AppliedChange,
    add_camera,
    change_settings,
    reload_settings,
    remove_camera,
    saved_config,
    try_camera,
)
from homewarden.i18n import _
from homewarden.video.source import describe_url

router = APIRouter(prefix="/api/settings", tags=["settings"])


@router.get("")
@allow(*OWNER)
def read_settings(hub: Services, _home: HubHome) -> SettingsPublic:
    """Return the editable settings as saved in the config file."""
    return _settings_public(hub)


@router.patch("")
@allow(*OWNER)
def change(body: SettingsChangeIn, hub: Services, _home: HubHome) -> SettingsSaved:
    """Save a change (all of it or nothing) and say which parts apply now and which after a restart."""
    config = saved_config(hub)
    changes = []
    for camera_id, camera in body.cameras.items():
        if camera_id not in config.cameras:
            raise RefusedError(_("There is no camera called {camera}.").format(camera=camera_id), Refusal.NOT_FOUND)
        changes += _camera_changes(camera_id, camera)
    if body.objects is not None:
        if "track" in body.objects.model_fields_set:
            changes.append(ConfigChange(("objects", "track"), body.objects.track))
        for label, score in (body.objects.min_scores or {}).items():
            changes.append(ConfigChange(("objects", "filters", label, "min_score"), score))
    if body.retention is not None:
        for key in body.retention.model_fields_set:
            value = getattr(body.retention, key)
            changes.append(ConfigChange(("storage", "retention", key), REMOVE if value is None else value))
    if not changes:
        raise RefusedError(_("Nothing to change."), Refusal.INVALID)
    return _saved(hub, change_settings(hub, changes))


@router.post("/camera-test", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
@allow(*OWNER)
def try_connection(body: CameraTestIn, _home: HubHome) -> Response:
    """Open a camera URL and return its first picture (a JPEG), or say at the field why it did not answer."""
    return Response(try_camera(body.source), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/cameras")
@allow(*OWNER)
def add(body: CameraAddIn, hub: Services, _home: HubHome) -> CameraAdded:
    """Test a camera's URL, then add it to the config file and start it (when the hub's cameras run)."""
    snapshot, applied = add_camera(hub, body.id, body.source, body.name)
    saved = _saved(hub, [applied])
    picture = "data:image/jpeg;base64," + base64.b64encode(snapshot).decode("ascii")
    return CameraAdded(**saved.model_dump(), snapshot=picture)


@router.post("/reload")
@allow(*OWNER)
def reload(hub: Services, _home: HubHome) -> SettingsSaved:
    """Apply the config file as edited by hand: cameras, object filters, retention (the rest after a restart)."""
    reload_settings(hub)
    if hub.supervisor is not None:
        message = _("The config file's settings apply now.")
    else:
        message = _("The config file's settings apply when the cameras start.")
    return SettingsSaved(message=message, changes=[], settings=_settings_public(hub))


@router.delete("/cameras/{camera_id}")
@allow(*OWNER)
def remove(camera_id: str, hub: Services, _home: HubHome) -> SettingsSaved:
    """Remove a camera from the config file and stop it; the events it recorded stay until retention ends them."""
    return _saved(hub, [remove_camera(hub, camera_id)])


def _camera_changes(camera_id: str, camera: CameraSettingsIn) -> list[ConfigChange]:
    """Translate the page's fields into the config file's keys."""
    keys = {
        "name": ("name",),
        "enabled": ("enabled",),
        "motion_threshold": ("motion", "threshold"),
        "motion_contour_area": ("motion", "contour_area"),
    }
    changes = []
    for field in sorted(camera.model_fields_set - {"motion_mask", "zones"}):
        value = getattr(camera, field)
        if value is None and field != "name":
            continue
        if field == "name" and not (value or "").strip():
            value = REMOVE
        changes.append(ConfigChange(("cameras", camera_id, *keys[field]), value))
    if camera.motion_mask is not None:
        masks = [[_point(point) for point in polygon] for polygon in camera.motion_mask]
        changes.append(ConfigChange(("cameras", camera_id, "motion", "mask"), masks))
    for zone, points in (camera.zones or {}).items():
        if points:
            coordinates = [_point(point) for point in points]
            changes.append(ConfigChange(("cameras", camera_id, "zones", zone, "coordinates"), coordinates))
        else:
            changes.append(ConfigChange(("cameras", camera_id, "zones", zone), REMOVE))
    return changes


def _point(point: tuple[float, float]) -> list[float | int]:
    """Return a point as the YAML shows it: whole pixels without ".0"."""
    return [int(value) if value.is_integer() else value for value in point]


def _saved(hub: HubServices, applied: list[AppliedChange]) -> SettingsSaved:
    later = [change.key for change in applied if change.applies == "after a restart"]
    if not later:
        message = _("Saved. The changes apply now.")
    elif len(later) == len(applied):
        message = _("Saved. The changes apply after a restart of the hub.")
    else:
        message = _("Saved. Some changes apply now; these apply after a restart of the hub: {keys}.").format(
            keys=", ".join(later)
        )
    return SettingsSaved(
        message=message,
        changes=[AppliedChangePublic(key=change.key, applies=change.applies) for change in applied],
        settings=_settings_public(hub),
    )


def _settings_public(hub: HubServices) -> SettingsPublic:
    config: HomewardenConfig = saved_config(hub)
    retention = config.storage.retention
    return SettingsPublic(
        config_path=str(hub.config_path),
        cameras=[
            CameraSettingsPublic(
                id=camera_id,
                name=camera.name,
                display_name=camera_display_name(camera_id, camera.name),
                source=describe_url(camera.source),
                enabled=camera.enabled,
                motion_threshold=camera.motion.threshold,
                motion_contour_area=camera.motion.contour_area,
                motion_mask=[[(x, y) for x, y in polygon] for polygon in camera.motion.mask],
                zones={name: [(x, y) for x, y in zone.coordinates] for name, zone in camera.zones.items()},
            )
            for camera_id, camera in config.cameras.items()
        ],
        track=list(config.objects.track),
        min_scores={label: rule.min_score for label, rule in config.objects.filters.items()},
        default_min_score=LabelFilter.model_fields["min_score"].default,
        retention=RetentionSettings(
            alarm_days=retention.alarm_days, other_days=retention.other_days, max_gb=retention.max_gb
        ),
        household_calibration=(
            hub.household_corrections.calibration.summary() if hub.household_corrections is not None else ""
        ),
    )
