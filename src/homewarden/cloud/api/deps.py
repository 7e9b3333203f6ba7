"""Who is calling, decided here once for every route: anyone, a signed-in account, a signed hub, or review staff.

Every route carries a policy (``@public``, ``@for_account``, ``@for_hub``, and for the review program's own accounts
``@for_staff``, ``@for_reviewer``, ``@for_review_admin``) and the dependency that enforces it;
``check_every_route_has_a_policy`` refuses to start an app where one is missing or does not match. A hub reaches
objects only through ``HomeObjectsOfHub``, made for its own home: another home's object is simply not found.
There is no operator role: nothing here admits anyone to a home's objects but that home's paired hub. Reviewers and
admins are not household accounts (their tokens are another table's): they reach no household route, and a
household reaches no review route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import fastapi.routing
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from homewarden.cloud.accounts import AccountView
from homewarden.cloud.errors import ForbiddenError, NotAuthenticatedError
from homewarden.cloud.homes import HomeObjects
from homewarden.cloud.hubs import HubIdentity
from homewarden.cloud.review.donations import HomeDonations
from homewarden.cloud.review.reviewers import StaffView
from homewarden.cloud.services import CloudServices

Policy = Literal["public", "account", "hub", "staff", "reviewer", "review_admin"]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
POLICY_ATTRIBUTE = "__homewarden_cloud_policy__"


def _mark(policy: Policy) -> Callable[[Endpoint], Endpoint]:
    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, POLICY_ATTRIBUTE, policy)
        return endpoint

    return mark


public = _mark("public")
for_account = _mark("account")
for_hub = _mark("hub")
# The review program's own accounts: any of them (sign-out), reviewers (the workbench), admins (counts, accounts).
for_staff = _mark("staff")
for_reviewer = _mark("reviewer")
for_review_admin = _mark("review_admin")


# The dependencies that neither wait nor block are coroutines: FastAPI runs a plain function in its thread pool, a hop
# per dependency per request that fifty reviewers arriving at once queue for (docs/benchmarks.md, review next clip).
async def get_services(request: Request) -> CloudServices:
    """Return the services the app was built with."""
    services: CloudServices = request.app.state.services
    return services


Services = Annotated[CloudServices, Depends(get_services)]


async def request_body(request: Request) -> bytes:
    """Read the body (the size limit is enforced by ``BodyLimit`` while it is read)."""
    return await request.body()


Body = Annotated[bytes, Depends(request_body)]


async def bearer_token(request: Request) -> str:
    """Return the bearer token of the request, or refuse it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticatedError("not signed in: send Authorization: Bearer <token>")
    return token.strip()


def current_account(services: Services, token: Annotated[str, Depends(bearer_token)]) -> AccountView:
    """Return the signed-in account."""
    return services.accounts.account_for_token(token)


def signed_hub(request: Request, services: Services, body: Body) -> HubIdentity:
    """Verify the request's signature and nonce; return the hub and its home."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    path = raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    path_and_query = f"{path}?{query}" if query else path
    return services.hubs.verify(request.method, path_and_query, request.headers, body)


def current_staff(services: Services, token: Annotated[str, Depends(bearer_token)]) -> StaffView:
    """Return the signed-in reviewer or admin (a household's token is not one: 401)."""
    return services.staff.staff_for_token(token)


async def current_reviewer(staff: Annotated[StaffView, Depends(current_staff)]) -> StaffView:
    """Return the signed-in reviewer; an admin is refused (admins have no route to media)."""
    if staff.role != "reviewer":
        raise ForbiddenError("only reviewers use the workbench")
    return staff


async def current_review_admin(staff: Annotated[StaffView, Depends(current_staff)]) -> StaffView:
    """Return the signed-in admin of the review program."""
    if staff.role != "admin":
        raise ForbiddenError("only the review program's admins may do this")
    return staff


CurrentAccount = Annotated[AccountView, Depends(current_account)]
CurrentStaff = Annotated[StaffView, Depends(current_staff)]
CurrentReviewer = Annotated[StaffView, Depends(current_reviewer)]
CurrentReviewAdmin = Annotated[StaffView, Depends(current_review_admin)]
SignedHub = Annotated[HubIdentity, Depends(signed_hub)]


def home_objects_of_hub(hub: SignedHub, services: Services) -> HomeObjects:
    """Return the objects of the signing hub's home: the one place a request is scoped to a home."""
    return services.home_objects(hub.home_id)


HomeObjectsOfHub = Annotated[HomeObjects, Depends(home_objects_of_hub)]


def home_donations_of_hub(hub: SignedHub, services: Services) -> HomeDonations:
    """Return the donations of the signing hub's home: another home's donation is not found."""
    return services.home_donations(hub.home_id)


HomeDonationsOfHub = Annotated[HomeDonations, Depends(home_donations_of_hub)]

ENFORCERS: dict[Policy, Callable[..., Any] | None] = {
    "public": None,
    "account": current_account,
    "hub": signed_hub,
    "staff": current_staff,
    "reviewer": current_reviewer,
    "review_admin": current_review_admin,
}
CREDENTIALS = (current_account, signed_hub, current_staff)


def check_every_route_has_a_policy(app: FastAPI) -> None:
    """Refuse to start when a route has no policy or lacks the dependency that enforces it."""
    problems = []
    for path, route in api_routes(app):
        policy = getattr(route.endpoint, POLICY_ATTRIBUTE, None)
        if policy not in ENFORCERS:
            problems.append(f"{path} has no policy (@public, @for_account, @for_hub, @for_staff, @for_reviewer...)")
            continue
        calls = dependency_calls(route.dependant)
        enforcer = ENFORCERS[policy]
        if enforcer is not None and enforcer not in calls:
            problems.append(f"{path} is @{policy} but does not depend on {enforcer.__name__}")
        if policy == "public" and any(credential in calls for credential in CREDENTIALS):
            problems.append(f"{path} is @public but asks for credentials")
    if problems:
        raise RuntimeError("routes without a matching access policy: " + "; ".join(problems))


def dependency_calls(dependant: Dependant) -> set[Callable[..., Any]]:
    """Return every function a route depends on, directly or through other dependencies."""
    found: set[Callable[..., Any]] = set()
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            found.add(dependency.call)
        found |= dependency_calls(dependency)
    return found


def route_policies(app: FastAPI) -> dict[tuple[str, str], Policy]:
    """Return each route's (method, path) and policy, for the authorization tests and the docs."""
    policies: dict[tuple[str, str], Policy] = {}
    for path, route in api_routes(app):
        for method in route.methods or ():
            policies[(method, path)] = getattr(route.endpoint, POLICY_ATTRIBUTE)
    return policies


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Return every API route with its full path, through included routers."""
    # FastAPI 0.137+ keeps an included router as one node of app.routes; iter_route_contexts flattens the tree.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    pairs = (
        [(c.path or c.original_route.path, c.original_route) for c in flatten(app.routes)]
        if flatten
        else [(route.path, route) for route in app.routes if hasattr(route, "path")]
    )
    return [(path, route) for path, route in pairs if isinstance(route, APIRoute)]
