"""`run`, `serve` and `demo`: the hub with or without its web app."""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from homewarden.cli.analyze import open_source, run_file_with_progress
from homewarden.config import HomewardenConfig, load_config, single_source_config
from homewarden.errors import UserError
from homewarden.events.record import EventRecord
from homewarden.hub.hub import Hub, enabled_cameras, init_detector, init_store
from homewarden.i18n import _, counted
from homewarden.report import report_events
from homewarden.store.durable_files import make_private_folder, new_files_private
from homewarden.store.media import MediaFolder

if TYPE_CHECKING:
    import uvicorn

    from homewarden.cli.demo_cloud import DemoAccount, DemoCloud

log = logging.getLogger(__name__)

DEMO_CAMERA = "living_room"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@contextmanager
def stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``stopping`` while the block runs (the hub then closes its clips)."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping (signal %d): finishing open clips", signum)
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def hub_files_private(config: HomewardenConfig) -> Iterator[None]:
    """Keep everything the hub writes readable by its own user only, and its storage folder closed to others."""
    with new_files_private():
        make_private_folder(config.storage.folder)
        yield


def run_command(config_path: Path) -> int:
    """Run the hub without its web server until stopped (or until every camera's file has ended)."""
    config = load_config(config_path)
    if not enabled_cameras(config):
        raise UserError(_("{path}: no enabled cameras").format(path=config_path))
    with hub_files_private(config):
        return run_hub(config_path)


def run_hub(config_path: Path) -> int:
    """Build and run the hub of ``run``."""
    hub = Hub.build(config_path, "run")
    with stop_on_signals(hub.stopping):
        try:
            hub.start(wait_for_setup=False)
            log.info("running %d camera(s): %s", len(hub.cameras), ", ".join(hub.cameras))
            hub.wait()
        finally:
            hub.stop()
    log.info("stopped cleanly")
    return 0


def serve_command(
    config_path: Path,
    host: str,
    port: int,
    tls: tuple[Path, Path] | None = None,
    notes: list[str] | None = None,
    on_built: Callable[[Hub], None] | None = None,
) -> int:
    """Run the hub with the web app and the API on one port until stopped (HTTPS with a certificate and key).

    ``notes`` are printed after the address; ``on_built`` is given the hub before it starts (the demo's cloud).
    """
    config = load_config(config_path)
    check_port_free(host, port)
    certfile, keyfile = tls if tls else (None, None)
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            raise UserError(
                _("{path}: no such file (--certfile and --keyfile name a PEM certificate and its key)").format(
                    path=path
                )
            )
    with hub_files_private(config):
        return serve_hub(config_path, host, port, tls, notes, on_built)


def serve_hub(
    config_path: Path,
    host: str,
    port: int,
    tls: tuple[Path, Path] | None,
    notes: list[str] | None = None,
    on_built: Callable[[Hub], None] | None = None,
) -> int:
    """Build the hub and serve it until stopped."""
    import uvicorn

    from homewarden.api.app import create_app

    certfile, keyfile = tls if tls else (None, None)
    hub = Hub.build(config_path, "serve")
    services = hub.services
    trusted_proxies = services.config.server.trusted_proxies
    if on_built is not None:
        on_built(hub)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(services),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            # X-Forwarded-For and -Proto are believed from the configured proxies only (uvicorn's default trusts
            # 127.0.0.1, so any local program could pick its address and slip past the per-address sign-in limit).
            proxy_headers=bool(trusted_proxies),
            forwarded_allow_ips=trusted_proxies,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
    )
    scheme = "https" if tls else "http"
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    lines = [
        _("Homewarden is serving {cameras} at {address}").format(
            cameras=counted("{count} camera", "{count} cameras", len(hub.cameras)), address=f"{base}/"
        )
    ]
    if not tls and host not in LOOPBACK_HOSTS:
        lines.append(
            _(
                "note: sign-in cookies are Secure, so browsers on other machines need HTTPS: pass --certfile and "
                "--keyfile, or put a TLS reverse proxy in front (docs/api.md)"
            )
        )
    lines += notes or []
    if services.setup.token is not None:
        link = f"{base}/setup?token={services.setup.token}"
        lines.append(_("First run: create the owner account at {link}").format(link=link))
        lines.append(_("(this link works once; cameras start recording once the owner has set the home passphrase)"))
    # The address and the setup link are printed once the port answers: a link that is refused is no link.
    threading.Thread(
        target=announce_when_listening, args=(server, lines, hub.stopping), name="announce", daemon=True
    ).start()
    try:
        hub.start(wait_for_setup=True)
        # uvicorn handles SIGINT/SIGTERM while it runs and raises the signal again once it has shut down; the
        # handler installed here receives that, so the cameras still close their clips and the exit code is 0.
        with stop_on_signals(hub.stopping):
            server.run()
    finally:
        hub.stop()
    log.info("stopped cleanly")
    return 0


# Seconds: longer than the scene's loop with room for a loaded machine, so the returning stranger always joins.
DEMO_GROUP_WINDOW = 90


