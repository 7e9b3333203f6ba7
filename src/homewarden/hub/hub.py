"""One hub for `run`, `serve` and `demo`: shared parts built once, cameras supervised, everything stopped in reverse."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from homewarden.accounts.store import AccountError, AccountStore
from homewarden.camera.health import CameraHealth, CameraHealthBoard
from homewarden.camera.runner import CameraRunner
from homewarden.camera.supervisor import CameraSupervisor
from homewarden.config import HomewardenConfig, load_config
from homewarden.config.model import ArmingMode, CameraAlarmRule
from homewarden.detect import DetectorLoadError, ObjectDetector, create_detector
from homewarden.detect.base import Image
from homewarden.detect.verifier import CropScorer, VerifierSlot, camera_verifier
from homewarden.errors import UserError
from homewarden.events.alarm import armed_for
from homewarden.events.intrusions import IntrusionBoard
from homewarden.events.record import EventRecord
from homewarden.faces.household import HouseholdHandle
from homewarden.faces.library import household_gallery, household_loader
from homewarden.hub.disk_space import DiskSpaceWatch
from homewarden.hub.household_corrections import HouseholdCorrections, read_snapshot
from homewarden.hub.offline import OfflineNotices
from homewarden.hub.services import HubServices, SetupGate
from homewarden.hub.status import status_path, write_status
from homewarden.notify.bus import CameraStatusChanged
from homewarden.offsite.identity import OffsiteFolder
from homewarden.offsite.review import ReviewProgramLink
from homewarden.offsite.sync import OffsiteSync
from homewarden.offsite.verifier_models import MODELS_FOLDER, VerifierModels
from homewarden.privacy.audit import AuditLog
from homewarden.privacy.donations import Donations
from homewarden.privacy.legacy_donations import move_legacy_copies
from homewarden.review.cloud_chain import CloudChainRecords
from homewarden.store.account_secrets import AccountSecretKeyFile
from homewarden.store.database import EventStore
from homewarden.store.durable_files import remove_unfinished_writes
from homewarden.store.errors import StoreError
from homewarden.store.keys import HomeKeyError, NoHomeKeyError, init_command_hint
from homewarden.store.pending import PENDING_FOLDER, EventOutbox
from homewarden.store.retention import FootageKeeper
from homewarden.store.sealed_media import (
    DATA_KEY_FOLDER_NAME,
    MEDIA_FOLDER_NAME,
    SealedMediaFolder,
    open_hub_storage,
)

if TYPE_CHECKING:
    from homewarden.notify.mqtt import MqttBridge

log = logging.getLogger(__name__)

DONATION_SWEEP_SECONDS = 3600.0


def init_store(config: HomewardenConfig) -> EventStore:
    """Open the database and run every migration (events, accounts, faces, review), once, before anything uses it."""
    try:
        return EventStore.open(config.storage.resolved_database_url())
    except StoreError as exc:
        raise UserError(str(exc)) from None


def init_detector(config: HomewardenConfig) -> ObjectDetector:
    """Load the configured detector (one instance, shared by every camera: onnxruntime sessions are thread-safe)."""
    try:
        return create_detector(config.detector)
    except DetectorLoadError as exc:
        raise UserError(str(exc)) from None


def init_hub_media(
    config: HomewardenConfig, store: EventStore, config_path: Path | None, plain_export_option: str | None = None
) -> tuple[SealedMediaFolder, FootageKeeper]:
    """Open the hub's sealed media folder and its retention keeper; refuse (closing the store) without a home key."""
    storage = open_hub_storage(config.storage.folder)
    try:
        storage.key_file.public_key()
    except NoHomeKeyError:
        store.close()
        alternative = f", or pass {plain_export_option} for plain files" if plain_export_option else ""
        raise UserError(
            f"no home key in {config.storage.folder} yet, and the hub stores footage only encrypted: "
            f"run `{init_command_hint(config_path)}` first (you choose the passphrase){alternative}"
        ) from None
    except HomeKeyError as exc:
        store.close()
        raise UserError(str(exc)) from None
    keeper = FootageKeeper(store, storage.media, config.storage.retention)
    storage.media.room = keeper
    return storage.media, keeper


