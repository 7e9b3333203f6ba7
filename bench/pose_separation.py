"""Measure whether MoveNet multipose separates partial people from pets and scenery that NanoDet calls `person`.

    python bench/pose_separation.py --model movenet-multipose.onnx [--low 0.2] [--out rows.json]

The pose model is converted by `scripts/convert_tfjs_model.sh movenet-multipose OUT.onnx` (not shipped). For each case
below the analyser of `homewarden analyze` (defaults, the shipped NanoDet) runs on the clip; every `person` detection
NanoDet returns down to --low in a crop the analyser cut is scored by the pose model twice:

- `crop`: MoveNet on the analyser's crop (padded to a square), the best pose whose box centre lies in the detection's
  box (its instance score), and the best keypoint score inside the detection's box;
- `own`: MoveNet on a square cut around the detection's box (1.3 times its longer side, at least 96 px), as a second
  opinion on a weak person track would cut it.

Each detection is labelled by the clip's ground truth (bench/manifests/): on a person when its centre lies in a visit's
track box (enlarged as the scoring does) at that moment, else not. Partial-body cases are cut from the shared footage
here (a part of each frame, so visitors are half out of the picture). Prints one row per case and label, and how many
of each pass a pose threshold. Not a test: a measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from homewarden.camera.analyzer import FrameAnalyzer
from homewarden.camera.reader import FramePacer, Sample
from homewarden.camera.runner import detect_size_for
from homewarden.config import HomewardenConfig, single_source_config
from homewarden.detect import create_detector
from homewarden.detect.base import Detection, Image, ObjectDetector, onnx_session
from homewarden.video.source import VideoSource

sys.path.insert(0, str(Path(__file__).parent))
from detection_scoring import ClipTruth, enlarged, inside, parse_manifest

DATASETS = Path("/work/shared/datasets")
MANIFESTS = Path(__file__).parent / "manifests"
POSE_SIDE = 256
ONE_BY_ONE = DATASETS / "video/one-by-one-person-detection.mp4"


@dataclass(frozen=True)
class Case:
    """A clip (or a part of each of its frames) and what its person detections are expected to be."""

    name: str
    clip: Path
    group: str  # "partial" or "no person" or "whole" (reference)
    cut: tuple[int, int, int, int] | None = None  # x1 y1 x2 y2 of each frame kept, for partial-body clips


CASES = [
    Case("one-by-one, left part (x<470)", ONE_BY_ONE, "partial", (0, 0, 470, 432)),
    Case("one-by-one, right part (x>=470)", ONE_BY_ONE, "partial", (470, 0, 768, 432)),
    Case("one-by-one, top (y<216)", ONE_BY_ONE, "partial", (0, 0, 768, 216)),
    Case("one-by-one, bottom (y>=216)", ONE_BY_ONE, "partial", (0, 216, 768, 432)),
    Case("cat_fed_by_hand", DATASETS / "real/cat_fed_by_hand.mp4", "partial"),
    Case("cat_jumps_onto_dining_table", DATASETS / "real/cat_jumps_onto_dining_table.mp4", "no person"),
    Case("courtyard_woman_and_dog", DATASETS / "real/courtyard_woman_and_dog_aac.mp4", "whole"),
    Case("aquarium_fish_hevc", DATASETS / "real/aquarium_fish_hevc.mp4", "no person"),
    Case("parking_lot_ipcam", DATASETS / "real/parking_lot_ipcam_hevc_aac.mp4", "no person"),
    Case("car-detection", DATASETS / "video/car-detection.mp4", "no person"),
    Case("one-by-one (whole)", ONE_BY_ONE, "whole"),
]


class PoseScorer:
    """MoveNet multipose (ONNX): up to 6 people, 17 keypoints (y, x, score), a box and a score each."""

    def __init__(self, path: Path) -> None:
        self.session: Any = onnx_session(str(path), 1)
        self.input = self.session.get_inputs()[0].name
        self.seconds = 0.0
        self.calls = 0

    def poses(self, image: Image) -> tuple[np.ndarray, int]:
        """Return the poses of a BGR image (6 x 56, coordinates 0-1 of the padded square) and the square's side."""
        height, width = image.shape[:2]
        side = max(height, width)
        square = cv2.copyMakeBorder(image, 0, side - height, 0, side - width, cv2.BORDER_CONSTANT)
        rgb = cv2.cvtColor(cv2.resize(square, (POSE_SIDE, POSE_SIDE)), cv2.COLOR_BGR2RGB)
        started = time.perf_counter()
        out = self.session.run(None, {self.input: rgb.astype(np.int32)[None]})[0][0]
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return np.asarray(out, dtype=np.float64), side


