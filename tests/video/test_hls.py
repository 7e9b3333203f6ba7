"""An HLS stream over HTTP: PyAV writes a real playlist and segments, a local web server serves them."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest

from homewarden.video.source import VideoSource
from video.synthetic import read_index, write_video


@pytest.fixture
def hls_url(tmp_path: Path) -> Iterator[str]:
    """Cut a 6 s H.264 video into 2 s HLS segments and serve the folder on 127.0.0.1."""
    source = write_video(tmp_path / "source.mp4", seconds=6.0)
    folder = tmp_path / "hls"
    folder.mkdir()
    with (
        av.open(str(source)) as incoming,
        av.open(
            str(folder / "index.m3u8"), "w", format="hls", options={"hls_time": "2", "hls_playlist_type": "vod"}
        ) as outgoing,
    ):
        stream_in = incoming.streams.video[0]
        stream_out = outgoing.add_stream_from_template(stream_in)
        for packet in incoming.demux(stream_in):
            if packet.dts is None:
                continue
            packet.stream = stream_out
            outgoing.mux(packet)
    assert len(list(folder.glob("*.ts"))) >= 3

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.m3u8"
    finally:
        server.shutdown()
        server.server_close()


def test_an_hls_stream_is_read_to_its_end_as_h264_with_live_times(hls_url: str) -> None:
    source = VideoSource(hls_url)
    info = source.open()
    try:
        assert info.codec == "h264"
        assert info.remuxable
        assert info.live  # an http(s) URL is a camera: its times are Unix seconds
        frames = [frame for _, raw in source.packets() for frame in source.decode(raw)] + source.flush()
    finally:
        source.close()
    # Every frame of the 6 s video arrives, in order, through the playlist's segments.
    assert [read_index(frame) for frame in frames] == list(range(60))
