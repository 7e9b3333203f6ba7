"""The worker's periodic duties: each home's retention and quota, stale uploads, forgotten writes.

Every function here deletes rows (and records their blobs as doomed) in transactions and returns the keys whose
blobs the caller then deletes by tasks; none of them touches a pinned object.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from homewarden.cloud.accounts import utc_now
from homewarden.cloud.database import CloudDatabase
from homewarden.cloud.deletion import doom_blob, object_key
from homewarden.cloud.homes import stale_uploads
from homewarden.cloud.models import Home, MultipartUpload, StoredObject
from homewarden.cloud.object_store import ObjectStore

log = logging.getLogger(__name__)

BATCH = 500
# A row whose blob write has not finished after this long belongs to a request that died.
UNFINISHED_WRITE_AGE = timedelta(hours=1)


def enforce_retention(database: CloudDatabase) -> list[str]:
    """Delete every unpinned object uploaded longer ago than its home's retention; return the doomed keys."""
    now = utc_now()
    doomed: list[str] = []
    with database.session() as session:
        periods = list(session.scalars(select(Home.retention_days).distinct()))
    for days in periods:
        cutoff = now - timedelta(days=days)
        while True:
            with database.session() as session:
                rows = session.execute(
                    select(StoredObject.home_id, StoredObject.id)
                    .join(Home, Home.id == StoredObject.home_id)
                    .where(
                        Home.retention_days == days,
                        StoredObject.uploaded_at < cutoff,
                        StoredObject.pinned.is_(False),
                    )
                    .limit(BATCH)
                ).all()
                for home_id, object_id in rows:
                    doomed.append(_delete_row(session, home_id, object_id))
            if len(rows) < BATCH:
                break
    if doomed:
        log.info("retention deleted %d objects", len(doomed))
    return doomed


def enforce_quota(database: CloudDatabase) -> list[str]:
    """Trim every home above its quota (a quota lowered by the operator): oldest unpinned objects first."""
    doomed: list[str] = []
    with database.session() as session:
        over = session.execute(
            select(Home.id, Home.quota_bytes, func.sum(StoredObject.size))
            .join(StoredObject, StoredObject.home_id == Home.id)
            .group_by(Home.id, Home.quota_bytes)
            .having(func.sum(StoredObject.size) > Home.quota_bytes)
        ).all()
    for home_id, quota, used in over:
        excess = int(used) - int(quota)
        with database.session() as session:
            oldest = session.execute(
                select(StoredObject.id, StoredObject.size)
                .where(StoredObject.home_id == home_id, StoredObject.pinned.is_(False), StoredObject.stored.is_(True))
                .order_by(StoredObject.uploaded_at, StoredObject.id)
            )
            for object_id, size in oldest:
                if excess <= 0:
                    break
                doomed.append(_delete_row(session, home_id, object_id))
                excess -= size
        log.info("home %s was above its quota: trimmed to %d bytes or less", home_id, quota)
    return doomed


def abort_stale_uploads(database: CloudDatabase, store: ObjectStore, older_than: timedelta) -> int:
    """Abort multipart uploads left unfinished for longer than ``older_than``; return how many."""
    uploads = stale_uploads(database, older_than)
    for upload in uploads:
        store.abort_upload(object_key(upload.home_id, upload.object_id), upload.store_upload_id)
        with database.session() as session:
            session.execute(delete(MultipartUpload).where(MultipartUpload.id == upload.id))
    return len(uploads)


def abort_forgotten_uploads(store: ObjectStore, started_before: datetime) -> int:
    """Abort the store's multipart uploads started before ``started_before``, also those no row records.

    A process that dies between starting an upload at the store and writing its row leaves an upload only the store
    knows of; its parts would be billed for ever. Uploads the database knows are aborted with their rows first
    (``abort_stale_uploads``), so this finds the rest.
    """
    aborted = 0
    for upload in list(store.uploads()):
        if upload.started_at >= started_before:
            continue
        try:
            store.abort_upload(upload.key, upload.upload_id)
        except ValueError:
            # Not a key of the cloud's shape: the bucket holds something the cloud did not write; leave it.
            log.warning("left alone an upload in progress to %r: not a key the cloud writes", upload.key)
            continue
        aborted += 1
    if aborted:
        log.info("aborted %d uploads in progress that the store alone knew of", aborted)
    return aborted


def drop_unfinished_writes(database: CloudDatabase) -> list[str]:
    """Delete rows whose blob write never finished (the request died); return the keys to clean up."""
    cutoff = utc_now() - UNFINISHED_WRITE_AGE
    doomed: list[str] = []
    with database.session() as session:
        rows = session.execute(
            select(StoredObject.home_id, StoredObject.id)
            .where(StoredObject.stored.is_(False), StoredObject.uploaded_at < cutoff)
            .limit(BATCH)
        ).all()
        for home_id, object_id in rows:
            doomed.append(_delete_row(session, home_id, object_id))
    return doomed


def _delete_row(session: Session, home_id: str, object_id: str) -> str:
    session.execute(delete(StoredObject).where(StoredObject.home_id == home_id, StoredObject.id == object_id))
    key = object_key(home_id, object_id)
    doom_blob(session, key)
    return key
