"""Start-up: wire config, store, detector and cameras together, in one readable order."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from homewarden.accounts.store import AccountStore
from homewarden.camera.runner import CameraRunner, RunStats
from homewarden.config import HomewardenConfig, load_config, single_source_config
from homewarden.config.model import ArmingMode
from homewarden.detect import DetectorLoadError, ObjectDetector, create_detector
from homewarden.errors import UserError
from homewarden.events.record import EventRecord
from homewarden.faces.gallery import gallery_from_folder
from homewarden.faces.household import HouseholdHandle
from homewarden.faces.library import household_gallery
from homewarden.hub.services import HubServices, SetupGate
from homewarden.privacy.audit import AuditLog
from homewarden.privacy.donations import Donations
from homewarden.report import report_events
from homewarden.review.program_key import ReviewProgramStorage
from homewarden.review.queue import ReviewQueue
from homewarden.store import EventStore, StoreError
from homewarden.store.media import MediaFolder
from homewarden.store.owner import open_media_for_recording
from homewarden.store.retention import FootageKeeper
from homewarden.store.sealed_media import SealedMediaFolder, open_hub_storage
from homewarden.video.source import SourceError, VideoSource

if TYPE_CHECKING:
    import uvicorn

    from homewarden.notify.mqtt import MqttBridge

log = logging.getLogger(__name__)

ANALYSIS_EXPORT_FOLDER = "homewarden-analysis"


def init_store(config: HomewardenConfig) -> EventStore:
    """Open (and migrate) the event database."""
    try:
        return EventStore.open(config.storage.resolved_database_url())
    except StoreError as exc:
        raise UserError(str(exc)) from None


def init_detector(config: HomewardenConfig) -> ObjectDetector:
    """Load the configured detector."""
    try:
        return create_detector(config.detector)
    except DetectorLoadError as exc:
        raise UserError(str(exc)) from None


def init_hub_media(
    config: HomewardenConfig, store: EventStore, config_path: Path | None, plain_export_option: str | None = None
) -> tuple[SealedMediaFolder, FootageKeeper]:
    """Open the hub's own media folder, which seals what it stores; refuse (closing the store) without a home key."""
    try:
        return open_media_for_recording(config, store, config_path, plain_export_option)
    except UserError:
        store.close()
        raise


def analysis_media(config: HomewardenConfig, store: EventStore, args: argparse.Namespace) -> MediaFolder:
    """Choose where `analyze` writes clips: --out (plain), else the hub's sealed storage, else a plain export.

    The hub keeps footage only encrypted. Before the home has a key, a one-off analysis of the user's own video is
    still useful, so it becomes a plain export into ANALYSIS_EXPORT_FOLDER, and stderr says so.
    """
    if args.out:
        return MediaFolder(args.out.resolve())
    if open_hub_storage(config.storage.folder).key_file.exists():
        return init_hub_media(config, store, args.config, "--out DIR")[0]
    print(
        f"homewarden: no home key yet, so clips and snapshots are written as plain files to {ANALYSIS_EXPORT_FOLDER}/ "
        "(choose the folder with --out DIR; after `homewarden keys init` they are kept encrypted by the hub)",
        file=sys.stderr,
    )
    return MediaFolder(Path(ANALYSIS_EXPORT_FOLDER).resolve())


def init_household(config: HomewardenConfig, store: EventStore, config_path: Path | None) -> None:
    """Check that the household can be read (closing the store if not): a missing gallery key stops the start."""
    if config.faces.enabled and config.faces.gallery_folder is None:
        try:
            household_gallery(config, config_path)
        except UserError:
            store.close()
            raise


def with_analysis_options(config: HomewardenConfig, mode: ArmingMode, faces: Path | None) -> HomewardenConfig:
    """Apply `analyze --mode` (it replaces any schedule) and `--faces DIR`; enrol the one-run household now, once."""
    update: dict[str, object] = {"alarm": config.alarm.model_copy(update={"mode": mode, "schedule": []})}
    if faces is not None:
        update["faces"] = config.faces.model_copy(update={"gallery_folder": faces, "enabled": True})
    config = config.model_copy(update=update)
    if config.faces.enabled and config.faces.gallery_folder is not None:
        # Before anything is opened or written: a folder that cannot be a household is exit 2, not recognition
        # turned off at the first face with every member then an unidentified person. The cameras reuse the result.
        gallery_from_folder(config.faces.gallery_folder, config.faces.match_threshold)
    return config


def open_source(url: str) -> VideoSource:
    """Open a source or explain why it cannot be opened."""
    source = VideoSource(url)
    try:
        source.open()
    except SourceError as exc:
        raise UserError(str(exc)) from None
    return source


