"""Whether visitors seen only from the waist down become person events, per visit of the one-by-one clip.

    PYTHONPATH=src python bench/partial_people.py [--cuts bottom top-edge] [--keep DIR]

Cuts parts of every frame of the shared `video/one-by-one-person-detection.mp4` (768x432, six visits) into new clips,
as bench/pose_separation.py does: `bottom` keeps y >= 216 (the visitor standing at the table is seen from the waist
down, as behind a counter or under a camera whose top half is hidden), `top-edge` keeps y >= 180. For each cut it runs
the whole `homewarden analyze CLIP --json --quiet` command (the code on PYTHONPATH: run it once with main's `src`, once
with the branch's, for before and after) and prints, per visit, the events on it (label, score, alarm) and the animal
detections NanoDet gave on the visitor (label and score, with NanoDet's `person` score on the same box where the
detector reports it). Not a test: a measurement (docs/benchmarks.md, legs16).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from detection_scoring import parse_manifest
from homewarden.camera.reader import Sample
from homewarden.detect.labels import COCO_LABELS
from pose_separation import ONE_BY_ONE, cut_clip, on_person, open_analysis

MANIFEST = Path(__file__).parent / "manifests" / "video.json"
CUTS = {"bottom": (0, 216, 768, 432), "top-edge": (0, 180, 768, 432)}
ANIMALS = set(COCO_LABELS[COCO_LABELS.index("bird") : COCO_LABELS.index("giraffe") + 1])


def analyse(clip: Path) -> list[dict[str, Any]]:
    """Run the whole `analyze` command on a clip; return its events."""
    with tempfile.TemporaryDirectory(prefix="partial-people-") as folder:
        command = [sys.executable, "-m", "homewarden", "analyze", str(clip), "--json", "--quiet"]
        done = subprocess.run(
            [*command, "--out", str(Path(folder) / "media")], cwd=folder, capture_output=True, text=True, check=True
        )
    return [json.loads(line) for line in done.stdout.splitlines()]


def animal_sightings(clip: Path, offset: tuple[int, int]) -> list[tuple[float, str, float, float | None, bool]]:
    """Run the analyser on a clip; return each animal detection it was given: time, label, score, person, on a visit."""
    truth = next(t for t in parse_manifest(json.loads(MANIFEST.read_text())) if t.file == ONE_BY_ONE.name)
    analysis = open_analysis(clip, low=1.0)
    analyzer, scale = analysis.analyzer, analysis.back_scale
    found: list[tuple[float, str, float, float | None, bool]] = []
    detect_crops = analyzer._detect

    def recorded(now: float, sample: Sample, crops: list[Any]) -> Any:
        kept = detect_crops(now, sample, crops)
        for d in kept:
            if d.label in ANIMALS:
                person = getattr(d, "person_score", None)  # main before legs16 does not keep it
                source_box = (d.box[0] * scale, d.box[1] * scale, d.box[2] * scale, d.box[3] * scale)
                found.append((now, d.label, d.score, person, on_person(truth, now, source_box, offset)))
        return kept

    analyzer._detect = recorded  # type: ignore[method-assign]
    analysis.run()
    return found


def main() -> None:
    """Cut, analyse and print one table per cut."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cuts", nargs="*", default=list(CUTS), choices=list(CUTS))
    parser.add_argument("--keep", type=Path, help="a folder to keep the cut clips in (and reuse them from)")
    args = parser.parse_args()
    truth = next(t for t in parse_manifest(json.loads(MANIFEST.read_text())) if t.file == ONE_BY_ONE.name)
    with tempfile.TemporaryDirectory() as work:
        folder = args.keep or Path(work)
        folder.mkdir(parents=True, exist_ok=True)
        for cut_name in args.cuts:
            cut = CUTS[cut_name]
            clip = (folder / f"one-by-one-{cut_name}.mp4").resolve()
            if not clip.exists():
                cut_clip(ONE_BY_ONE, cut, clip)
            events = analyse(clip)
            sightings = animal_sightings(clip, (cut[0], cut[1]))
            print(f"\n{cut_name} (x {cut[0]}-{cut[2]}, y {cut[1]}-{cut[3]}):")
            print("| visit | events on it (label score alarm) | animal detections on the visitor (score / person) |")
            print("|---|---|---|")
            people = 0
            for number, visit in enumerate(truth.persons, start=1):
                on = [e for e in events if e["start"] <= visit.end + 0.5 and e["end"] >= visit.start - 0.5]
                people += any(e["label"] == "person" for e in on)
                shown = ", ".join(f"{e['label']} {e['score']:.2f}{' ALARM' if e['alarm'] else ''}" for e in on)
                animals = [s for s in sightings if s[4] and visit.start - 0.5 <= s[0] <= visit.end + 0.5]
                scores = ", ".join(
                    f"{label} {score:.2f}/{'-' if person is None else f'{person:.2f}'}"
                    for _, label, score, person, _ in animals
                )
                print(f"| {number} ({visit.start:g}-{visit.end:g} s) | {shown or '-'} | {scores or '-'} |")
            print(f"visits with a person event: {people} of {len(truth.persons)}")


if __name__ == "__main__":
    main()
