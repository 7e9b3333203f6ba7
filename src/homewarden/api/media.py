"""Serve sealed media over HTTP: decrypted on the fly, with byte ranges so a browser can seek a clip."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Protocol

from fastapi import HTTPException, Request, status
from fastapi.responses import Response, StreamingResponse

from homewarden.hub.services import HubServices
from homewarden.i18n import N_, _
from homewarden.store.crypto import SealedObjectError, SealedObjectReader

# One byte range (RFC 9110 section 14.1.2): "first-last", "first-" or "-suffix"; the unit is case-insensitive.
_RANGE = re.compile(r"bytes=(?:([0-9]+)-([0-9]*)|-([0-9]+))", re.IGNORECASE)
# Byte positions beyond 18 digits (an exabyte) are all "past the end"; they are never turned into huge integers.
MAX_POSITION_DIGITS = 18
# A browser asks for open-ended ranges ("bytes=1000-"); answering them in pieces of this size keeps memory flat.
STREAM_PIECE = 1 << 20
LOCKED_DETAIL = N_("recordings are locked until the owner unlocks them (account page, or signing in again)")


class MediaReader(Protocol):
    """What serve_object reads from: a sealed object opened with the home key, or a copy made from one."""

    @property
    def size(self) -> int:
        """Return the plaintext size."""

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Return plaintext bytes ``start`` to ``end`` (exclusive)."""


@dataclass(frozen=True)
class MediaInMemory:
    """Media made on demand from a sealed object (an H.264 copy), held in memory, never written to disk."""

    data: bytes

    @property
    def size(self) -> int:
        """Return the size."""
        return len(self.data)

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Return bytes ``start`` to ``end`` (exclusive)."""
        return self.data[start:end]


def open_sealed(hub: HubServices, path: str) -> SealedObjectReader:
    """Open the sealed object stored at ``path`` with the held home key, or answer 404/423."""
    name = hub.storage.media.object_name(Path(path))
    if name is None or not hub.storage.vault.exists(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _("this footage is no longer stored"))
    keyring = hub.keys.keyring
    if keyring is None:
        raise HTTPException(status.HTTP_423_LOCKED, _(LOCKED_DETAIL))
    try:
        return hub.storage.vault.open(name, keyring)
    except SealedObjectError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, _("this footage cannot be opened: {problem}").format(problem=exc)
        ) from None


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Return the (start, end exclusive) a Range header asks for, None for the whole object; 416 if unsatisfiable.

    RFC 9110 section 14.2: a header that is not one valid byte range (another unit, several ranges, bad syntax, a
    last position before the first) is ignored and the whole object served; a valid range that misses the object
    answers 416.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        length = _position(suffix)
        if length == 0:
            _not_satisfiable(size)
        if size == 0:
            return None  # the last n bytes of nothing: the whole (empty) object
        return max(0, size - length), size
    start = _position(first)
    if last and _position(last) < start:
        return None  # invalid, not unsatisfiable (RFC 9110 section 14.1.1)
    end = min(size, _position(last) + 1) if last else size
    if start >= size:
        _not_satisfiable(size)
    return start, end


def _position(digits: str) -> int:
    """Return a byte position, capped: a number of thousands of digits is no size, and int() refuses 4300+ digits."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= MAX_POSITION_DIGITS else 10**MAX_POSITION_DIGITS


def _not_satisfiable(size: int) -> NoReturn:
    raise HTTPException(
        status.HTTP_416_RANGE_NOT_SATISFIABLE, _("range not satisfiable"), headers={"Content-Range": f"bytes */{size}"}
    )


def starts_playback(request: Request) -> bool:
    """Tell whether a media request starts watching (no range, or one from byte 0), not a seek inside it."""
    wanted = request.headers.get("range", "").replace(" ", "")
    return not wanted or wanted.startswith("bytes=0-")


def serve_object(request: Request, reader: MediaReader, media_type: str) -> Response:
    """Answer with the object, or the asked-for range of it (206)."""
    try:
        size = reader.size
    except SealedObjectError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT, _("this footage cannot be opened: {problem}").format(problem=exc)
        ) from None
    wanted = byte_range(request.headers.get("range"), size)
    start, end = wanted if wanted is not None else (0, size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
        # Household footage: never kept by a shared cache or the browser's disk cache.
        "Cache-Control": "private, no-store",
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"

    def pieces() -> Iterator[bytes]:
        for offset in range(start, end, STREAM_PIECE):
            yield reader.read(offset, min(end, offset + STREAM_PIECE))

    code = status.HTTP_206_PARTIAL_CONTENT if wanted is not None else status.HTTP_200_OK
    if request.method == "HEAD":
        return Response(status_code=code, headers=headers, media_type=media_type)
    return StreamingResponse(pieces(), status_code=code, headers=headers, media_type=media_type)
