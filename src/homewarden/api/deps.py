"""Who is calling and what they may reach: decided here, once, for every route.

Every route carries a policy: ``@public`` or ``@allow(...)`` naming the roles (and, for API tokens, the scope) it
admits. ``authorize`` runs before every route and refuses what the policy does not admit; a route without a policy is
refused at start-up (``check_every_route_has_a_policy``), so forgetting one cannot open a route. Whether an event or a
camera belongs to the caller is decided by ``accessible_event`` and ``accessible_camera``: something the caller may
not see answers 404 exactly like something that does not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.routing import APIRoute

from homewarden.accounts.store import Role, UserRecord
from homewarden.events.record import EventRecord, IntrusionRecord
from homewarden.hub.services import HubServices
from homewarden.i18n import _
from homewarden.privacy.audit import Actor

SESSION_COOKIE = "hw_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HOUSEHOLD: tuple[Role, ...] = ("owner", "member")
OWNER: tuple[Role, ...] = ("owner",)
ANYONE_SIGNED_IN: tuple[Role, ...] = ("owner", "member")

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class RoutePolicy:
    """Who a route admits."""

    public: bool = False
    roles: tuple[Role, ...] = ()
    token_scope: str | None = None
    # The route serves footage: a refused caller is written to the audit log.
    media: bool = False


def public(endpoint: Endpoint) -> Endpoint:
    """Mark a route as open to anyone, signed in or not."""
    endpoint.__homewarden_policy__ = RoutePolicy(public=True)  # type: ignore[attr-defined]
    return endpoint


def allow(*roles: Role, token_scope: str | None = None, media: bool = False) -> Callable[[Endpoint], Endpoint]:
    """Mark a route as open to signed-in users of ``roles`` (and to API tokens holding ``token_scope``).

    ``media``: the route serves footage, so refusing it is an entry in the audit log.
    """

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.__homewarden_policy__ = RoutePolicy(roles=roles, token_scope=token_scope, media=media)  # type: ignore[attr-defined]
        return endpoint

    return mark


def check_every_route_has_a_policy(app: FastAPI) -> None:
    """Refuse to start when a route has no policy: secure by default."""
    # FastAPI 0.137+ keeps an included router as one node of app.routes: walking app.routes alone saw no route at
    # all, so the check passed whatever the routers held. iter_route_contexts flattens the tree (older FastAPI lacks it
    # and has flat routes).
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = [(c.path, c.original_route) for c in flatten(app.routes)] if flatten else [(None, r) for r in app.routes]
    missing = [
        path or route.path
        for path, route in routes
        if isinstance(route, APIRoute)
        and not isinstance(getattr(route.endpoint, "__homewarden_policy__", None), RoutePolicy)
    ]
    if missing:
        raise RuntimeError(f"routes without an access policy (@public or @allow): {', '.join(missing)}")


@dataclass(frozen=True)
class CurrentUser:
    """The caller: a user signed in with a session cookie, or an integration with an API token."""

    id: int
    username: str
    role: Literal["owner", "member"]
    home_id: int | None
    cameras: tuple[str, ...]
    csrf_token: str | None
    totp_enabled: bool = False
    session_token: str | None = None
    token_scopes: tuple[str, ...] | None = None

    @classmethod
    def of(cls, user: UserRecord, **how: Any) -> CurrentUser:
        """Build the caller from a stored user and how they authenticated."""
        return cls(
            user.id,
            user.username,
            user.role,
            user.home_id,
            user.cameras,
            totp_enabled=user.totp_enabled,
            **how,
        )

    @property
    def shown_as(self) -> str:
        """Return how the caller appears in the audit log: their household name."""
        return self.username

    @property
    def actor(self) -> Actor:
        """Return the caller as the audit log records them."""
        return Actor(self.role, self.shown_as)

    @property
    def household(self) -> bool:
        """Tell whether the caller is an owner or member of a home."""
        return self.role in HOUSEHOLD and self.home_id is not None


def services(request: Request) -> HubServices:
    """Return the hub's services."""
    hub: HubServices = request.app.state.services
    return hub


Services = Annotated[HubServices, Depends(services)]


def _policy(request: Request) -> RoutePolicy | None:
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    policy = getattr(endpoint, "__homewarden_policy__", None)
    return policy if isinstance(policy, RoutePolicy) else None


