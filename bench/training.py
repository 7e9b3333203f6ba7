"""Measure the false-alarm verifier on the shared footage: training on some clips, judged on clips it never saw.

    python bench/training.py                    # ../shared/datasets/real and video, leave one clip out
    python bench/training.py --json

1. Data: the hub's own pipeline (motion, crops, NanoDet, tracking, events, the pet guard of events/alarm.py) runs over
   every clip of real/manifest.json and bench/manifests/video.json; every detection is recorded with the verifier's
   features and labelled by the manifest's intervals (person / cat / dog / animal / vehicle / nothing; a frame where
   several kinds are in view takes the detector's own label when it is one of them, else the detection is left out;
   a person detection outside the person intervals of a clip whose manifest does not vouch nobody else is there is
   left out too). Each clip is one donation of its own home. "Nothing" samples, as a reviewer's box drawn on an
   empty scene: boxes where a clip's objects appear, on frames of the stretches its manifest says are empty.
2. Leave one clip out: for each clip, a verifier trained on every other clip judges that clip's person detections,
   and the pipeline runs again with that verifier in front of the tracker, so events and alarms are compared with
   the run without it (the guard of today alone) and with no guard (every person event an alarm). The household's
   calibration is measured too: the clip's first false person marked a false alarm, the rest judged with it.
3. Training time on all clips, on the data repeated to 1000 clips' worth, and SISA retraining after a withdrawal.
Not a test: record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from nacl.signing import SigningKey

from detection_scoring import ClipTruth, SeenEvent, parse_manifest, score_clip
from homewarden.camera.reader import Sample
from homewarden.camera.runner import DEFAULT_DETECT_WIDTH, CameraRunner
from homewarden.cloud.training import verifier as verifier_training
from homewarden.cloud.training.dataset import LabelledItem, build_dataset
from homewarden.cloud.training.features import feature_row
from homewarden.cloud.training.verifier import retrain_without, signed_model_file, train_verifier
from homewarden.config import HomewardenConfig, single_source_config
from homewarden.config.model import LabelFilter, NanoDetConfig
from homewarden.detect.base import Detection, Image
from homewarden.detect.household_calibration import Correction, HouseholdCalibration
from homewarden.detect.nanodet import NanoDetDetector
from homewarden.detect.verifier import BODY_PARTS, CLASS_SCORES, GEOMETRY, PersonVerifier, VerifierSlot
from homewarden.events.record import EventRecord
from homewarden.store.media import MediaFolder
from homewarden.video.source import VideoSource

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
SOURCES = (
    (DATASETS / "real", DATASETS / "real" / "manifest.json"),
    (DATASETS / "video", REPO / "bench/manifests/video.json"),
)
VEHICLES = {"car", "truck", "bus", "motorcycle", "bicycle", "train", "boat", "airplane"}
SPECIES = {"cat": "cat", "dog": "dog"}
MIN_PERSON_PROBABILITY = 0.3
EDGE = 0.5
ONE_BY_ONE = "one-by-one-person-detection.mp4"
SWEEP = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
# Clips whose manifest does not vouch that nobody is outside its person intervals: the parking lot's notes say "tiny
# distant figures could be missed", and NanoDet finds people up the road after the one pedestrian left. A person
# detection there outside the intervals is uncertain, not a false person (labelled "vehicle" it taught the verifier
# that small people are cars, and it lost the construction site's and the gym's people with them).
UNCERTAIN_ABSENCE = {"parking_lot_ipcam_hevc_aac.mp4"}
# Background ("nothing") samples: every BACKGROUND_STEP seconds of a clip's empty stretches, at most BACKGROUND_BOXES
# places where its objects appear, scored as the cloud scores a drawn box NanoDet saw nothing on.
BACKGROUND_STEP = 1.0
BACKGROUND_BOXES = 4
BACKGROUND_SCORE = 0.5
# The feature vector's groups (detect/verifier.py detection_features), for --ablate.
FEATURE_GROUPS = {
    "scores": slice(0, len(CLASS_SCORES)),
    "geometry": slice(len(CLASS_SCORES), len(CLASS_SCORES) + len(GEOMETRY)),
    "body-parts": slice(len(CLASS_SCORES) + len(GEOMETRY), len(CLASS_SCORES) + len(GEOMETRY) + len(BODY_PARTS)),
}


@dataclass
class Recorded:
    """A detection the pipeline made, with its time and the verifier's features."""

    time: float
    detection: Detection
    features: tuple[float, ...]


