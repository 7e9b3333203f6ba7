"""Drive one camera: a file from start to end, a file looped like a camera, or a live source that reconnects."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from homewarden.camera.health import CameraHealthBoard
from homewarden.camera.live import LiveFrames
from homewarden.camera.pipeline import CameraPipeline
from homewarden.camera.reader import FramePacer, LatestSample, read_ahead, read_samples
from homewarden.config.model import HomewardenConfig
from homewarden.detect.base import ObjectDetector
from homewarden.detect.verifier import DetectionReview
from homewarden.events.arming import ArmingState
from homewarden.events.intrusions import IntrusionBoard
from homewarden.events.record import EventRecord
from homewarden.faces.household import HouseholdHandle
from homewarden.notify.bus import HubBus
from homewarden.store.media import MediaFolder
from homewarden.video.source import SourceError, StreamInfo, VideoSource, describe_url

log = logging.getLogger(__name__)

# Analysing a 4K picture costs far more and finds little more than a 1280-wide one; the clips keep full size.
DEFAULT_DETECT_WIDTH = 1280
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
IDLE_TICK = 0.5
# An open source that delivers no frame for this long counts as down and is connected again.
STALLED_AFTER = 20.0


@dataclass
class RunStats:
    """What a run did, for the command line and the benchmark."""

    video_seconds: float = 0.0
    frames_analysed: int = 0
    frames_dropped: int = 0
    detector_calls: int = 0
    reconnects: int = 0
    replays: int = 0


def detect_size_for(config: HomewardenConfig, camera: str, info: StreamInfo) -> tuple[int, int]:
    """Return the analysis size: the configured one, or the source's own capped at DEFAULT_DETECT_WIDTH."""
    detect = config.cameras[camera].detect
    width = detect.width or min(info.width, DEFAULT_DETECT_WIDTH)
    height = detect.height or round(info.height * width / info.width)
    return width - width % 2, height - height % 2


