"""Make a real clip into a night one, as an infrared camera would send it, for `homewarden analyze` to run on.

    python bench/night_scene.py CLIP OUT.mp4 [--seconds S]

Every frame goes through `bench/small_person.py`'s `night()`: grey, a third as bright and Gaussian sensor noise
(sigma 6), written as H.264 at the clip's own frame rate. The shared footage has no real night scene with nobody in
it; the parking lot made night (nothing moves but its one pedestrian, far off, and a car) is the empty night scene on
which docs/benchmarks.md counts the detector calls that night settings cost. Not a test.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from small_person import night


def make_night(clip: Path, out: Path, seconds: float | None) -> int:
    """Write `clip` made night to `out`; return the frames written."""
    rng = np.random.default_rng(7)
    written = 0
    with av.open(str(clip)) as source, av.open(str(out), "w") as target:
        video = source.streams.video[0]
        rate = video.average_rate or Fraction(25)
        stream = target.add_stream("libx264", rate=rate)
        stream.width, stream.height = video.width, video.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for frame in source.decode(video=0):
            if seconds is not None and frame.time is not None and frame.time > seconds:
                break
            picture = night(frame.to_ndarray(format="bgr24"), rng)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                target.mux(packet)
            written += 1
        for packet in stream.encode():
            target.mux(packet)
    return written


def main() -> None:
    """Write the night version of a clip."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()
    frames = make_night(args.clip, args.out, args.seconds)
    print(f"{args.out}: {frames} frames")


if __name__ == "__main__":
    main()
