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
# Sources interleave sound and pictures loosely (MOV files by the second): a clip whose pictures are complete waits
# for its sound until a packet past its end arrives, or until the stream is this many seconds further on.
AUDIO_WAIT = 2.0


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
class OpenClip:
    """A clip being written, and where it goes once complete."""

    writer: ClipWriter
    final: Path


@dataclass
class EventRecording:
    """The clips of one event being written as video arrives."""

    event_id: str
    stop_at: float | None = None
    clips: list[ClipRecord] = field(default_factory=list)
    current: OpenClip | None = None  # the clip taking pictures
    # Clips whose pictures are all written, waiting for the sound that goes with them.
    draining: list[OpenClip] = field(default_factory=list)
    parts: int = 0
    stopped: bool = False  # every picture of the event is written
    error: str | None = None
    done: bool = False


class ClipRecorder:
    """Buffer recent video and write each event's clips, from pre-roll to post-roll, at most max_clip long."""

    def __init__(
        self,
        camera: str,
        record: RecordConfig,
        media: MediaFolder,
        info: StreamInfo,
        template: Any | None,
        audio: Any | None = None,
    ) -> None:
        """Record ``template``'s packets (None: encode frames) and the sound of the ``audio`` stream, if given."""
        self.camera = camera
        self.record = record
        self.media = media
        self._info = info
        self._template = template
        self._audio_template = audio
        self._gops: deque[list[BufferedItem]] = deque()
        # Sound is buffered beside the pictures, by time: a clip takes the sound from its first picture on, however
        # the source interleaved the two.
        self._audio: deque[SourcePacket] = deque()
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
        """Take the next packet or frame of the stream, or its next audio packet."""
        with self._lock:
            if isinstance(item, SourcePacket) and item.audio:
                self._add_audio(item)
                return
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
            while self._audio and self._before_buffer(self._audio[0]):
                self._audio.popleft()
            for recording in list(self._recordings.values()):
                self._feed(recording, item)

    def _before_buffer(self, sound: SourcePacket) -> bool:
        """Tell whether a sound packet is older than the oldest buffered picture."""
        oldest = self._gops[0][0]
        if isinstance(oldest, SourcePacket) and oldest.stream_time is not None and sound.stream_time is not None:
            # A live source's clock is re-anchored while its first seconds arrive in a burst: by that clock, sound
            # that came later in the burst can look older than the pictures before it.
            return sound.stream_time < oldest.stream_time
        return sound.time < oldest.time

    def _add_audio(self, item: SourcePacket) -> None:
        if self._audio_template is None or not self._gops:
            return
        self._audio.append(item)
        for recording in list(self._recordings.values()):
            # Sound that arrives after its pictures (sources interleave loosely) joins the clip showing them.
            if recording.current is not None:
                self._write_audio(recording, recording.current)
            self._drain(recording, item.time)
            if recording.stopped and not recording.draining:
                self._complete(recording)

    def _write_audio(self, recording: EventRecording, clip: OpenClip) -> None:
        """Hand a clip the buffered sound it has not had yet, up to the end of its pictures."""
        writer = clip.writer
        after, until = writer.sound_from, writer.sound_until
        if after is None or until is None or not writer.has_audio:
            return
        if writer.audio_time is not None:
            after = writer.audio_time
        waiting: list[SourcePacket] = []
        for packet in reversed(self._audio):
            at = writer.sound_clock(packet)
            if at < after or (at == after and writer.audio_time is not None):
                break
            waiting.append(packet)
        try:
            for packet in reversed(waiting):
                if writer.sound_clock(packet) >= until:
                    break
                writer.write_audio(packet)
        except ClipWriteError as exc:
            self._fail(recording, clip, str(exc))

    def _sound_arrived(self, writer: ClipWriter) -> bool:
        """Tell whether sound up to the end of a clip's pictures has arrived."""
        until = writer.sound_until
        return until is not None and bool(self._audio) and writer.sound_clock(self._audio[-1]) >= until

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
            for recording in list(self._recordings.values()):
                self._retire(recording)
                self._drain(recording, None)
                if recording.stopped:
                    self._complete(recording)
            self._gops.clear()
            self._audio.clear()
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
                    self._retire(recording)
                    self._drain(recording, None)
                    recording.stopped = True
                    self._complete(recording)

    def reopen(self, template: Any | None, audio: Any | None) -> None:
        """Close open clips and go on with a reopened source: its video ``template`` (or encoding) and ``audio``."""
        self.interrupt()
        with self._lock:
            self._template = template
            self._audio_template = audio

    def finish_all(self) -> None:
        """Close every recording with what has arrived (the stream has ended)."""
        with self._lock:
            for recording in list(self._recordings.values()):
                self._retire(recording)
                self._drain(recording, None)
                self._complete(recording)

    def take_finished(self) -> list[FinishedRecording]:
        """Return the recordings completed since the last call."""
        with self._lock:
            finished, self._finished = self._finished, []
            return finished

    def _feed(self, recording: EventRecording, item: BufferedItem) -> None:
        if recording.done:
            return
        self._drain(recording, item.time)
        # The first packet shown at or after the stop ends the clip. With B-frames a few frames shown just before it
        # come later in decoding order and are left out: every frame written can then be decoded.
        if not recording.stopped and recording.stop_at is not None and item.time >= recording.stop_at:
            self._retire(recording)
            recording.stopped = True
        if recording.stopped:
            if not recording.draining:
                self._complete(recording)
            return
        clip = recording.current
        if clip is not None and clip.writer.start is not None:
            elapsed = item.time - clip.writer.start
            frame_time = 1.0 / max(self._info.fps, 1.0)
            split_here = item.keyframe and elapsed + self._keyframe_interval + frame_time > self.record.max_clip
            if split_here or elapsed + frame_time > self.record.max_clip:
                self._retire(recording)
                clip = None
        if clip is None:
            if not item.keyframe:
                return
            clip = self._new_clip(recording)
        try:
            if isinstance(item, BufferedFrame):
                clip.writer.write_frame(item.frame, item.time)
            else:
                clip.writer.write_packet(item)
        except ClipWriteError as exc:
            self._fail(recording, clip, str(exc))
            return
        self._write_audio(recording, clip)

    def _new_clip(self, recording: EventRecording) -> OpenClip:
        recording.parts += 1
        final = self.media.path_for(self.camera, recording.event_id, f"-{recording.parts}.mp4")
        writer = ClipWriter(
            # Sealed media never touches the disk as plaintext: the clip is written in memory, then sealed.
            None if self.media.sealed else self.media.temporary_path_for(final),
            template=self._template,
            encode_size=(self._info.width, self._info.height),
            fps=self._info.fps,
            name=final.name,
            # A camera that announces sound but sends none (muted in its settings) gets clips without a sound
            # track, rather than with an empty one.
            audio=self._audio_template if self._audio else None,
        )
        recording.current = OpenClip(writer, final)
        return recording.current

    def _retire(self, recording: EventRecording) -> None:
        """Stop adding pictures to the current clip: close it, or let it wait for its sound."""
        clip, recording.current = recording.current, None
        if clip is None:
            return
        if clip.writer.has_audio and clip.writer.end is not None and not self._sound_arrived(clip.writer):
            recording.draining.append(clip)
        else:
            self._close(recording, clip)

    def _drain(self, recording: EventRecording, now: float | None) -> None:
        """Close the clips whose sound has arrived, or is overdue at ``now`` (None: the stream is over)."""
        for clip in list(recording.draining):
            end = clip.writer.end
            assert end is not None
            self._write_audio(recording, clip)
            if clip not in recording.draining:
                continue  # writing its sound failed
            if self._sound_arrived(clip.writer) or now is None or now >= end + AUDIO_WAIT:
                recording.draining.remove(clip)
                self._close(recording, clip)

    def _close(self, recording: EventRecording, clip: OpenClip) -> None:
        writer = clip.writer
        try:
            if not writer.close():
                return
        except ClipWriteError as exc:
            self._fail(recording, clip, str(exc))
            return
        try:
            if writer.temp_path is None:
                self.media.write_atomically(clip.final, writer.take_bytes())
            else:
                self.media.publish(writer.temp_path, clip.final)
        except OSError as exc:
            if writer.temp_path is not None:
                self.media.discard(writer.temp_path)
            self._fail(recording, clip, f"cannot store clip {clip.final.name}: {exc.strerror or exc}")
            return
        assert writer.start is not None
        assert writer.end is not None
        recording.clips.append(ClipRecord(path=str(clip.final), start=writer.start, end=writer.end))

    def _complete(self, recording: EventRecording) -> None:
        """Hand the recording over as finished (every clip is closed)."""
        if recording.done:
            return
        recording.done = True
        self._recordings.pop(recording.event_id, None)
        clips = sorted(recording.clips, key=lambda clip: clip.start)
        self._finished.append(FinishedRecording(recording.event_id, clips, recording.error))

    def _fail(self, recording: EventRecording, clip: OpenClip, message: str) -> None:
        """Drop a clip; the recording goes on with a new clip at the next keyframe.

        The event keeps the first error, so it says part of it has no footage. A disk that filled up may have room
        again a few seconds later (retention deletes old footage), and later clips of the event are then written.
        """
        clip.writer.abort()
        if recording.current is clip:
            recording.current = None
        if clip in recording.draining:
            recording.draining.remove(clip)
        if recording.error is None:
            log.error("camera %s: event %s: %s", self.camera, recording.event_id, message)
            recording.error = message
        else:
            log.debug("camera %s: event %s: %s", self.camera, recording.event_id, message)

    def discard_all(self) -> None:
        """Abort every open recording and delete the clips it wrote (the whole run is being rolled back)."""
        with self._lock:
            for recording in list(self._recordings.values()):
                for clip in [recording.current, *recording.draining]:
                    if clip is not None:
                        clip.writer.abort()
                for record in recording.clips:
                    self.media.discard(Path(record.path))
            self._recordings.clear()