class CameraRunner:
    """Run one camera's pipeline over its source."""

    def __init__(
        self,
        name: str,
        config: HomewardenConfig,
        detector: ObjectDetector,
        media: MediaFolder,
        on_event: Callable[[EventRecord], None],
        wall_clock: bool | None = None,
        *,
        live: LiveFrames | None = None,
        arming: ArmingState | None = None,
        household: HouseholdHandle | None = None,
        bus: HubBus | None = None,
        health: CameraHealthBoard | None = None,
        intrusions: IntrusionBoard | None = None,
        verifier: DetectionReview | None = None,
    ) -> None:
        self.name = name
        self.verifier = verifier
        self.bus = bus
        self.config = config
        self.url = config.cameras[name].source
        self.detector = detector
        self.media = media
        self.on_event = on_event
        self.stats = RunStats()
        self.pipeline: CameraPipeline | None = None
        self.stop_event = threading.Event()
        # Set by the supervisor when an open source delivers no frames: the reader drops it and connects again.
        self._abandon = threading.Event()
        self.mailbox = LatestSample()
        self.health = health
        self._retired: list[VideoSource] = []
        # A looping file replays without end, so its times are the clock's: they must not start again at zero.
        self.wall_clock = True if wall_clock is None and config.cameras[name].loop else wall_clock
        self.live = live
        self.arming = arming
        self.household = household
        self.intrusions = intrusions

    def counters(self) -> tuple[int, int, int]:
        """Return frames analysed, detector calls and frames dropped so far (read from any thread)."""
        pipeline = self.pipeline
        calls = pipeline.analyzer.stats.detector_calls if pipeline is not None else 0
        return self.stats.frames_analysed, calls, self.mailbox.dropped

    def request_reconnect(self) -> None:
        """Drop the current source and connect again (it is open but sends no frames)."""
        self._abandon.set()

    def ring(self, bell: str, seconds: float) -> str | None:
        """Record a doorbell press now (with the pre-roll); return the event id, or None while the camera is down."""
        pipeline = self.pipeline
        if pipeline is None:
            return None
        return pipeline.ring(bell, time.time() if self.wall_clock or pipeline.live else pipeline.last_time, seconds)

    def open(self) -> VideoSource:
        """Open the source, or raise SourceError."""
        source = VideoSource(self.url, wall_clock=self.wall_clock)
        source.open()
        return source

    def _pipeline_for(self, source: VideoSource) -> CameraPipeline:
        assert source.info is not None
        if self.pipeline is None:
            self.pipeline = CameraPipeline(
                self.name,
                self.config,
                self.detector,
                self.media,
                source.info,
                source.stream,
                source.audio_stream,
                detect_size_for(self.config, self.name, source.info),
                describe_url(self.url),
                self.on_event,
                live_frames=self.live,
                arming=self.arming,
                household=self.household,
                bus=self.bus,
                intrusions=self.intrusions,
                verifier=self.verifier,
            )
        else:
            self.pipeline.recorder.reopen(source.stream if source.info.remuxable else None, source.audio_stream)
        return self.pipeline

    def run_file(
        self, source: VideoSource, progress: Callable[[float], None] | None = None, realtime: bool = False
    ) -> RunStats:
        """Analyse an open file source from start to end; SourceError leaves nothing behind."""
        pipeline = self._pipeline_for(source)
        pacer = FramePacer(self.config.cameras[self.name].detect.fps)
        detect_size = pipeline.analyzer.frame_size
        samples = read_ahead(source, pipeline.recorder, pacer, detect_size, self.stop_event, realtime)
        try:
            for sample in samples:
                pipeline.process(sample)
                self.stats.frames_analysed += 1
                self.stats.video_seconds = sample.time
                if progress is not None:
                    progress(sample.time)
            pipeline.finish()
        except BaseException:
            pipeline.discard()
            raise
        finally:
            samples.close()  # the reader stops before its source closes
            source.close()
            self.stats.detector_calls = pipeline.analyzer.stats.detector_calls
        return self.stats

    def run_live(self, first_source: VideoSource | None = None, reconnect: bool = True) -> RunStats:
        """Run until stop_event is set, reconnecting with backoff when the source fails (if asked to)."""
        mailbox = self.mailbox
        reader = threading.Thread(
            target=self._read_live,
            args=(mailbox, first_source, reconnect),
            name=f"reader-{self.name}",
            daemon=True,
        )
        reader.start()
        try:
            while not self.stop_event.is_set():
                sample = mailbox.get(IDLE_TICK)
                pipeline = self.pipeline
                if pipeline is None:
                    continue
                if sample is None:
                    pipeline.tick(time.time())
                else:
                    pipeline.process(sample)
                    self.stats.frames_analysed += 1
        finally:
            self.stop_event.set()
            reader.join(timeout=15)
            try:
                if self.pipeline is not None:
                    # Ends every event and closes its clips, also when the analysis failed: nothing seen is lost.
                    self.pipeline.finish()
                    self.stats.detector_calls = self.pipeline.analyzer.stats.detector_calls
            finally:
                self._close_retired()
                self.stats.frames_dropped = mailbox.dropped
        return self.stats

    def _close_retired(self) -> None:
        """Close the sources the recorder no longer copies clips from."""
        while self._retired:
            self._retired.pop().close()

    def _read_live(self, mailbox: LatestSample, source: VideoSource | None, reconnect: bool) -> None:
        backoff = BACKOFF_START
        last_error = ""
        message = f"{describe_url(self.url)}: the video ended"
        while not self.stop_event.is_set():
            replay = False
            try:
                if source is None:
                    opened_at = time.time()
                    source = self.open()
                    if self.pipeline is not None and not source.live:
                        # A file opened again starts over: its first frame does not follow the last one analysed.
                        self.pipeline.restart_stream(opened_at)
                pipeline = self._pipeline_for(source)
                # The recorder now copies clips from the new stream: the old source can go.
                self._close_retired()
                assert source.info is not None
                if last_error:
                    log.info("camera %s: %s is back", self.name, describe_url(self.url))
                    self.stats.reconnects += 1
                    if self.live is not None:
                        self.live.mark_online(self.name)
                    if self.health is not None:
                        self.health.count_reconnect(self.name)
                last_error = ""
                backoff = BACKOFF_START
                pacer = FramePacer(self.config.cameras[self.name].detect.fps)
                size = detect_size_for(self.config, self.name, source.info)
                self._abandon.clear()
                for sample in read_samples(
                    source, pipeline.recorder, pacer, size, self.stop_event, not source.live, self._abandon
                ):
                    mailbox.put(sample)
                    if self.health is not None:
                        self.health.frame_arrived(self.name)
                if self._abandon.is_set() and not self.stop_event.is_set():
                    raise SourceError(f"{describe_url(self.url)}: no frames for {STALLED_AFTER:g} s")
                replay = self._replays(source, reconnect)
                if not replay and (not source.live or not reconnect):
                    break  # a file paced like a camera ends; it does not reconnect
                message = f"{describe_url(self.url)}: stream ended"
            except SourceError as exc:
                message = str(exc)
            except Exception as exc:  # a reader must never take the hub down; it logs and reconnects
                message = f"{describe_url(self.url)}: {type(exc).__name__}: {exc}"
            finally:
                if source is not None:
                    # Not closed here: the analysis thread may be opening a clip whose stream is copied from this
                    # source's (closing it under that copy crashes FFmpeg). It closes once the recorder has
                    # another template, or when the camera has finished.
                    self._retired.append(source)
                    source = None
            if replay:
                # A demo camera starts over at once: the end of its file is no failure to back off from.
                self.stats.replays += 1
                continue
            if self.live is not None:
                self.live.mark_offline(self.name, message)
            if self.health is not None and not self.stop_event.is_set() and reconnect:
                self.health.set_state(self.name, "reconnecting", message)
            if self.stop_event.is_set() or not reconnect:
                if not reconnect:
                    log.warning("camera %s: %s", self.name, message)
                break
            if message != last_error:
                log.warning("camera %s: %s; retrying in %.0f s", self.name, message, backoff)
                last_error = message
            if self.pipeline is not None:
                self.pipeline.recorder.interrupt()
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
        mailbox.close()
        reason = "stopped" if self.stop_event.is_set() else message
        if self.live is not None:
            self.live.mark_offline(self.name, reason)
        if self.health is not None and not self.stop_event.is_set():
            # The source ended for good (a file that is not looped); a stop asked for is the supervisor's to show.
            self.health.set_state(self.name, "stopped", reason)
        if not self.stop_event.is_set():
            # The source is over and will not be reopened: let the main loop drain the last frame and stop.
            time.sleep(IDLE_TICK * 2)
            self.stop_event.set()

    def _replays(self, source: VideoSource, reconnect: bool) -> bool:
        """Tell whether a file that just ended is played again: a looping camera kept running, unless stopped."""
        if source.live or not reconnect or self.stop_event.is_set() or not self.config.cameras[self.name].loop:
            return False
        assert source.info is not None
        if not source.info.live:
            # Times from the file's own start would run backwards at every pass.
            log.warning("camera %s: not looping %s: its times are not the clock's", self.name, self.url)
            return False
        return True
