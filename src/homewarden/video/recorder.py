"""Event clips: a pre-roll buffer of recent video, and one recording per event cut into bounded clips."""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homewarden.config.model import RecordConfig
from homewarden.events.record import ClipRecord
from homewarden.store.media import MediaFolder
from homewarden.video.clip_writer import ClipWriteError, ClipWriter
from homewarden.video.source import SourcePacket, StreamInfo

log = logging.getLogger(__name__)

# An event starts at its object's first detection, but is confirmed a little later; the buffer reaches back
# far enough to cover that delay on top of the pre-roll.
CONFIRMATION_MARGIN = 6.0


@dataclass(frozen=True)
class BufferedFrame:
    """A decoded frame kept for clips that must be encoded."""

    frame: Any
    time: float
    keyframe: bool = True


BufferedItem = SourcePacket | BufferedFrame


@dataclass
class FinishedRecording:
    """The clips of one event, or why they failed."""

    event_id: str
    clips: list[ClipRecord]
    error: str | None


@dataclass
class EventRecording:
    """The clips of one event being written as video arrives."""

    event_id: str
    stop_at: float | None = None
    clips: list[ClipRecord] = field(default_factory=list)
    writer: ClipWriter | None = None
    final_path: Path | None = None
    error: str | None = None
    done: bool = False