def check_household(config: HomewardenConfig, store: EventStore, config_path: Path | None) -> None:
    """Check that the household can be read (closing the store if not): a missing gallery key stops the start."""
    if config.faces.enabled and config.faces.gallery_folder is None:
        try:
            household_gallery(config, config_path)
        except UserError:
            store.close()
            raise


def init_services(config: HomewardenConfig, store: EventStore, config_path: Path | None) -> HubServices:
    """Open the accounts, give the hub's home its cameras, restore the arming state, open the review program."""
    accounts = AccountStore(store.engine, AccountSecretKeyFile.in_folder(config.storage.folder))
    try:
        # Seeds an older hub stored in clear are sealed now, before anyone signs in (nothing the second time).
        accounts.seal_clear_secrets()
    except AccountError as exc:
        raise UserError(str(exc)) from None
    home_id = accounts.ensure_home("Home", list(config.cameras))
    household = HouseholdHandle(household_loader(config, store.engine, config_path)) if config.faces.enabled else None
    services = HubServices(
        config=config,
        events=store,
        accounts=accounts,
        storage=open_hub_storage(config.storage.folder),
        hub_home_id=home_id,
        config_path=config_path,
        setup=SetupGate(needed=not accounts.has_owner()),
        household=household,
    )
    services.health = CameraHealthBoard(
        enabled_cameras(config),
        lambda health: services.bus.publish(
            CameraStatusChanged(health.camera, health.state, health.reason, health.since)
        ),
    )
    services.disk_space = DiskSpaceWatch(config.storage.folder.resolve(), home_id, services.bus.publish)
    services.arming_for(home_id)
    init_offsite(services)
    init_review_program(services)
    services.bus.start()
    return services


def init_offsite(services: HubServices) -> None:
    """Open the off-site outbox and let every event deletion reach it; its worker starts with the hub."""
    config = services.config
    sync = OffsiteSync(
        OffsiteFolder(config.storage.folder),
        services.storage,
        services.events,
        config.offsite,
        services.hub_home_id,
        services.bus.publish,
    )
    services.events.deletion_listeners.append(sync.event_deleted)
    services.offsite = sync


def init_review_program(services: HubServices) -> None:
    """Open the audit log and the donations, which go to the review program in the cloud through the outbox."""
    from homewarden.privacy.preparation import make_preparer

    config = services.config
    engine = services.events.engine
    loaded: list[ObjectDetector] = []

    def redaction_detector() -> ObjectDetector:
        # Its own instance, loaded on the first donation: the cameras' detector is busy in their threads.
        if not loaded:
            loaded.append(init_detector(config))
        return loaded[0]

    services.audit = AuditLog(engine, config.storage.folder.resolve())
    link = None
    if services.offsite is not None:
        sync = services.offsite
        chain = CloudChainRecords(engine)
        link = ReviewProgramLink(sync.folder, sync.outbox, services.audit, chain, services.hub_home_id)
        link.wake = sync.wake
        sync.review = link
        # The verifier model comes with the review program's pulls; the last one received is used from the start.
        link.models = VerifierModels(config.storage.folder.resolve() / MODELS_FOLDER, link.keys, services.verifier)
        link.models.load_stored()
        services.verifier_models = link.models
    services.donations = Donations(
        engine,
        services.storage,
        link,
        services.audit,
        make_preparer(redaction_detector),
        lambda: services.keys.keyring,
        config.review.donation_retention_days,
    )
    if link is not None:
        link.donations = services.donations


