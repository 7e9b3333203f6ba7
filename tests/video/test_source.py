"""VideoSource: what it reports for real files and streams, and the one-line SourceError for everything else."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from homewarden.video.source import SourceError, VideoSource, describe_url, is_live
from video.synthetic import HEIGHT, WIDTH, MjpegCamera, frame_image, read_index, write_video

SECONDS = 6
FPS = 10


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder holding the same six seconds as H.264 MP4, H.264 Matroska, raw H.264, GIF and MJPEG AVI."""
    folder = tmp_path_factory.mktemp("media")
    write_video(folder / "clip.mp4", seconds=SECONDS)
    write_video(folder / "clip.mkv", seconds=SECONDS, container_format="matroska")
    write_video(folder / "clip.h264", seconds=SECONDS, container_format="h264")
    write_video(folder / "clip.gif", seconds=SECONDS, codec="gif")
    write_video(folder / "clip.avi", seconds=SECONDS, codec="mjpeg")
    return folder


def read_into(source: VideoSource, frames: list[tuple[int, float]]) -> None:
    """Demux and decode a source the way the camera reader does, appending (frame number, time) pairs."""
    for _packet, raw in source.packets():
        frames.extend((read_index(frame), source.frame_time(frame)) for frame in source.decode(raw))
    frames.extend((read_index(frame), source.frame_time(frame)) for frame in source.flush())


def read_all(source: VideoSource) -> list[tuple[int, float]]:
    """Demux and decode a whole file; return (frame number, time) pairs."""
    frames: list[tuple[int, float]] = []
    read_into(source, frames)
    return frames


@pytest.mark.parametrize(
    ("name", "codec", "remuxable"),
    [
        ("clip.mp4", "h264", True),
        ("clip.mkv", "h264", True),
        # No timestamps to copy: its clips are encoded; its rate is the stream's own, not the demuxer's 25 fps.
        ("clip.h264", "h264", False),
        ("clip.gif", "gif", False),
        ("clip.avi", "mjpeg", False),
    ],
)
def test_open_describes_the_video_stream(media: Path, name: str, codec: str, remuxable: bool) -> None:
    source = VideoSource(str(media / name))
    try:
        info = source.open()
        assert (info.codec, info.width, info.height) == (codec, WIDTH, HEIGHT)
        assert info.fps == pytest.approx(FPS)
        assert info.remuxable is remuxable
        assert info.live is False
        # A raw stream does not say how long it is (analyze then shows a count of seconds, not a bar).
        assert source.duration == pytest.approx(0 if name == "clip.h264" else SECONDS, abs=0.15)
    finally:
        source.close()


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_video_stored_sideways_is_read_upright(tmp_path: Path, turn: int) -> None:
    """A phone held upright stores its pictures sideways with a display matrix; players turn them, and so do we."""
    video = write_video(tmp_path / "phone.mp4", seconds=2, turn=turn)
    source = VideoSource(str(video))
    try:
        info = source.open()
        frames = read_all(source)
    finally:
        source.close()
    assert (info.width, info.height, info.turn) == (WIDTH, HEIGHT, turn)
    # Copied packets would keep the pictures sideways for every later reader: its clips are encoded upright.
    assert info.remuxable is False
    # The barcode along the top of each picture reads right only when the picture is upright.
    assert [index for index, _ in frames] == list(range(2 * FPS))
    assert [at for _, at in frames] == pytest.approx([index / FPS for index in range(2 * FPS)], abs=0.01)


def test_a_video_of_wide_pixels_is_read_with_square_ones(tmp_path: Path) -> None:
    """A recorder's 320x240 shown as 16:9 (pixels 4:3) is analysed as players show it, people not squeezed thin."""
    video = write_video(tmp_path / "dvr.mp4", seconds=2, sample_aspect_ratio=Fraction(4, 3))
    source = VideoSource(str(video))
    try:
        info = source.open()
        sizes = []
        for _packet, raw in source.packets():
            sizes.extend((frame.width, frame.height, source.frame_time(frame)) for frame in source.decode(raw))
        sizes.extend((frame.width, frame.height, source.frame_time(frame)) for frame in source.flush())
    finally:
        source.close()
    assert (info.width, info.height) == (426, HEIGHT)
    assert info.remuxable is True  # copied packets keep the stream's pixel shape, which players apply
    assert [(width, height) for width, height, _ in sizes] == [(426, HEIGHT)] * (2 * FPS)
    assert [at for _, _, at in sizes] == pytest.approx([index / FPS for index in range(2 * FPS)], abs=0.01)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.mkv", "clip.h264", "clip.gif", "clip.avi"])
