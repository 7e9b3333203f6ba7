"""The API's description, for the owner only: the OpenAPI schema and a page of it.

The schema names every route: an intruder learns nothing from it that the people who script the hub need it for.
Signed-in members get 404, as for a route that does not exist.
The page is rendered on the hub from the schema, with no script of anyone else's (Swagger UI from a CDN was the
alternative): whoever wants an interactive client loads the schema into one of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse

from homewarden.api.deps import ANYONE_SIGNED_IN, Caller, CurrentUser, allow

router = APIRouter(prefix="/api", include_in_schema=False)
SCHEMA_READERS = frozenset({"owner"})
HTTP_METHODS = ("get", "put", "post", "patch", "delete")


def schema_reader(caller: Caller) -> CurrentUser:
    """Return the caller if they may read the API's description; 404 for every other signed-in role."""
    if caller.role not in SCHEMA_READERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    return caller


SchemaReader = Annotated[CurrentUser, Depends(schema_reader)]


@dataclass(frozen=True)
class Operation:
    """One operation of the API as the page lists it."""

    method: str
    path: str
    summary: str
    description: str


def operations_by_tag(schema: dict[str, Any]) -> dict[str, list[Operation]]:
    """Return the schema's operations grouped by their first tag, in the schema's order."""
    groups: dict[str, list[Operation]] = {}
    for path, item in schema.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                Operation(method.upper(), path, operation.get("summary", ""), operation.get("description", "").strip())
            )
    return groups


@router.get("/openapi.json")
@allow(*ANYONE_SIGNED_IN)
def openapi_document(request: Request, _reader: SchemaReader) -> JSONResponse:
    """Return the OpenAPI schema."""
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse)
@allow(*ANYONE_SIGNED_IN)
def api_reference_page(request: Request, reader: SchemaReader) -> HTMLResponse:
    """Show every operation of the API, by resource, with a link to the schema."""
    from homewarden.web.pages import render

    schema = request.app.openapi()
    return render(
        request,
        "api_reference.html",
        reader,
        title="API",
        version=schema.get("info", {}).get("version", ""),
        groups=operations_by_tag(schema),
    )