def pose_in_box(poses: np.ndarray, side: int, box: tuple[float, float, float, float]) -> tuple[float, float]:
    """Return the best pose score whose box centre is in `box`, and the best keypoint score inside it (pixels)."""
    best_pose = best_point = 0.0
    for pose in poses:
        y1, x1, y2, x2 = (pose[51:55] * side).tolist()
        if inside(((x1 + x2) / 2, (y1 + y2) / 2), box):
            best_pose = max(best_pose, float(pose[55]))
        for k in range(17):
            y, x, score = pose[3 * k] * side, pose[3 * k + 1] * side, pose[3 * k + 2]
            if inside((x, y), box):
                best_point = max(best_point, float(score))
    return best_pose, best_point


class RecordingDetector(ObjectDetector):
    """Pass calls to the real detector at a lower score, record each call's detections."""

    def __init__(self, inner: ObjectDetector, low: float) -> None:
        self.inner = inner
        self.low = low
        self.labels = inner.labels
        self.input_size = inner.input_size
        self.seen: list[list[Detection]] = []

    def detect(self, image: Image, min_score: float) -> list[Detection]:
        """Return the inner detector's detections scoring at least min_score; record all down to the low score."""
        found = self.inner.detect(image, min(self.low, min_score))
        self.seen.append(found)
        return [d for d in found if d.score >= min_score]


def cut_clip(source: Path, cut: tuple[int, int, int, int], out: Path) -> None:
    """Write the part `cut` of every frame of a clip to a new H.264 clip (same frame times)."""
    x1, y1, x2, y2 = cut
    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        stream = src.streams.video[0]
        rate = stream.average_rate or 25
        video = dst.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = x2 - x1, y2 - y1, "yuv420p"
        video.options = {"crf": "18", "preset": "veryfast"}
        for frame in src.decode(stream):
            part = frame.to_ndarray(format="bgr24")[y1:y2, x1:x2]
            new = av.VideoFrame.from_ndarray(np.ascontiguousarray(part), format="bgr24")
            dst.mux(video.encode(new))
        dst.mux(video.encode())


def on_person(truth: ClipTruth, at: float, box: tuple[float, float, float, float], offset: tuple[int, int]) -> bool:
    """Tell whether a detection's centre lies in a visit's (enlarged) track box at that moment."""
    centre = ((box[0] + box[2]) / 2 + offset[0], (box[1] + box[3]) / 2 + offset[1])
    for visit in truth.persons:
        if not visit.start - 0.5 <= at <= visit.end + 0.5:
            continue
        if not visit.tracks:
            return True
        if any(inside(centre, enlarged(track.box_at(at))) for track in visit.tracks):
            return True
    return False


def own_cut(image: Image, box: tuple[float, float, float, float]) -> tuple[Image, tuple[float, float, float, float]]:
    """Cut a square around a detection's box (1.3 times its longer side, at least 96 px); return it, the box in it."""
    height, width = image.shape[:2]
    side = min(max(96, 1.3 * max(box[2] - box[0], box[3] - box[1])), width, height)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1 = int(min(max(cx - side / 2, 0), width - side))
    y1 = int(min(max(cy - side / 2, 0), height - side))
    part = image[y1 : y1 + int(side), x1 : x1 + int(side)]
    return part, (box[0] - x1, box[1] - y1, box[2] - x1, box[3] - y1)


def run_case(case: Case, truth: ClipTruth, scorer: PoseScorer, low: float, work: Path) -> list[dict[str, Any]]:
    """Run the analyser on one case; return a row per person detection with its pose scores and label."""
    clip = case.clip
    offset = (0, 0)
    if case.cut is not None:
        clip = work / f"cut-{CASES.index(case)}.mp4"
        if not clip.exists():
            cut_clip(case.clip, case.cut, clip)
        offset = (case.cut[0], case.cut[1])
    analysis = open_analysis(clip, low)
    analyzer, detector, back_scale = analysis.analyzer, analysis.detector, analysis.back_scale
    rows: list[dict[str, Any]] = []
    detect_crops = analyzer._detect

    def recorded(now: float, sample: Sample, crops: list[Any]) -> list[Detection]:
        before = len(detector.seen)
        kept = detect_crops(now, sample, crops)
        for crop, found in zip(crops, detector.seen[before:], strict=True):
            people = [d for d in found if d.label == "person"]
            if not people:
                continue
            x1, y1, x2, y2 = crop.box
            pixels = sample.full_crop(crop.box) if crop.full else sample.image[y1:y2, x1:x2]
            back = back_scale if crop.full else 1.0
            poses, side = scorer.poses(pixels)
            for d in people:
                frame_box = (
                    (d.box[0] + x1) / back,
                    (d.box[1] + y1) / back,
                    (d.box[2] + x1) / back,
                    (d.box[3] + y1) / back,
                )
                crop_pose, crop_point = pose_in_box(poses, side, d.box)
                part, part_box = own_cut(sample.image, frame_box)
                own_poses, own_side = scorer.poses(part)
                own_pose, own_point = pose_in_box(own_poses, own_side, part_box)
                source_box = tuple(v * back_scale for v in frame_box)
                rows.append(
                    {
                        "case": case.name,
                        "group": case.group,
                        "t": round(now, 2),
                        "box": [round(v) for v in frame_box],
                        "nanodet": round(d.score, 3),
                        "on_person": on_person(truth, now, source_box, offset),  # type: ignore[arg-type]
                        "crop_pose": round(crop_pose, 3),
                        "crop_point": round(crop_point, 3),
                        "own_pose": round(own_pose, 3),
                        "own_point": round(own_point, 3),
                    }
                )
        return kept

    analyzer._detect = recorded  # type: ignore[method-assign]
    analysis.run()
    return rows


