"""A home's objects: the only code that reads or writes them, always scoped to one home.

``HomeObjects`` is made for the home of a verified hub and every query it runs names that home, so another home's
object is simply not found (404), never forbidden.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.config import LimitsConfig
from homewarden.cloud.database import CloudDatabase, rows_affected
from homewarden.cloud.deletion import claim_key, doom_blob, object_key
from homewarden.cloud.identifiers import new_upload_id
from homewarden.cloud.models import Home, MultipartUpload, StoredObject
from homewarden.cloud.object_store import BlobMissingError, ObjectStore, UploadedPart
from homewarden.errors import Refusal, RefusedError

log = logging.getLogger(__name__)

OBJECT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_PARTS = 10_000
MAX_LIST_LIMIT = 1000

DeletionScheduler = Callable[[list[str]], None]


@dataclass(frozen=True)
class ObjectInfo:
    """An object as the hub sees it."""

    id: str
    size: int
    sha256: str
    uploaded_at: datetime
    pinned: bool


@dataclass(frozen=True)
class StoreResult:
    """The answer to an upload: the object, and whether this request created it (201) or it was there (200)."""

    object: ObjectInfo
    created: bool


@dataclass(frozen=True)
class HomeUsage:
    """What a home keeps in the cloud."""

    home_id: str
    objects: int
    bytes: int
    quota_bytes: int
    retention_days: int
    last_upload_at: datetime | None


@dataclass(frozen=True)
class UploadStarted:
    """A multipart upload the hub may now send parts to."""

    upload_id: str
    part_size: int


def check_object_id(object_id: str) -> str:
    """Refuse an object id outside the contract's ``[A-Za-z0-9_-]{16,64}``."""
    if not OBJECT_ID.fullmatch(object_id):
        raise RefusedError("an object id is 16 to 64 characters of A-Z a-z 0-9 _ -", Refusal.INVALID)
    return object_id


def check_sha256(text: str | None) -> str:
    """Return a SHA-256 hex digest in lower case, or refuse it."""
    value = (text or "").strip().lower()
    if not SHA256_HEX.fullmatch(value):
        raise RefusedError("a SHA-256 is 64 hex digits", Refusal.INVALID)
    return value


def home_usage(session: Session, home_id: str) -> HomeUsage:
    """Count a home's stored objects and bytes."""
    home = session.get(Home, home_id)
    if home is None:
        raise RefusedError("no such home", Refusal.NOT_FOUND)
    count, total, last = session.execute(
        select(func.count(), func.coalesce(func.sum(StoredObject.size), 0), func.max(StoredObject.uploaded_at)).where(
            StoredObject.home_id == home_id, StoredObject.stored.is_(True)
        )
    ).one()
    if isinstance(last, datetime) and last.tzinfo is None:
        # Aggregates skip the column's type, so SQLite's naive time comes back as it is.
        last = last.replace(tzinfo=utc_now().tzinfo)
    return HomeUsage(
        home_id=home_id,
        objects=int(count),
        bytes=int(total),
        quota_bytes=home.quota_bytes,
        retention_days=home.retention_days,
        last_upload_at=last,
    )


