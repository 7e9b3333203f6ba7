"""Clips from the streams real cameras and phones send: their video codec kept, their sound kept in step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import pytest

from conftest import write_config
from homewarden.camera.reader import FramePacer, read_samples
from homewarden.config.model import RecordConfig
from homewarden.demo import scene_frames
from homewarden.store.media import MediaFolder
from homewarden.video.recorder import ClipRecorder, FinishedRecording
from homewarden.video.source import VideoSource
from video.camera_streams import barcode_frames, beep_onsets, clip_streams, expected_onsets, write_camera_file
from video.small_disk import fill, leftovers
from video.synthetic import decoded_indices

FPS = 10
RECORD = RecordConfig(pre_roll=3.0, post_roll=3.0, max_clip=30.0)
# The demo scene (a person's visit, then the cat's) with real photos, long enough for both.
SCENE_SECONDS = 20.0


def record_event(
    video: Path, media: MediaFolder, first_seen: float, last_seen: float, record: RecordConfig = RECORD
) -> FinishedRecording:
    """Read a file through the camera reader into a recorder, with one event from first_seen to last_seen."""
    source = VideoSource(str(video))
    info = source.open()
    recorder = ClipRecorder(
        "front", record, media, info, source.stream if info.remuxable else None, source.audio_stream
    )
    started = stopped = False
    try:
        for sample in read_samples(source, recorder, FramePacer(FPS), (info.width, info.height)):
            if not started and sample.time >= first_seen:
                recorder.start("event1", first_seen)
                started = True
            if started and not stopped and sample.time >= last_seen:
                recorder.stop("event1", last_seen)
                stopped = True
        recorder.finish_all()
    finally:
        source.close()
    [finished] = recorder.take_finished()
    return finished


# (file name, container, video codec, audio codec, timecode track) -> (clip video codec, clip audio codec or None)
LAYOUTS = {
    "phone H.265 + AAC + timecode in MOV": (("phone.mov", "mov", "libx265", "aac", True), ("hevc", "aac")),
    "H.264 + AAC in MPEG-TS": (("camera.ts", "mpegts", "libx264", "aac", False), ("h264", "aac")),
    "H.264 + PCMU in MOV": (("camera.mov", "mov", "libx264", "pcm_mulaw", False), ("h264", "aac")),
    "H.264 + PCMA in MOV": (("camera.mov", "mov", "libx264", "pcm_alaw", False), ("h264", "aac")),
    "H.264 + Opus in Matroska": (("camera.mkv", "matroska", "libx264", "libopus", False), ("h264", "aac")),
    "H.265 + AAC in Matroska": (("camera.mkv", "matroska", "libx265", "aac", False), ("hevc", "aac")),
    "H.264, no sound, in MP4": (("camera.mp4", "mp4", "libx264", None, False), ("h264", None)),
    # Codecs browsers and the clip container are not given as they are: the pictures are encoded with libx264.
    "VP9 + Opus in WebM": (("camera.webm", "webm", "libvpx-vp9", "libopus", False), ("h264", "aac")),
    "AV1, no sound, in MP4": (("camera.mp4", "mp4", "libsvtav1", None, False), ("h264", None)),
    # A raw elementary stream, as cameras and recorders dump it: no container, no timestamps.
    "raw H.264 (no container)": (("camera.h264", "h264", "libx264", None, False), ("h264", None)),
    "raw H.265 (no container)": (("camera.hevc", "hevc", "libx265", None, False), ("h264", None)),
    # FFmpeg's MPEG-TS muxer has no stream type for G.711 and its demuxer reads the track back as data: such a
    # file is a video with a data track, recorded without sound.
    "H.264 + PCMU in MPEG-TS (a data track)": (("camera.ts", "mpegts", "libx264", "pcm_mulaw", False), ("h264", None)),
}


def remuxed(video: Path) -> bool:
    """Tell whether the recorder copies this file's packets into clips (else it encodes the pictures)."""
    source = VideoSource(str(video))
    try:
        return source.open().remuxable
    finally:
        source.close()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_clip_keeps_the_video_codec_and_the_sound_in_step(tmp_path: Path, layout: str) -> None:
    (name, container_format, video_codec, audio_codec, timecode), (clip_video, clip_audio) = LAYOUTS[layout]
    video = write_camera_file(
        tmp_path / name,
        barcode_frames(20),
        container_format=container_format,
        video_codec=video_codec,
        audio_codec=audio_codec,
        timecode=timecode,
    )
    media = MediaFolder(tmp_path / "media")

    finished = record_event(video, media, first_seen=8.0, last_seen=10.0)

    assert finished.error is None
    [clip] = finished.clips
    path = Path(clip.path)
    found = clip_streams(path)
    assert found["video"] == clip_video
    if clip_video == "hevc":
        assert found["tag"] == "hvc1"  # the tag Safari and Apple devices require
    indices = decoded_indices(path)
    # From the keyframe at 8 s - 3 s pre-roll to 10 s + 3 s post-roll; copied packets lose the B-frames decoded
    # after the stop, encoded pictures end at the stop (the frame at it or the one before).
    assert indices == list(range(5 * FPS, indices[-1] + 1))
    if remuxed(video):
        assert 13 * FPS - 4 <= indices[-1] <= 13 * FPS - 1
    else:
        assert 13 * FPS - 1 <= indices[-1] <= 13 * FPS
    seconds = len(indices) / FPS
    assert clip.end - clip.start == pytest.approx(seconds)
    if clip_audio is None:
        assert found["streams"] == ["video"]
        return
    assert found["streams"] == ["video", "audio"]  # nothing else: data and timecode tracks are left behind
    assert found["audio"] == clip_audio
    assert found["audio_seconds"] == pytest.approx(seconds, abs=0.15)
    # The beeps are where the pictures say they are: the sound was cut at the same keyframe as the video.
    onsets = beep_onsets(path)
    assert onsets == pytest.approx(expected_onsets(path, seconds), abs=0.05)


