"""Serve the web app's pages: HTML shells that fetch their data from the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from homewarden.api.deps import ANYONE_SIGNED_IN, CurrentUser, MaybeCaller, PageUser, allow, public
from homewarden.i18n import ENGLISH, LANGUAGE_NAMES, N_, _, catalog_path, current_language, gettext, ngettext

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")
# Templates mark text as {{ _("...") }}; newstyle gettext escapes and fills %(name)s placeholders itself.
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.globals["current_language"] = current_language
router = APIRouter(include_in_schema=False)

HOUSEHOLD_ROLES = frozenset({"owner", "member"})


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation: where it goes and who sees it."""

    path: str
    label: str
    icon: str
    roles: frozenset[str] = HOUSEHOLD_ROLES
    # Kept on a phone's bottom bar when a role has more pages than fit; the others go under "More".
    on_bar: bool = False
    # A shorter label for the phone's bottom bar, where a fifth of 390 px cuts "Scharfschalten" (the page keeps label).
    short: str | None = None


OWNER = frozenset({"owner"})
EVERY_ROLE = frozenset(ANYONE_SIGNED_IN)

NAV_ITEMS = (
    NavItem("/", N_("Timeline"), "timeline", on_bar=True),
    NavItem("/live", N_("Live"), "live", on_bar=True),
    NavItem("/faces", N_("Faces"), "faces", OWNER, on_bar=True),
    NavItem("/arming", N_("Arming"), "arming", on_bar=True, short=N_("Mode")),
    NavItem("/storage", N_("Storage"), "storage", OWNER),
    NavItem("/members", N_("Members"), "members", OWNER),
    NavItem("/privacy", N_("Privacy"), "privacy", OWNER),
    NavItem("/settings", N_("Settings"), "settings", OWNER),
    NavItem("/account", N_("Account"), "account", EVERY_ROLE),
)


# A phone's bottom bar holds at most this many entries, "More" included (issue 17: eight tabs did not fit).
BOTTOM_BAR_SIZE = 5


def nav_for(user: CurrentUser | None) -> list[NavItem]:
    """List the pages this user can reach."""
    if user is None:
        return []
    return [item for item in NAV_ITEMS if user.role in item.roles]


def under_more(items: list[NavItem]) -> list[NavItem]:
    """Return the entries a phone shows under "More": none when all fit on the bottom bar, else the ones not on it."""
    if len(items) <= BOTTOM_BAR_SIZE:
        return []
    # One place on the bar is "More"; a role with more pages marked for the bar than fit moves the last ones.
    kept = [item for item in items if item.on_bar][: BOTTOM_BAR_SIZE - 1]
    return [item for item in items if item not in kept]


@cache
def script_messages(language: str) -> dict[str, str | list[str]]:
    """Return the scripts' messages translated into ``language``: what base.html embeds for t() and tn()."""
    if language == ENGLISH:
        return {}
    with catalog_path(language, "web").open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain="web")
    table: dict[str, str | list[str]] = {}
    for message in catalog:
        # Only what a script says is sent: a page's own strings are rendered by the server already.
        if (
            not message.id
            or message.fuzzy
            or not any(path.startswith("web/static/") for path, _line in message.locations)
        ):
            continue
        forms = message.string
        if isinstance(message.id, (tuple, list)) and isinstance(forms, (tuple, list)) and all(forms):
            table[str(message.id[0])] = [str(form) for form in forms]
        elif isinstance(message.id, str) and isinstance(forms, str) and forms:
            table[message.id] = forms
    return table