def household_corrections(services: HubServices, scorer: CropScorer) -> HouseholdCorrections:
    """Rebuild the household's calibration from its corrected events; relearn the missing ones at each unlock."""
    corrections = HouseholdCorrections(services.events, scorer)
    corrections.load()

    def snapshot_of(record: EventRecord) -> Image | None:
        return read_snapshot(services.storage, services.keys.keyring, record)

    services.keys.when_held(lambda: corrections.relearn_in_background(snapshot_of))
    return corrections


def enabled_cameras(config: HomewardenConfig) -> list[str]:
    """Return the names of the cameras that are switched on."""
    return [name for name, camera in config.cameras.items() if camera.enabled]


class Integration(Protocol):
    """A running integration: something subscribed to the hub's bus that is stopped with the hub."""

    def stop(self) -> None:
        """Finish and stop."""


def start_integrations(services: HubServices) -> list[Integration]:
    """Subscribe the configured integrations to the hub's bus and start them; return them for stopping."""
    from homewarden.hub.doorbell import doorstep_of
    from homewarden.notify.destinations import webhook_destinations
    from homewarden.notify.push import PushNotifier, PushSubscriptions, VapidKeys
    from homewarden.notify.webhooks import WebhookDispatcher, WebhookStore

    config = services.config
    engine = services.events.engine
    webhooks = WebhookDispatcher(
        WebhookStore(engine),
        services.accounts,
        hub_name="homewarden",
        destinations=webhook_destinations(allow_loopback=config.notify.webhooks.allow_loopback),
        camera_names=services.live_camera_names(),
    )
    push = PushNotifier(
        PushSubscriptions(engine),
        services.accounts,
        VapidKeys.in_folder(config.storage.folder),
        camera_names=services.live_camera_names(),
        min_interval=config.notify.push.min_interval,
    )
    doorstep_of(services.bus)  # "who is at the door?" remembers presses and people in view from the start
    started: list[Integration] = []
    for name, integration in (("webhooks", webhooks), ("push", push)):
        services.bus.subscribe(name, integration)
        integration.start()
        started.append(integration)
    if config.mqtt.enabled:
        bridge = init_mqtt(services)
        services.bus.subscribe("mqtt", bridge.handle)
        bridge.start()
        started.append(bridge)
    return started


def init_mqtt(services: HubServices) -> MqttBridge:
    """Build the MQTT bridge: it arms, rings and reads snapshots through the same paths as the web app."""
    from homewarden.hub.doorbell import DoorbellError, press_doorbell
    from homewarden.notify.mqtt import MqttBridge

    config = services.config
    home = services.hub_home_id

    def ring(bell: str) -> None:
        try:
            press_doorbell(services, bell, "mqtt")
        except DoorbellError as exc:
            log.warning("doorbell %s pressed by MQTT: %s", bell, exc)

    def snapshot(camera: str) -> bytes | None:
        image = services.live.latest_jpeg(camera, boxes=True)
        return image.jpeg if image is not None else None

    return MqttBridge(
        config.mqtt,
        enabled_cameras(config),
        config.doorbells,
        set_mode=lambda mode, by: services.set_mode(home, mode, by),
        ring=ring,
        snapshot=snapshot,
        current_mode=lambda: services.arming_for(home).mode_at(datetime.now(UTC)),
        names=services.camera_names,
    )


