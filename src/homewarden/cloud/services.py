"""What the cloud's API processes and workers build once and share: the one start-up of serve, worker and invite."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

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
from homewarden.cloud.review.audit import Checkpoint, checkpoint
from homewarden.cloud.review.donations import (
    HomeDonations,
    ScreeningScheduler,
    expire_due,
    keys_in_use,
    stuck_in_screening,
)
from homewarden.cloud.review.keys import ProgramKeyError, ProgramKeys
from homewarden.cloud.review.reviewers import ReviewStaffAccounts, StaffSeedKey
from homewarden.cloud.review.screening import screen_donation, screening_policy
from homewarden.cloud.review.workbench import Workbench
from homewarden.cloud.training.registry import ModelRegistry
from homewarden.errors import UserError

if TYPE_CHECKING:
    from homewarden.cloud.training.clips import PersonDetector
    from homewarden.cloud.training.runs import TrainingOutcome, TrainingRuns

log = logging.getLogger(__name__)

# A deletion still pending after this long lost its task (a broker outage, a worker killed): the sweep redoes it.
OVERDUE_DELETION_AGE = timedelta(minutes=5)
# A copy still screening this long after it arrived lost its task: the review sweep screens it again.
STUCK_SCREENING_AGE = timedelta(minutes=10)
# An old program key no copy uses is forgotten this long after the rotation away from it (a hub's upload sealed to it
# may still be on its way; it is then refused with 409 and sealed again to the new key).
OLD_KEY_GRACE = timedelta(days=1)


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
    program_keys: ProgramKeys
    # Reviewers and admins of the review program, and their workbench.
    staff: ReviewStaffAccounts
    workbench: Workbench
    # The verifier models trained from reviewers' labels, and the hubs' view of them.
    models: ModelRegistry
    # Who screens a donated copy: a Celery task, or a thread of this process when tasks run in-process.
    schedule_screening: ScreeningScheduler = field(default=lambda donation_id: None)
    _screeners: ThreadPoolExecutor | None = field(default=None, repr=False)
    _detector: PersonDetector | None = field(default=None, repr=False)

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
            program_keys = ProgramKeys(config.review.key_folder)
            try:
                # Made on first use; every process checks it opens before it serves.
                program_keys.current()
            except ProgramKeyError as error:
                raise UserError(f"review.key_folder: {error}") from None
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
            program_keys=program_keys,
            staff=ReviewStaffAccounts(
                database, StaffSeedKey(config.review.key_folder), config.review.staff_session_hours
            ),
            # Blobs go through services.schedule_deletion, whatever it is set to later (a Celery task or now).
            workbench=Workbench(
                database, store, config.review, program_keys.open_copy, lambda keys: services.schedule_deletion(keys)
            ),
            models=ModelRegistry(database, store),
        )
        services.schedule_deletion = services.delete_blobs_now
        services.schedule_screening = services.screen_in_background
        return services

    def home_objects(self, home_id: str) -> HomeObjects:
        """Return the objects of ``home_id``, and nothing else."""
        return HomeObjects(home_id, self.database, self.store, self.config.limits, self.schedule_deletion)

    def home_donations(self, home_id: str) -> HomeDonations:
        """Return the donations of ``home_id``, and nothing else (withdrawn bytes are deleted in the request)."""
        return HomeDonations(
            home_id, self.database, self.store, self.program_keys, self.schedule_screening, self.delete_blobs_now
        )

    def screen_now(self, donation_id: str) -> None:
        """Screen one donated copy in this process (a worker's task, or the in-process thread)."""
        policy = screening_policy(self.config.review.screening)
        self.delete_blobs_now(screen_donation(self.database, self.store, self.program_keys, policy, donation_id))

    def screen_in_background(self, donation_id: str) -> None:
        """Screen a copy on this process's screening thread (tasks in-process: no worker)."""
        if self._screeners is None:
            self._screeners = ThreadPoolExecutor(1, thread_name_prefix="cloud-screening")
        self._screeners.submit(self._screen_logged, donation_id)

    def _screen_logged(self, donation_id: str) -> None:
        try:
            self.screen_now(donation_id)
        except Exception:
            # Left in screening: the review sweep tries again.
            log.exception("screening donation %s failed", donation_id)

    def run_review_sweep(self) -> int:
        """Delete expired copies and media links now, screen again copies whose task was lost, forget unused keys."""
        expired = expire_due(self.database)
        self.delete_blobs_now(expired + self.workbench.prune_media_links())
        for donation_id in stuck_in_screening(self.database, STUCK_SCREENING_AGE):
            self.schedule_screening(donation_id)
        self.forget_unused_keys()
        return len(expired)

    def forget_unused_keys(self) -> list[str]:
        """Forget old program keys that no copy with bytes is sealed to, a grace period after their rotation."""
        current = self.program_keys.current().key_id
        rotated = {rotation["previous_key_id"]: rotation["at"] for rotation in self.program_keys.rotations()}
        in_use = keys_in_use(self.database)
        cutoff = utc_now() - OLD_KEY_GRACE
        forgotten = []
        for key_id in self.program_keys.held_key_ids():
            at = rotated.get(key_id)
            if key_id == current or key_id in in_use or at is None or datetime.fromisoformat(at) > cutoff:
                continue
            self.program_keys.forget(key_id)
            forgotten.append(key_id)
            log.info("review program key %s forgotten: no copy is sealed to it any more", key_id)
        return forgotten

    def training(self) -> TrainingRuns:
        """Return the training runs of this process (NanoDet is loaded at the first run that reads a copy)."""
        from homewarden.cloud.training.runs import TrainingRuns

        return TrainingRuns(
            self.database,
            self.store,
            self.program_keys,
            self.config.training,
            self.person_detector,
            self.delete_blobs_now,
        )

    def person_detector(self) -> PersonDetector:
        """Return this process's NanoDet, loaded once (one thread: a worker runs one task at a time)."""
        if self._detector is None:
            from homewarden.config.model import NanoDetConfig
            from homewarden.detect.nanodet import NanoDetDetector

            self._detector = NanoDetDetector(NanoDetConfig(threads=1))
        return self._detector

    def read_labels_now(self, donation_id: str) -> None:
        """Read a newly labelled copy's training items in this process (a worker's task)."""
        items = self.training().read_donation(donation_id)
        log.info("training items of donation %s: %d kept", donation_id, items)

    def run_training(self, force: bool = False) -> TrainingOutcome:
        """Train from new labels, or replace a tainted model; log what was done."""
        outcome = self.training().run(force=force)
        log.info("training: %s", outcome.summary)
        return outcome

    def run_checkpoint(self) -> Checkpoint:
        """Sign the audit chain's head (when it moved since the last checkpoint)."""
        with self.database.session() as session:
            return checkpoint(session, self.program_keys.current())

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
        expired = self.accounts.prune_expired() + self.staff.prune_expired()
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
        """Finish screening in progress and release the database's connections."""
        if self._screeners is not None:
            self._screeners.shutdown(wait=True, cancel_futures=True)
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
