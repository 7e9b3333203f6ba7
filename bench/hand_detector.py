"""Measure whether MediaPipe's hand models tell the hand beside a pet from the pets NanoDet sees.

    scripts/convert_mediapipe_hand.sh /tmp/hand-models      # palm_detection_full.onnx, hand_landmark_full.onnx
    python bench/hand_detector.py --models /tmp/hand-models [--low 0.2] [--out rows.json] [--cases NAME ...]

For each case the analyser of `homewarden analyze` (defaults, the shipped NanoDet) runs on the clip; every detection
NanoDet returns down to --low (any label) in a crop the analyser cut is scored three ways:

- `crop`: the palm detector on the analyser's crop, the best palm whose centre lies in the detection's box;
- `own`: the palm detector on a square cut around the detection's box (1.3 times its longer side, at least 96 px), as
  a second opinion on one track would cut it: the best palm anywhere in it;
- `hand`: MediaPipe's second stage on that cut: for each of its best three palms (palm score at least 0.3), the hand
  landmark model's hand-presence score on the palm's rotated hand square (2.6 times the palm, shifted towards the
  fingers, as MediaPipe's hand tracking cuts it); the best of them. MediaPipe keeps a hand at 0.5.

Each detection is labelled by the clip's ground truth (bench/manifests/): on a person when its centre lies in a visit's
track box (enlarged as the scoring does) at that moment. Night copies (grey, a third as bright, noise: the footage
variants' `c`) are made here. Prints one row per case, label and truth, the palm calls' cost, and how many weak
(NanoDet < 0.5) detections pass each palm threshold. Not a test: a measurement.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from homewarden.camera.reader import Sample
from homewarden.detect.base import Detection, Image, letterbox, onnx_session

sys.path.insert(0, str(Path(__file__).parent))
from detection_scoring import ClipTruth, inside, parse_manifest
from pose_separation import on_person, open_analysis, own_cut, summary
from small_person import night

DATASETS = Path("/work/shared/datasets")
MANIFESTS = Path(__file__).parent / "manifests"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Case:
    """A clip, and whether to score its night copy."""

    name: str
    clip: Path
    at_night: bool = False


CLIPS = {
    "cat_fed_by_hand": DATASETS / "real/cat_fed_by_hand.mp4",
    "cat_jumps_onto_dining_table": DATASETS / "real/cat_jumps_onto_dining_table.mp4",
    "courtyard_woman_and_dog": DATASETS / "real/courtyard_woman_and_dog_aac.mp4",
    "aquarium_fish_hevc": DATASETS / "real/aquarium_fish_hevc.mp4",
}
CASES = [Case(name, clip) for name, clip in CLIPS.items()] + [
    Case(f"{name} (night)", clip, at_night=True) for name, clip in CLIPS.items()
]


def night_copy(source: Path, out: Path) -> None:
    """Write a night copy of a clip (the footage variants' `c` picture), same frame times."""
    rng = np.random.default_rng(7)
    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        stream = src.streams.video[0]
        video = dst.add_stream("libx264", rate=stream.average_rate or 25)
        video.width, video.height, video.pix_fmt = stream.width, stream.height, "yuv420p"
        video.options = {"crf": "18", "preset": "veryfast"}
        for frame in src.decode(stream):
            dark = night(frame.to_ndarray(format="bgr24"), rng)
            dst.mux(video.encode(av.VideoFrame.from_ndarray(dark, format="bgr24")))
        dst.mux(video.encode())


PALM_SIDE = 192
LANDMARK_SIDE = 224
# MediaPipe's palm_detection_cpu.pbtxt (SsdAnchorsCalculator): 4 layers, strides 8, 16, 16, 16, one aspect ratio plus
# the interpolated one, fixed-size anchors: 2 anchors per 24x24 cell and 6 per 12x12 cell, 2016 in all.
ANCHORS_PER_CELL = ((8, 2), (16, 6))
# hand_landmark_cpu.pbtxt's palm-to-hand square: the palm box scaled 2.6 times, moved half its height to the fingers.
HAND_SCALE = 2.6
HAND_SHIFT = -0.5
PALMS_CONFIRMED = 3


@dataclass(frozen=True)
class Palm:
    """One palm in image pixels: score, box centre and size, the wrist and middle-finger keypoints."""

    score: float
    centre: tuple[float, float]
    size: tuple[float, float]
    wrist: tuple[float, float]
    middle: tuple[float, float]


def anchor_centres() -> np.ndarray:
    """Return the 2016 anchor centres in model input pixels, in the model's output order."""
    centres = []
    for stride, per_cell in ANCHORS_PER_CELL:
        grid = PALM_SIDE // stride
        ys, xs = np.mgrid[0:grid, 0:grid]
        cells = np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], axis=1)
        centres.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(centres).astype(np.float32)


def rgb_unit(image: Image) -> np.ndarray:
    """Return a BGR image as MediaPipe's models take it: RGB in [0, 1], NHWC."""
    return (image[None, :, :, ::-1].astype(np.float32) / 255.0).copy()


