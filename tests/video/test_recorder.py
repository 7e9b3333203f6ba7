"""ClipRecorder fed by a real VideoSource: pre- and post-roll, clips split at max_clip, remux and encode paths."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import pytest

from homewarden.config.model import RecordConfig
from homewarden.store.media import MediaFolder
from homewarden.video.recorder import BufferedFrame, ClipRecorder, FinishedRecording
from homewarden.video.source import VideoSource
from video.synthetic import decoded_indices, mp4_top_level_boxes, write_video

FPS = 10
RECORD = RecordConfig(pre_roll=5.0, post_roll=5.0, max_clip=30.0)


@pytest.fixture(scope="module")
def h264_minute(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return 60 s of H.264 at 10 fps with a keyframe every second (written without faststart)."""
    return write_video(tmp_path_factory.mktemp("source") / "minute.mp4", seconds=60)


def record_event(video: Path, media: MediaFolder, first_seen: float, last_seen: float) -> FinishedRecording:
    """Play a file through a recorder the way the camera reader does; start and stop one event on the way."""
    source = VideoSource(str(video))
    info = source.open()
    recorder = ClipRecorder("front", RECORD, media, info, source.stream if info.remuxable else None)
    started = stopped = False

    def on_time(at: float) -> None:
        # The detector sees the object at first_seen and loses it after last_seen, as the pipeline would report.
        nonlocal started, stopped
        if not started and at >= first_seen:
            recorder.start("event1", first_seen)
            started = True
        if started and not stopped and at >= last_seen:
            recorder.stop("event1", last_seen)
            stopped = True

    try:
        for packet, raw in source.packets():
            if not recorder.encodes:
                recorder.add(packet)
            for frame in source.decode(raw):
                at = source.frame_time(frame)
                if recorder.encodes:
                    recorder.add(BufferedFrame(frame, at))
                on_time(at)
        for frame in source.flush():
            if recorder.encodes:
                recorder.add(BufferedFrame(frame, source.frame_time(frame)))
        recorder.finish_all()
    finally:
        source.close()
    [finished] = recorder.take_finished()
    assert finished.event_id == "event1"
    assert finished.error is None
    return finished


