"""Choose each request's language before anything answers it, so pages, API errors and headers speak it."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from homewarden.i18n import negotiate, use_language

# The account's choice travels as this cookie (set when the account chooses or signs in); else Accept-Language.
LANGUAGE_COOKIE = "homewarden_lang"


def request_language(headers: list[tuple[bytes, bytes]]) -> str:
    """Return the language a request asks for: the account's cookie, else the browser's Accept-Language."""
    accept = None
    chosen = None
    for name, value in headers:
        if name == b"accept-language":
            accept = value.decode("latin-1")
        elif name == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:
                continue
            if LANGUAGE_COOKIE in cookie:
                chosen = cookie[LANGUAGE_COOKIE].value
    return negotiate(accept, chosen)


class RequestLanguage:
    """Speak the request's language for the whole request (a pure ASGI middleware: routes see the context)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap the app."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Set the language, then answer."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with use_language(request_language(list(scope.get("headers", [])))):
            await self.app(scope, receive, send)
