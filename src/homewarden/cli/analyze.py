"""`homewarden analyze`: find the events in one video file or stream, and report them."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from homewarden.camera.runner import CameraRunner, RunStats
from homewarden.cli.hub_config import load_hub_config
from homewarden.config import HomewardenConfig, single_source_config
from homewarden.config.model import ArmingMode
from homewarden.errors import UserError
from homewarden.events.record import EventRecord
from homewarden.faces.gallery import gallery_from_folder
from homewarden.hub.hub import check_household, init_detector, init_hub_media, init_store
from homewarden.i18n import _
from homewarden.report import report_events
from homewarden.store.database import EventStore
from homewarden.store.errors import StoreError
from homewarden.store.media import MediaFolder
from homewarden.store.sealed_media import open_hub_storage
from homewarden.video.source import SourceError, VideoSource

log = logging.getLogger(__name__)

ANALYSIS_EXPORT_FOLDER = "homewarden-analysis"


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
        _(
            "homewarden: no home key yet, so clips and snapshots are written as plain files to {folder}/ "
            "(choose the folder with --out DIR; after `homewarden keys init` they are kept encrypted by the hub)"
        ).format(folder=ANALYSIS_EXPORT_FOLDER),
        file=sys.stderr,
    )
    return MediaFolder(Path(ANALYSIS_EXPORT_FOLDER).resolve())


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
    config, camera = single_source_config(args.source, load_hub_config(args))
    config = with_analysis_options(config, args.mode, args.faces)
    source = open_source(args.source)
    store = init_store(config)
    media = analysis_media(config, store, args)
    check_household(config, store, args.config)
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
            # A file that does not say how long it is (a raw .h264 stream) gets a count of seconds instead of a bar.
            bar_format=(
                "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}]"
                if total
                else "{desc}: {n:.0f} s [{elapsed}]"
            ),
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
