"""Serve an MP4 file's H.264 like an IP camera: ``rtsp://127.0.0.1:PORT/live``, looped, shared by every client.

Run with Debian's Python, as its own process: ``/usr/bin/python3 rtsp_server.py PORT FILE`` (it needs python3-gi
and gir1.2-gst-rtsp-server-1.0: scripts/ensure-rtsp-server.sh installs them). It prints ``ready URL`` once it
listens, and serves until it is killed.

The server is GStreamer's RTSP server. Like a camera, the video runs whether anyone watches or not: one pipeline
plays the file in real time and loops it with segment seeks (``filesrc ! qtdemux ! appsink``, no re-encode), and
each RTSP session's pipeline (``appsrc ! rtph264pay``) receives its packets from the next keyframe on, stamped with
that pipeline's own clock. A client joins the stream where it is, as with a camera; the stream is live, so a
client's PLAY range cannot seek it back for the others.
"""

from __future__ import annotations

import os
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

SESSION_PIPELINE = "( appsrc name=camera is-live=true format=time ! rtph264pay name=pay0 pt=96 config-interval=-1 )"


class LoopingFile:
    """Play a file's H.264 packets in real time, again and again, handing each to the listening sessions."""

    def __init__(self, path: str) -> None:
        self.pipeline = Gst.parse_launch("filesrc name=file ! qtdemux ! video/x-h264 ! appsink name=out sync=true")
        self.pipeline.get_by_name("file").set_property("location", path)
        self.sink = self.pipeline.get_by_name("out")
        self.sink.set_property("emit-signals", True)
        self.sink.connect("new-sample", self._on_sample)
        self.caps: Gst.Caps | None = None
        self._sessions: dict[int, tuple[Gst.Element, list[bool]]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Preroll, then play from a segment seek so the end of the file is a segment-done message, not EOS."""
        self.pipeline.set_state(Gst.State.PAUSED)
        change, _, _ = self.pipeline.get_state(Gst.CLOCK_TIME_NONE)
        if change == Gst.StateChangeReturn.FAILURE:
            raise SystemExit("cannot read the file's H.264 video (is it an MP4 with an H.264 track?)")
        self.caps = self.sink.get_static_pad("sink").get_current_caps()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::segment-done", self._loop)
        bus.connect("message::error", self._fail)
        self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT, 0)
        self.pipeline.set_state(Gst.State.PLAYING)

    def add_session(self, media: GstRtspServer.RTSPMedia) -> None:
        """Feed a new session's pipeline from the next keyframe on, until the session's media is unprepared."""
        source = media.get_element().get_by_name("camera")
        source.set_property("caps", self.caps)
        key = id(media)
        with self._lock:
            self._sessions[key] = (source, [False])
        media.connect("unprepared", lambda _media: self._drop_session(key))

    def _drop_session(self, key: int) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def _loop(self, _bus: Gst.Bus, _message: Gst.Message) -> None:
        # A non-flushing segment seek: running time goes on, so the stream plays on without a gap or a jump back.
        self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.SEGMENT, 0)

    def _fail(self, _bus: Gst.Bus, message: Gst.Message) -> None:
        error, _ = message.parse_error()
        print(f"rtsp_server: {error.message}", file=sys.stderr, flush=True)
        os._exit(1)  # an exception raised in a GLib callback would only be printed

    def _on_sample(self, sink: Gst.Element) -> Gst.FlowReturn:
        buffer = sink.emit("pull-sample").get_buffer()
        keyframe = not buffer.has_flags(Gst.BufferFlags.DELTA_UNIT)
        # B-frames: each packet keeps its distance between presentation and decoding time.
        reorder = 0
        if buffer.pts != Gst.CLOCK_TIME_NONE and buffer.dts != Gst.CLOCK_TIME_NONE:
            reorder = buffer.pts - buffer.dts
        with self._lock:
            sessions = list(self._sessions.values())
        for source, started in sessions:
            clock = source.get_clock()
            if clock is None or not (started[0] or keyframe):
                continue  # the session is not running yet, or waits for a keyframe to start on
            started[0] = True
            now = clock.get_time() - source.get_base_time()
            packet = buffer.copy()
            packet.dts = now
            packet.pts = now + reorder
            source.emit("push-buffer", packet)
        return Gst.FlowReturn.OK


def serve(port: int, path: str) -> None:
    """Serve the file at rtsp://127.0.0.1:PORT/live until killed."""
    Gst.init(None)
    camera = LoopingFile(path)
    camera.start()
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(SESSION_PIPELINE)
    factory.set_shared(True)
    factory.connect("media-configure", lambda _factory, media: camera.add_session(media))
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.get_mount_points().add_factory("/live", factory)
    if server.attach(None) == 0:
        raise SystemExit(f"rtsp_server: cannot listen on 127.0.0.1:{port}")
    print(f"ready rtsp://127.0.0.1:{port}/live", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
