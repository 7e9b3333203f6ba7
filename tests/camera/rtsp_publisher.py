"""Publish part of a video file to an RTSP listener in real time, like a camera pushing its stream.

Run as its own process: ``python rtsp_publisher.py URL FILE START SECONDS``. It must not share a process with
the listener, because PyAV writes the RTSP header (the ANNOUNCE round trip) while holding the GIL, and a listener
opened with a timeout needs the GIL for its interrupt callback: in one process the two deadlock.
"""

from __future__ import annotations

import sys
import time

import av
import av.error

CONNECT_SECONDS = 20.0


def publish(url: str, video: str, start: float, seconds: float) -> None:
    """Copy the packets of ``video`` (and its sound, if any) from the keyframe at or before ``start`` for ``seconds``,
    paced."""
    with av.open(video) as source:
        stream = source.streams.video[0]
        sound = source.streams.audio[0] if source.streams.audio else None
        source.seek(round(start / stream.time_base), stream=stream, backward=True, any_frame=False)
        deadline = time.monotonic() + CONNECT_SECONDS
        while True:
            output = av.open(url, mode="w", format="rtsp", options={"rtsp_transport": "tcp"})
            target = output.add_stream_from_template(stream)
            targets = {stream: target}
            if sound is not None:
                targets[sound] = output.add_stream_from_template(sound)
            try:
                output.start_encoding()  # connects and announces the stream
                break
            except av.error.FFmpegError:
                output.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # the listener is not up yet
        first: float | None = None
        began = time.monotonic()
        with output:
            for packet in source.demux(list(targets)):
                if packet.dts is None or packet.pts is None:
                    continue
                at = float(packet.pts * packet.stream.time_base)
                if packet.stream is not stream and (first is None or at < first):
                    continue  # sound from before the first picture sent
                first = at if first is None else first
                if at - first >= seconds:
                    break
                time.sleep(max(0.0, began + (at - first) - time.monotonic()))
                packet.stream = targets[packet.stream]
                output.mux(packet)


if __name__ == "__main__":
    publish(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
