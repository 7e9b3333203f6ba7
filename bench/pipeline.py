"""Benchmark `homewarden analyze` on the shared one-by-one footage against decoding the same file alone.

Prints wall times, their ratio, the real-time factor, detector calls per video second and milliseconds per call,
for the busy footage and for an idle scene (the same empty room with nobody in it). Not a test: timings on a
shared machine are noisy, so run it a few times and record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from homewarden.camera.runner import CameraRunner
from homewarden.config import HomewardenConfig, single_source_config
from homewarden.detect import Detection, ObjectDetector, create_detector
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource

REPO = Path(__file__).resolve().parents[1]
ONE_BY_ONE = REPO.parent / "shared" / "datasets" / "video" / "one-by-one-person-detection.mp4"


class TimedDetector(ObjectDetector):
    """Wrap a detector and time each call."""

    def __init__(self, inner: ObjectDetector) -> None:
        self.inner = inner
        self.labels = inner.labels
        self.seconds: list[float] = []

    def detect(self, image: Any, min_score: float) -> list[Detection]:
        """Run the wrapped detector and record how long it took."""
        started = time.perf_counter()
        try:
            return self.inner.detect(image, min_score)
        finally:
            self.seconds.append(time.perf_counter() - started)


def decode_alone(path: Path) -> tuple[float, float]:
    """Return (wall seconds to decode every frame, video seconds)."""
    started = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = sum(1 for _ in container.decode(stream))
        seconds = float(container.duration or 0) / 1_000_000 or frames / float(stream.average_rate or 1)
    return time.perf_counter() - started, seconds


def analyse_in_process(
    path: Path, detector: TimedDetector, work: Path, faces: bool = True
) -> tuple[float, int, int, float]:
    """Return (wall seconds, events, detector calls, median ms per call) for one analysis, model loaded."""
    base = HomewardenConfig()
    config, camera = single_source_config(
        str(path), base.model_copy(update={"faces": base.faces.model_copy(update={"enabled": faces})})
    )
    events: list[Any] = []
    runner = CameraRunner(camera, config, detector, MediaFolder(work / "media"), events.append)
    detector.seconds.clear()
    started = time.perf_counter()
    source = VideoSource(str(path))
    source.open()
    runner.run_file(source)
    wall = time.perf_counter() - started
    per_call = statistics.median(detector.seconds) * 1000 if detector.seconds else 0.0
    return wall, len(events), runner.stats.detector_calls, per_call


def analyse_command(path: Path, work: Path) -> float:
    """Return the wall seconds of the whole `homewarden analyze` command, start-up included."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "homewarden",
            "analyze",
            str(path),
            "--json",
            "--quiet",
            "--out",
            str(work / "cli-media"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=work,
    )
    return time.perf_counter() - started


def make_idle_scene(path: Path, seconds: float) -> Path:
    """Encode the empty room (the footage's first 5 s, played back and forth) as a long idle video."""
    with av.open(str(ONE_BY_ONE)) as source:
        frames = [
            frame.to_ndarray(format="yuv420p") for _, frame in zip(range(50), source.decode(video=0), strict=False)
        ]
    loop = frames + frames[::-1]
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=10, options={"preset": "veryfast", "g": "10"})
        stream.width, stream.height, stream.pix_fmt = 768, 432, "yuv420p"
        for index in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(loop[index % len(loop)], format="yuv420p")
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


def report(name: str, path: Path, detector: TimedDetector, runs: int, work: Path, faces: bool = True) -> None:
    """Measure one video and print the numbers."""
    decode = min(decode_alone(path)[0] for _ in range(runs))
    video_seconds = decode_alone(path)[1]
    results = [analyse_in_process(path, detector, work / f"{name}-{run}", faces) for run in range(runs)]
    best = min(results, key=lambda result: result[0])
    wall, events, calls, per_call = best
    print(f"== {name}: {path.name} ({video_seconds:.1f} s of video), best of {runs}")
    print(f"  events                  {events}")
    print(f"  decode alone            {decode:6.2f} s")
    print(f"  analyze (in process)    {wall:6.2f} s   = {wall / decode:5.1f} x decoding")
    print(f"  real-time factor        {video_seconds / wall:6.1f} x")
    print(
        f"  detector calls          {calls} = {calls / video_seconds:.2f} per video second, {per_call:.1f} ms per call"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("homewarden").setLevel(logging.ERROR)  # the alarms of the footage are not the report
    if not ONE_BY_ONE.is_file():
        sys.exit(f"missing {ONE_BY_ONE}: the shared datasets folder is needed")
    detector = TimedDetector(create_detector(HomewardenConfig().detector))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        report("busy", ONE_BY_ONE, detector, args.runs, work)
        report("busy, face recognition off", ONE_BY_ONE, detector, args.runs, work, faces=False)
        report("idle", make_idle_scene(work / "idle.mp4", 120.0), detector, args.runs, work)
        command = min(analyse_command(ONE_BY_ONE, work) for _ in range(args.runs))
        decode = min(decode_alone(ONE_BY_ONE)[0] for _ in range(args.runs))
        print(f"== whole command `homewarden analyze` on {ONE_BY_ONE.name}, start-up and model load included")
        print(
            f"  wall                    {command:6.2f} s   = {command / decode:5.1f} x decoding, "
            f"real-time factor {139.4 / command:.1f} x"
        )


if __name__ == "__main__":
    main()