def analyze_command(args: argparse.Namespace) -> int:
    """Analyse one source and report its events."""
    config, camera = single_source_config(args.source, load_config(args.config) if args.config else HomewardenConfig())
    config = with_analysis_options(config, args.mode, args.faces)
    source = open_source(args.source)
    store = init_store(config)
    media = analysis_media(config, store, args)
    init_household(config, store, args.config)
    detector = init_detector(config)
    events: list[EventRecord] = []
    runner = CameraRunner(camera, config, detector, media, events.append)
    try:
        if source.live or args.realtime:
            stats = run_until_signal([runner], first_sources={camera: source}, reconnect=False)[camera]
        else:
            stats = run_file_with_progress(runner, source, quiet=args.quiet)
        for record in events:
            store.save_event(record)
    except SourceError as exc:
        raise UserError(str(exc)) from None
    except StoreError as exc:
        if runner.pipeline is not None:
            runner.pipeline.discard()
        raise UserError(str(exc)) from None
    finally:
        store.close()
    report_events(events, as_json=args.json)
    log.info(
        "analysed %.1f s of video: %d frames, %d detector calls, %d dropped",
        stats.video_seconds,
        stats.frames_analysed,
        stats.detector_calls,
        stats.frames_dropped,
    )
    return 0


def run_file_with_progress(runner: CameraRunner, source: VideoSource, quiet: bool) -> RunStats:
    """Analyse a file with a progress bar on stderr."""
    total = source.duration or None
    # Log lines go above the bar instead of through it.
    with (
        logging_redirect_tqdm(),
        tqdm(
            total=round(total, 1) if total else None,
            unit="s",
            desc=runner.name,
            disable=quiet,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]",
            leave=False,
        ) as bar,
    ):

        def progress(at: float) -> None:
            bar.update(max(0.0, round(at, 1) - bar.n))

        return runner.run_file(source, progress)


def start_cameras(
    runners: list[CameraRunner], first_sources: dict[str, VideoSource] | None = None, reconnect: bool = True
) -> tuple[list[threading.Thread], dict[str, RunStats]]:
    """Start each camera in its own thread; the results fill in as they stop."""
    results: dict[str, RunStats] = {}
    threads = [
        threading.Thread(
            target=lambda r=runner: results.__setitem__(
                r.name, r.run_live((first_sources or {}).get(r.name), reconnect=reconnect)
            ),
            name=f"camera-{runner.name}",
        )
        for runner in runners
    ]
    for thread in threads:
        thread.start()
    return threads, results


def run_until_signal(
    runners: list[CameraRunner], first_sources: dict[str, VideoSource] | None = None, reconnect: bool = True
) -> dict[str, RunStats]:
    """Run live cameras, each in its own thread, until SIGINT or SIGTERM (or, without reconnect, the end)."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping (signal %d): finishing open clips", signum)
        for runner in runners:
            runner.stop_event.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        threads, results = start_cameras(runners, first_sources, reconnect)
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(timeout=0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return results


def run_command(config_path: Path) -> int:
    """Run every enabled camera of the config until stopped."""
    config = load_config(config_path)
    cameras = [name for name, camera in config.cameras.items() if camera.enabled]
    if not cameras:
        raise UserError(f"{config_path}: no enabled cameras")
    store = init_store(config)
    media, keeper = init_hub_media(config, store, config_path)
    init_household(config, store, config_path)
    detector = init_detector(config)

    def save(record: EventRecord) -> None:
        try:
            store.save_event(record)
        except StoreError as exc:
            log.error("camera %s: event %s not saved: %s", record.camera, record.id, exc)
            return
        log.info(
            "camera %s: %s event %s saved (%d clip(s))",
            record.camera,
            record.label,
            record.id,
            len(record.clips),
        )

    # Everything `run` records happens now, so event times are wall-clock times even for a file played as a camera.
    runners = [CameraRunner(name, config, detector, media, save, wall_clock=True) for name in cameras]
    log.info("running %d camera(s): %s", len(runners), ", ".join(cameras))
    keeper.start()
    try:
        run_until_signal(runners)
    finally:
        keeper.stop()
        store.close()
    log.info("stopped cleanly")
    return 0


DEMO_CAMERA = "living_room"


def demo_config(out: Path, scene: Path) -> Path:
    """Write the demo's config: one camera that replays the scene like a live camera, storage under ``out``."""
    config = out / "homewarden-demo.yaml"
    config.write_text(
        "# Written by `homewarden demo`. A real camera is one line: replace the source with its rtsp:// URL.\n"
        f"cameras:\n  {DEMO_CAMERA}:\n    source: {json.dumps(str(scene.resolve()))}\n    loop: true\n"
        f"storage:\n  folder: {json.dumps(str((out / 'data').resolve()))}\n"
    )
    return config


