"""Run `homewarden analyze` on every clip of a folder and score its events against the folder's ground truth.

    python bench/detection_eval.py ../shared/datasets/real --manifest bench/manifests/real.json
    python bench/detection_eval.py ../shared/datasets/video --manifest bench/manifests/video.json --json

Each clip is analysed by the real command (`python -m homewarden analyze CLIP --json --quiet --out TMP`, in a fresh
temporary folder, defaults only unless --config is given), as a user runs it. The manifest is DIR/manifest.json unless
--manifest names another; its format is in bench/detection_scoring.py and docs/benchmarks.md. Prints per clip and in
total: person visit recall, false person events per hour, person alarms (one per intrusion) per visit, visits covered by
an alarm, pet-only alarms, vehicle events (and those on parked vehicles), animals found, animal events on no annotated
animal ("no-animal"), the delay from a person's first appearance to the event, and split visits (a visit's person, a
track of the manifest, with more than one person event on them; the count of person events on each visit is printed
under the clip's events). Person events are judged by where they are as well as when, where the manifest has boxes for a
visit: an event's box is matched with the visit's tracks at the moment it was seen (`box_time`); --whole-event matches
it at any moment of the event, as before analyze printed that moment; --by-time scores by time alone (the boxes
ignored), as before boxes were annotated. --events DIR scores what analyze printed before (DIR/CLIP.jsonl for each clip,
e.g. `homewarden analyze CLIP --json --quiet > DIR/CLIP.jsonl`) instead of running it again. Not a test: record the
numbers in docs/benchmarks.md before and after a change.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from detection_scoring import (
    ClipScore,
    ClipTruth,
    ManifestError,
    events_from_json_lines,
    parse_manifest,
    score_clip,
    total_score,
)

DETECTOR_CALLS = re.compile(r"analysed [\d.]+ s of video: \d+ frames, (\d+) detector calls")


def analyse_clip(path: Path, config: Path | None) -> tuple[str, float, int]:
    """Run the whole `analyze` command on one clip; return its JSON lines, its wall seconds and its detector calls."""
    with tempfile.TemporaryDirectory(prefix="detection-eval-") as folder:
        # -v logs the detector calls (on stderr, apart from the JSON lines).
        command = [sys.executable, "-m", "homewarden", "-v", "analyze", str(path.resolve()), "--json", "--quiet"]
        command += ["--out", str(Path(folder) / "media")]
        if config is not None:
            command += ["--config", str(config.resolve())]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"homewarden analyze {path.name} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    calls = DETECTOR_CALLS.search(done.stderr)
    if calls is None:
        sys.exit(f"homewarden analyze {path.name} logged no detector calls:\n{done.stderr.strip()}")
    return done.stdout, wall, int(calls.group(1))


def read_saved_events(folder: Path, clip: str) -> str:
    """Return the JSON lines analyze printed for a clip earlier, saved as FOLDER/CLIP.jsonl."""
    path = folder / f"{clip}.jsonl"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        sys.exit(f"no saved events for {clip} at {path}")


def read_truth(folder: Path, manifest: Path | None, only: list[str]) -> list[ClipTruth]:
    """Read the manifest and check that every clip it names is in the folder."""
    manifest = manifest or folder / "manifest.json"
    try:
        clips = parse_manifest(json.loads(manifest.read_text(encoding="utf-8")))
    except FileNotFoundError:
        sys.exit(f"no manifest at {manifest} (pass --manifest FILE)")
    except (json.JSONDecodeError, ManifestError) as exc:
        sys.exit(f"{manifest}: {exc}")
    if only:
        unknown = set(only) - {clip.file for clip in clips}
        if unknown:
            sys.exit(f"not in {manifest}: {', '.join(sorted(unknown))}")
        clips = [clip for clip in clips if clip.file in only]
    missing = [clip.file for clip in clips if not (folder / clip.file).is_file()]
    if missing:
        sys.exit(f"missing in {folder}: {', '.join(missing)}")
    return clips


def fmt(value: float | None, digits: int = 2) -> str:
    """Format a number, or '-' where it does not apply."""
    return "-" if value is None else f"{value:.{digits}f}"


def box_text(box: tuple[float, float, float, float]) -> str:
    """Format a box as x1,y1-x2,y2 in whole pixels."""
    return f"{box[0]:.0f},{box[1]:.0f}-{box[2]:.0f},{box[3]:.0f}"


def print_table(rows: list[tuple[ClipScore, float | None]]) -> None:
    """Print one line per clip and the total."""
    header = (
        f"{'clip':<44} {'video s':>7} {'wall s':>6} {'visits':>7} {'recall':>6} {'false':>5} {'false/h':>7} "
        f"{'alarms':>6} {'al/visit':>8} {'alarmed':>7} {'pet-only':>8} {'animals':>7} {'no-animal':>9} "
        f"{'vehicle':>7} {'parked':>6} {'delay med':>9} {'max':>5} {'split':>5}"
    )
    print(header)
    for score, wall in rows:
        print(
            f"{score.file[:44]:<44} {score.duration:7.1f} {fmt(wall, 1):>6} "
            f"{score.visits_found:>3}/{score.visits:<3} {fmt(score.recall):>6} {score.false_person_events:>5} "
            f"{score.false_per_hour:7.1f} {score.person_alarms:>6} {fmt(score.alarms_per_visit):>8} "
            f"{score.visits_alarmed:>3}/{score.visits:<3} "
            f"{score.pet_only_alarms:>8} {score.animals_found:>3}/{score.animals:<3} "
            f"{score.false_animal_events:>9} {score.vehicle_events:>7} "
            f"{score.parked_vehicle_events:>6} {fmt(score.median_delay, 1):>9} {fmt(score.max_delay, 1):>5} "
            f"{score.split_visits:>5}"
        )


def main() -> None:
    """Analyse and score every clip of the folder."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="folder of clips")
    parser.add_argument("--manifest", type=Path, help="ground truth (default: FOLDER/manifest.json)")
    parser.add_argument("--config", type=Path, help="a homewarden config to analyse with (default: none)")
    parser.add_argument("--only", nargs="+", default=[], metavar="FILE", help="score only these clips")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--by-time", action="store_true", help="ignore the events' and the visits' boxes")
    parser.add_argument(
        "--whole-event", action="store_true", help="match an event's box at any moment of the event, not when seen"
    )
    parser.add_argument(
        "--events", type=Path, metavar="DIR", help="score the saved JSON lines DIR/CLIP.jsonl instead of analysing"
    )
    args = parser.parse_args()
    clips = read_truth(args.folder, args.manifest, args.only)
    rows: list[tuple[ClipScore, float | None]] = []
    results = []
    for truth in clips:
        wall: float | None = None
        if args.events is not None:
            output = read_saved_events(args.events, truth.file)
        else:
            output, wall, _ = analyse_clip(args.folder / truth.file, args.config)
        events = events_from_json_lines(output)
        if args.by_time:
            events = [replace(event, box=None, box_time=None) for event in events]
        elif args.whole_event:
            events = [replace(event, box_time=None) for event in events]
        score = score_clip(truth, events)
        rows.append((score, wall))
        results.append(
            score.as_json()
            | {
                "wall_seconds": None if wall is None else round(wall, 2),
                "events": [[e.label, round(e.start, 2), round(e.end, 2), e.alarm, e.box, e.box_time] for e in events],
            }
        )
        if not args.json:
            print(f"{truth.file}: {len(events)} events in {fmt(wall, 1)} s", file=sys.stderr)
    total = total_score(score for score, _ in rows)
    walls = [wall for _, wall in rows if wall is not None]
    if args.json:
        print(json.dumps({"clips": results, "total": total.as_json() | {"wall_seconds": round(sum(walls), 2)}}))
        return
    print_table([*rows, (total, sum(walls) if walls else None)])
    for result in results:
        events = ", ".join(
            f"{label} {start}-{end}{' ALARM' if alarm else ''}{f' at {box_text(box)}' if box else ''}"
            f"{f' ({box_time:g} s)' if box and box_time is not None else ''}"
            for label, start, end, alarm, box, box_time in result["events"]
        )
        print(f"  {result['file']}: {events or 'no events'}")
        if result["person_events_per_visit"]:
            counts = " ".join(str(count) for count in result["person_events_per_visit"])
            print(f"    person events per visit: {counts}")


if __name__ == "__main__":
    main()