def demo_config(out: Path, scene: Path) -> Path:
    """Write the demo's config: one camera that replays the scene like a live camera, storage under ``out``."""
    config = out / "homewarden-demo.yaml"
    config.write_text(
        "# Written by `homewarden demo`. A real camera is one line: replace the source with its rtsp:// URL.\n"
        f"cameras:\n  {DEMO_CAMERA}:\n    source: {json.dumps(str(scene.resolve()))}\n    loop: true\n"
        f"storage:\n  folder: {json.dumps(str((out / 'data').resolve()))}\n"
        "# The scene's stranger comes back every loop (40 s): within this window each return joins one intrusion,\n"
        "# so the timeline shows an intrusion of several people. A real home keeps the default (30 s).\n"
        f"alarm:\n  group_window: {DEMO_GROUP_WINDOW}\n"
    )
    return config


def demo_command(
    out: Path,
    host: str,
    port: int,
    analyse_only: bool = False,
    tls: tuple[Path, Path] | None = None,
    cloud_port: int | None = None,
) -> int:
    """Compose the demo scene and serve it as a live camera in the web app (or, with analyse_only, analyse it once).

    With ``cloud_port``, a local Homewarden Cloud runs beside the hub and the hub pairs with it once set up.
    """
    from homewarden.demo import compose_demo_scene

    if analyse_only and cloud_port is not None:
        raise UserError(_("--cloud serves the hub: it does not go with --analyse-only"))
    scene = compose_demo_scene(out / "demo-scene.mp4")
    print(
        _("demo scene: {scene} (a stranger and a cat cross a room, composed from sample photos; it loops)").format(
            scene=scene
        )
    )
    if not analyse_only:
        config_path = demo_config(out, scene)
        print(_("demo config: {path} (edit it, or copy it for your own cameras)").format(path=config_path.resolve()))
        print(_("demo data: {path} (database, sealed footage, keys)").format(path=(out / "data").resolve()))
        print(
            _("other commands use them with --config {path}, or HOMEWARDEN_CONFIG set to it").format(
                path=config_path.resolve()
            )
        )
        if cloud_port is None:
            return serve_command(config_path, host, port, tls)
        return serve_demo_with_cloud(config_path, out / "cloud", host, port, cloud_port, tls)
    config, camera = single_source_config(str(scene), HomewardenConfig())
    config = config.model_copy(update={"storage": config.storage.model_copy(update={"folder": out / "data"})})
    store = init_store(config)
    detector = init_detector(config)
    events: list[EventRecord] = []
    from homewarden.camera.runner import CameraRunner

    runner = CameraRunner(camera, config, detector, MediaFolder(out / "media"), events.append)
    try:
        run_file_with_progress(runner, open_source(str(scene)), quiet=False)
        for record in events:
            store.save_event(record)
    finally:
        store.close()
    report_events(events, as_json=False)
    print(_("events saved in {database}").format(database=config.storage.resolved_database_url()))
    return 0


def serve_demo_with_cloud(
    config_path: Path, cloud_folder: Path, host: str, port: int, cloud_port: int, tls: tuple[Path, Path] | None
) -> int:
    """Serve the demo hub beside a local cloud; pair the hub with it once the owner has made the home key."""
    from homewarden.cli.demo_cloud import DemoCloud

    load_config(config_path)
    check_port_free(host, port)  # before the cloud takes its port and writes its database
    cloud = DemoCloud(cloud_folder, cloud_port)
    account = cloud.start()
    notes = [
        f"Homewarden Cloud (local, for the demo) at {cloud.url}/ - account {account.username!r}, "
        f"password {account.password!r}",
        "the hub pairs with it once the owner is set up; the storage page shows the clips going off-site",
    ]

    def pair_after_setup(hub: Hub) -> None:
        threading.Thread(target=pair_demo_hub, args=(hub, cloud, account), name="demo-pairing", daemon=True).start()

    try:
        return serve_command(config_path, host, port, tls, notes, pair_after_setup)
    finally:
        cloud.stop()


def pair_demo_hub(hub: Hub, cloud: DemoCloud, account: DemoAccount) -> None:
    """Wait for first-run setup (the home key), then pair the hub with the demo cloud unless it is paired there."""
    from homewarden.offsite.client import CloudError
    from homewarden.offsite.identity import PairingError

    offsite = hub.services.offsite
    # Pairing waits for the home key: the hub's first catch-up then sends the key file, which a restore needs.
    while not hub.services.setup.done.wait(0.5):
        if hub.stopping.is_set():
            return
    if offsite is None or hub.stopping.is_set():
        return
    current = offsite.pairing
    if current is not None and current.cloud_url == cloud.url:
        log.info("the demo hub is paired with the demo cloud already")
        return
    try:
        pairing = offsite.pair(cloud.url, cloud.pairing_code(account))
    except (CloudError, PairingError) as exc:
        log.error("the demo hub could not pair with the demo cloud: %s", exc)
        return
    print(
        _("paired with the demo cloud at {url} (hub {hub}): clips now go off-site").format(
            url=cloud.url, hub=pairing.hub_id
        ),
        flush=True,
    )


def check_port_free(host: str, port: int) -> None:
    """Refuse at once, in one line, a port another program listens on (before anything is loaded)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                _("cannot listen on {host}:{port}: {problem} (choose another with --port)").format(
                    host=host, port=port, problem=exc.strerror
                )
            ) from None


def announce_when_listening(server: uvicorn.Server, lines: list[str], stopping: threading.Event) -> None:
    """Print the lines for the user as soon as the server accepts connections."""
    while not server.started:
        if stopping.wait(0.05):
            return
    for line in lines:
        print(line, flush=True)  # at once: the setup link must show even when stdout is a pipe