def test_long_event_cut_into_clips_keeps_the_sound_in_each(tmp_path: Path) -> None:
    video = write_camera_file(
        tmp_path / "phone.mov", barcode_frames(40), container_format="mov", audio_codec="aac", timecode=True
    )
    record = RecordConfig(pre_roll=3.0, post_roll=3.0, max_clip=12.0)

    finished = record_event(video, MediaFolder(tmp_path / "media"), first_seen=5.0, last_seen=30.0, record=record)

    assert finished.error is None
    assert len(finished.clips) == 3
    for clip in finished.clips:
        path = Path(clip.path)
        found = clip_streams(path)
        assert found["audio"] == "aac"
        assert found["audio_seconds"] == pytest.approx(clip.end - clip.start, abs=0.15)
        assert beep_onsets(path) == pytest.approx(expected_onsets(path, clip.end - clip.start), abs=0.05)


def analyze(
    video: Path, folder: Path, out: Path, quiet: bool = True
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """Run `homewarden analyze --json --out` as a user would; return the process and the events it printed."""
    config = write_config(folder)
    command = [sys.executable, "-m", "homewarden", "analyze", str(video), "--json", *(["--quiet"] if quiet else [])]
    result = subprocess.run(
        [*command, "--config", str(config), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize(
    ("name", "container_format", "video_codec", "audio_codec", "timecode", "clip_video"),
    [
        ("phone.mov", "mov", "libx265", "aac", True, "hevc"),
        ("camera.mov", "mov", "libx264", "pcm_mulaw", False, "h264"),
    ],
)
def test_analyze_gives_events_with_playable_clips_that_keep_the_sound(
    tmp_path: Path,
    name: str,
    container_format: str,
    video_codec: str,
    audio_codec: str,
    timecode: bool,
    clip_video: str,
) -> None:
    video = write_camera_file(
        tmp_path / name,
        scene_frames(SCENE_SECONDS, FPS),
        container_format=container_format,
        video_codec=video_codec,
        audio_codec=audio_codec,
        timecode=timecode,
    )

    result, events = analyze(video, tmp_path, tmp_path / "out")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "person" in [event["label"] for event in events]
    for event in events:
        assert event["clip_error"] is None
        for clip in event["clips"]:
            found = clip_streams(Path(clip))
            assert (found["video"], found["audio"]) == (clip_video, "aac")
            assert found["audio_rms"] > 0.01
            assert found["audio_seconds"] == pytest.approx(found["frames"] / FPS, abs=0.2)


def test_analyze_reads_a_raw_h264_dump_at_its_own_rate_with_a_progress_count(tmp_path: Path) -> None:
    """A raw .h264 stream (no container, no timestamps, no length) gives the events its MP4 twin gives."""
    twin = write_camera_file(tmp_path / "camera.mp4", scene_frames(SCENE_SECONDS, FPS), container_format="mp4")
    raw = write_camera_file(tmp_path / "camera.h264", scene_frames(SCENE_SECONDS, FPS), container_format="h264")

    _, expected = analyze(twin, tmp_path / "twin", tmp_path / "twin" / "out")
    result, events = analyze(raw, tmp_path / "raw", tmp_path / "raw" / "out", quiet=False)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "camera: " in result.stderr  # the progress count that stands in for a bar without a known length
    assert [event["label"] for event in events] == [event["label"] for event in expected] == ["person", "cat"]
    for event, twin_event in zip(events, expected, strict=True):
        # Counted at the stream's own 10 fps, not the raw demuxer's assumed 25.
        assert event["start"] == pytest.approx(twin_event["start"], abs=0.05)
        assert event["end"] == pytest.approx(twin_event["end"], abs=0.05)
        for clip in event["clips"]:
            found = clip_streams(Path(clip))
            assert found["video"] == "h264"
            assert decoded_indices(Path(clip)) == sorted(decoded_indices(Path(clip)))  # shown in display order


def test_analyze_finds_the_people_of_a_phone_video_stored_sideways(tmp_path: Path) -> None:
    """A portrait phone video (pictures stored sideways, turned by a display matrix) gives its upright twin's events."""
    twin = write_camera_file(tmp_path / "upright.mp4", scene_frames(SCENE_SECONDS, FPS), container_format="mp4")
    phone = write_camera_file(
        tmp_path / "phone.mp4", scene_frames(SCENE_SECONDS, FPS), container_format="mp4", turn=270
    )

    height, width = next(scene_frames(1.0, FPS)).shape[:2]

    _, expected = analyze(twin, tmp_path / "twin", tmp_path / "twin" / "out")
    result, events = analyze(phone, tmp_path / "phone", tmp_path / "phone" / "out")

    assert result.returncode == 0, result.stderr
    assert [event["label"] for event in events] == [event["label"] for event in expected] == ["person", "cat"]
    for event, twin_event in zip(events, expected, strict=True):
        assert event["start"] == pytest.approx(twin_event["start"], abs=0.05)
        # The sideways copy was encoded from turned pixels, so its pictures differ a little: an event may end a few
        # looks apart.
        assert event["end"] == pytest.approx(twin_event["end"], abs=0.5)
        for clip in event["clips"]:
            with av.open(clip) as container:
                picture = next(container.decode(video=0))
            # Clips are upright pictures, not sideways ones with a matrix every later reader must know of.
            assert (picture.width, picture.height, picture.rotation) == (width, height, 0)


def test_analyze_onto_a_full_disk_reports_every_event_with_its_clip_error(tmp_path: Path, small_disk: Path) -> None:
    video = write_camera_file(
        tmp_path / "phone.mov",
        scene_frames(SCENE_SECONDS, FPS),
        container_format="mov",
        video_codec="libx265",
        audio_codec="aac",
        timecode=True,
    )
    fill(small_disk)

    result, events = analyze(video, tmp_path, small_disk / "out")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "person" in [event["label"] for event in events]
    for event in events:
        assert event["clips"] == []
        assert "No space left on device" in event["clip_error"]
    assert leftovers(small_disk) == []