@dataclass
class ClipRun:
    """One clip: its truth, what the pipeline saw, and the events it made."""

    truth: ClipTruth
    path: Path
    detections: list[Recorded] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    background: list[Recorded] | None = None


class RecordingReview:
    """Record every detection with its features and pass them all on unchanged."""

    def __init__(self, scorer: NanoDetDetector, into: list[Recorded]) -> None:
        self.scorer = scorer
        self.into = into

    def review(self, now: float, image: Image, detections: list[Detection]) -> list[Detection]:
        """Record, change nothing."""
        for detection in detections:
            self.into.append(Recorded(now, detection, feature_row(self.scorer, image, detection)))
        return detections


def run_pipeline(
    path: Path, detector: NanoDetDetector, review: Any, person_threshold: float | None = None
) -> list[EventRecord]:
    """Run the hub's pipeline over a clip (alarm mode away) with a review in front of the tracker."""
    base = HomewardenConfig()
    base = base.model_copy(update={"alarm": base.alarm.model_copy(update={"mode": "away", "schedule": []})})
    if person_threshold is not None:
        # A household that made its cameras more sensitive (objects.filters.person.threshold).
        filters = {**base.objects.filters, "person": LabelFilter(threshold=person_threshold)}
        base = base.model_copy(update={"objects": base.objects.model_copy(update={"filters": filters})})
    config, camera = single_source_config(str(path), base)
    events: list[EventRecord] = []
    with tempfile.TemporaryDirectory(prefix="bench-training-") as work:
        runner = CameraRunner(camera, config, detector, MediaFolder(Path(work)), events.append, verifier=review)
        source = VideoSource(str(path))
        source.open()
        runner.run_file(source)
    return events


def truth_label(truth: ClipTruth, at: float, detected: str) -> str | None:
    """Label a detection at a time by the clip's intervals (None: uncertain, leave it out)."""

    def inside(start: float, end: float) -> bool:
        return start - EDGE <= at <= end + EDGE

    if any(inside(span.start, span.end) for span in truth.ignore):
        return None
    present: dict[str, str] = {}
    if any(inside(span.start, span.end) for span in truth.persons):
        present["person"] = "person"
    for span, species in truth.animals:
        if inside(span.start, span.end):
            present[SPECIES.get(species, "animal")] = SPECIES.get(species, "animal")
    if any(inside(v.span.start, v.span.end) for v in truth.vehicles):
        present["vehicle"] = "vehicle"
    if detected == "person" and "person" not in present and truth.file in UNCERTAIN_ABSENCE:
        return None
    if not present:
        return "nothing"
    if len(present) == 1:
        return next(iter(present))
    kind = "vehicle" if detected in VEHICLES else SPECIES.get(detected, "person" if detected == "person" else "animal")
    return kind if kind in present else None


def empty_times(truth: ClipTruth, step: float = BACKGROUND_STEP) -> list[float]:
    """Return times, every `step` seconds, at which the manifest says nothing at all is in view (1 s from any edge)."""
    spans = [*truth.persons, *(span for span, _ in truth.animals), *(v.span for v in truth.vehicles), *truth.ignore]
    times, at = [], step / 2
    while at < truth.duration - 0.5:
        if all(not (span.start - 1.0 <= at <= span.end + 1.0) for span in spans):
            times.append(round(at, 2))
        at += step
    return times


