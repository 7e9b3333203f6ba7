"""Routes of a hub's objects (all signed, all scoped to the signing hub's home through ``HomeObjectsOfHub``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from homewarden.cloud.api.deps import Body, HomeObjectsOfHub, for_hub
from homewarden.cloud.api.schemas import (
    ListedObject,
    ObjectPage,
    ObjectPublic,
    PartPublic,
    PartsPublic,
    StartUpload,
    UploadPublic,
)
from homewarden.cloud.homes import MAX_LIST_LIMIT, MAX_PARTS, ObjectInfo, StoreResult

router = APIRouter(prefix="/api/v1/objects", tags=["objects"])

ObjectId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$", description="The hub's opaque object id.")]
UploadId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.put("/{object_id}")
@for_hub
def put_object(
    object_id: ObjectId,
    body: Body,
    objects: HomeObjectsOfHub,
    content_sha256: Annotated[str | None, Header(alias="X-HW-Content-SHA256")] = None,
    pinned: Annotated[str | None, Header(alias="X-HW-Pinned")] = None,
) -> JSONResponse:
    """Store a sealed object: 201 when new, 200 when the same content is already there, 409 for other content."""
    result = objects.put(object_id, body, content_sha256, pinned == "1")
    return stored_answer(result)


@router.post("/{object_id}/uploads")
@for_hub
def start_upload(object_id: ObjectId, request: StartUpload, objects: HomeObjectsOfHub) -> UploadPublic:
    """Begin a multipart upload."""
    started = objects.start_upload(object_id, request.size, request.sha256)
    return UploadPublic(upload_id=started.upload_id, part_size=started.part_size)


@router.put("/{object_id}/uploads/{upload_id}/parts/{n}")
@for_hub
def put_part(
    object_id: ObjectId,
    upload_id: UploadId,
    n: Annotated[int, Path(ge=1, le=MAX_PARTS)],
    body: Body,
    objects: HomeObjectsOfHub,
) -> PartPublic:
    """Store one part (sending a part again replaces it)."""
    return PartPublic(n=n, size=objects.put_part(object_id, upload_id, n, body))


@router.get("/{object_id}/uploads/{upload_id}")
@for_hub
def list_parts(object_id: ObjectId, upload_id: UploadId, objects: HomeObjectsOfHub) -> PartsPublic:
    """List the parts that arrived, to resume an upload."""
    return PartsPublic(
        parts=[PartPublic(n=part.number, size=part.size) for part in objects.parts(object_id, upload_id)]
    )


@router.post("/{object_id}/uploads/{upload_id}/complete")
@for_hub
def complete_upload(object_id: ObjectId, upload_id: UploadId, objects: HomeObjectsOfHub) -> JSONResponse:
    """Join the parts and check the SHA-256: answered as a PUT is."""
    return stored_answer(objects.complete_upload(object_id, upload_id))


@router.get("")
@for_hub
def list_objects(
    objects: HomeObjectsOfHub,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = MAX_LIST_LIMIT,
) -> ObjectPage:
    """List the home's objects by id, a page at a time (for a restore)."""
    page, next_id = objects.list(after, limit)
    return ObjectPage(objects=[listed(info) for info in page], next=next_id)


@router.get("/{object_id}", response_class=StreamingResponse)
@for_hub
def get_object(object_id: ObjectId, objects: HomeObjectsOfHub) -> StreamingResponse:
    """Stream an object's sealed bytes."""
    info, chunks = objects.read(object_id)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Length": str(info.size), "X-HW-Content-SHA256": info.sha256},
    )


@router.delete("/{object_id}", status_code=status.HTTP_204_NO_CONTENT)
@for_hub
def delete_object(object_id: ObjectId, objects: HomeObjectsOfHub) -> Response:
    """Delete an object (also when it is already gone)."""
    objects.delete(object_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def stored_answer(result: StoreResult) -> JSONResponse:
    """Answer an upload: 201 with the object when new, 200 when it was already there."""
    body = ObjectPublic(
        id=result.object.id,
        size=result.object.size,
        sha256=result.object.sha256,
        uploaded_at=result.object.uploaded_at,
    )
    code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


def listed(info: ObjectInfo) -> ListedObject:
    """Return an object as a listing shows it."""
    return ListedObject(
        id=info.id, size=info.size, sha256=info.sha256, uploaded_at=info.uploaded_at, pinned=info.pinned
    )
