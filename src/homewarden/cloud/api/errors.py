"""The one place where the cloud's refusals become HTTP answers: always JSON ``{"detail": "plain words"}``."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from homewarden.cloud.errors import ForbiddenError, NotAuthenticatedError, TooManyAttemptsError
from homewarden.cloud.review.workbench import ReviewRefusedError
from homewarden.errors import Refusal, RefusedError

log = logging.getLogger(__name__)

HTTP_STATUS: dict[Refusal, int] = {
    Refusal.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    Refusal.CONFLICT: status.HTTP_409_CONFLICT,
    Refusal.INVALID: status.HTTP_400_BAD_REQUEST,
    Refusal.LOCKED: status.HTTP_423_LOCKED,
    Refusal.GONE: status.HTTP_410_GONE,
    # The contract: a home over its quota is 507 Insufficient Storage (the hub's own API uses 429 for its quotas).
    Refusal.QUOTA_EXHAUSTED: status.HTTP_507_INSUFFICIENT_STORAGE,
    Refusal.UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


async def answer_refusal(_request: Request, error: Exception) -> JSONResponse:
    """Answer a refused request with its status and message."""
    assert isinstance(error, RefusedError)  # registered for RefusedError only
    detail = {"detail": str(error)}
    if isinstance(error, NotAuthenticatedError):
        return JSONResponse(detail, status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(error, ForbiddenError):
        return JSONResponse(detail, status.HTTP_403_FORBIDDEN)
    if isinstance(error, TooManyAttemptsError):
        retry_after = str(max(1, math.ceil(error.retry_after)))
        return JSONResponse(detail, status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": retry_after})
    if isinstance(error, ReviewRefusedError) and error.refusal is Refusal.QUOTA_EXHAUSTED:
        # A reviewer's daily quota is a rate, not storage: 429 as on the hub.
        return JSONResponse(detail, status.HTTP_429_TOO_MANY_REQUESTS)
    return JSONResponse(detail, HTTP_STATUS[error.refusal])


async def answer_invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """Say in plain words which field of a request is wrong (400, not FastAPI's list of 422 errors)."""
    assert isinstance(error, RequestValidationError)
    problems = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem.get("loc", ()) if part not in ("body", "path", "query"))
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return JSONResponse({"detail": "; ".join(problems) or "invalid request"}, status.HTTP_400_BAD_REQUEST)


async def answer_http_error(_request: Request, error: Exception) -> JSONResponse:
    """Answer Starlette's own errors (404 for unknown paths, 405, 413 from the body limit) as JSON."""
    assert isinstance(error, StarletteHTTPException)
    return JSONResponse({"detail": str(error.detail)}, error.status_code, headers=error.headers)


async def answer_database_error(_request: Request, error: Exception) -> JSONResponse:
    """Answer 503 when the database fails (the hub retries 5xx), without SQL text."""
    log.error("database error: %s", " ".join(str(getattr(error, "orig", None) or error).split())[:500])
    return JSONResponse({"detail": "the cloud's database is unavailable; try again later"}, 503)


async def answer_unexpected(_request: Request, error: Exception) -> JSONResponse:
    """Answer 500 without a traceback (the traceback goes to the server's log)."""
    return JSONResponse({"detail": "internal error"}, status.HTTP_500_INTERNAL_SERVER_ERROR)


def add_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(RefusedError, answer_refusal)
    app.add_exception_handler(RequestValidationError, answer_invalid_request)
    app.add_exception_handler(StarletteHTTPException, answer_http_error)
    app.add_exception_handler(SQLAlchemyError, answer_database_error)
    app.add_exception_handler(Exception, answer_unexpected)
