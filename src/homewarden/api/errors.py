"""The one place where the hub's refusals become HTTP answers.

Domain code raises ``RefusedError`` (or a subclass: ``DonationError``, ``ReviewRefusedError``, ``DoorbellError``)
with a kind of refusal and a message for whoever asked; routes let it through, and the handler registered by
``create_app`` answers ``{"detail": message}`` with the status of its kind, as ``HTTPException`` does.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from homewarden.config.wording import validation_message
from homewarden.errors import InvalidFieldsError, Refusal, RefusedError

HTTP_STATUS: dict[Refusal, int] = {
    Refusal.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    Refusal.CONFLICT: status.HTTP_409_CONFLICT,
    Refusal.INVALID: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Refusal.LOCKED: status.HTTP_423_LOCKED,
    Refusal.GONE: status.HTTP_410_GONE,
    Refusal.QUOTA_EXHAUSTED: status.HTTP_429_TOO_MANY_REQUESTS,
    Refusal.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


async def answer_refusal(_request: Request, exc: Exception) -> JSONResponse:
    """Answer a refused request with the status of its kind and its message."""
    assert isinstance(exc, RefusedError)  # registered for RefusedError only
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, InvalidFieldsError):
        # The page shows each problem at its field.
        body["fields"] = exc.fields
    return JSONResponse(body, status_code=HTTP_STATUS[exc.refusal])


def add_refusal_handler(app: FastAPI) -> None:
    """Map every domain refusal to HTTP, for the whole app."""
    app.add_exception_handler(RefusedError, answer_refusal)


async def answer_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """Say which fields are wrong and why (422, in the request's language), without sending the input back."""
    assert isinstance(exc, RequestValidationError)  # registered for RequestValidationError only
    errors = [
        {key: value for key, value in error.items() if key != "input"} | {"msg": validation_message(error)}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def add_validation_handler(app: FastAPI) -> None:
    """Answer requests that fail validation without echoing what they sent, for the whole app."""
    app.add_exception_handler(RequestValidationError, answer_invalid_request)
