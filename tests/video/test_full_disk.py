"""A disk that fills up while clips are written: a real full file system (a small tmpfs), not a fake one."""

from __future__ import annotations

from pathlib import Path

import pytest

from homewarden.camera.reader import FramePacer, read_samples
from homewarden.config.model import RecordConfig
from homewarden.store.media import MediaFolder
from homewarden.video.recorder import ClipRecorder
from homewarden.video.source import VideoSource
from video.camera_streams import barcode_frames, clip_streams, write_camera_file
from video.small_disk import fill, leftovers

FPS = 10


def test_full_disk_drops_the_clip_and_recording_resumes_when_space_returns(tmp_path: Path, small_disk: Path) -> None:
    video = write_camera_file(tmp_path / "camera.ts", barcode_frames(40), container_format="mpegts", audio_codec="aac")
    filler = fill(small_disk)
    source = VideoSource(str(video))
    info = source.open()
    recorder = ClipRecorder(
        "front",
        RecordConfig(pre_roll=2.0, post_roll=2.0, max_clip=30.0),
        MediaFolder(small_disk / "media"),
        info,
        source.stream,
        source.audio_stream,
    )
    # One event from 5 s to 20 s: the disk is full until 12 s. A second event from 30 s to 33 s.
    actions = [(5.0, "start", "event1"), (12.0, "free", ""), (20.0, "stop", "event1")]
    actions += [(30.0, "start", "event2"), (33.0, "stop", "event2")]
    try:
        for sample in read_samples(source, recorder, FramePacer(FPS), (info.width, info.height)):
            while actions and sample.time >= actions[0][0]:
                at, action, event_id = actions.pop(0)
                if action == "start":
                    recorder.start(event_id, at)
                elif action == "stop":
                    recorder.stop(event_id, at)
                else:
                    assert leftovers(small_disk) == []  # each failed clip removed its partial file at once
                    filler.unlink()
        recorder.finish_all()
    finally:
        source.close()

    first, second = recorder.take_finished()
    assert first.event_id == "event1"
    assert first.error is not None
    assert "No space left on device" in first.error
    # Recording went on at the first keyframe after the space came back, up to the post-roll.
    [clip] = first.clips
    assert 12.0 <= clip.start <= 14.0
    assert clip.end == pytest.approx(22.0, abs=0.2)
    found = clip_streams(Path(clip.path))
    assert (found["video"], found["audio"]) == ("h264", "aac")
    assert found["frames"] == pytest.approx((clip.end - clip.start) * FPS, abs=1)

    assert (second.event_id, second.error) == ("event2", None)
    [clip] = second.clips
    assert clip_streams(Path(clip.path))["frames"] == pytest.approx((clip.end - clip.start) * FPS, abs=1)
    assert leftovers(small_disk) == []
