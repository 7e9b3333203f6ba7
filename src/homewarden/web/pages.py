"""Serve the web app's pages: HTML shells that fetch their data from the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from homewarden.api.deps import ANYONE_SIGNED_IN, CurrentUser, PageUser, allow, public

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")
router = APIRouter(include_in_schema=False)

HOUSEHOLD_ROLES = frozenset({"owner", "member"})


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation: where it goes and who sees it."""

    path: str
    label: str
    icon: str
    roles: frozenset[str] = HOUSEHOLD_ROLES


OWNER = frozenset({"owner"})
EVERY_ROLE = frozenset(ANYONE_SIGNED_IN)

NAV_ITEMS = (
    NavItem("/", "Timeline", "timeline"),
    NavItem("/live", "Live", "live"),
    NavItem("/faces", "Faces", "faces", OWNER),
    NavItem("/arming", "Arming", "arming"),
    NavItem("/storage", "Storage", "storage", OWNER),
    NavItem("/members", "Members", "members", OWNER),
    NavItem("/privacy", "Privacy", "privacy", OWNER),
    NavItem("/account", "Account", "account", EVERY_ROLE),
)


def nav_for(user: CurrentUser | None) -> list[NavItem]:
    """List the pages this user can reach."""
    if user is None:
        return []
    return [item for item in NAV_ITEMS if user.role in item.roles]


def render(
    request: Request,
    template: str,
    user: CurrentUser | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page with the signed-in user, their navigation and their CSRF token."""
    page_context: dict[str, Any] = {
        "user": user,
        "nav": nav_for(user),
        "brand_path": "/",
        "csrf_token": user.csrf_token if user is not None else "",
        "current_path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code)


def household_page(
    request: Request, user: CurrentUser, template: str, *, owner_only: bool = False, **context: Any
) -> HTMLResponse:
    """Render a household page, or a 403 page for a member asking for an owner's page."""
    if owner_only and user.role != "owner":
        return render(request, "forbidden.html", user, status_code=403, title="Owner only")
    return render(request, template, user, **context)


@router.get("/login", response_class=HTMLResponse)
@public
def login_page(request: Request) -> HTMLResponse:
    """Show the sign-in form."""
    return render(request, "login.html", None, title="Sign in", script="login")


@router.get("/setup", response_class=HTMLResponse)
@public
def setup_page(request: Request) -> HTMLResponse:
    """Show the first-run form that creates the owner."""
    return render(request, "setup.html", None, title="Set up your home", script="setup")


@router.get("/", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def timeline_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the events, newest first."""
    return household_page(request, user, "timeline.html", title="Timeline", script="timeline")


@router.get("/events/{event_id}", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def event_page(request: Request, user: PageUser, event_id: str) -> HTMLResponse:
    """Show one event: its clips, snapshot and details."""
    return household_page(request, user, "event.html", title="Event", script="event", event_id=event_id)


@router.get("/events/{event_id}/donate", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def donate_page(request: Request, user: PageUser, event_id: str) -> HTMLResponse:
    """Ask the owner's consent to donate a redacted copy of an event's clip, showing the copy first."""
    return household_page(
        request, user, "donate.html", owner_only=True, title="Donate a clip", script="donate", event_id=event_id
    )


@router.get("/live", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def live_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show every camera the user can see, live."""
    return household_page(request, user, "live.html", title="Live", script="live")


@router.get("/faces", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def faces_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the household's enrolled faces and the enrolment form."""
    return household_page(request, user, "faces.html", owner_only=True, title="Faces", script="faces")


@router.get("/arming", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def arming_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the arming mode and the weekly schedule."""
    return household_page(request, user, "arming.html", title="Arming", script="arming")


@router.get("/storage", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def storage_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show how much storage the recordings use and what is deleted next."""
    return household_page(request, user, "storage.html", owner_only=True, title="Storage", script="storage")


@router.get("/members", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def members_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the household's members and which cameras each one sees."""
    return household_page(request, user, "members.html", owner_only=True, title="Members", script="members")


@router.get("/privacy", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def privacy_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the owner's donations, standing rules, notices and who saw the home's footage."""
    return household_page(request, user, "privacy.html", owner_only=True, title="Privacy", script="privacy")


@router.get("/account", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def account_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the user's password, two-factor sign-in, API tokens and, for owners, the home key."""
    return render(request, "account.html", user, title="Account", script="account")


def mount_static(app: FastAPI) -> None:
    """Serve the web app's scripts and styles at /static."""
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
