"""The cloud's Celery app: blob deletions, retention and quota, the sweep, the review program and training.

With ``tasks.broker_url: memory`` there is no broker: blobs are deleted by the request that deleted their rows and
``serve`` runs the periodic duties on a thread of its own (``PeriodicDuties``), so one process is a whole trial cloud.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from celery import Celery, Task
from kombu.exceptions import KombuError

from homewarden.cloud.config import CloudConfig
from homewarden.cloud.deletion import delete_doomed_blob
from homewarden.cloud.object_store import ObjectStoreError
from homewarden.cloud.services import CloudServices
from homewarden.errors import UserError

log = logging.getLogger(__name__)

DELETE_BLOB = "homewarden.cloud.delete_blob"
RETENTION = "homewarden.cloud.retention"
SWEEP = "homewarden.cloud.sweep"
SCREEN_DONATION = "homewarden.cloud.review.screen"
REVIEW_SWEEP = "homewarden.cloud.review.sweep"
CHECKPOINT = "homewarden.cloud.review.checkpoint"
WATERMARK = "homewarden.cloud.review.watermark"
TRAIN = "homewarden.cloud.training.run"
READ_LABELS = "homewarden.cloud.training.read"
SCREEN_RETRIES = 5
DELETE_RETRIES = 8
# A broker that is down must not hold an API request: one quick retry, then the sweep redoes the deletion later.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1.0}


class CloudTasks:
    """The Celery app of one cloud config, its tasks, and how the API hands deletions to it."""

    def __init__(self, config: CloudConfig, services: Callable[[], CloudServices]) -> None:
        """Make the app; tasks reach the database and store through ``services`` (built once per process)."""
        if config.tasks.in_process:
            raise UserError("tasks.broker_url is 'memory': tasks run inside `homewarden cloud serve`, not in workers")
        self.config = config
        self.app = Celery("homewarden-cloud", broker=config.tasks.broker_url, set_as_current=False)
        self.app.conf.update(
            task_default_queue=config.tasks.queue,
            task_ignore_result=True,
            result_backend=None,
            # A task is acknowledged once done: a worker killed mid-task leaves it to another worker.
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            # Beat keeps its schedule in memory: nothing written to the working folder.
            beat_scheduler="celery.beat:Scheduler",
            beat_schedule={
                "retention": {"task": RETENTION, "schedule": float(config.tasks.retention_every_seconds)},
                "sweep": {"task": SWEEP, "schedule": float(config.tasks.sweep_every_seconds)},
                "review-sweep": {"task": REVIEW_SWEEP, "schedule": float(config.review.sweep_every_seconds)},
                "checkpoint": {"task": CHECKPOINT, "schedule": float(config.review.checkpoint_every_seconds)},
                "training": {"task": TRAIN, "schedule": float(config.training.every_seconds)},
            },
            task_serializer="json",
            accept_content=["json"],
        )
        self._services = services
        self.delete_blob, self.retention, self.sweep = self._register()
        self.screen_donation, self.review_sweep, self.checkpoint = self._register_review()
        self.watermark = self._register_workbench()
        self.train, self.read_labels = self._register_training()

    def schedule_deletion(self, keys: list[str]) -> None:
        """Queue a deletion task per key; a broker that refuses leaves them to the sweep."""
        for key in keys:
            try:
                self.delete_blob.apply_async(args=(key,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
            except (KombuError, OSError) as error:
                log.warning("blob %s stays doomed until the next sweep: the broker refused the task (%s)", key, error)

    def schedule_screening(self, donation_id: str) -> None:
        """Queue the screening of a donated copy; a broker that refuses leaves it to the review sweep."""
        try:
            self.screen_donation.apply_async(args=(donation_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except (KombuError, OSError) as error:
            log.warning("donation %s waits for the review sweep: the broker refused it (%s)", donation_id, error)

    def schedule_watermark(self, token_digest: str) -> None:
        """Queue the watermarking of a media link's clip; a broker that refuses fails the link (asked again)."""
        try:
            self.watermark.apply_async(args=(token_digest,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except (KombuError, OSError) as error:
            log.warning("a media link could not be prepared: the broker refused its task (%s)", error)

    def schedule_reading(self, donation_id: str) -> None:
        """Queue the reading of a labelled copy's training items; a broker that refuses leaves it to the next run."""
        try:
            self.read_labels.apply_async(args=(donation_id,), retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except (KombuError, OSError) as error:
            log.warning(
                "donation %s is read by the next training run: the broker refused its task (%s)", donation_id, error
            )

    def run_worker(self, *, beat: bool, concurrency: int, hostname: str | None = None) -> None:
        """Run a worker in this process until it is stopped (with beat: the periodic schedule too)."""
        argv = [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--queues={self.config.tasks.queue}",
            f"--hostname={hostname or f'cloud-{os.getpid()}@%h'}",
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            argv.append("--beat")
        self.app.worker_main(argv)

    def _register(self) -> tuple[Task[[str], bool], Task[[], int], Task[[], int]]:
        """Register the tasks (closures: a task is a plain function of its arguments)."""
        services = self._services
        schedule_deletion = self.schedule_deletion

        @self.app.task(
            name=DELETE_BLOB,
            autoretry_for=(ObjectStoreError,),
            retry_backoff=2,
            retry_backoff_max=300,
            max_retries=DELETE_RETRIES,
        )
        def delete_blob(key: str) -> bool:
            """Delete one doomed blob (its row is already gone)."""
            shared = services()
            return delete_doomed_blob(shared.database, shared.store, key)

        @self.app.task(name=RETENTION)
        def retention() -> int:
            """Apply every home's retention and quota; queue the deletion of their blobs."""
            keys = services().run_retention()
            schedule_deletion(keys)
            return len(keys)

        @self.app.task(name=SWEEP)
        def sweep() -> int:
            """Abort stale uploads, prune nonces and codes, redo deletions whose task was lost."""
            keys = services().run_sweep()
            schedule_deletion(keys)
            return len(keys)

        return delete_blob, retention, sweep

    def _register_review(self) -> tuple[Task[[str], None], Task[[], int], Task[[], int]]:
        """Register the review program's tasks: screening, its sweep (expiry) and the chain's checkpoint."""
        services = self._services

        @self.app.task(
            name=SCREEN_DONATION,
            autoretry_for=(ObjectStoreError,),
            retry_backoff=2,
            retry_backoff_max=120,
            max_retries=SCREEN_RETRIES,
        )
        def screen_donation(donation_id: str) -> None:
            """Screen one donated copy with NudeNet: queue it, or refuse and delete it."""
            services().screen_now(donation_id)

        @self.app.task(name=REVIEW_SWEEP)
        def review_sweep() -> int:
            """Delete expired copies, screen again copies whose task was lost."""
            return services().run_review_sweep()

        @self.app.task(name=CHECKPOINT)
        def checkpoint() -> int:
            """Sign the audit chain's head."""
            return services().run_checkpoint().seq

        return screen_donation, review_sweep, checkpoint

    def _register_workbench(self) -> Task[[str], None]:
        """Register the workbench's task: burn the watermark into a media link's clip."""
        services = self._services

        @self.app.task(name=WATERMARK)
        def watermark(token_digest: str) -> None:
            """Open the sealed copy in memory, burn the reviewer's watermark in, keep it sealed for one view."""
            services().workbench.prepare_media(token_digest)

        return watermark

    def _register_training(self) -> tuple[Task[[], str], Task[[str], None]]:
        """Register the training loop: new labels → a better model, a withdrawal → a model without the clip."""
        services = self._services

        # One run at a time per worker is enough: a run that finds nothing new reads only the label rows, and a
        # retraining after a withdrawal reuses every shard the withdrawn donation was not in.
        @self.app.task(name=TRAIN)
        def train() -> str:
            """Train from new labels, or replace a model that learned from a donation that ended."""
            return services().run_training().summary

        @self.app.task(name=READ_LABELS)
        def read_labels(donation_id: str) -> None:
            """Decode a newly labelled copy and keep its training items, so the next run only trains."""
            services().read_labels_now(donation_id)

        return train, read_labels


class ServicesPerProcess:
    """Build ``CloudServices`` lazily, once per process: a worker's forked children must not share connections."""

    def __init__(self, config: CloudConfig) -> None:
        """Remember the config to build from."""
        self._config = config
        self._built: dict[int, CloudServices] = {}
        self._lock = threading.Lock()

    def __call__(self) -> CloudServices:
        """Return this process's services."""
        with self._lock:
            pid = os.getpid()
            if pid not in self._built:
                self._built[pid] = CloudServices.build(self._config, migrate=False)
            return self._built[pid]


class PeriodicDuties:
    """The periodic duties on a thread of ``serve`` when tasks run in-process (no broker, no worker)."""

    def __init__(self, services: CloudServices) -> None:
        """Run the duties of ``services`` on their configured periods."""
        self._services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cloud-duties", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        config = self._services.config
        due: dict[str, float] = dict.fromkeys(self._duties(), 0.0)
        periods = {
            "retention": config.tasks.retention_every_seconds,
            "sweep": config.tasks.sweep_every_seconds,
            "review sweep": config.review.sweep_every_seconds,
            "checkpoint": config.review.checkpoint_every_seconds,
            "training": config.training.every_seconds,
        }
        while not self._stop.is_set():
            for name, at in due.items():
                if time.monotonic() >= at:
                    self._run_one(name)
                    due[name] = time.monotonic() + periods[name]
            self._stop.wait(1.0)

    def _duties(self) -> dict[str, Callable[[], object]]:
        services = self._services
        return {
            "retention": lambda: services.delete_blobs_now(services.run_retention()),
            "sweep": lambda: services.delete_blobs_now(services.run_sweep()),
            "review sweep": services.run_review_sweep,
            "checkpoint": services.run_checkpoint,
            "training": services.run_training,
        }

    def _run_one(self, name: str) -> None:
        try:
            self._duties()[name]()
        except Exception:
            # A failed pass (database restarting) is tried again at its next period; the thread must go on.
            log.exception("the cloud's %s pass failed", name)


def worker_tasks(config: CloudConfig) -> CloudTasks:
    """Return the tasks of ``config`` with services built in each worker process."""
    return CloudTasks(config, ServicesPerProcess(config))


def producer_tasks(services: CloudServices) -> CloudTasks:
    """Return the tasks an API process queues, using its own services."""
    return CloudTasks(services.config, lambda: services)