def render(
    request: Request,
    template: str,
    user: CurrentUser | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page with the signed-in user, their navigation and their CSRF token."""
    nav = nav_for(user)
    page_context: dict[str, Any] = {
        "user": user,
        "nav": nav,
        "nav_more": under_more(nav),
        "brand_path": "/",
        "csrf_token": user.csrf_token if user is not None else "",
        "current_path": request.url.path,
        "home_timezone": home_timezone(request, user),
        "script_messages": script_messages(current_language()),
        **context,
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code)


def home_timezone(request: Request, user: CurrentUser | None) -> str:
    """Return the time zone the page shows times in: the home's, or the browser's (empty) for everyone else."""
    if user is None or user.home_id is None:
        return ""
    return str(request.app.state.services.home_timezone(user.home_id).key)


def household_page(
    request: Request, user: CurrentUser, template: str, *, owner_only: bool = False, **context: Any
) -> HTMLResponse:
    """Render a household page, or a 403 page for a member asking for an owner's page."""
    if owner_only and user.role != "owner":
        return render(request, "forbidden.html", user, status_code=403, title=_("Owner only"))
    return render(request, template, user, **context)


@router.get("/login", response_class=HTMLResponse)
@public
def login_page(request: Request) -> HTMLResponse:
    """Show the sign-in form."""
    return render(request, "login.html", None, title=_("Sign in"), script="login")


@router.get("/set-password", response_class=HTMLResponse)
@public
def set_password_page(request: Request, user: MaybeCaller) -> HTMLResponse:
    """Show the page of a one-time link (its token after '#'), on which a member chooses a password."""
    # A signed-in browser's requests carry its CSRF token, so the page gets it too.
    return render(request, "set_password.html", user, title=_("Choose your password"), script="set_password")


@router.get("/recover", response_class=HTMLResponse)
@public
def recover_page(request: Request, user: MaybeCaller) -> HTMLResponse:
    """Show the owner's recovery: the recovery key sets a new passphrase, as `homewarden keys recover` does."""
    return render(request, "recover.html", user, title=_("Recover the owner's passphrase"), script="recover")


@router.get("/setup", response_class=HTMLResponse)
@public
def setup_page(request: Request) -> HTMLResponse:
    """Show the first-run form that creates the owner."""
    return render(request, "setup.html", None, title=_("Set up your home"), script="setup")


@router.get("/", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def timeline_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the events, newest first."""
    return household_page(request, user, "timeline.html", title=_("Timeline"), script="timeline")


@router.get("/events/{event_id}", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def event_page(request: Request, user: PageUser, event_id: str) -> HTMLResponse:
    """Show one event: its clips, snapshot and details."""
    return household_page(request, user, "event.html", title=_("Event"), script="event", event_id=event_id)


@router.get("/events/{event_id}/donate", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def donate_page(request: Request, user: PageUser, event_id: str) -> HTMLResponse:
    """Ask the owner's consent to donate a redacted copy of an event's clip, showing the copy first."""
    return household_page(
        request, user, "donate.html", owner_only=True, title=_("Donate a clip"), script="donate", event_id=event_id
    )


@router.get("/live", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def live_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show every camera the user can see, live."""
    return household_page(request, user, "live.html", title=_("Live"), script="live")


@router.get("/faces", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def faces_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the household's enrolled faces and the enrolment form."""
    return household_page(request, user, "faces.html", owner_only=True, title=_("Faces"), script="faces")


@router.get("/arming", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def arming_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the arming mode and the weekly schedule."""
    return household_page(request, user, "arming.html", title=_("Arming"), script="arming")


@router.get("/storage", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def storage_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show how much storage the recordings use and what is deleted next."""
    return household_page(request, user, "storage.html", owner_only=True, title=_("Storage"), script="storage")


@router.get("/settings", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def settings_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the hub's settings for the owner to change: cameras, motion, objects, retention."""
    return household_page(request, user, "settings.html", owner_only=True, title=_("Settings"), script="settings")


@router.get("/members", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def members_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the household's members and which cameras each one sees."""
    return household_page(request, user, "members.html", owner_only=True, title=_("Members"), script="members")


@router.get("/privacy", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def privacy_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the owner's donations, standing rules, notices and who saw the home's footage."""
    models = request.app.state.services.verifier_models
    return household_page(
        request,
        user,
        "privacy.html",
        owner_only=True,
        title=_("Privacy"),
        script="privacy",
        verifier_model=None if models is None else models.in_use(),
    )


@router.get("/account", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def account_page(request: Request, user: PageUser) -> HTMLResponse:
    """Show the user's password, two-factor sign-in, API tokens and, for owners, the home key."""
    return render(
        request,
        "account.html",
        user,
        title=_("Account"),
        script="account",
        account_language=request.app.state.services.accounts.language_of(user.id),
        language_names=LANGUAGE_NAMES,
    )


# The web app manifest (installable on a phone's home screen); the icons are drawn in static/icon.svg and made into
# PNGs by scripts/make_icons.py.
THEME_COLOUR = "#2c6bd8"
BACKGROUND_COLOUR = "#f4f5f7"
ICON_SIZES = (192, 512)


def web_app_manifest() -> dict[str, Any]:
    """Return the web app manifest: name, start page, colours and icons."""
    icons: list[dict[str, str]] = [
        {"src": f"/static/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
        for size in ICON_SIZES
    ]
    icons.append(
        {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"}
    )
    icons.append({"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"})
    return {
        "name": "Homewarden",
        "short_name": "Homewarden",
        "description": _("Your home's cameras: events, live view and arming."),
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }


@router.get("/manifest.json")
@public
def manifest() -> JSONResponse:
    """Serve the web app manifest, so a phone can install the app to its home screen."""
    return JSONResponse(web_app_manifest(), media_type="application/manifest+json")


def mount_static(app: FastAPI) -> None:
    """Serve the web app's scripts and styles at /static."""
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
