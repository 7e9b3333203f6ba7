"""What the cloud's API processes and workers build once and share: the one start-up of serve, worker and invite."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from homewarden.cloud.accounts import CloudAccounts, utc_now
from homewarden.cloud.config import CloudConfig
from homewarden.cloud.database import VERSION_TABLE, CloudDatabase, migration_config
from homewarden.cloud.deletion import delete_doomed_blob, overdue_deletions
from homewarden.cloud.homes import DeletionScheduler, HomeObjects
from homewarden.cloud.hubs import HubRegistry
from homewarden.cloud.object_store import ObjectStore, ObjectStoreError, open_object_store
from homewarden.cloud.retention import (
    abort_forgotten_uploads,
    abort_stale_uploads,
    drop_unfinished_writes,
    enforce_quota,
    enforce_retention,
)
from homewarden.errors import UserError

log = logging.getLogger(__name__)

# A deletion still pending after this long lost its task (a broker outage, a worker killed): the sweep redoes it.
OVERDUE_DELETION_AGE = timedelta(minutes=5)


@dataclass
class CloudServices:
    """The database, the object store and the services on them."""

    config: CloudConfig
    database: CloudDatabase
    store: ObjectStore
    accounts: CloudAccounts
    hubs: HubRegistry
    # Who deletes blobs after their rows went: a Celery task, or the caller itself when tasks run in-process.
    schedule_deletion: DeletionScheduler

    @classmethod
    def build(cls, config: CloudConfig, *, migrate: bool) -> CloudServices:
        """Open the database (migrating it, or checking it is migrated) and the object store."""
        database = CloudDatabase.open(config.database_url, migrate=migrate)
        try:
            if not migrate:
                check_migrated(database)
            store = open_object_store(config.object_store)
            try:
                store.check()
            except ObjectStoreError as error:
                raise UserError(str(error)) from None
        except BaseException:
            database.close()
            raise
        services = cls(
            config=config,
            database=database,
            store=store,
            accounts=CloudAccounts(database, config),
            hubs=HubRegistry(database, config.limits.clock_window_seconds),
            schedule_deletion=lambda keys: None,
        )
        services.schedule_deletion = services.delete_blobs_now
        return services

    def home_objects(self, home_id: str) -> HomeObjects:
        """Return the objects of ``home_id``, and nothing else."""
        return HomeObjects(home_id, self.database, self.store, self.config.limits, self.schedule_deletion)

    def delete_blobs_now(self, keys: list[str]) -> None:
        """Delete doomed blobs in this process; a failure is left for the sweep to retry."""
        for key in keys:
            try:
                delete_doomed_blob(self.database, self.store, key)
            except ObjectStoreError as error:
                log.warning("blob %s stays doomed until the next sweep: %s", key, error)

    def run_retention(self) -> list[str]:
        """Apply every home's retention and quota; return the keys whose blobs are to be deleted."""
        return enforce_retention(self.database) + enforce_quota(self.database)

    def run_sweep(self) -> list[str]:
        """Tidy up: stale uploads, old nonces, expired codes, dead writes; return blobs to delete (overdue too)."""
        stale = timedelta(hours=self.config.tasks.stale_upload_hours)
        aborted = abort_stale_uploads(self.database, self.store, stale)
        aborted += abort_forgotten_uploads(self.store, utc_now() - stale)
        nonces = self.hubs.prune_nonces()
        expired = self.accounts.prune_expired()
        doomed = drop_unfinished_writes(self.database)
        overdue = overdue_deletions(self.database, utc_now() - OVERDUE_DELETION_AGE)
        if aborted or nonces or expired or doomed or overdue:
            log.info(
                "sweep: %d stale uploads aborted, %d nonces and %d expired codes pruned, %d blobs to delete",
                aborted,
                nonces,
                expired,
                len(doomed) + len(overdue),
            )
        return doomed + overdue

    def close(self) -> None:
        """Release the database's connections."""
        self.database.close()


def check_migrated(database: CloudDatabase) -> None:
    """Refuse a database whose schema is not this version's (run ``homewarden cloud migrate`` first)."""
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()
        head = ScriptDirectory.from_config(migration_config(connection)).get_current_head()
    if current != head:
        shown = database.engine.url.render_as_string(hide_password=True)
        raise UserError(
            f"the cloud database {shown} is at revision {current or 'none'}, this version needs {head}: "
            "run `homewarden cloud migrate --config cloud.yaml`"
        )