def demo_command(
    out: Path, host: str, port: int, analyse_only: bool = False, tls: tuple[Path, Path] | None = None
) -> int:
    """Compose the demo scene and serve it as a live camera in the web app (or, with analyse_only, analyse it once)."""
    from homewarden.demo import compose_demo_scene

    scene = compose_demo_scene(out / "demo-scene.mp4")
    print(f"demo scene: {scene} (a stranger and a cat cross a room, composed from sample photos; it loops)")
    if not analyse_only:
        return serve_command(demo_config(out, scene), host, port, tls)
    config, camera = single_source_config(str(scene), HomewardenConfig())
    config = config.model_copy(update={"storage": config.storage.model_copy(update={"folder": out / "data"})})
    store = init_store(config)
    detector = init_detector(config)
    events: list[EventRecord] = []
    runner = CameraRunner(camera, config, detector, MediaFolder(out / "media"), events.append)
    try:
        run_file_with_progress(runner, open_source(str(scene)), quiet=False)
        for record in events:
            store.save_event(record)
    finally:
        store.close()
    report_events(events, as_json=False)
    print(f"events saved in {config.storage.resolved_database_url()}")
    return 0


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_port_free(host: str, port: int) -> None:
    """Refuse at once, in one line, a port another program listens on (before anything is loaded)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror} (choose another with --port)") from None


def announce_when_listening(server: uvicorn.Server, lines: list[str], stopping: threading.Event) -> None:
    """Print the lines for the user as soon as the server accepts connections."""
    while not server.started:
        if stopping.wait(0.05):
            return
    for line in lines:
        print_now(line)


def print_now(line: str) -> None:
    """Print a line for the user at once (the setup link must show even when stdout is a pipe)."""
    print(line, flush=True)


def init_services(config: HomewardenConfig, store: EventStore, config_path: Path | None) -> HubServices:
    """Open the accounts, give the hub's home its cameras, and restore the arming state."""
    accounts = AccountStore(store.engine)
    home_id = accounts.ensure_home("Home", list(config.cameras))
    household = (
        HouseholdHandle(lambda: household_gallery(config, config_path))
        if config.faces.enabled and config.faces.gallery_folder is None
        else None
    )
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
    services.arming_for(home_id)
    init_review_program(services)
    services.bus.start()
    return services


def init_review_program(services: HubServices) -> None:
    """Open the audit log, the donations and the reviewers' queue."""
    from homewarden.privacy.preparation import make_preparer
    from homewarden.privacy.watermark import burn_watermark

    config = services.config
    engine = services.events.engine
    loaded: list[ObjectDetector] = []

    def redaction_detector() -> ObjectDetector:
        # Its own instance, loaded on the first donation: the cameras' detector is busy in their threads.
        if not loaded:
            loaded.append(init_detector(config))
        return loaded[0]

    services.audit = AuditLog(engine, config.storage.folder.resolve())
    services.donations = Donations(
        engine,
        services.storage,
        ReviewProgramStorage(config.storage.folder),
        services.audit,
        make_preparer(redaction_detector),
        lambda: services.keys.keyring,
        config.review.donation_retention_days,
    )
    services.review = ReviewQueue(engine, services.donations, services.audit, burn_watermark, config.review.daily_quota)


def start_recording(
    services: HubServices, detector: ObjectDetector, cameras: list[str], stopping: threading.Event
) -> list[CameraRunner]:
    """Start the cameras once the home has a key (first-run setup makes it); return the runners started."""
    while not services.setup.done.wait(0.5):
        if stopping.is_set():
            return []
    config = services.config
    media, keeper = init_hub_media(config, services.events, services.config_path)
    services.keeper = keeper

    def save(record: EventRecord) -> None:
        try:
            services.events.save_event(record)
        except StoreError as exc:
            log.error("camera %s: event %s not saved: %s", record.camera, record.id, exc)
            return
        log.info("camera %s: %s event %s saved", record.camera, record.label, record.id)
        if services.donations is not None:
            # Only a standing rule the owner made can donate without them; there are none by default.
            try:
                services.donations.apply_rules(services.hub_home_id, record, "label")
            except StoreError as exc:
                log.error("camera %s: donation rules not applied to event %s: %s", record.camera, record.id, exc)

    arming = services.arming_for(services.hub_home_id)
    runners = [
        CameraRunner(
            name,
            config,
            detector,
            media,
            save,
            wall_clock=True,
            live=services.live,
            arming=arming,
            household=services.household,
            bus=services.bus,
        )
        for name in cameras
    ]
    services.runners.update((runner.name, runner) for runner in runners)
    keeper.start()
    start_cameras(runners)
    log.info("recording %d camera(s): %s", len(runners), ", ".join(cameras))
    return runners