class ClipRecorder:
    """Buffer recent video and write each event's clips, from pre-roll to post-roll, at most max_clip long."""

    def __init__(
        self, camera: str, record: RecordConfig, media: MediaFolder, info: StreamInfo, template: Any | None
    ) -> None:
        self.camera = camera
        self.record = record
        self.media = media
        self._info = info
        self._template = template
        self._gops: deque[list[BufferedItem]] = deque()
        self._recordings: dict[str, EventRecording] = {}
        self._finished: list[FinishedRecording] = []
        self._keyframe_interval = 1.0
        self._last_keyframe: float | None = None
        self._interrupted = False  # the stream broke and no video has arrived since
        self._lock = threading.Lock()

    @property
    def encodes(self) -> bool:
        """Tell whether this recorder encodes frames (True) or copies packets (False)."""
        return self._template is None

    def add(self, item: BufferedItem) -> None:
        """Take the next packet or frame of the stream."""
        with self._lock:
            self._interrupted = False
            if item.keyframe:
                if self._last_keyframe is not None and not isinstance(item, BufferedFrame):
                    self._keyframe_interval = max(item.time - self._last_keyframe, 1e-3)
                self._last_keyframe = item.time
                self._gops.append([item])
            elif self._gops:
                self._gops[-1].append(item)
            else:
                return  # nothing decodable before the first keyframe
            cutoff = item.time - self.record.pre_roll - CONFIRMATION_MARGIN
            while len(self._gops) > 1 and self._gops[1][0].time <= cutoff:
                self._gops.popleft()
            for recording in list(self._recordings.values()):
                self._feed(recording, item)

    def start(self, event_id: str, first_seen: float) -> None:
        """Begin an event's recording from the pre-roll before its first sighting."""
        with self._lock:
            recording = EventRecording(event_id)
            self._recordings[event_id] = recording
            begin = first_seen - self.record.pre_roll
            start_index = 0
            for index, gop in enumerate(self._gops):
                if gop[0].time <= begin:
                    start_index = index
            for gop in list(self._gops)[start_index:]:
                for item in gop:
                    self._feed(recording, item)

    def stop(self, event_id: str, last_seen: float) -> None:
        """End an event's recording once the post-roll after its last sighting has been written."""
        with self._lock:
            recording = self._recordings.get(event_id)
            if recording is not None:
                recording.stop_at = last_seen + self.record.post_roll

    def interrupt(self, template: Any | None = None) -> None:
        """Close open clips because the stream broke; recordings go on when video returns."""
        with self._lock:
            for recording in self._recordings.values():
                self._close_writer(recording)
            self._gops.clear()
            self._last_keyframe = None
            self._interrupted = True
            if template is not None:
                self._template = template

    def finish_overdue(self, now: float) -> None:
        """Finish the recordings whose post-roll ended while the stream is broken (no video will come for them)."""
        with self._lock:
            if not self._interrupted:
                return  # video is flowing: a recording finishes when the packet past its post-roll arrives
            for recording in list(self._recordings.values()):
                if recording.stop_at is not None and recording.stop_at <= now:
                    self._finish(recording)

    def finish_all(self) -> None:
        """Close every recording with what has arrived (the stream has ended)."""
        with self._lock:
            for recording in list(self._recordings.values()):
                self._finish(recording)

    def take_finished(self) -> list[FinishedRecording]:
        """Return the recordings completed since the last call."""
        with self._lock:
            finished, self._finished = self._finished, []
            return finished

    def _feed(self, recording: EventRecording, item: BufferedItem) -> None:
        if recording.done or recording.error:
            return
        if recording.stop_at is not None and item.time >= recording.stop_at:
            self._finish(recording)
            return
        writer = recording.writer
        if writer is not None and writer.start is not None:
            elapsed = item.time - writer.start
            frame_time = 1.0 / max(self._info.fps, 1.0)
            split_here = item.keyframe and elapsed + self._keyframe_interval + frame_time > self.record.max_clip
            if split_here or elapsed + frame_time > self.record.max_clip:
                self._close_writer(recording)
                writer = None
        if writer is None:
            if not item.keyframe:
                return
            writer = self._new_writer(recording)
        try:
            if isinstance(item, BufferedFrame):
                writer.write_frame(item.frame, item.time)
            else:
                writer.write_packet(item)
        except ClipWriteError as exc:
            self._fail(recording, str(exc))

    def _new_writer(self, recording: EventRecording) -> ClipWriter:
        final = self.media.path_for(self.camera, recording.event_id, f"-{len(recording.clips) + 1}.mp4")
        writer = ClipWriter(
            # Sealed media never touches the disk as plaintext: the clip is written in memory, then sealed.
            None if self.media.sealed else self.media.temporary_path_for(final),
            template=self._template,
            encode_size=(self._info.width, self._info.height),
            fps=self._info.fps,
            name=final.name,
        )
        recording.writer = writer
        recording.final_path = final
        return writer

    def _close_writer(self, recording: EventRecording) -> None:
        writer, recording.writer = recording.writer, None
        if writer is None:
            return
        try:
            if not writer.close():
                return
        except ClipWriteError as exc:
            self._fail(recording, str(exc))
            return
        final = recording.final_path
        assert final is not None
        try:
            if writer.temp_path is None:
                self.media.write_atomically(final, writer.take_bytes())
            else:
                self.media.publish(writer.temp_path, final)
        except OSError as exc:
            if writer.temp_path is not None:
                self.media.discard(writer.temp_path)
            self._fail(recording, f"cannot store clip {final.name}: {exc.strerror or exc}")
            return
        assert writer.start is not None
        assert writer.end is not None
        recording.clips.append(ClipRecord(path=str(final), start=writer.start, end=writer.end))

    def _finish(self, recording: EventRecording) -> None:
        if recording.done:
            return
        self._close_writer(recording)
        if recording.done:
            return  # closing failed, and _fail has finished the recording already
        recording.done = True
        self._recordings.pop(recording.event_id, None)
        self._finished.append(FinishedRecording(recording.event_id, recording.clips, recording.error))

    def _fail(self, recording: EventRecording, message: str) -> None:
        log.error("camera %s: event %s: %s", self.camera, recording.event_id, message)
        if recording.writer is not None:
            recording.writer.abort()
            recording.writer = None
        recording.error = message
        self._finish(recording)

    def discard_all(self) -> None:
        """Abort every open recording and delete the clips it wrote (the whole run is being rolled back)."""
        with self._lock:
            for recording in list(self._recordings.values()):
                if recording.writer is not None:
                    recording.writer.abort()
                for clip in recording.clips:
                    self.media.discard(Path(clip.path))
            self._recordings.clear()
