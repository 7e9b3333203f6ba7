"""Build the web app: the API routers, the pages, security headers, and the policy check on every route."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from homewarden import __version__
from homewarden.api import (
    auth,
    cameras,
    corrections,
    events,
    household,
    integrations,
    intrusions,
    notifications,
    offsite,
    privacy,
    recovery,
    reference,
    settings,
    setup_restore,
    shares,
)
from homewarden.api.body_limits import BodyLimits
from homewarden.api.deps import authorize, check_every_route_has_a_policy
from homewarden.api.errors import add_refusal_handler, add_validation_handler
from homewarden.api.language import RequestLanguage
from homewarden.hub.services import HubServices
from homewarden.hub.setup_restore import SetupRestore

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
        b"script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# Only over HTTPS (RFC 6797 section 7.2): two years, as the HSTS preload list asks. Not includeSubDomains: the
# hub does not own the domain its name sits in (a home router's, a dynamic DNS provider's).
STRICT_TRANSPORT = (b"strict-transport-security", b"max-age=63072000")
# Every answer but the web app's own scripts and styles carries someone's data: no cache keeps it.
NO_STORE = (b"cache-control", b"no-store")
STATIC_PREFIX = "/static/"
PHOTO_UPLOAD = ("POST", "/api/faces")


class SecurityHeaders:
    """Add the security headers to every response (pure ASGI, so streamed video and MJPEG pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # "https" when the hub serves TLS itself, or when a trusted proxy says it did (server.trusted_proxies).
        added = SECURITY_HEADERS + ([STRICT_TRANSPORT] if scope.get("scheme") == "https" else [])
        cacheable = str(scope.get("path", "")).startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + added
                # A route that chose its own caching (media: "private, no-store") keeps it.
                if not cacheable and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(services: HubServices) -> FastAPI:
    """Return the web app over the hub's services."""
    app = FastAPI(
        title="Homewarden",
        version=__version__,
        description="The household's API: cameras, events, clips, faces, arming. Docs: docs/api.md.",
        # The schema and its page are routes of their own (api/reference.py), for owners only.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(authorize)],
    )
    app.state.services = services
    app.state.setup_restore = SetupRestore(services)
    for router in (
        auth.router,
        setup_restore.router,
        events.router,
        corrections.router,
        shares.router,
        intrusions.router,
        cameras.router,
        household.router,
        privacy.router,
        notifications.router,
        integrations.router,
        reference.router,
        offsite.router,
        recovery.router,
        settings.router,
    ):
        app.include_router(router)
    from homewarden.web import pages

    app.include_router(pages.router)
    pages.mount_static(app)
    check_every_route_has_a_policy(app)
    add_refusal_handler(app)

    @app.exception_handler(HTTPException)
    async def send_pages_to_sign_in(request: Request, exc: HTTPException) -> Response:
        """Send an anonymous visitor of a page to the sign-in page; API callers get the 401 itself."""
        if exc.status_code == 401 and request.method == "GET" and not request.url.path.startswith("/api/"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return await http_exception_handler(request, exc)

    add_validation_handler(app)
    server = services.config.server
    # Added first, so it runs inside SecurityHeaders and its 413 answers carry the headers too.
    app.add_middleware(BodyLimits, default=server.max_json_bytes, routes={PHOTO_UPLOAD: server.max_upload_bytes})
    app.add_middleware(SecurityHeaders)
    # Outermost: the language is chosen before any route, error handler or middleware answers.
    app.add_middleware(RequestLanguage)
    return app


def openapi_schema(services: HubServices) -> dict[str, Any]:
    """Return the OpenAPI schema (for docs and tests)."""
    return create_app(services).openapi()
