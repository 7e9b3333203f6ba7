"""Routes a hub calls about itself: pairing (with a code, unsigned), unpairing and its home's use (signed)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.api.accounts import home_public
from homewarden.cloud.api.deps import HomeObjectsOfHub, Services, SignedHub, for_hub, public
from homewarden.cloud.api.schemas import HomePublic, PairedPublic, PairRequest, ProgramPublic

router = APIRouter(prefix="/api/v1", tags=["hub"])


@router.post("/hubs/pair")
@public
def pair(request: PairRequest, services: Services) -> PairedPublic:
    """Pair a hub with the home of a one-time code (a hub paired before is revoked); hand it the program key."""
    paired = services.hubs.pair(request.code, request.public_key, request.name)
    return PairedPublic(
        hub_id=paired.hub_id,
        home_id=paired.home_id,
        server_time=int(utc_now().timestamp()),
        program=ProgramPublic(**services.program_keys.program()),
    )


@router.delete("/hub", status_code=status.HTTP_204_NO_CONTENT)
@for_hub
def unpair_self(hub: SignedHub, services: Services) -> Response:
    """Unpair the signing hub at once."""
    services.hubs.unpair(hub.home_id, hub.hub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/home")
@for_hub
def home(objects: HomeObjectsOfHub) -> HomePublic:
    """Show the home's use of the cloud: objects, bytes, quota, retention, last upload."""
    return home_public(objects.usage())
