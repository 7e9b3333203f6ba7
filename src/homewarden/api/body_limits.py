"""Refuse request bodies larger than their route takes: before the app, its sign-in check or its parser reads them.

A declared ``Content-Length`` over the limit is answered 413 at once, without calling the app; a body sent in chunks
is counted as the app reads it and refused as soon as the count passes the limit. Pure ASGI (not Starlette's
``BaseHTTPMiddleware``), so streamed answers pass untouched.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Longer than any body a hub takes (an exabyte): not turned into an integer, simply too large.
MAX_LENGTH_DIGITS = 18


class BodyTooLargeError(HTTPException):
    """The body passed its route's limit while being read (an HTTPException, so FastAPI answers it as one)."""

    def __init__(self, limit: int) -> None:
        """Refuse a body over ``limit`` bytes."""
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    """Return the refusal's message."""
    return f"request body too large: this route takes at most {limit} bytes"


class BodyLimits:
    """Limit every request body: ``default`` bytes, or the limit of its (method, path) in ``routes``."""

    def __init__(self, app: ASGIApp, default: int, routes: Mapping[tuple[str, str], int]) -> None:
        """Wrap ``app``."""
        self.app = app
        self.default = default
        self.routes = dict(routes)

    def limit_of(self, scope: Scope) -> int:
        """Return how many body bytes the request's route takes."""
        return self.routes.get((scope["method"], scope["path"]), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared length over the limit at once; count a body of unknown length as it is read."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        try:
            declared = declared_length(scope)
        except ValueError as exc:
            await JSONResponse({"detail": str(exc)}, status_code=400)(scope, receive, send)
            return
        if declared is not None and declared > limit:
            await refuse(scope, receive, send, limit)
            return
        received = 0
        answered = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            # FastAPI answers it itself while parsing; this catches readers that let it through (a plain route).
            if answered:
                raise
            await refuse(scope, receive, send, limit)


def declared_length(scope: Scope) -> int | None:
    """Return the Content-Length the request declares (None without one); ValueError if it is not one number."""
    values = [value for name, value in scope["headers"] if name == b"content-length"]
    if not values:
        return None
    text = values[0].decode("latin-1").strip()
    if len(set(values)) > 1 or not text.isascii() or not text.isdigit():
        raise ValueError("invalid Content-Length")
    significant = text.lstrip("0") or "0"
    return int(significant) if len(significant) <= MAX_LENGTH_DIGITS else 10**MAX_LENGTH_DIGITS


async def refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Answer 413 and close the connection: the body that was not read must not be taken for the next request."""
    answer = JSONResponse({"detail": too_large(limit)}, status_code=413, headers={"Connection": "close"})
    await answer(scope, receive, send)
