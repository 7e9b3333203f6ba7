"""Benchmark the review program's media steps on a 30 s 1280x720 clip made from real footage.

Builds the clip in a temporary folder (the shared `one-by-one-person-detection.mp4`, its first 30 s scaled to
1280x720 and re-encoded as H.264), then times decoding alone (the floor), redaction (faces; faces and people
masked), screening and the watermark, each as a ratio to decoding. Not a test: timings on a shared machine are
noisy, so run it a few times and record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from homewarden.config.model import NanoDetConfig
from homewarden.detect import create_detector
from homewarden.faces.dlib_models import load_face_models
from homewarden.privacy import redaction
from homewarden.privacy.redaction import redact_clip
from homewarden.privacy.screening import ScreeningPolicy, screen_clip
from homewarden.privacy.watermark import burn_watermark

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "datasets" / "video" / "one-by-one-person-detection.mp4"
SIZE = (1280, 720)


def build_clip(folder: Path, seconds: float) -> Path:
    """Write the first ``seconds`` of the shared footage scaled to 1280x720 as an H.264 MP4."""
    path = folder / "clip-720p.mp4"
    with av.open(str(SOURCE)) as source, av.open(str(path), mode="w") as output:
        stream = source.streams.video[0]
        rate = stream.average_rate or Fraction(10)
        video = output.add_stream("libx264", rate=rate, options={"preset": "fast", "crf": "20"})
        video.width, video.height = SIZE
        video.pix_fmt = "yuv420p"
        for index, frame in enumerate(source.decode(stream)):
            if index >= round(seconds * rate):
                break
            scaled = frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p", interpolation="BICUBIC")
            scaled.pts, scaled.time_base = index, 1 / Fraction(rate)
            output.mux(video.encode(scaled))
        output.mux(video.encode(None))
    return path


def decode_alone(data: bytes) -> int:
    """Decode every frame to BGR, as redaction does (the floor every step pays)."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for frame in container.decode(stream) if frame.to_ndarray(format="bgr24") is not None)


def best_of(runs: int, step: Callable[[], Any]) -> tuple[float, Any]:
    """Run a step ``runs`` times; return the best wall time and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    """Build the clip, time each step, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per step; the best is reported")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the clip")
    parser.add_argument("--presets", default="veryfast,ultrafast", help="libx264 presets to compare for redaction")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        clip = build_clip(Path(folder), args.seconds)
        data = clip.read_bytes()
    # Models load once per process in the hub; keep that out of the per-clip numbers.
    load_face_models()
    detector = create_detector(NanoDetConfig(threads=1))
    floor, frames = best_of(args.runs, lambda: decode_alone(data))
    print(f"clip: {args.seconds:.0f} s, {SIZE[0]}x{SIZE[1]}, {frames} frames, {len(data) / 1e6:.1f} MB")
    rows: list[tuple[str, float, str]] = [("decode alone (the floor)", floor, "")]
    for preset in args.presets.split(","):
        redaction.X264_PRESET = preset
        seconds, clip_out = best_of(args.runs, lambda: redact_clip(data, detector=detector))
        detail = f"{clip_out.faces_blurred} face/head boxes, {len(clip_out.mp4) / 1e6:.1f} MB"
        rows.append((f"redact, preset {preset}", seconds, detail))
        seconds, masked = best_of(args.runs, lambda: redact_clip(data, mask_people=True, detector=detector))
        rows.append((f"redact + mask people, preset {preset}", seconds, f"{masked.people_masked} person boxes"))
    redaction.X264_PRESET = "veryfast"
    redacted = redact_clip(data, detector=detector).mp4
    seconds, screened = best_of(args.runs, lambda: screen_clip(redacted, ScreeningPolicy()))
    rows.append(("screen (redacted copy)", seconds, f"{screened.frames_checked} frames, passed={screened.passed}"))
    seconds, marked = best_of(args.runs, lambda: burn_watermark(redacted, "reviewer rv-7f3a · 2026-11-22 18:04 UTC"))
    rows.append(("watermark (redacted copy)", seconds, f"{len(marked) / 1e6:.1f} MB"))
    print(f"{'step':<40} {'best of ' + str(args.runs):>10} {'x decode':>9}  detail")
    for name, seconds, detail in rows:
        print(f"{name:<40} {seconds:>9.2f}s {seconds / floor:>8.1f}x  {detail}")
    print(f"median ratio of redaction to the 10 s target: {statistics.median(r[1] for r in rows[1:3]) / 10:.2f}")


if __name__ == "__main__":
    main()
