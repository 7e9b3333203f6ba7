"""Request body limits, enforced before a body is read: a declared length over the limit is refused at once."""

from __future__ import annotations

import json
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from homewarden.cloud.config import LimitsConfig
from homewarden.cloud.review.donations import MAX_DONATION_BYTES

# The routes whose bodies are object bytes; every other body is small JSON.
OBJECT_BODY = re.compile(r"^/api/v1/objects/[^/]+(/uploads/[^/]+/parts/[^/]+)?$")
DONATION_BODY = re.compile(r"^/api/v1/donations/[^/]+$")


class BodyLimit:
    """ASGI middleware: 413 for a Content-Length over the route's limit, or for a streamed body that passes it."""

    def __init__(self, app: ASGIApp, limits: LimitsConfig) -> None:
        """Wrap ``app`` with the config's limits."""
        self.app = app
        self.limits = limits

    def limit_for(self, scope: Scope) -> int:
        """Return the largest body the request's route accepts."""
        if scope.get("method") == "PUT" and OBJECT_BODY.match(scope.get("path", "")):
            return self.limits.max_object_bytes
        if scope.get("method") == "PUT" and DONATION_BODY.match(scope.get("path", "")):
            return MAX_DONATION_BYTES
        return self.limits.max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared length over the limit unread; count a body without one as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
