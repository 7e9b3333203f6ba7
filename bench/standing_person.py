"""Find the smallest person the start-up sweep finds: someone already standing far off when the camera starts.

    python bench/standing_person.py [--heights 120 80 50 40 30] [--seconds 20]

Real footage, made as bench/small_person.py makes it: one frame of the shared one-by-one clip (10 s in: its visitor
stands in the office) shrunk so the visitor stands H px tall, pasted into the first frame of the shared parking-lot
clip (1280x720), held still for --seconds, day and "night" (grey, dark, noisy), written as H.264 with PyAV. Nothing
moves, so only the sweep can find them. The analyser runs in this process (defaults, the shipped NanoDet, 5 frames a
second). Not a test: record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

from homewarden.camera.analyzer import FrameAnalyzer
from homewarden.camera.reader import FramePacer, Sample
from homewarden.config.model import CameraConfig, NanoDetConfig, ObjectsConfig
from homewarden.detect import create_detector
from homewarden.detect.base import ObjectDetector
from homewarden.events.lifecycle import EventStarted
from pipeline import ONE_BY_ONE
from small_person import BACKGROUND, PERSON_HEIGHT, Image, first_frame, night

STANDING_AT = 10.0
FPS = 10


def standing_visitor() -> Image:
    """Return the one-by-one clip's frame in which its first visitor stands."""
    with av.open(str(ONE_BY_ONE)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= STANDING_AT:
                image: Image = frame.to_ndarray(format="bgr24")
                return image
    raise SystemExit(f"{ONE_BY_ONE} is shorter than {STANDING_AT} s")


def make_clip(out: Path, room: Image, height: int, seconds: float, is_night: bool) -> None:
    """Write the still scene with the visitor at `height` px, bottom right, as H.264."""
    background = first_frame(BACKGROUND)
    scale = height / PERSON_HEIGHT
    small = cv2.resize(room, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    rng = np.random.default_rng(7)
    with av.open(str(out), "w") as target:
        stream = target.add_stream("libx264", rate=FPS)
        stream.width, stream.height = background.shape[1], background.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for _ in range(round(seconds * FPS)):
            picture = background.copy()
            picture[-h - 40 : -40, -w - 40 : -40] = small
            if is_night:
                picture = night(picture, rng)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                target.mux(packet)
        for packet in stream.encode():
            target.mux(packet)


def person_events(path: Path, detector: ObjectDetector) -> tuple[list[float], int]:
    """Analyse a clip; return when its person events started and the detector calls."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    size = (frames[0].width, frames[0].height)
    analyzer = FrameAnalyzer(CameraConfig(source="bench"), ObjectsConfig(), detector, size)
    pacer = FramePacer(5.0)
    started: list[float] = []
    for index, frame in enumerate(frames):
        if pacer.due(index / FPS):
            for change in analyzer.analyze(Sample(index / FPS, frame, size)):
                if isinstance(change, EventStarted) and change.obj.label == "person":
                    started.append(round(change.obj.first_seen, 1))
    return started, analyzer.stats.detector_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heights", type=int, nargs="+", default=[120, 80, 50, 40, 30])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    detector = create_detector(NanoDetConfig())
    room = standing_visitor()
    print(f"{'height':>6} {'picture':>7}  found  person events start (s)  detector calls")
    with tempfile.TemporaryDirectory(prefix="standing-person-") as folder:
        for height in args.heights:
            for is_night in (False, True):
                path = Path(folder) / f"standing-{height}-{is_night}.mp4"
                make_clip(path, room, height, args.seconds, is_night)
                started, calls = person_events(path, detector)
                picture = "night" if is_night else "day"
                print(f"{height:>6} {picture:>7}  {'yes' if started else 'no':>5}  {started!s:<24} {calls:>5}")


if __name__ == "__main__":
    main()
