"""Benchmark face recognition: faces per second on the shared photos, and what it adds to each person event.

Faces per second: dlib's HOG detector and 128-d embedding on every shared photo (enrolment and probes), and on
head regions cut from person tracks. Added cost: `analyze` of the same footage with faces on and off, divided by
the person events. Not a test: timings on a shared machine are noisy, so run it a few times and record the numbers
in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from homewarden.camera.runner import CameraRunner
from homewarden.config import HomewardenConfig, single_source_config
from homewarden.detect import create_detector
from homewarden.events.record import EventRecord
from homewarden.faces.finder import FaceFinder
from homewarden.faces.gallery import photos_in, read_photo
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"


class Timer:
    """Wrap a function and time each call."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.seconds: list[float] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function and record how long it took."""
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)


def photos_per_second(finder: FaceFinder) -> None:
    """Time detection and embedding on every shared photo."""
    photos = [p for folder in sorted((DATASETS / "faces" / "enroll").iterdir()) for p in photos_in(folder)]
    photos += photos_in(DATASETS / "faces" / "probe")
    images = [read_photo(photo) for photo in photos]
    detect = Timer(finder.models.detect)
    embed = Timer(finder.models.embed)
    finder.models.detect, finder.models.embed = detect, embed  # type: ignore[method-assign]
    started = time.perf_counter()
    faces = sum(len(finder.in_photo(image)) for image in images)
    wall = time.perf_counter() - started
    finder.models.detect, finder.models.embed = detect.function, embed.function  # type: ignore[method-assign]
    print(f"photos: {len(images)} photos (long side 1024 after shrinking), {faces} faces in {wall:.2f} s")
    print(f"  {faces / wall:.1f} faces/s; HOG {1000 * statistics.median(detect.seconds):.0f} ms per photo (median)")
    print(f"  embedding {1000 * statistics.median(embed.seconds):.0f} ms per face (median)")


def analyse(video: Path, faces: bool, household: Path | None) -> tuple[float, list[EventRecord], Timer]:
    """Analyse a video in-process (detector loaded); return wall seconds, events and the head-region timer."""
    base = HomewardenConfig()
    base = base.model_copy(
        update={"faces": base.faces.model_copy(update={"enabled": faces, "gallery_folder": household})}
    )
    config, camera = single_source_config(str(video), base)
    events: list[EventRecord] = []
    timer = Timer(FaceFinder.in_head_region)
    FaceFinder.in_head_region = lambda self, crop, origin: timer(self, crop, origin)  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as work:
            source = VideoSource(str(video))
            source.open()
            runner = CameraRunner(camera, config, DETECTOR, MediaFolder(Path(work)), events.append)
            started = time.perf_counter()
            runner.run_file(source)
            wall = time.perf_counter() - started
    finally:
        FaceFinder.in_head_region = timer.function  # type: ignore[method-assign]
    return wall, events, timer


def added_cost(videos: dict[str, Path], household: Path, repeats: int) -> None:
    """Compare analysis with faces on and off."""
    for name, video in videos.items():
        off = [analyse(video, False, None)[0] for _ in range(repeats)]
        runs = [analyse(video, True, household) for _ in range(repeats)]
        on = [run[0] for run in runs]
        _, events, timer = runs[-1]
        people = [event for event in events if event.label == "person"]
        extra = statistics.median(on) - statistics.median(off)
        print(
            f"{name}: faces off {statistics.median(off):.2f} s, on {statistics.median(on):.2f} s; "
            f"{len(people)} person event(s), {len(timer.seconds)} head-region lookup(s) "
            f"({1000 * statistics.median(timer.seconds or [0.0]):.0f} ms median); "
            f"added {extra:+.2f} s in all, {extra / max(len(people), 1):+.2f} s per person event; "
            f"sub_labels {[event.sub_label for event in people]}"
        )


DETECTOR: Any = None


def main() -> int:
    """Run the benchmark."""
    global DETECTOR
    # The pipeline logs every alarm it raises; the benchmark prints only its numbers.
    logging.getLogger("homewarden").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DATASETS.is_dir():
        print(f"the shared datasets folder {DATASETS} is absent", file=sys.stderr)
        return 2
    finder = FaceFinder()
    photos_per_second(finder)
    DETECTOR = create_detector(HomewardenConfig().detector)
    videos = {
        "one-by-one (6 visits, faces turned away)": DATASETS / "video" / "one-by-one-person-detection.mp4",
        "face-demographics GIF (2 walkers, 15-25 px faces)": DATASETS / "video" / "face-demographics-walking.gif",
        "head-pose GIF (2 close-up faces)": DATASETS / "video" / "head-pose-face-detection-female-and-male.gif",
    }
    added_cost(videos, DATASETS / "faces" / "enroll", args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