def identify(request: Request, hub: HubServices) -> CurrentUser | None:
    """Return who is calling (a bearer token wins over a cookie), or None."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _sep, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, _("malformed Authorization header"))
        found = hub.accounts.token_user(value.strip())
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, _("unknown or revoked API token"))
        user, scopes = found
        return CurrentUser.of(user, csrf_token=None, token_scopes=scopes)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found_session = hub.accounts.session_user(token)
    if found_session is None:
        return None
    user, csrf = found_session
    return CurrentUser.of(user, csrf_token=csrf, session_token=token)


def authorize(request: Request, hub: Services) -> None:
    """Admit the request if the route's policy does; otherwise answer 401 or 403 (runs before every route)."""
    policy = _policy(request)
    if policy is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    caller = identify(request, hub)
    request.state.caller = caller
    if caller is not None and caller.session_token is not None and request.method not in SAFE_METHODS:
        _check_csrf(request, caller)
    if policy.public:
        return
    if caller is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _("sign in first"), headers={"WWW-Authenticate": "Bearer"})
    if caller.token_scopes is not None and (
        policy.token_scope is None or policy.token_scope not in caller.token_scopes
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, _("this API token's scopes do not cover this request"))
    if caller.role not in policy.roles or (caller.role in HOUSEHOLD and caller.home_id is None):
        if policy.media and hub.audit is not None:
            hub.audit.record(caller.actor, "refused", request.url.path[:128], home_id=None, outcome="refused")
        raise HTTPException(status.HTTP_403_FORBIDDEN, _("your account cannot do this"))


def _check_csrf(request: Request, caller: CurrentUser) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not caller.csrf_token or not secrets.compare_digest(sent.encode(), caller.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, _("missing or wrong CSRF token: reload the page"))


def current_user(request: Request) -> CurrentUser:
    """Return the caller that ``authorize`` admitted."""
    caller: CurrentUser | None = getattr(request.state, "caller", None)
    if caller is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, _("sign in first"))
    return caller


def optional_user(request: Request) -> CurrentUser | None:
    """Return the caller, if signed in (public routes)."""
    caller: CurrentUser | None = getattr(request.state, "caller", None)
    return caller


Caller = Annotated[CurrentUser, Depends(current_user)]
MaybeCaller = Annotated[CurrentUser | None, Depends(optional_user)]
# Pages use the same caller; an anonymous visitor of a page is sent to /login by the 401 handler in api/app.py.
PageUser = Caller


def accessible_camera(name: str, caller: Caller) -> str:
    """Return the camera name if the caller may watch it; 404 otherwise."""
    if not caller.household or name not in caller.cameras:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("no camera {name!r}").format(name=name))
    return name


def accessible_event(event_id: str, caller: Caller, hub: Services) -> EventRecord:
    """Return the event if it belongs to a camera the caller may watch; 404 otherwise (as if it did not exist).

    Asking for an event that exists but is not the caller's is a refused attempt: its home's owner reads it.
    """
    record = hub.events.get_event(event_id) if len(event_id) <= 64 else None
    if record is not None and caller.household and record.camera in caller.cameras:
        return record
    if record is not None and hub.audit is not None:
        home_id = hub.accounts.home_of_camera(record.camera)
        # The owner learns that someone from outside tried, not another household's user name.
        shown = caller.shown_as if caller.home_id in (home_id, None) else f"outsider-{caller.id}"
        hub.audit.record(Actor(caller.role, shown), "refused", f"event:{record.id}", home_id=home_id, outcome="refused")
    raise HTTPException(status.HTTP_404_NOT_FOUND, _("no event {event_id!r}").format(event_id=event_id))


def accessible_intrusion(intrusion_id: str, caller: Caller, hub: Services) -> IntrusionRecord:
    """Return the intrusion with only its events on cameras the caller may watch; 404 if none are (or it is none)."""
    visible = caller.cameras if caller.household else []
    record = hub.events.get_intrusion(intrusion_id, visible) if len(intrusion_id) <= 64 else None
    if record is not None and record.events:
        return record
    whole = hub.events.get_intrusion(intrusion_id) if len(intrusion_id) <= 64 else None
    if whole is not None and hub.audit is not None:
        home_id = hub.accounts.home_of_camera(whole.events[0].camera)
        shown = caller.shown_as if caller.home_id in (home_id, None) else f"outsider-{caller.id}"
        hub.audit.record(
            Actor(caller.role, shown), "refused", f"intrusion:{whole.id}", home_id=home_id, outcome="refused"
        )
    raise HTTPException(status.HTTP_404_NOT_FOUND, _("no intrusion {intrusion_id!r}").format(intrusion_id=intrusion_id))


def hub_home(caller: Caller, hub: Services) -> int:
    """Return the hub's own home if the caller belongs to it (its faces, storage and key live on this hub)."""
    if caller.home_id != hub.hub_home_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("this hub keeps no faces, storage or keys for your home"))
    return hub.hub_home_id


# A row id in a path: one the database cannot hold (SQLite and PostgreSQL keep 64-bit integers) answers 422, not 500.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CameraName = Annotated[str, Depends(accessible_camera)]
AccessibleEvent = Annotated[EventRecord, Depends(accessible_event)]
AccessibleIntrusion = Annotated[IntrusionRecord, Depends(accessible_intrusion)]
HubHome = Annotated[int, Depends(hub_home)]