def test_every_frame_decodes_at_its_own_time(media: Path, name: str) -> None:
    source = VideoSource(str(media / name))
    source.open()
    try:
        frames = read_all(source)
    finally:
        source.close()
    assert [index for index, _ in frames] == list(range(SECONDS * FPS))
    for index, at in frames:
        assert at == pytest.approx(index / FPS, abs=0.011)


def missing(folder: Path) -> Path:
    return folder / "nothing-here.mp4"


def a_folder(folder: Path) -> Path:
    (folder / "videos.mp4").mkdir()
    return folder / "videos.mp4"


def text_renamed(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("shopping list: milk, eggs\n")
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "noise.mp4"
    path.write_bytes(os.urandom(200_000))
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.touch()
    return path


def a_photo(folder: Path) -> Path:
    path = folder / "porch.jpg"
    with av.open(str(path), "w", format="image2") as output:
        stream = output.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuvj420p"
        output.mux(
            stream.encode(av.VideoFrame.from_ndarray(frame_image(0), format="rgb24").reformat(format="yuvj420p"))
        )
        output.mux(stream.encode(None))
    return path


def a_png(folder: Path) -> Path:
    path = folder / "porch.png"
    with av.open(str(path), "w", format="image2") as output:
        stream = output.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "rgb24"
        output.mux(stream.encode(av.VideoFrame.from_ndarray(frame_image(0), format="rgb24")))
        output.mux(stream.encode(None))
    return path


def truncated_without_faststart(folder: Path) -> Path:
    # Without faststart the index (moov) is written last, so cutting the file in half loses it.
    full = write_video(folder / "full.mp4", seconds=SECONDS)
    path = folder / "cut.mp4"
    data = full.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (missing, "nothing-here.mp4: no such file"),
        (a_folder, "videos.mp4: is a folder, not a video file"),
        (text_renamed, "notes.mp4: not a video file, or its data is corrupt"),
        (random_bytes, "noise.mp4: not a video file, or its data is corrupt"),
        (empty_file, "empty.mp4: not a video file, or its data is corrupt"),
        (truncated_without_faststart, "cut.mp4: not a video file, or its data is corrupt"),
        (a_photo, "porch.jpg: is a still picture, not a video (give a video file, a camera stream or a device)"),
        (a_png, "porch.png: is a still picture, not a video (give a video file, a camera stream or a device)"),
    ],
)
def test_bad_file_gives_one_line_source_error(tmp_path: Path, make: Callable[[Path], Path], expected: str) -> None:
    source = VideoSource(str(make(tmp_path)))
    with pytest.raises(SourceError) as caught:
        source.open()
    message = str(caught.value)
    assert message.endswith(expected)
    assert "\n" not in message
    assert source.info is None
    source.close()  # closing a source that never opened is harmless


def test_truncated_faststart_mp4_decodes_the_frames_that_are_there(tmp_path: Path) -> None:
    # With faststart the index comes first and still lists every frame; the data for the second half is gone.
    full = write_video(tmp_path / "full.mp4", seconds=60, faststart=True)
    cut = tmp_path / "cut.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])

    source = VideoSource(str(cut))
    info = source.open()
    try:
        assert info.codec == "h264"
        frames = read_all(source)
    finally:
        source.close()
    indices = [index for index, _ in frames]
    assert 150 < len(indices) < 450  # about half of the 600 frames
    assert indices == list(range(len(indices)))  # in order from the start, nothing garbled or repeated


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Return the port of a server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    yield server.getsockname()[1]
    server.close()


