"""Objects as files in one folder: the one-machine trial's store, with the same interface as S3."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from homewarden.cloud.object_store.base import (
    READ_CHUNK_BYTES,
    BlobMissingError,
    ObjectStore,
    ObjectStoreError,
    StoreUpload,
    UploadedPart,
    check_key,
)

# Multipart uploads in progress live beside the objects, under a name no key can take (keys have no dots).
UPLOADS_FOLDER = ".uploads"


class FolderObjectStore(ObjectStore):
    """``<root>/<key>`` per object; every write goes to a temporary file renamed into place."""

    def __init__(self, root: Path) -> None:
        """Keep objects under ``root``."""
        self._root = root

    def check(self) -> None:
        """Create the folder when missing and make sure it can be written."""
        try:
            (self._root / UPLOADS_FOLDER).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ObjectStoreError(f"cannot use the object folder {self._root}: {error.strerror}") from error
        if not os.access(self._root, os.W_OK):
            raise ObjectStoreError(f"cannot write to the object folder {self._root}")

    def put(self, key: str, data: bytes) -> None:
        """Write ``data`` to a temporary file, flush it to disk and rename it over ``key``."""
        path = self._path(key)
        self._write_atomically(path, [data])

    def read(self, key: str) -> Iterator[bytes]:
        """Open the file now (so a missing one fails first) and read it in chunks."""
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobMissingError(f"no object {key!r} in the object store") from None
        except OSError as error:
            raise ObjectStoreError(f"cannot read {key!r}: {error.strerror}") from error

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(READ_CHUNK_BYTES):
                    yield chunk

        return chunks()

    def delete(self, key: str) -> None:
        """Remove the file; one already gone is no error."""
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as error:
            raise ObjectStoreError(f"cannot delete {key!r}: {error.strerror}") from error

    def keys(self, prefix: str) -> Iterator[str]:
        """List the files under ``prefix``."""
        folder = self._root / prefix
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self._root).as_posix()

    def start_upload(self, key: str) -> str:
        """Make a folder for the upload's parts, remembering its key."""
        upload_id = secrets.token_hex(16)
        folder = self._upload_folder(upload_id)
        try:
            folder.mkdir(parents=True)
            (folder / "key").write_text(check_key(key), encoding="utf-8")
        except OSError as error:
            raise ObjectStoreError(f"cannot start an upload of {key!r}: {error.strerror}") from error
        return upload_id

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> None:
        """Write one part's file (atomically, so a listing never shows half a part)."""
        folder = self._known_upload(key, upload_id)
        self._write_atomically(folder / f"{number:05d}.part", [data])

    def parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        """List the part files that arrived."""
        folder = self._known_upload(key, upload_id)
        found = []
        for path in sorted(folder.glob("*.part")):
            number = int(path.stem)
            found.append(UploadedPart(number=number, size=path.stat().st_size, etag=f"part-{number}"))
        return found

    def finish_upload(self, key: str, upload_id: str, parts: list[UploadedPart]) -> None:
        """Join the part files into the object, then drop the upload."""
        folder = self._known_upload(key, upload_id)

        def contents() -> Iterator[bytes]:
            for part in parts:
                with (folder / f"{part.number:05d}.part").open("rb") as handle:
                    while chunk := handle.read(READ_CHUNK_BYTES):
                        yield chunk

        self._write_atomically(self._path(key), contents())
        shutil.rmtree(folder, ignore_errors=True)

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload's parts."""
        shutil.rmtree(self._upload_folder(upload_id), ignore_errors=True)

    def uploads(self) -> Iterator[StoreUpload]:
        """List the upload folders, started when their key file was written."""
        for folder in sorted((self._root / UPLOADS_FOLDER).glob("*")):
            try:
                key_file = folder / "key"
                started_at = datetime.fromtimestamp(key_file.stat().st_mtime, UTC)
                key = key_file.read_text(encoding="utf-8")
            except OSError:
                # Finished or aborted while listed, or a folder whose start failed before its key was written.
                continue
            yield StoreUpload(key=key, upload_id=folder.name, started_at=started_at)

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)

    def _upload_folder(self, upload_id: str) -> Path:
        if not upload_id.isalnum():
            raise BlobMissingError(f"no upload {upload_id!r}")
        return self._root / UPLOADS_FOLDER / upload_id

    def _known_upload(self, key: str, upload_id: str) -> Path:
        folder = self._upload_folder(upload_id)
        try:
            owner = (folder / "key").read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BlobMissingError(f"no upload {upload_id!r} of {key!r}") from None
        if owner != key:
            raise BlobMissingError(f"no upload {upload_id!r} of {key!r}")
        return folder

    def _write_atomically(self, path: Path, chunks: Iterator[bytes] | list[bytes]) -> None:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(path)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise ObjectStoreError(f"cannot write {path.name!r} to the object folder: {error.strerror}") from error
