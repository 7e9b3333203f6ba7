"""Trace, frame by frame, why the analyser does or does not make an event of a person in a stretch of a clip.

    python bench/visit_trace.py CLIP --start 0 --end 18.5 [--low 0.15]

Runs the analyser of `homewarden analyze` (defaults, the shipped NanoDet) on the clip and prints, for each analysed
frame in [start, end]: the motion boxes, the crops the detector was given (`full` for full-resolution ones), every
detection the detector returned down to --low (so labels and scores just under the thresholds show), which of them
the analyser kept and why the others were dropped (score, min_area, label), and each object the lifecycle follows
(label votes, hits, median score, confirmed, shows life). Not a test: a tool to read a missed visit.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from homewarden.camera.analyzer import FrameAnalyzer, seen_scale
from homewarden.camera.reader import FramePacer, Sample
from homewarden.camera.runner import detect_size_for
from homewarden.config import HomewardenConfig, load_config, single_source_config
from homewarden.detect import create_detector
from homewarden.detect.base import Detection, Image, ObjectDetector
from homewarden.video.source import VideoSource


class RecordingDetector(ObjectDetector):
    """Pass calls to the real detector at a lower score, record everything, return what the caller asked for."""

    def __init__(self, inner: ObjectDetector, low: float) -> None:
        self.inner = inner
        self.low = low
        self.labels = inner.labels
        self.input_size = inner.input_size
        self.seen: list[tuple[tuple[int, int], list[Detection]]] = []

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Return the inner detector's detections scoring at least min_score; record all down to the low score."""
        found = self.inner.detect(image, min(self.low, min_score))
        self.seen.append(((image.shape[1], image.shape[0]), found))
        return [d for d in found if d.score >= min_score]


def short(box: Any) -> str:
    """Format a box as integers."""
    return ",".join(str(round(v)) for v in box)


def main() -> None:
    """Trace the analyser over a stretch of a clip."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path)
    parser.add_argument("--start", type=float, default=0.0)
    parser.add_argument("--end", type=float, default=1e9)
    parser.add_argument("--low", type=float, default=0.15)
    parser.add_argument("--config", type=Path, help="a homewarden.yaml to use instead of the defaults")
    parser.add_argument("--labels", nargs="+", default=["person", "cat", "dog", "bird", "cow", "horse", "sheep"])
    args = parser.parse_args()
    base = load_config(args.config) if args.config else HomewardenConfig()
    config, name = single_source_config(str(args.clip.resolve()), base)
    camera = config.cameras[name]
    source = VideoSource(str(args.clip.resolve()))
    info = source.open()
    size = detect_size_for(config, name, info)
    detector = RecordingDetector(create_detector(config.detector), args.low)
    analyzer = FrameAnalyzer(camera, config.objects_for(name), detector, size)
    objects = analyzer.objects
    pacer = FramePacer(camera.detect.fps)
    motion_boxes: list[Any] = []
    detect_motion = analyzer.motion.detect

    def recorded_motion(grey: Image, night: bool = False) -> Any:
        motion_boxes[:] = detect_motion(grey, night)
        return motion_boxes

    analyzer.motion.detect = recorded_motion  # type: ignore[method-assign]
    crops_seen: list[Any] = []
    detect_crops = analyzer._detect

    def recorded_crops(now: float, sample: Sample, crops: list[Any]) -> list[Detection]:
        crops_seen.extend(crops)
        return detect_crops(now, sample, crops)

    analyzer._detect = recorded_crops  # type: ignore[method-assign]
    print(f"detect size {size}, source {info.width}x{info.height}")

    def frames() -> Any:
        for _, raw in source.packets():
            yield from source.decode(raw)
        yield from source.flush()

    for frame in frames():
        at = source.frame_time(frame)
        if not pacer.due(at):
            continue
        if at > args.end:
            break
        sample = Sample(at, frame, size)
        before = len(detector.seen)
        crops_seen.clear()
        changes = analyzer.analyze(sample)
        if at < args.start:
            continue
        calls = detector.seen[before:]
        motion = analyzer.motion
        moving = [short(b) for b in motion_boxes]
        print(f"t={at:6.2f} noise={motion.noise_level or 0:.1f} calls={len(calls)} motion {moving}")
        for crop, (crop_size, found) in zip(crops_seen, calls, strict=True):
            print(f"   crop {short(crop.box)}{' full' if crop.full else ''} ({crop_size[0]}x{crop_size[1]}):")
            for d in sorted(found, key=lambda d: -d.score):
                if d.label not in args.labels:
                    continue
                rule = objects.filter_for(d.label)
                why = []
                if d.label not in analyzer.labels:
                    why.append("label not tracked")
                if d.score < rule.min_score:
                    why.append(f"score<{rule.min_score}")
                back = info.width / size[0] if crop.full else 1.0
                seen = seen_scale(crop_size[0], crop_size[1], detector.input_size)
                if max(d.area * seen**2, d.area / back**2) < rule.min_area:
                    why.append(f"area<{rule.min_area} as seen")
                w, h = d.box[2] - d.box[0], d.box[3] - d.box[1]
                x, y = crop.box[0] + d.box[0], crop.box[1] + d.box[1]
                verdict = "; ".join(why) or "kept"
                # An animal's vote is what it beats `person` by on the same box (events/lifecycle.py label_vote).
                versus = f" person={d.person_score:.2f}" if d.label != "person" else ""
                print(f"      {d.label:<10} {d.score:.2f}{versus} {w:3.0f}x{h:<3.0f} at {x:.0f},{y:.0f} {verdict}")
        for obj in analyzer.lifecycle.active.values():
            if obj.label not in args.labels:
                continue
            votes = " ".join(f"{k}:{v:.2f}" for k, v in sorted(obj.label_votes.items(), key=lambda i: -i[1]))
            print(
                f"   obj {obj.id[:6]} {obj.label} hits={obj.hits} med={obj.median_score:.2f} conf={obj.confirmed} "
                f"alive={obj.alive} travelled={obj.travelled} start={obj.at_start} parked={obj.parked} "
                f"box={short(obj.box)} votes {votes}"
            )
        for change in changes:
            print(f"   {type(change).__name__} {change.obj.label} {change.obj.id[:6]}")


if __name__ == "__main__":
    main()