def test_rtsp_to_a_closed_port_fails_at_once() -> None:
    source = VideoSource("rtsp://admin:hunter2@127.0.0.1:1/stream")
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        source.open()
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert str(caught.value) == "rtsp://admin:***@127.0.0.1:1/stream: cannot connect (Connection refused)"


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_a_server_that_never_answers_times_out(silent_server: int, scheme: str) -> None:
    source = VideoSource(f"{scheme}://admin:hunter2@127.0.0.1:{silent_server}/stream", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        source.open()
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0
    assert str(caught.value) == (
        f"{scheme}://admin:***@127.0.0.1:{silent_server}/stream: cannot connect (no answer within 1 s)"
    )


def test_http_mjpeg_camera_is_live_and_decodes() -> None:
    with MjpegCamera(frames_per_connection=15) as camera:
        source = VideoSource(camera.url, timeout=5)
        before = time.time()
        info = source.open()
        frames: list[tuple[int, float]] = []
        try:
            assert (info.codec, info.width, info.height, info.live) == ("mjpeg", WIDTH, HEIGHT, True)
            assert info.remuxable is False
            # The camera hangs up after its 15 frames: the end of a live stream is an interruption.
            with pytest.raises(SourceError, match=r"video\.mjpg: stream interrupted"):
                read_into(source, frames)
        finally:
            source.close()
    assert [index for index, _ in frames] == list(range(15))
    times = [at for _, at in frames]
    assert times == sorted(times)
    assert before - 1 < times[0] < times[-1] <= time.time()  # live times are Unix seconds, never in the future
    # MJPEG over HTTP has no timestamps (FFmpeg assumes 25 fps): the 15 frames sent at 10 fps span 1.4 s.
    assert times[-1] - times[0] == pytest.approx(1.4, abs=0.3)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:secret@192.168.1.20:554/Streaming/101", "rtsp://admin:***@192.168.1.20:554/Streaming/101"),
        ("rtsp://admin:p@ss@cam.local/live", "rtsp://admin:***@cam.local/live"),
        ("http://viewer:x:y@cam.local", "http://viewer:***@cam.local"),
        ("rtsp://cam.local/live?token=a@b", "rtsp://cam.local/live?token=***"),
        (
            "http://cam.local/snap.cgi?user=admin&pwd=hunter2&res=1",
            "http://cam.local/snap.cgi?user=admin&pwd=***&res=1",
        ),
        ("http://cam.local/video.mjpg", "http://cam.local/video.mjpg"),
        ("/videos/front door.mp4", "/videos/front door.mp4"),
    ],
)
def test_describe_url_hides_passwords(url: str, shown: str) -> None:
    assert describe_url(url) == shown


@pytest.mark.parametrize(
    ("url", "live"),
    [
        ("rtsp://cam/live", True),
        ("rtsps://cam/live", True),
        ("http://cam/video.mjpg", True),
        ("/dev/video0", True),
        ("/videos/rtsp.mp4", False),
        ("clip.mp4", False),
    ],
)
def test_is_live(url: str, live: bool) -> None:
    assert is_live(url) is live


def test_live_frames_keep_their_packets_time_when_the_first_seconds_arrive_in_a_burst(
    media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The network's arrival times are the boundary here: a fake clock says when each packet "arrived" (the first
    # two seconds at once, as after FFmpeg's stream probe, then one frame per tenth of a second), a real file
    # supplies the packets. Events are timed by frames and clips by packets: both must agree.
    source = VideoSource(str(media / "clip.mp4"), wall_clock=True)
    source.open()
    source.live = True  # re-anchor the clock on arrivals, as for an RTSP stream
    arrivals = iter([1000.0] * 20 + [1000.0 + 0.1 * n for n in range(1, 100)])
    clock = {"now": 1000.0}

    def fake_time() -> float:
        return clock["now"]

    monkeypatch.setattr("homewarden.video.source.time.time", fake_time)
    packet_times: dict[int, float] = {}
    frame_times: list[tuple[int, float]] = []
    try:
        for packet, raw in source.packets():
            clock["now"] = next(arrivals)
            packet_times[packet.pts] = packet.time
            frame_times.extend((frame.pts, source.frame_time(frame)) for frame in source.decode(raw))
        frame_times.extend((frame.pts, source.frame_time(frame)) for frame in source.flush())
    finally:
        source.close()
    assert len(frame_times) == SECONDS * FPS
    times = [at for _pts, at in frame_times]
    assert times == sorted(times)  # never back
    # Packets timed after the burst ended are timed by their arrival; their frames carry exactly the same time.
    after_burst = [(pts, at) for pts, at in frame_times if packet_times[pts] > 1000.0]
    assert len(after_burst) >= SECONDS * FPS - 25
    for pts, at in after_burst:
        assert at == pytest.approx(packet_times[pts], abs=1e-6)