class HandModels:
    """The palm detector and the hand landmark model (ONNX), timed."""

    def __init__(self, folder: Path) -> None:
        self.palm_session: Any = onnx_session(str(folder / "palm_detection_full.onnx"), 1)
        self.hand_session: Any = onnx_session(str(folder / "hand_landmark_full.onnx"), 1)
        self.centres = anchor_centres()
        self.palm_seconds = self.hand_seconds = 0.0
        self.palm_calls = self.hand_calls = 0

    def palms(self, image: Image, min_score: float) -> list[Palm]:
        """Return the palms in a BGR image scoring at least min_score, best first (overlaps not merged)."""
        square, placement = letterbox(image, PALM_SIDE, pad_value=0)
        started = time.perf_counter()
        raw, logits = self.palm_session.run(["Identity", "Identity_1"], {"input_1": rgb_unit(square)})
        self.palm_seconds += time.perf_counter() - started
        self.palm_calls += 1
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0], -100.0, 100.0)))
        keep = np.flatnonzero(scores >= min_score)
        found = []
        for i in keep[np.argsort(-scores[keep])]:
            points = self.centres[i] + raw[0, i, :18].reshape(9, 2)  # box centre, box size, 7 keypoints
            points[1] -= self.centres[i]
            xs = (points[:, 0] - placement.pad_x) / placement.scale
            ys = (points[:, 1] - placement.pad_y) / placement.scale
            sizes = points[1] / placement.scale
            found.append(
                Palm(
                    float(scores[i]),
                    (float(xs[0]), float(ys[0])),
                    (float(sizes[0]), float(sizes[1])),
                    (float(xs[2]), float(ys[2])),
                    (float(xs[4]), float(ys[4])),
                )
            )
        return found

    def hand_presence(self, image: Image, palm: Palm) -> float:
        """Return the landmark model's hand-presence score on the palm's rotated hand square."""
        (x0, y0), (x2, y2) = palm.wrist, palm.middle
        rotation = math.pi / 2 - math.atan2(-(y2 - y0), x2 - x0)
        width, height = palm.size
        cos, sin = math.cos(rotation), math.sin(rotation)
        cx = palm.centre[0] - height * HAND_SHIFT * sin
        cy = palm.centre[1] + height * HAND_SHIFT * cos
        scale = max(width, height) * HAND_SCALE / LANDMARK_SIDE
        half = LANDMARK_SIDE / 2
        to_image = np.array(
            [
                [scale * cos, -scale * sin, cx - scale * half * (cos - sin)],
                [scale * sin, scale * cos, cy - scale * half * (sin + cos)],
            ],
            dtype=np.float32,
        )
        square = cv2.warpAffine(
            image, to_image, (LANDMARK_SIDE, LANDMARK_SIDE), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
        )
        started = time.perf_counter()
        outputs = self.hand_session.run(["Identity_1"], {"input_1": rgb_unit(square)})
        self.hand_seconds += time.perf_counter() - started
        self.hand_calls += 1
        return float(outputs[0].ravel()[0])

    def best_palm(self, image: Image, box: tuple[float, float, float, float] | None) -> float:
        """Return the best palm score in an image (whose centre lies in `box`, when given)."""
        return max((p.score for p in self.palms(image, 0.05) if box is None or inside(p.centre, box)), default=0.0)

    def best_hand(self, image: Image) -> float:
        """Return the best hand-presence score among the image's best few palms."""
        palms = self.palms(image, 0.3)[:PALMS_CONFIRMED]
        return max((self.hand_presence(image, palm) for palm in palms), default=0.0)


def run_case(case: Case, truth: ClipTruth, models: HandModels, low: float, work: Path) -> list[dict[str, Any]]:
    """Run the analyser on one case; return a row per detection with its palm scores and truth."""
    clip = case.clip
    if case.at_night:
        clip = work / f"night-{clip.stem}.mp4"
        if not clip.exists():
            night_copy(case.clip, clip)
    analysis = open_analysis(clip, low)
    analyzer, detector, back_scale = analysis.analyzer, analysis.detector, analysis.back_scale
    rows: list[dict[str, Any]] = []
    detect_crops = analyzer._detect

    def recorded(now: float, sample: Sample, crops: list[Any]) -> list[Detection]:
        # The most favourable view: a square cut around the annotated visit's box itself, once per analysed frame.
        for visit in truth.persons:
            if visit.start <= now <= visit.end and visit.tracks:
                truth_box = tuple(v / back_scale for v in visit.tracks[0].box_at(now))
                part, _ = own_cut(sample.image, truth_box)  # type: ignore[arg-type]
                rows.append(
                    {
                        "case": case.name,
                        "t": round(now, 2),
                        "label": "(annotated box)",
                        "box": [round(v) for v in truth_box],
                        "nanodet": 1.0,
                        "person_score": 1.0,
                        "on_person": True,
                        "crop": 0.0,
                        "own": round(models.best_palm(part, None), 3),
                        "hand": round(models.best_hand(part), 3),
                    }
                )
        before = len(detector.seen)
        kept = detect_crops(now, sample, crops)
        for crop, found in zip(crops, detector.seen[before:], strict=True):
            x1, y1, x2, y2 = crop.box
            pixels = sample.full_crop(crop.box) if crop.full else sample.image[y1:y2, x1:x2]
            back = back_scale if crop.full else 1.0
            for d in found:
                frame_box = (
                    (d.box[0] + x1) / back,
                    (d.box[1] + y1) / back,
                    (d.box[2] + x1) / back,
                    (d.box[3] + y1) / back,
                )
                crop_box = (d.box[0] * back, d.box[1] * back, d.box[2] * back, d.box[3] * back)
                part, _ = own_cut(sample.image, frame_box)
                source_box = tuple(v * back_scale for v in frame_box)
                rows.append(
                    {
                        "case": case.name,
                        "t": round(now, 2),
                        "label": d.label,
                        "box": [round(v) for v in frame_box],
                        "nanodet": round(d.score, 3),
                        "person_score": round(d.person_score, 3),
                        "on_person": on_person(truth, now, source_box, (0, 0)),  # type: ignore[arg-type]
                        "crop": round(models.best_palm(pixels, crop_box), 3),
                        "own": round(models.best_palm(part, None), 3),
                        "hand": round(models.best_hand(part), 3),
                    }
                )
        return kept

    analyzer._detect = recorded  # type: ignore[method-assign]
    analysis.run()
    return rows


