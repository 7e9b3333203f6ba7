"""Deleting blobs safely: the row goes first, in a transaction; the blob after, by a task retried until it is gone.

A row is never left pointing at a deleted blob: the row is deleted (and the blob's key written to
``cloud_blob_deletion``) in one transaction before any blob is touched. A new upload to the same key first claims it
(``claim_key`` removes the pending deletion); the task takes a write lock on the pending row before deleting the
blob, so an upload that claims the key either waits for the deletion to finish or makes it a no-op.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.database import CloudDatabase, rows_affected
from homewarden.cloud.models import BlobDeletion
from homewarden.cloud.object_store import ObjectStore

log = logging.getLogger(__name__)


def object_key(home_id: str, object_id: str) -> str:
    """Return the object store key of a home's object: nothing but the two validated ids."""
    return f"homes/{home_id}/{object_id}"


def doom_blob(session: Session, key: str) -> None:
    """Record, in the caller's transaction, that the blob under ``key`` is to be deleted."""
    if session.get(BlobDeletion, key) is None:
        session.add(BlobDeletion(key=key, requested_at=utc_now()))


def claim_key(session: Session, key: str) -> None:
    """Cancel a pending deletion of ``key`` before a new blob is written there (waits for one in progress)."""
    session.execute(delete(BlobDeletion).where(BlobDeletion.key == key))


def delete_doomed_blob(database: CloudDatabase, store: ObjectStore, key: str) -> bool:
    """Delete the blob of a pending deletion and its row; return False when nothing was pending (claimed or done)."""
    with database.session() as session:
        # The UPDATE is the lock: PostgreSQL locks the row, SQLite the database, until this transaction ends.
        locked = session.execute(
            update(BlobDeletion).where(BlobDeletion.key == key).values(requested_at=BlobDeletion.requested_at)
        )
        if rows_affected(locked) != 1:
            return False
        store.delete(key)
        session.execute(delete(BlobDeletion).where(BlobDeletion.key == key))
    return True


def overdue_deletions(database: CloudDatabase, older_than: datetime, limit: int = 1000) -> list[str]:
    """Return keys whose deletion was asked for before ``older_than`` and is still pending (a lost or failed task)."""
    with database.session() as session:
        return list(
            session.scalars(
                select(BlobDeletion.key)
                .where(BlobDeletion.requested_at < older_than)
                .order_by(BlobDeletion.requested_at)
                .limit(limit)
            )
        )