class Hub:
    """Build once (database and migrations, household, detector, bus), start integrations and cameras, stop in reverse.

    `run` is the hub without the web server; `serve` and `demo` put the web app beside it.
    """

    def __init__(self, services: HubServices, detector: ObjectDetector, command: str) -> None:
        """Wrap parts already built; use ``Hub.build``."""
        self.services = services
        self.config = services.config
        self.detector = detector
        # The false-alarm verifier's model, shared by every camera and swapped while they run; the review program's
        # promoted model reaches it through the off-site worker (offsite/verifier_models.py).
        self.verifier: VerifierSlot | None = services.verifier
        if isinstance(detector, CropScorer) and services.household_corrections is None:
            # The household's own corrections tune a calibration kept apart from the provider's model.
            services.household_corrections = household_corrections(services, detector)
        self.command = command
        self.cameras = enabled_cameras(services.config)
        self.supervisor: CameraSupervisor | None = None
        self.stopping = threading.Event()
        self._integrations: list[Integration] = []
        self._threads: list[threading.Thread] = []
        # Events the database refuses (PostgreSQL restarting) wait on disk and go in once it is back.
        self.outbox = EventOutbox(
            services.config.storage.folder.resolve() / PENDING_FOLDER, services.events.save_event, self._after_save
        )
        self._offline = OfflineNotices(
            services.config.alarm.camera_offline_after, self._armed_mode, services.bus.publish
        )

    @classmethod
    def build(cls, config_path: Path, command: str) -> Hub:
        """Read the config and build everything the cameras share, before any camera starts."""
        config = load_config(config_path)
        store = init_store(config)
        try:
            services = init_services(config, store, config_path)
        except BaseException:
            store.close()
            raise
        try:
            if services.household is not None and config.faces.gallery_folder is None:
                # Read the enrolled household now, through the shared handle the cameras use: a missing gallery
                # key stops the start in one line, and the cameras find it loaded.
                services.household.current()
            detector = init_detector(config)
        except BaseException:
            services.bus.stop()
            store.close()
            raise
        return cls(services, detector, command)

    def start(self, wait_for_setup: bool) -> None:
        """Start integrations and sweeps, then the cameras: at once, or after first-run setup made the home key."""
        # Without first-run setup to wait for, a missing home key is refused before anything starts.
        media = None if wait_for_setup else self._open_media()
        self._integrations = start_integrations(self.services)
        self.move_legacy_donations()
        self.start_offsite()
        self._spawn(self._expire_donations, "donation-expiry")
        if media is None:
            self._spawn(self._start_cameras_after_setup, "camera-start")
        else:
            self.start_cameras(media)

    def move_legacy_donations(self) -> None:
        """Re-seal the copies an older hub kept for its own review program to the cloud's key, then destroy its key."""
        if self.services.donations is None:
            return
        try:
            move_legacy_copies(self.config.storage.folder, self.services.donations)
        except (StoreError, OSError, HomeKeyError) as exc:
            # Tried again at the next start; the old key stays until every copy has gone or been withdrawn.
            log.error("donated copies of the hub's old review program not moved yet: %s", exc)

    def start_offsite(self) -> None:
        """Start sending off-site copies (the worker idles until the hub is paired with a cloud)."""
        if self.services.offsite is not None:
            self.services.offsite.start()

    def _open_media(self) -> SealedMediaFolder:
        """Open the sealed media folder and its retention keeper (refused without a home key)."""
        services = self.services
        media, services.keeper = init_hub_media(self.config, services.events, services.config_path)
        return media

    def start_cameras(self, media: SealedMediaFolder | None = None) -> None:
        """Start every camera under supervision, recording into the hub's sealed media folder."""
        services = self.services
        media = media or self._open_media()
        keeper = services.keeper
        assert keeper is not None
        folder = self.config.storage.folder.resolve()
        # A hub killed in the middle of a write leaves its temporary file; nothing writes there before the cameras.
        removed = sum(remove_unfinished_writes(folder / name) for name in (MEDIA_FOLDER_NAME, DATA_KEY_FOLDER_NAME))
        if removed:
            log.info("removed %d unfinished write(s) left by a hub that was stopped abruptly", removed)
        self.outbox.start()
        arming = services.arming_for(services.hub_home_id)
        # One board for every camera, so the cameras of an area share their intrusions.
        intrusions = IntrusionBoard(self.config.alarm.group_window, self.config.areas)
        if self.verifier is not None and services.household_corrections is not None:
            services.household_corrections.attach(self.verifier)

        def make_runner(name: str) -> CameraRunner:
            # The settings in force now: a camera restarted after a change in the browser gets the saved ones.
            config = services.config
            return CameraRunner(
                name,
                config,
                self.detector,
                media,
                self._save,
                wall_clock=True,
                live=services.live,
                arming=arming,
                household=services.household,
                bus=services.bus,
                health=services.health,
                intrusions=intrusions,
                verifier=camera_verifier(config.cameras[name].detect.verifier, self.verifier, self.detector),
            )

        supervisor = CameraSupervisor(self.cameras, make_runner, services.health, on_watch=self._watch)
        services.runners = supervisor.runners
        services.supervisor = supervisor
        self.supervisor = supervisor
        keeper.start()
        supervisor.start()
        log.info("recording %d camera(s): %s", len(self.cameras), ", ".join(self.cameras))

    def wait(self) -> None:
        """Block until stop is asked for, or (for `run`) every camera has ended for good."""
        while not self.stopping.wait(0.2):
            if self.supervisor is not None and not self.supervisor.running():
                return

    def stop(self) -> None:
        """Close every clip, then stop sweeps, integrations and the database, in the reverse order of the start."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.supervisor is not None:
            self.supervisor.stop()
        services = self.services
        self.outbox.stop()
        if services.offsite is not None:
            # After the cameras and the event outbox: their last events are queued for the cloud first.
            services.offsite.stop()
        if services.keeper is not None:
            services.keeper.stop()
        if services.donations is not None:
            services.donations.close()
        services.bus.stop()
        for integration in self._integrations:
            integration.stop()
        if self.supervisor is not None:
            write_status(status_path(self.config.storage.folder), self.command, services.health.all(), stopped=True)
        services.events.close()

    def _save(self, record: EventRecord) -> None:
        if record.clip_error and self.services.disk_space is not None:
            self.services.disk_space.clip_failed(record.clip_error)
        self.outbox.save(record)

    def _after_save(self, record: EventRecord) -> None:
        services = self.services
        log.info("camera %s: %s event %s saved (%d clip(s))", record.camera, record.label, record.id, len(record.clips))
        if services.offsite is not None:
            services.offsite.event_saved(record)
        if services.donations is not None:
            # Only a standing rule the owner made can donate without them; there are none by default.
            try:
                services.donations.apply_rules(services.hub_home_id, record, "label")
            except StoreError as exc:
                log.error("camera %s: donation rules not applied to event %s: %s", record.camera, record.id, exc)

    def _watch(self, cameras: dict[str, CameraHealth]) -> None:
        """Once a second: write the status file and raise the "camera offline" notice where due."""
        if self.services.disk_space is not None:
            self.services.disk_space.check()
        try:
            write_status(status_path(self.config.storage.folder), self.command, cameras)
        except OSError as exc:  # a full disk must not stop the offline notice below
            log.debug("status file not written: %s", exc)
        if not self.stopping.is_set():
            self._offline.check(cameras, time.time())

    def _armed_mode(self, camera: str) -> ArmingMode | None:
        mode = self.services.arming_for(self.services.hub_home_id).mode_at(datetime.now(UTC))
        rule = self.config.alarm.cameras.get(camera, CameraAlarmRule())
        return mode if armed_for(rule, mode, list(rule.zones)) else None

    def _start_cameras_after_setup(self) -> None:
        while not self.services.setup.done.wait(0.5):
            if self.stopping.is_set():
                return
        if not self.stopping.is_set():
            self.start_cameras()

    def _expire_donations(self) -> None:
        """Delete donated copies whose retention ended, at start and hourly."""
        while True:
            try:
                if self.services.donations is not None:
                    self.services.donations.expire_due()
            except StoreError as exc:
                log.error("donation expiry failed (tried again in an hour): %s", exc)
            if self.stopping.wait(DONATION_SWEEP_SECONDS):
                return

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()
