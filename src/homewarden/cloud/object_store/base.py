"""The object store's interface: whole puts, multipart uploads, streamed reads, deletes and listings by key."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from homewarden.errors import Refusal, RefusedError

# Keys are made by the cloud (homes/<home id>/<object id>), never taken from a request as they are.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
READ_CHUNK_BYTES = 256 * 1024


class ObjectStoreError(RefusedError):
    """The object store failed or could not be reached; trying again later may work."""

    refusal = Refusal.UNAVAILABLE


class BlobMissingError(ObjectStoreError):
    """No blob under that key."""

    refusal = Refusal.NOT_FOUND


@dataclass(frozen=True)
class UploadedPart:
    """One part of a multipart upload as the store holds it."""

    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class StoreUpload:
    """A multipart upload in progress as the store itself knows it (also one the database never recorded)."""

    key: str
    upload_id: str
    started_at: datetime


def check_key(key: str) -> str:
    """Refuse a key that is not made of the cloud's own path segments."""
    if not KEY_PATTERN.fullmatch(key) or len(key) > 200:
        raise ValueError(f"not an object store key: {key!r}")
    return key


class ObjectStore(ABC):
    """Sealed bytes by key: the only code that talks to the storage behind the cloud."""

    @abstractmethod
    def check(self) -> None:
        """Make sure the store answers (and the bucket exists), or raise ``ObjectStoreError``."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` under ``key`` whole, replacing what was there."""

    @abstractmethod
    def read(self, key: str) -> Iterator[bytes]:
        """Open ``key`` and return its bytes in chunks; a missing key raises ``BlobMissingError`` before any chunk."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete ``key``; a key already gone is no error."""

    @abstractmethod
    def keys(self, prefix: str) -> Iterator[str]:
        """List the keys under ``prefix`` (a folder-like prefix ending in '/')."""

    @abstractmethod
    def start_upload(self, key: str) -> str:
        """Begin a multipart upload to ``key``; return the store's upload id."""

    @abstractmethod
    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> None:
        """Write part ``number`` (from 1) of an upload, replacing a part sent before under that number."""

    @abstractmethod
    def parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """Return the parts that arrived, by number; an unknown upload raises ``BlobMissingError``."""

    @abstractmethod
    def finish_upload(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """Join ``parts`` in order into the object at ``key``."""

    @abstractmethod
    def abort_upload(self, key: str, upload_id: str) -> None:
        """Drop an unfinished upload and its parts; an upload already gone is no error."""

    @abstractmethod
    def uploads(self) -> Iterator[StoreUpload]:
        """List every multipart upload in progress in the store, with when it was started."""

    def read_all(self, key: str) -> bytes:
        """Return the whole blob (for small ones and tests)."""
        return b"".join(self.read(key))