class Integration(Protocol):
    """A running integration: something subscribed to the hub's bus that is stopped with the hub."""

    def stop(self) -> None:
        """Finish and stop."""


def start_integrations(services: HubServices) -> list[Integration]:
    """Subscribe the configured integrations to the hub's bus and start them; return them for stopping."""
    from homewarden.api.integrations import doorstep_of
    from homewarden.notify.push import PushNotifier, PushSubscriptions, VapidKeys
    from homewarden.notify.webhooks import WebhookDispatcher, WebhookStore

    config = services.config
    engine = services.events.engine
    webhooks = WebhookDispatcher(WebhookStore(engine), services.accounts, hub_name="homewarden")
    push = PushNotifier(PushSubscriptions(engine), services.accounts, VapidKeys.in_folder(config.storage.folder))
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
    from homewarden.api.integrations import DoorbellError, press_doorbell
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
        [name for name, camera in config.cameras.items() if camera.enabled],
        config.doorbells,
        set_mode=lambda mode, by: services.set_mode(home, mode, by),
        ring=ring,
        snapshot=snapshot,
        current_mode=lambda: services.arming_for(home).mode_at(datetime.now(UTC)),
    )


DONATION_SWEEP_SECONDS = 3600.0


def expire_donations_until(services: HubServices, stopping: threading.Event) -> None:
    """Delete donated copies whose retention ended, at start and hourly."""
    while True:
        try:
            if services.donations is not None:
                services.donations.expire_due()
        except StoreError as exc:
            log.error("donation expiry failed (tried again in an hour): %s", exc)
        if stopping.wait(DONATION_SWEEP_SECONDS):
            return


def serve_command(config_path: Path, host: str, port: int, tls: tuple[Path, Path] | None = None) -> int:
    """Run the cameras, the web app and the API on one port until stopped (HTTPS with a certificate and key)."""
    import uvicorn

    from homewarden.api.app import create_app

    config = load_config(config_path)
    check_port_free(host, port)
    cameras = [name for name, camera in config.cameras.items() if camera.enabled]
    store = init_store(config)
    services = init_services(config, store, config_path)
    detector = init_detector(config)
    app = create_app(services)
    certfile, keyfile = tls if tls else (None, None)
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            raise UserError(f"{path}: no such file (--certfile and --keyfile name a PEM certificate and its key)")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
    )
    scheme = "https" if tls else "http"
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    lines = [f"Homewarden is serving {len(cameras)} camera(s) at {base}/"]
    if not tls and host not in LOOPBACK_HOSTS:
        lines.append(
            "note: sign-in cookies are Secure, so browsers on other machines need HTTPS: pass --certfile and "
            "--keyfile, or put a TLS reverse proxy in front (docs/api.md)"
        )
    if services.setup.token is not None:
        lines.append(f"First run: create the owner account at {base}/setup?token={services.setup.token}")
        lines.append("(this link works once; cameras start recording once the owner has set the home passphrase)")
    stopping = threading.Event()
    integrations = start_integrations(services)
    if services.donations is not None:
        threading.Thread(
            target=expire_donations_until, args=(services, stopping), name="donation-expiry", daemon=True
        ).start()
    # The address and the setup link are printed once the port answers: a link that is refused is no link.
    threading.Thread(
        target=announce_when_listening, args=(server, lines, stopping), name="announce", daemon=True
    ).start()
    runners: list[CameraRunner] = []
    starter = threading.Thread(
        target=lambda: runners.extend(start_recording(services, detector, cameras, stopping)),
        name="camera-start",
        daemon=True,
    )
    starter.start()
    # uvicorn handles SIGINT/SIGTERM while it runs and raises the signal again once it has shut down; this handler
    # receives that, so the cameras still close their clips and the command exits 0 as `run` does.
    previous = {
        sig: signal.signal(sig, lambda _signum, _frame: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stopping.set()
        starter.join(timeout=5)
        for runner in runners:
            runner.stop_event.set()
        for thread in threading.enumerate():
            if thread.name.startswith("camera-") and thread is not threading.current_thread():
                thread.join(timeout=20)
        if services.keeper is not None:
            services.keeper.stop()
        if services.donations is not None:
            services.donations.close()
        services.bus.stop()
        for integration in integrations:
            integration.stop()
        store.close()
    log.info("stopped cleanly")
    return 0