def main() -> None:
    """Run every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, required=True, help="folder of convert_mediapipe_hand.sh's output")
    parser.add_argument("--low", type=float, default=0.2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cases", nargs="*", help="names of cases to run (default all)")
    args = parser.parse_args()
    truths = {truth.file: truth for truth in parse_manifest(json.loads((MANIFESTS / "real.json").read_text()))}
    models = HandModels(args.models)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as work:
        for case in CASES:
            if args.cases and case.name not in args.cases:
                continue
            rows += run_case(case, truths[case.clip.name], models, args.low, Path(work))
            print(f"{case.name}: {sum(r['case'] == case.name for r in rows)} detections", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=0))
    print(
        f"palm detector calls {models.palm_calls}, {1000 * models.palm_seconds / max(models.palm_calls, 1):.1f} ms "
        f"each; hand landmark calls {models.hand_calls}, "
        f"{1000 * models.hand_seconds / max(models.hand_calls, 1):.1f} ms each (inference only, load {load_note()})"
    )
    print()
    print("| case | NanoDet label | on a person | n | NanoDet min/med/max | palm on crop | palm on own cut | hand |")
    print("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        for key in sorted({(r["label"], r["on_person"]) for r in rows if r["case"] == case.name}):
            group = [r for r in rows if r["case"] == case.name and (r["label"], r["on_person"]) == key]
            cells = [summary([r[k] for r in group]) for k in ("nanodet", "crop", "own", "hand")]
            print(
                f"| {case.name} | {key[0]} | {'yes' if key[1] else 'no'} | {len(group)} | " + " | ".join(cells) + " |"
            )
    print()
    weak = [r for r in rows if r["nanodet"] < 0.5 and r["label"] != "(annotated box)"]
    hand = [r for r in weak if r["on_person"] and r["case"].startswith("cat_fed_by_hand")]
    animals = [r for r in weak if not r["on_person"]]
    print(
        f"Weak detections (NanoDet < 0.5) passing a threshold: on the hand (of {len(hand)}) / "
        f"not on a person (of {len(animals)})"
    )
    print("| threshold | palm, own cut | palm, analyser's crop | hand presence |")
    print("|---|---|---|---|")
    for threshold in THRESHOLDS:
        cells = [
            f"{sum(r[k] >= threshold for r in hand)} / {sum(r[k] >= threshold for r in animals)}"
            for k in ("own", "crop", "hand")
        ]
        print(f"| {threshold:.2f} | " + " | ".join(cells) + " |")
    for case in CASES:
        annotated = [r for r in rows if r["case"] == case.name and r["label"] == "(annotated box)"]
        if not annotated:
            continue
        cells = ", ".join(
            f"{threshold:.2f}: palm {sum(r['own'] >= threshold for r in annotated)} "
            f"hand {sum(r['hand'] >= threshold for r in annotated)}"
            for threshold in (0.5, 0.7)
        )
        print(f"{case.name}: analysed frames whose cut around the annotated person passes {cells} of {len(annotated)}")
    for key in ("own", "hand"):
        print(f"Highest `{key}` scores not on a person:")
        for r in sorted(animals, key=lambda r: -r[key])[:6]:
            print(f"  {r['case']} t={r['t']} {r['label']} {r['nanodet']} box {r['box']}: {key} {r[key]}")
        print(f"Highest `{key}` scores on the hand:")
        for r in sorted(hand, key=lambda r: -r[key])[:4]:
            print(f"  {r['case']} t={r['t']} {r['label']} {r['nanodet']} box {r['box']}: {key} {r[key]}")


def load_note() -> str:
    """Return the machine's one-minute load average, as the timings depend on it."""
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