class HomeObjects:
    """The objects of one home: upload, multipart, list, read, delete, usage."""

    def __init__(
        self,
        home_id: str,
        database: CloudDatabase,
        store: ObjectStore,
        limits: LimitsConfig,
        schedule_deletion: DeletionScheduler,
    ) -> None:
        """Work on ``home_id``'s objects only."""
        self.home_id = home_id
        self._database = database
        self._store = store
        self._limits = limits
        self._schedule_deletion = schedule_deletion

    def usage(self) -> HomeUsage:
        """Return what the home keeps."""
        with self._database.session() as session:
            return home_usage(session, self.home_id)

    def put(self, object_id: str, body: bytes, sha256: str | None, pinned: bool) -> StoreResult:
        """Store a whole object (idempotent by content hash)."""
        check_object_id(object_id)
        expected = check_sha256(sha256)
        actual = hashlib.sha256(body).hexdigest()
        if actual != expected:
            raise RefusedError(
                f"the body's SHA-256 is {actual}, not the {expected} of X-HW-Content-SHA256", Refusal.INVALID
            )
        existing = self._reserve(object_id, len(body), expected, pinned)
        if existing is not None:
            return StoreResult(existing, created=False)
        self._store.put(object_key(self.home_id, object_id), body)
        return StoreResult(self._mark_stored(object_id, expected), created=True)

    def start_upload(self, object_id: str, size: int, sha256: str) -> UploadStarted:
        """Begin a multipart upload of ``size`` bytes whose whole SHA-256 is ``sha256``."""
        check_object_id(object_id)
        expected = check_sha256(sha256)
        if size < 1:
            raise RefusedError("size must be at least 1 byte", Refusal.INVALID)
        part_size = self._limits.part_bytes
        if -(-size // part_size) > MAX_PARTS:
            raise RefusedError(f"an object has at most {MAX_PARTS} parts of {part_size} bytes", Refusal.INVALID)
        with self._database.session() as session:
            found = session.get(StoredObject, (self.home_id, object_id))
            if found is not None and found.sha256 != expected:
                raise RefusedError(f"object {object_id} exists with other content", Refusal.CONFLICT)
            if found is None:
                # Early word for the hub; the parts' bytes are reserved, under the home's lock, only at completion.
                self._check_quota(session, size)
        store_upload_id = self._store.start_upload(object_key(self.home_id, object_id))
        upload_id = new_upload_id()
        try:
            with self._database.session() as session:
                session.add(
                    MultipartUpload(
                        id=upload_id,
                        home_id=self.home_id,
                        object_id=object_id,
                        store_upload_id=store_upload_id,
                        size=size,
                        sha256=expected,
                        created_at=utc_now(),
                    )
                )
        except Exception:
            self._store.abort_upload(object_key(self.home_id, object_id), store_upload_id)
            raise
        return UploadStarted(upload_id=upload_id, part_size=part_size)

    def put_part(self, object_id: str, upload_id: str, number: int, body: bytes) -> int:
        """Store part ``number``: every part is ``part_size`` bytes except the last, which holds the rest."""
        upload = self._upload(object_id, upload_id)
        part_size = self._limits.part_bytes
        count = -(-upload.size // part_size)
        if not 1 <= number <= count:
            raise RefusedError(f"this upload has parts 1 to {count}", Refusal.INVALID)
        wanted = part_size if number < count else upload.size - (count - 1) * part_size
        if len(body) != wanted:
            raise RefusedError(f"part {number} must be {wanted} bytes, not {len(body)}", Refusal.INVALID)
        self._store.put_part(object_key(self.home_id, object_id), upload.store_upload_id, number, body)
        return len(body)

    def parts(self, object_id: str, upload_id: str) -> list[UploadedPart]:
        """Return the parts that arrived (to resume after a crash)."""
        upload = self._upload(object_id, upload_id)
        return self._store.parts(object_key(self.home_id, object_id), upload.store_upload_id)

    def complete_upload(self, object_id: str, upload_id: str) -> StoreResult:
        """Join the parts, check the whole SHA-256 and make the object visible."""
        upload = self._upload(object_id, upload_id)
        key = object_key(self.home_id, object_id)
        parts = self._store.parts(key, upload.store_upload_id)
        count = -(-upload.size // self._limits.part_bytes)
        missing = sorted(set(range(1, count + 1)) - {part.number for part in parts})
        if missing:
            shown = ", ".join(str(number) for number in missing[:20])
            raise RefusedError(f"parts missing: {shown}", Refusal.INVALID)
        existing = self._reserve(object_id, upload.size, upload.sha256, pinned=False)
        if existing is not None:
            self._drop_upload(upload)
            return StoreResult(existing, created=False)
        self._store.finish_upload(key, upload.store_upload_id, parts)
        digest = hashlib.sha256()
        for chunk in self._store.read(key):
            digest.update(chunk)
        if digest.hexdigest() != upload.sha256:
            with self._database.session() as session:
                session.execute(
                    delete(StoredObject).where(StoredObject.home_id == self.home_id, StoredObject.id == object_id)
                )
                session.execute(delete(MultipartUpload).where(MultipartUpload.id == upload.id))
                doom_blob(session, key)
            self._schedule_deletion([key])
            raise RefusedError(
                f"the joined parts' SHA-256 is {digest.hexdigest()}, not the {upload.sha256} announced",
                Refusal.INVALID,
            )
        stored = self._mark_stored(object_id, upload.sha256)
        with self._database.session() as session:
            session.execute(delete(MultipartUpload).where(MultipartUpload.id == upload.id))
        return StoreResult(stored, created=True)

    def list(self, after: str | None, limit: int) -> tuple[list[ObjectInfo], str | None]:
        """Return up to ``limit`` stored objects ordered by id after ``after``, and the id to continue from."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise RefusedError(f"limit is 1 to {MAX_LIST_LIMIT}", Refusal.INVALID)
        query = select(StoredObject).where(StoredObject.home_id == self.home_id, StoredObject.stored.is_(True))
        if after:
            query = query.where(StoredObject.id > after)
        with self._database.session() as session:
            rows = session.scalars(query.order_by(StoredObject.id).limit(limit + 1)).all()
            page = [_info(row) for row in rows[:limit]]
        return page, (page[-1].id if len(rows) > limit else None)

    def read(self, object_id: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        """Open a stored object for streaming."""
        check_object_id(object_id)
        with self._database.session() as session:
            row = session.get(StoredObject, (self.home_id, object_id))
            if row is None or not row.stored:
                raise RefusedError("no such object", Refusal.NOT_FOUND)
            info = _info(row)
        try:
            return info, self._store.read(object_key(self.home_id, object_id))
        except BlobMissingError:
            log.error("object %s of home %s has a row but no blob", object_id, self.home_id)
            raise RefusedError("no such object", Refusal.NOT_FOUND) from None

    def delete(self, object_id: str) -> None:
        """Delete an object: its row now, its blob by a task; an object already gone is no error."""
        check_object_id(object_id)
        key = object_key(self.home_id, object_id)
        with self._database.session() as session:
            result = session.execute(
                delete(StoredObject).where(StoredObject.home_id == self.home_id, StoredObject.id == object_id)
            )
            removed = rows_affected(result)
            if removed:
                doom_blob(session, key)
        if removed:
            self._schedule_deletion([key])

    def _reserve(self, object_id: str, size: int, sha256: str, pinned: bool) -> ObjectInfo | None:
        """Write the object's row (not yet served), or return the stored object when it is already there.

        Returns None when the caller is to write the blob: a new row, or a row of the same content whose upload never
        finished (a crash, or the store failing): writing the same bytes again finishes it.
        """
        for _attempt in range(2):
            try:
                with self._database.session() as session:
                    self._lock_home(session)
                    found = session.get(StoredObject, (self.home_id, object_id))
                    if found is not None:
                        if found.sha256 != sha256:
                            raise RefusedError(f"object {object_id} exists with other content", Refusal.CONFLICT)
                        return _info(found) if found.stored else None
                    self._check_quota(session, size)
                    claim_key(session, object_key(self.home_id, object_id))
                    session.add(
                        StoredObject(
                            home_id=self.home_id,
                            id=object_id,
                            size=size,
                            sha256=sha256,
                            uploaded_at=utc_now(),
                            pinned=pinned,
                            stored=False,
                        )
                    )
                return None
            except IntegrityError:
                # Another request inserted the same id first: look again and answer as for an existing object.
                continue
        raise RefusedError(f"object {object_id} is being uploaded by another request", Refusal.CONFLICT)

    def _mark_stored(self, object_id: str, sha256: str) -> ObjectInfo:
        with self._database.session() as session:
            session.execute(
                update(StoredObject)
                .where(
                    StoredObject.home_id == self.home_id, StoredObject.id == object_id, StoredObject.sha256 == sha256
                )
                .values(stored=True)
            )
            row = session.get(StoredObject, (self.home_id, object_id))
            if row is None or not row.stored:
                raise RefusedError(f"object {object_id} was deleted while it was uploaded", Refusal.CONFLICT)
            return _info(row)

    def _lock_home(self, session: Session) -> None:
        """Hold the home's row lock until the session's transaction ends: reservations of one home take turns.

        With it the quota check and the new row are one step: of two uploads racing at the quota's edge the second
        waits, then counts the first's row (every row counts, stored or still being written).
        """
        # The UPDATE is the lock: PostgreSQL locks the home's row, SQLite the database (before any read, so no stale
        # snapshot), until this transaction ends.
        session.execute(update(Home).where(Home.id == self.home_id).values(quota_bytes=Home.quota_bytes))

    def _check_quota(self, session: Session, size: int) -> None:
        """Refuse ``size`` more bytes over the quota (exact under ``_lock_home``; a hint without it)."""
        home = session.get(Home, self.home_id)
        if home is None:
            raise RefusedError("no such home", Refusal.NOT_FOUND)
        used = session.scalar(
            select(func.coalesce(func.sum(StoredObject.size), 0)).where(StoredObject.home_id == self.home_id)
        )
        if int(used or 0) + size > home.quota_bytes:
            raise RefusedError(
                f"this home's quota is full: {used} of {home.quota_bytes} bytes used, {size} more asked for",
                Refusal.QUOTA_EXHAUSTED,
            )

    def _upload(self, object_id: str, upload_id: str) -> MultipartUpload:
        check_object_id(object_id)
        with self._database.session() as session:
            upload = session.scalar(
                select(MultipartUpload).where(
                    MultipartUpload.id == upload_id,
                    MultipartUpload.home_id == self.home_id,
                    MultipartUpload.object_id == object_id,
                )
            )
        if upload is None:
            raise RefusedError("no such upload", Refusal.NOT_FOUND)
        return upload

    def _drop_upload(self, upload: MultipartUpload) -> None:
        self._store.abort_upload(object_key(self.home_id, upload.object_id), upload.store_upload_id)
        with self._database.session() as session:
            session.execute(delete(MultipartUpload).where(MultipartUpload.id == upload.id))


def stale_uploads(database: CloudDatabase, older_than: timedelta) -> list[MultipartUpload]:
    """Return multipart uploads started before ``older_than`` ago."""
    cutoff = utc_now() - older_than
    with database.session() as session:
        return list(session.scalars(select(MultipartUpload).where(MultipartUpload.created_at < cutoff)))


def _info(row: StoredObject) -> ObjectInfo:
    return ObjectInfo(id=row.id, size=row.size, sha256=row.sha256, uploaded_at=row.uploaded_at, pinned=row.pinned)
