"""Count motion on real clips by day and made into a noisy night picture: what the motion stage reports, nothing else.

    python bench/motion_noise.py [--seconds 40] [CLIP ...]

Each clip (default: every video in ../shared/datasets/real and the one-by-one and car clips of ../shared/datasets/video)
is decoded with PyAV at about 5 frames a second, at its own size, and fed to `BackgroundMotionDetector` with the
default settings, once as it is and once made grey, a third as bright and given Gaussian noise (sigma 6), as an
infrared camera at night delivers it (the shared footage has no real night clip). Prints frames with motion, motion
boxes and the measured noise level. Not a test: record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
import numpy as np

from homewarden.config.model import MotionConfig
from homewarden.motion.background import BackgroundMotionDetector

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
ANALYSED_FPS = 5


def night(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a grey frame dark and noisy, as an infrared camera at night gives it."""
    noisy = grey.astype(np.float32) / 3 + 10 + rng.normal(0, 6, grey.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def count(clip: Path, seconds: float, is_night: bool) -> tuple[int, int, int, float | None]:
    """Return analysed frames, frames with motion, motion boxes and the final noise level of one pass over a clip."""
    rng = np.random.default_rng(7)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        step = max(1, round(fps / ANALYSED_FPS))
        width, height = stream.codec_context.width, stream.codec_context.height
        size = (width - width % 2, height - height % 2)
        detector = BackgroundMotionDetector(MotionConfig(), size)
        frames = moving = boxes = 0
        for index, frame in enumerate(container.decode(video=0)):
            if index > fps * seconds:
                break
            if index % step:
                continue
            grey = frame.to_ndarray(format="gray")[: size[1], : size[0]]
            found = detector.detect(night(grey, rng) if is_night else grey)
            frames += 1
            moving += bool(found)
            boxes += len(found)
    return frames, moving, boxes, getattr(detector, "noise_level", None)


def main() -> None:
    """Print motion per clip, by day and at night."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    real = sorted(p for p in (SHARED / "real").iterdir() if p.suffix in (".mp4", ".mkv"))
    videos = [SHARED / "video" / "one-by-one-person-detection.mp4", SHARED / "video" / "car-detection.mp4"]
    clips = args.clips or [*real, *videos]
    print("clip                                    day: frames moving boxes noise   night: frames moving boxes noise")
    for clip in clips:
        row = f"{clip.name[:38]:<38}"
        for is_night in (False, True):
            frames, moving, boxes, noise = count(clip, args.seconds, is_night)
            level = "-" if noise is None else f"{noise:.2f}"
            row += f"  {frames:>5} {moving:>5} {boxes:>5} {level:>5}   "
        print(row.rstrip(), flush=True)


if __name__ == "__main__":
    main()
