"""Live view: the cameras the caller may watch, their newest frame, and an MJPEG stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response, StreamingResponse

from homewarden.api.deps import HOUSEHOLD, Caller, CameraName, Services, allow
from homewarden.api.schemas import CameraPublic
from homewarden.camera.health import CameraHealth
from homewarden.events.wording import name_of
from homewarden.i18n import _

router = APIRouter(prefix="/api/cameras", tags=["live"])
STREAM_BOUNDARY = "homewardenframe"
# A live view refreshed five times a second looks live and costs a fifth of the camera's frames in JPEG encoding.
STREAM_INTERVAL = 0.2
STREAM_WAIT = 5.0
NO_STORE = {"Cache-Control": "no-store"}
# The live page refreshes its picture every few seconds: one audit entry per person and camera a minute says who
# watched, and when, without burying every other access under one entry per refresh.
SNAPSHOT_AUDIT_WINDOW = 60.0


@router.get("")
@allow(*HOUSEHOLD, token_scope="live:read")
def list_cameras(caller: Caller, hub: Services) -> list[CameraPublic]:
    """List the cameras the caller may watch, whether frames arrive, and each one's health."""
    statuses = hub.live.cameras()
    healths = hub.health.all()
    cameras = []
    for name in caller.cameras:
        live = statuses.get(name)
        newest = hub.live.latest_jpeg(name, boxes=False) if live is not None and live.online else None
        health = healths.get(name) or CameraHealth(name, "starting", None, time.time())
        cameras.append(
            CameraPublic(
                name=name,
                display_name=name_of(name, hub.camera_names),
                online=live is not None and live.online,
                last_frame_at=datetime.fromtimestamp(live.last_frame_at, tz=UTC)
                if live and live.last_frame_at
                else None,
                width=newest.width if newest else None,
                height=newest.height if newest else None,
                state=health.state,
                # Reasons are kept in English; the ones the hub words itself ("turned off") read in the caller's.
                reason=_(health.reason) if health.reason and health.state != "online" else None,
                state_since=datetime.fromtimestamp(health.since, tz=UTC),
                frames_per_second=round(health.frames_per_second, 2),
                detections_per_second=round(health.detections_per_second, 2),
                frames_dropped=health.frames_dropped,
                restarts=health.restarts,
                reconnects=health.reconnects,
            )
        )
    return cameras


@router.get("/{name}/snapshot.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}})
@allow(*HOUSEHOLD, token_scope="live:read", media=True)
def camera_snapshot(name: CameraName, hub: Services, caller: Caller, boxes: bool = False) -> Response:
    """Serve the camera's newest frame as a JPEG, with the objects it follows boxed if asked."""
    image = hub.live.latest_jpeg(name, boxes=boxes)
    if image is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, _("camera {name!r} has sent no frame yet").format(name=name)
        )
    if hub.audit is not None:
        hub.audit.record_once_per(
            SNAPSHOT_AUDIT_WINDOW,
            caller.actor,
            "view_live",
            f"camera:{name}",
            home_id=caller.home_id,
            detail="snapshot",
        )
    return Response(image.jpeg, media_type="image/jpeg", headers=NO_STORE)


@router.get(
    "/{name}/stream.mjpg",
    response_class=StreamingResponse,
    responses={200: {"content": {f"multipart/x-mixed-replace; boundary={STREAM_BOUNDARY}": {}}}},
)
@allow(*HOUSEHOLD, token_scope="live:read", media=True)
async def camera_stream(
    name: CameraName, hub: Services, caller: Caller, request: Request, boxes: bool = False
) -> StreamingResponse:
    """Stream the camera as MJPEG until the viewer goes away."""
    if hub.audit is not None:
        await asyncio.to_thread(
            hub.audit.record,
            caller.actor,
            "view_live",
            f"camera:{name}",
            home_id=caller.home_id,
        )

    async def frames() -> AsyncIterator[bytes]:
        seq = 0
        while not await request.is_disconnected():
            image = await asyncio.to_thread(hub.live.wait_for_newer, name, seq, STREAM_WAIT, boxes)
            if image is None:
                continue
            seq = image.seq
            yield (
                f"--{STREAM_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(image.jpeg)}\r\n\r\n".encode()
                + image.jpeg
                + b"\r\n"
            )
            await asyncio.sleep(STREAM_INTERVAL)

    return StreamingResponse(
        frames(), media_type=f"multipart/x-mixed-replace; boundary={STREAM_BOUNDARY}", headers=NO_STORE
    )
