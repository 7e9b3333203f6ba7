"""Routes of the household's account: sign-up, sign-in, its home's use, pairing codes and unpairing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from homewarden.cloud.api.deps import CurrentAccount, Services, bearer_token, for_account, public
from homewarden.cloud.api.schemas import (
    AccountOverview,
    AccountPublic,
    CodePublic,
    HomePublic,
    HubPublic,
    SessionPublic,
    SignIn,
    SignUp,
)
from homewarden.cloud.homes import HomeUsage
from homewarden.cloud.hubs import HubView

router = APIRouter(prefix="/api/v1", tags=["account"])


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
@public
def sign_up(request: SignUp, services: Services) -> AccountPublic:
    """Make an account and its home (with an invitation code unless sign-up is open)."""
    account = services.accounts.sign_up(request.username, request.password, request.invitation)
    return AccountPublic(username=account.username, home_id=account.home_id)


@router.post("/session")
@public
def sign_in(body: SignIn, request: Request, services: Services) -> SessionPublic:
    """Sign in; later calls send the token as ``Authorization: Bearer``."""
    address = request.client.host if request.client else "unknown"
    return SessionPublic(token=services.accounts.sign_in(body.username, body.password, address))


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
@for_account
def sign_out(_account: CurrentAccount, services: Services, token: Annotated[str, Depends(bearer_token)]) -> Response:
    """End this session."""
    services.accounts.sign_out(token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/account")
@for_account
def account_overview(account: CurrentAccount, services: Services) -> AccountOverview:
    """Show the account, its home's use of the cloud and its hubs."""
    return AccountOverview(
        username=account.username,
        home=home_public(services.home_objects(account.home_id).usage()),
        hubs=[hub_public(hub) for hub in services.hubs.hubs_of(account.home_id)],
    )


@router.post("/pairing-codes", status_code=status.HTTP_201_CREATED)
@for_account
def new_pairing_code(account: CurrentAccount, services: Services) -> CodePublic:
    """Make a one-time pairing code for this account's home."""
    issued = services.accounts.new_pairing_code(account.home_id)
    return CodePublic(code=issued.code, expires_at=issued.expires_at)


@router.get("/hubs")
@for_account
def list_hubs(account: CurrentAccount, services: Services) -> list[HubPublic]:
    """List the hubs paired with this home, newest first."""
    return [hub_public(hub) for hub in services.hubs.hubs_of(account.home_id)]


@router.delete("/hubs/{hub_id}", status_code=status.HTTP_204_NO_CONTENT)
@for_account
def unpair_hub(hub_id: str, account: CurrentAccount, services: Services) -> Response:
    """Unpair a hub of this home at once."""
    services.hubs.unpair(account.home_id, hub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def home_public(usage: HomeUsage) -> HomePublic:
    """Return a home's use as the API shows it."""
    return HomePublic(
        home_id=usage.home_id,
        objects=usage.objects,
        bytes=usage.bytes,
        quota_bytes=usage.quota_bytes,
        retention_days=usage.retention_days,
        last_upload_at=usage.last_upload_at,
    )


def hub_public(hub: HubView) -> HubPublic:
    """Return a hub as the API shows it."""
    return HubPublic(
        hub_id=hub.hub_id,
        name=hub.name,
        paired_at=hub.paired_at,
        revoked_at=hub.revoked_at,
        last_seen_at=hub.last_seen_at,
        active=hub.revoked_at is None,
    )