def clip_stream(path: Path) -> tuple[str, str, float]:
    """Return a clip's codec, pixel format and duration in seconds as its MP4 header states them."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, stream.codec_context.format.name, container.duration / 1_000_000


def assert_only_published_clips(root: Path) -> None:
    """Check the media folder holds finished MP4s and nothing half-written."""
    files = [path for path in root.rglob("*") if path.is_file()]
    assert files
    assert [path for path in files if path.name.startswith(".") or path.suffix != ".mp4"] == []


def test_short_event_is_one_clip_with_pre_and_post_roll(tmp_path: Path, h264_minute: Path) -> None:
    media = MediaFolder(tmp_path / "media")
    finished = record_event(h264_minute, media, first_seen=20.0, last_seen=25.0)

    [clip] = finished.clips
    path = Path(clip.path)
    assert path.is_relative_to(tmp_path / "media")
    codec, pixel_format, duration = clip_stream(path)
    assert (codec, pixel_format) == ("h264", "yuv420p")
    indices = decoded_indices(path)
    assert indices == list(range(indices[0], indices[-1] + 1))  # every frame, in order
    assert indices[0] <= 15 * FPS  # the clip starts at or before 15 s
    assert indices[-1] >= 30 * FPS - 1  # the frame shown from 29.9 s lasts until 30 s
    assert len(indices) <= 30 * FPS
    assert duration <= 30.0
    assert clip.start == pytest.approx(indices[0] / FPS)
    assert clip.end == pytest.approx((indices[-1] + 1) / FPS)
    assert_only_published_clips(tmp_path / "media")


def test_long_event_is_cut_into_consecutive_clips(tmp_path: Path, h264_minute: Path) -> None:
    media = MediaFolder(tmp_path / "media")
    finished = record_event(h264_minute, media, first_seen=5.0, last_seen=55.0)

    assert len(finished.clips) >= 2
    shown = [decoded_indices(Path(clip.path)) for clip in finished.clips]
    for clip, indices in zip(finished.clips, shown, strict=True):
        assert len(indices) <= 30 * FPS
        assert clip_stream(Path(clip.path))[2] <= 30.0
        assert clip.end - clip.start <= 30.0
        assert indices == list(range(indices[0], indices[-1] + 1))
    # Together they show 0..60 s: each clip begins with the frame after the last one of the clip before.
    assert shown[0][0] == 0
    assert shown[-1][-1] == 60 * FPS - 1
    for before, after in itertools.pairwise(shown):
        assert after[0] == before[-1] + 1
    for before, after in itertools.pairwise(finished.clips):
        assert after.start == pytest.approx(before.end)
    assert len({clip.path for clip in finished.clips}) == len(finished.clips)
    assert_only_published_clips(tmp_path / "media")


@pytest.mark.parametrize(
    ("name", "codec", "container_format"), [("camera.gif", "gif", None), ("camera.avi", "mjpeg", "avi")]
)
def test_source_that_cannot_be_remuxed_is_encoded_to_h264(
    tmp_path: Path, name: str, codec: str, container_format: str | None
) -> None:
    video = write_video(tmp_path / name, seconds=20, codec=codec, container_format=container_format)
    media = MediaFolder(tmp_path / "media")
    finished = record_event(video, media, first_seen=8.0, last_seen=10.0)

    [clip] = finished.clips
    path = Path(clip.path)
    codec_name, pixel_format, duration = clip_stream(path)
    assert (codec_name, pixel_format) == ("h264", "yuv420p")
    indices = decoded_indices(path)
    assert indices == list(range(3 * FPS, 15 * FPS))  # 8 s - 5 s pre-roll up to 10 s + 5 s post-roll
    assert duration == pytest.approx(12.0, abs=0.15)
    assert_only_published_clips(tmp_path / "media")


@pytest.mark.parametrize("source_name", ["h264", "mjpeg"])
def test_clips_have_the_index_before_the_data(tmp_path: Path, h264_minute: Path, source_name: str) -> None:
    # faststart puts moov before mdat, so a browser can play the clip before it has downloaded all of it.
    assert mp4_top_level_boxes(h264_minute).index("mdat") < mp4_top_level_boxes(h264_minute).index("moov")
    video = h264_minute
    if source_name == "mjpeg":
        video = write_video(tmp_path / "camera.avi", seconds=20, codec="mjpeg", container_format="avi")
    finished = record_event(video, MediaFolder(tmp_path / "media"), first_seen=10.0, last_seen=12.0)

    [clip] = finished.clips
    boxes = mp4_top_level_boxes(Path(clip.path))
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_event_of_a_broken_stream_finishes_once_its_post_roll_has_passed(tmp_path: Path, h264_minute: Path) -> None:
    source = VideoSource(str(h264_minute))
    info = source.open()
    recorder = ClipRecorder("front", RECORD, MediaFolder(tmp_path / "media"), info, source.stream)
    try:
        for packet, _ in source.packets():
            if packet.time >= 22.0:
                break  # the camera dies 22 s in
            recorder.add(packet)
            if packet.time == pytest.approx(20.0):
                recorder.start("event1", 20.0)
    finally:
        source.close()
    recorder.stop("event1", 21.0)  # lost from sight at 21 s: the post-roll lasts until 26 s
    recorder.finish_overdue(30.0)
    assert recorder.take_finished() == []  # video is still flowing, as far as the recorder knows

    recorder.interrupt()
    recorder.finish_overdue(25.0)
    assert recorder.take_finished() == []
    recorder.finish_overdue(26.0)
    [finished] = recorder.take_finished()
    assert finished.error is None
    [clip] = finished.clips
    assert clip.start == pytest.approx(15.0)
    assert clip.end == pytest.approx(22.0)  # everything that arrived before the stream broke
    assert decoded_indices(Path(clip.path)) == list(range(15 * FPS, 22 * FPS))