@dataclass
class ClipAnalysis:
    """A clip opened for the analyser with the defaults `analyze` uses, its detector recording every call."""

    source: VideoSource
    size: tuple[int, int]
    detector: RecordingDetector
    analyzer: FrameAnalyzer
    pacer: FramePacer
    back_scale: float  # source pixels per detect-size pixel

    def run(self) -> None:
        """Analyse every frame the pacer picks."""
        analyse_frames(self.analyzer, self.source, self.pacer, self.size)


def open_analysis(clip: Path, low: float) -> ClipAnalysis:
    """Open a clip and build the analyser `homewarden analyze` would run on it, with a recording detector."""
    config, name = single_source_config(str(clip.resolve()), HomewardenConfig())
    camera = config.cameras[name]
    source = VideoSource(str(clip.resolve()))
    info = source.open()
    size = detect_size_for(config, name, info)
    detector = RecordingDetector(create_detector(config.detector), low)
    analyzer = FrameAnalyzer(camera, config.objects_for(name), detector, size)
    return ClipAnalysis(source, size, detector, analyzer, FramePacer(camera.detect.fps), info.width / size[0])


def analyse_frames(analyzer: FrameAnalyzer, source: VideoSource, pacer: FramePacer, size: tuple[int, int]) -> None:
    """Run the analyser on every frame of an open source that the pacer picks (no recording, no events kept)."""
    for _, raw in source.packets():
        for frame in source.decode(raw):
            at = source.frame_time(frame)
            if pacer.due(at):
                analyzer.analyze(Sample(at, frame, size))


def summary(values: list[float]) -> str:
    """Format min / median / max."""
    if not values:
        return "-"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--low", type=float, default=0.2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cases", nargs="*", help="names of cases to run (default all)")
    args = parser.parse_args()
    truths = {
        truth.file: truth
        for manifest in ("real.json", "video.json")
        for truth in parse_manifest(json.loads((MANIFESTS / manifest).read_text()))
    }
    scorer = PoseScorer(args.model)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as work:
        for case in CASES:
            if args.cases and case.name not in args.cases:
                continue
            rows += run_case(case, truths[case.clip.name], scorer, args.low, Path(work))
            print(f"{case.name}: {sum(r['case'] == case.name for r in rows)} person detections", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=0))
    print(f"pose model calls {scorer.calls}, {1000 * scorer.seconds / max(scorer.calls, 1):.0f} ms each on average")
    print()
    print(
        "| case | NanoDet `person` on | n | NanoDet min/med/max | pose on crop | keypoint on crop | pose on own cut "
        "| keypoint on own cut |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        for person in (True, False):
            group = [r for r in rows if r["case"] == case.name and r["on_person"] == person]
            if not group:
                continue
            cells = [
                summary([r[key] for r in group])
                for key in ("nanodet", "crop_pose", "crop_point", "own_pose", "own_point")
            ]
            print(
                f"| {case.name} | {'a person' if person else 'no person'} | {len(group)} | " + " | ".join(cells) + " |"
            )
    print()
    print("Detections under the person threshold 0.5 passing a pose threshold (own cut, pose score):")
    weak = [r for r in rows if r["nanodet"] < 0.5]
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        partial = [r for r in weak if r["on_person"] and r["group"] == "partial"]
        wrong = [r for r in weak if not r["on_person"]]
        hits = sum(r["own_pose"] >= threshold for r in partial)
        false = sum(r["own_pose"] >= threshold for r in wrong)
        crop_hits = sum(r["crop_pose"] >= threshold for r in partial)
        crop_false = sum(r["crop_pose"] >= threshold for r in wrong)
        print(
            f"  >= {threshold:.2f}: own cut partial people {hits}/{len(partial)}, not people {false}/{len(wrong)}; "
            f"analyser's crop partial {crop_hits}/{len(partial)}, not people {crop_false}/{len(wrong)}"
        )


if __name__ == "__main__":
    main()