def background_boxes(run: ClipRun) -> list[tuple[float, float, float, float]]:
    """Return up to BACKGROUND_BOXES boxes where this clip's detections were, spread over their order of appearance."""
    boxes = [r.detection.box for r in run.detections if r.detection.label == "person"]
    boxes = boxes or [r.detection.box for r in run.detections]
    if not boxes:
        return []
    picks = np.linspace(0, len(boxes) - 1, min(BACKGROUND_BOXES, len(boxes))).round().astype(int)
    return [boxes[int(i)] for i in sorted(set(picks.tolist()))]


def record_background(run: ClipRun, detector: NanoDetDetector) -> list[Recorded]:
    """Record "nothing" samples: boxes where the clip's objects appear, on frames where its manifest says it is empty.

    The bench's stand-in for a reviewer's box drawn on an empty scene (the workbench's "nothing" box): true negatives
    of the kind a verifier needs to learn that a crop with no body, no animal and no vehicle is no person.
    """
    times, boxes = empty_times(run.truth), background_boxes(run)
    if not times or not boxes:
        return []
    found: list[Recorded] = []
    wanted = list(times)
    with av.open(str(run.path)) as container:
        for frame in container.decode(video=0):
            at = float(frame.time or 0.0)
            if not wanted:
                break
            if at + 1e-6 < wanted[0]:
                continue
            while wanted and wanted[0] <= at + 1e-6:
                wanted.pop(0)
            # The frame as the pipeline analyses it (the boxes are at the detect size, as the hub's camera sees it).
            width = min(frame.width, DEFAULT_DETECT_WIDTH)
            size = (width - width % 2, round(frame.height * width / frame.width) // 2 * 2)
            image = Sample(at, frame, size).image
            for box in boxes:
                detection = Detection("person", BACKGROUND_SCORE, box)
                found.append(Recorded(at, detection, feature_row(detector, image, detection)))
    return found


def labelled_items(run: ClipRun, with_background: bool = True) -> list[LabelledItem]:
    """Turn a clip's recorded detections (and background boxes) into labelled items of one donation (the clip)."""
    items = []
    samples = [
        (f"{index:06d}", r, truth_label(run.truth, r.time, r.detection.label)) for index, r in enumerate(run.detections)
    ]
    if with_background:
        samples += [(f"bg{index:05d}", r, "nothing") for index, r in enumerate(run.background or [])]
    for name, recorded, label in samples:
        if label is None:
            continue
        items.append(
            LabelledItem(
                sample_id=f"{run.truth.file}/{name}",
                donation_id=run.truth.file,
                consent_id=f"consent:{run.truth.file}",
                home_id=f"home:{run.truth.file}",
                label=label,
                label_source="manifest-intervals",
                features=recorded.features,
            )
        )
    return items


def save_recording(folder: Path, run: ClipRun) -> None:
    """Keep a clip's recorded detections and events, so a second run skips the first pass."""
    folder.mkdir(parents=True, exist_ok=True)

    def rows(recorded: list[Recorded]) -> list[list[Any]]:
        return [
            [r.time, r.detection.label, r.detection.score, list(r.detection.box), list(r.features)] for r in recorded
        ]

    data = {
        "detections": rows(run.detections),
        "events": [[e.label, e.start, e.end, e.alarm] for e in run.events],
        "background": None if run.background is None else rows(run.background),
    }
    (folder / f"{run.truth.file}.json").write_text(json.dumps(data), encoding="utf-8")


def load_recordings(folder: Path) -> dict[str, tuple[list[Recorded], list[EventRecord], list[Recorded] | None]]:
    """Read what save_recording kept."""
    found: dict[str, tuple[list[Recorded], list[EventRecord], list[Recorded] | None]] = {}

    def recorded(rows: list[list[Any]]) -> list[Recorded]:
        return [
            Recorded(t, Detection(label, score, tuple(box)), tuple(features)) for t, label, score, box, features in rows
        ]

    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        detections = recorded(data["detections"])
        background = None if data.get("background") is None else recorded(data["background"])
        events = [
            EventRecord(f"e{i}", "bench", label, 0.0, start, end, False, (0, 0, 0, 0), None, alarm=alarm)
            for i, (label, start, end, alarm) in enumerate(data["events"])
        ]
        found[path.name.removesuffix(".json")] = (detections, events, background)
    return found


def seen(events: list[EventRecord]) -> list[SeenEvent]:
    """Reduce event records to what scoring reads."""
    return [SeenEvent(e.label, e.start, e.end, e.alarm) for e in events]


def pet_only(truth: ClipTruth) -> bool:
    """Say whether a clip shows animals and never a person."""
    return bool(truth.animals) and not truth.persons


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--only", nargs="*", default=[], help="clip file names to use (default: all)")
    parser.add_argument(
        "--event-clips",
        nargs="*",
        default=[],
        help="clips whose events are measured with the verifier (default: those with animals, and one-by-one)",
    )
    parser.add_argument(
        "--ablate",
        nargs="+",
        choices=tuple(FEATURE_GROUPS),
        help="blank feature groups: NanoDet's class scores, box geometry, NudeNet's body parts (implies --no-events)",
    )
    parser.add_argument(
        "--undo",
        choices=("label-fix", "person-offset"),
        help="measure without one change of the quality pass: uncertain person detections labelled by the intervals, "
        "or the person offset left where the log-loss puts it",
    )
    parser.add_argument(
        "--no-background",
        action="store_true",
        help="train without the background boxes of empty stretches (labelled nothing)",
    )
    parser.add_argument(
        "--person-threshold",
        type=float,
        help="the person event threshold of the event passes (objects.filters.person.threshold; default the hub's)",
    )
    parser.add_argument("--no-scale", action="store_true", help="skip timing the training on 1000 clips' worth")
    parser.add_argument("--no-events", action="store_true", help="measure detections only, no second pipeline pass")
    parser.add_argument("--cache", type=Path, help="a folder keeping each clip's recorded detections between runs")
    args = parser.parse_args()
    if args.undo == "label-fix":
        UNCERTAIN_ABSENCE.clear()
    elif args.undo == "person-offset":
        verifier_training.DEFAULT_THRESHOLD = 1e-9  # no person then needs a raise to pass it
    cached = load_recordings(args.cache) if args.cache is not None else {}
    detector = NanoDetDetector(NanoDetConfig(threads=2))
    runs: list[ClipRun] = []
    started = time.perf_counter()
    for folder, manifest in SOURCES:
        if not manifest.is_file():
            sys.exit(f"missing {manifest}: the benchmark needs ../shared/datasets")
        for truth in parse_manifest(json.loads(manifest.read_text(encoding="utf-8"))):
            if args.only and truth.file not in args.only:
                continue
            run = ClipRun(truth, folder / truth.file)
            if truth.file in cached:
                run.detections, run.events, run.background = cached[truth.file]
            else:
                run.events = run_pipeline(run.path, detector, RecordingReview(detector, run.detections))
            if run.background is None:
                run.background = record_background(run, detector)
                if args.cache is not None:
                    save_recording(args.cache, run)
            runs.append(run)
            print(
                f"recorded {truth.file}: {len(run.detections)} detections, {len(run.background)} background boxes",
                file=sys.stderr,
            )
    preparation = time.perf_counter() - started
    if args.ablate:
        # Which features carry the signal: blank groups (a constant column teaches nothing) in both passes.
        for run in runs:
            for recorded in [*run.detections, *(run.background or [])]:
                row = list(recorded.features)
                for group in args.ablate:
                    blank = FEATURE_GROUPS[group]
                    row[blank] = [0.0] * len(row[blank])
                recorded.features = tuple(row)
    items = {run.truth.file: labelled_items(run, not args.no_background) for run in runs}
    every = [item for clip in items.values() for item in clip]
    key = SigningKey(bytes(32))  # a throwaway program key: the bench checks the hub path, not key custody
    rows = []
    totals: Counter[str] = Counter()
    train_seconds = []
    sweep: dict[float, Counter[str]] = {threshold: Counter() for threshold in SWEEP}
    for run in runs:
        clip = run.truth.file
        others = build_dataset(every, lambda donation, clip=clip: donation != clip)
        tic = time.perf_counter()
        trained = train_verifier(others, version=f"without-{clip}")
        train_seconds.append(time.perf_counter() - tic)
        slot = VerifierSlot(key.verify_key)
        with tempfile.NamedTemporaryFile(suffix=".json") as model_file:
            model_file.write(signed_model_file(trained, key))
            model_file.flush()
            model = slot.load(Path(model_file.name))
        held = build_dataset(items[clip], [clip])
        people = [r for r in run.detections if r.detection.label == "person"]
        labels = [truth_label(run.truth, r.time, "person") for r in people]
        kept = np.ones(len(people), dtype=bool)
        person_probability = np.zeros(len(people))
        if people:
            probabilities = model.probabilities(np.array([r.features for r in people]))
            person_probability = probabilities[:, model.classes.index("person")]
            kept = person_probability >= MIN_PERSON_PROBABILITY
            for threshold in SWEEP:
                for keep, label in zip(person_probability >= threshold, labels, strict=True):
                    if label is not None:
                        sweep[threshold]["true" if label == "person" else "false"] += 1
                        sweep[threshold]["true_kept" if label == "person" else "false_kept"] += int(keep)
        # The household's own calibration: the household marks the clip's first false person as a false alarm (on
        # the hub its features come from the event's snapshot; here from the recorded detection), and the rest of
        # the clip is judged with that one correction.
        household_kept = kept.copy()
        marked = next((i for i, label in enumerate(labels) if label not in ("person", None)), None)
        if marked is not None:
            calibration = HouseholdCalibration((Correction("first-false-alarm", False, people[marked].features),))
            rows_after = np.array([r.features for r in people])
            adjusted = calibration.adjust(rows_after, person_probability)
            household_kept = adjusted >= MIN_PERSON_PROBABILITY
            household_kept[: marked + 1] = kept[: marked + 1]
        true_people = sum(1 for label in labels if label == "person")
        false_people = sum(1 for label in labels if label not in ("person", None))
        verifier = PersonVerifier(slot, detector, MIN_PERSON_PROBABILITY)
        # The second pass costs as much as the first: by default only where the verifier's effect on events is the
        # question (footage with animals, and the people footage where visits must not be lost).
        rerun = clip in args.event_clips if args.event_clips else bool(run.truth.animals) or clip == ONE_BY_ONE
        rerun = rerun and not args.no_events and not args.ablate
        before = run.events
        if rerun and args.person_threshold is not None:
            before = run_pipeline(run.path, detector, None, args.person_threshold)
        after = run_pipeline(run.path, detector, verifier, args.person_threshold) if rerun else run.events
        before_score, after_score = score_clip(run.truth, seen(before)), score_clip(run.truth, seen(after))
        row = {
            "clip": clip,
            "samples": len(held.samples),
            "person_detections": len(people),
            "true_person": true_people,
            "true_person_kept": int(sum(k for k, label in zip(kept, labels, strict=True) if label == "person")),
            "false_person": false_people,
            "false_person_kept": int(
                sum(k for k, label in zip(kept, labels, strict=True) if label not in ("person", None))
            ),
            "true_person_kept_household": int(
                sum(k for k, label in zip(household_kept, labels, strict=True) if label == "person")
            ),
            "false_person_kept_household": int(
                sum(k for k, label in zip(household_kept, labels, strict=True) if label not in ("person", None))
            ),
            "pet_only": pet_only(run.truth),
            "events_measured": rerun,
            "visits": before_score.visits,
            "visits_found_before": before_score.visits_found,
            "visits_found_after": after_score.visits_found,
            "person_events_before": before_score.person_events,
            "person_events_after": after_score.person_events,
            "person_alarms_pet_only_none": before_score.person_events if pet_only(run.truth) else 0,
            "pet_only_alarms_guard": before_score.pet_only_alarms,
            "pet_only_alarms_verifier_and_guard": after_score.pet_only_alarms,
            "verifier_checked": verifier.stats.checked,
            "verifier_rejected": verifier.stats.rejected,
        }
        rows.append(row)
        for name, value in row.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[name] += value
        if row["pet_only"]:
            for name in (
                "false_person",
                "false_person_kept",
                "false_person_kept_household",
                "person_events_before",
                "person_events_after",
            ):
                totals[f"pet_footage_{name}"] += int(row[name])
    # Training time on everything, and on the data repeated to 1000 clips' worth (jittered so it is not degenerate).
    full = build_dataset(every, lambda _donation: True)
    tic = time.perf_counter()
    trained_full = train_verifier(full, version="all")
    full_seconds = time.perf_counter() - tic
    scale: dict[str, Any] = {}
    if not args.no_scale:
        repeats = max(1, round(1000 / max(len(runs), 1)))
        rng = np.random.default_rng(0)
        big = build_dataset(
            [
                LabelledItem(
                    f"{copy:04d}/{item.sample_id}",
                    f"{copy:04d}/{item.donation_id}",
                    item.consent_id,
                    item.home_id,
                    item.label,
                    item.label_source,
                    tuple(
                        float(v)
                        for v in np.asarray(item.features) * (1 + 0.02 * rng.standard_normal(len(item.features)))
                    ),
                )
                for copy in range(repeats)
                for item in every
            ],
            lambda _donation: True,
        )
        tic = time.perf_counter()
        trained_big = train_verifier(big, version="big", shards=4)
        big_seconds = time.perf_counter() - tic
        withdrawn = big.donations[0]
        tic = time.perf_counter()
        retrain_without(trained_big, big, [withdrawn], version="big-without")
        sisa_seconds = time.perf_counter() - tic
        tic = time.perf_counter()
        train_verifier(big.without([withdrawn]), version="big-without-1", shards=1)
        single_seconds = time.perf_counter() - tic
        scale = {
            "clips_1000_samples": len(big.samples),
            "train_seconds_1000_clips_4_shards": round(big_seconds, 2),
            "retrain_seconds_1000_clips_sisa_one_shard": round(sisa_seconds, 2),
            "retrain_seconds_1000_clips_from_scratch_1_shard": round(single_seconds, 2),
        }
    summary = {
        "clips": len(runs),
        "samples": len(full.samples),
        "labels": dict(Counter(item.label for item in full.samples)),
        "preparation_seconds": round(preparation, 1),
        "train_seconds_leave_one_out_median": round(float(np.median(train_seconds)), 3),
        "train_seconds_all": round(full_seconds, 3),
        "model_bytes": len(signed_model_file(trained_full, key)),
        "totals": dict(totals),
        **scale,
        "threshold_sweep": {str(t): dict(counts) for t, counts in sweep.items()},
    }
    if args.json:
        print(json.dumps({"clips": rows, "summary": summary}, indent=1))
        return
    header = ("clip", "pers det", "true", "kept", "false", "kept", "visits", "found", "->", "p.ev", "->", "petal", "->")
    print("{:<44} {:>8} {:>5} {:>5} {:>5} {:>5} {:>6} {:>5} {:>4} {:>5} {:>4} {:>5} {:>4}".format(*header))
    for row in rows:
        print(
            f"{row['clip']:<44} {row['person_detections']:>8} {row['true_person']:>5} {row['true_person_kept']:>5} "
            f"{row['false_person']:>5} {row['false_person_kept']:>5} {row['visits']:>6} "
            f"{row['visits_found_before']:>5} {row['visits_found_after']:>4} {row['person_events_before']:>5} "
            f"{row['person_events_after']:>4} {row['pet_only_alarms_guard']:>5} "
            f"{row['pet_only_alarms_verifier_and_guard']:>4}"
        )
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
