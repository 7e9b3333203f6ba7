"""Routes a paired hub calls for the false-alarm verifier (signed): which model to run, and its signed file.

The answer is the same for every home (a model is the program's, not a household's), and it says only counts of
what a model learned from. A tainted model's file is gone (410) and its version is in every offer's ``delete``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from homewarden.cloud.api.deps import Services, SignedHub, for_hub
from homewarden.cloud.api.schemas import ModelOfferPublic, ModelPublic

router = APIRouter(prefix="/api/v1", tags=["review program"])


@router.get("/review/model")
@for_hub
def model_offer(hub: SignedHub, services: Services) -> ModelOfferPublic:
    """Show the promoted model (version, SHA-256 of its file, counts) and the versions hubs must delete."""
    offer = services.models.hub_offer()
    model = offer.model
    return ModelOfferPublic(
        model=None
        if model is None
        else ModelPublic(
            version=model.version,
            sha256=model.sha256,
            clips=model.clips,
            homes=model.homes,
            samples=model.samples,
            promoted_at=model.promoted_at,
        ),
        delete=offer.delete,
    )


@router.get("/review/models/{version}")
@for_hub
def model_file(hub: SignedHub, services: Services, version: Annotated[int, Path(ge=1)]) -> Response:
    """Return the promoted model's signed file; another version is 404, a tainted one 410."""
    return Response(services.models.model_file(version), media_type="application/json")
