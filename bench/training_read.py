"""Time what a newly labelled copy costs the cloud's worker: reading its training items, against decoding it alone.

    PYTHONPATH=src python bench/training_read.py [--clips 5] [--seconds 25]

Cuts --clips clips of --seconds from the shared one-by-one footage, re-encoded in memory as a hub donates them
(H.264), then for each: decoding alone with PyAV, and `cloud.training.clips.read_clip` with the shipped NanoDet (the
frames sampled, NanoDet on tiles, the verifier's features). Prints per clip and in total, the ratio to decoding, and
what 1 000 such clips cost one worker. A worker reads a copy when its label arrives (tasks.READ_LABELS), so a run
only trains; this is the work that is spread over the workers as reviewers label. Not a test: timings are noisy.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import av

from homewarden.cloud.training.clips import read_clip
from homewarden.config.model import NanoDetConfig
from homewarden.detect.nanodet import NanoDetDetector

ONE_BY_ONE = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "video" / "one-by-one-person-detection.mp4"
)


def clip_of(start: float, seconds: float) -> bytes:
    """Return an H.264 MP4 of the footage from ``start`` for ``seconds``, encoded in memory at 10 frames a second."""
    out = io.BytesIO()
    with av.open(str(ONE_BY_ONE)) as source, av.open(out, mode="w", format="mp4") as sink:
        stream = sink.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 768, 432, "yuv420p"
        stream.options = {"preset": "veryfast"}
        written = 0
        for frame in source.decode(video=0):
            at = float(frame.time or 0.0)
            if at < start:
                continue
            if at >= start + seconds:
                break
            picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")
            picture.pts = written
            written += 1
            for packet in stream.encode(picture):
                sink.mux(packet)
        for packet in stream.encode():
            sink.mux(packet)
    return out.getvalue()


def decode_alone(mp4: bytes) -> float:
    """Return the seconds PyAV takes to decode every frame of an MP4 in memory."""
    started = time.perf_counter()
    with av.open(io.BytesIO(mp4)) as container:
        for _ in container.decode(video=0):
            pass
    return time.perf_counter() - started


def main() -> None:
    """Cut the clips, time decoding and reading, print the table and the 1 000-clip estimate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=25.0)
    args = parser.parse_args()
    if not ONE_BY_ONE.exists():
        raise SystemExit(f"{ONE_BY_ONE} is missing: the bench reads the shared footage")
    detector = NanoDetDetector(NanoDetConfig(threads=1))  # one thread, as a worker process runs it
    span = 139.0 - args.seconds
    starts = [span * index / max(1, args.clips - 1) for index in range(args.clips)]
    total_decode = total_read = 0.0
    print(
        f"clip start  decode alone  read_clip  ratio  frames read  person detections  (load {os.getloadavg()[0]:.1f})"
    )
    for start in starts:
        mp4 = clip_of(start, args.seconds)
        decoding = decode_alone(mp4)
        started = time.perf_counter()
        reading = read_clip(mp4, detector)
        read = time.perf_counter() - started
        total_decode += decoding
        total_read += read
        print(
            f"{start:9.1f} s  {decoding:10.2f} s  {read:7.2f} s  {read / decoding:5.1f}x  {reading.frames:11d}"
            f"  {len(reading.detections):17d}"
        )
    per_clip = total_read / len(starts)
    print(
        f"total: {len(starts)} clips of {args.seconds:g} s, read {total_read:.1f} s, decode alone {total_decode:.2f} s "
        f"({total_read / total_decode:.1f}x decoding); per clip {per_clip:.2f} s; 1 000 clips: "
        f"{per_clip * 1000 / 60:.0f} min of one worker (load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
