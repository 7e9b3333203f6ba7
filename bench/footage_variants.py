"""Score `homewarden analyze` on altered copies of the annotated shared clips, a stand-in for footage never seen.

    python bench/footage_variants.py [--variants a b c d e] [--only FILE ...] [--work DIR] [--config FILE] [--json]

Each clip of ../shared/datasets/real and ../shared/datasets/video (ground truth in bench/manifests/real.json and
video.json) is copied once per variant from the picture as players show it (turned upright, pixels made square),
written with PyAV as H.264 (libx264, crf 20 unless the variant says otherwise; no sound):

  a  1080p: upscaled to 1920 px wide (1920x1080 for 16:9 clips), as a 1080p camera gives it: analysed at 1280, with
     full-resolution crops for small motion;
  b  640 wide: downscaled to 640 px wide (clips that are not wider keep their size, only re-encoded);
  c  night: grey, a third as bright, Gaussian noise sigma 6 (bench/small_person.py's picture);
  d  10 fps: frames resampled to 10 per second (clips at 10 fps or less keep their rate);
  e  crf 35: compressed harder (libx264 crf 35);
  r  re-encoded: nothing altered but the encoding every variant also has (crf 20, constant rate, no sound): the control;
  i  interlaced: each picture woven from two fields a source frame apart (the top field from the earlier frame),
     encoded interlaced (x264 MBAFF, top field first), as analogue-era cameras, DVRs and 1080i recorders give it;
     the fields are a source frame apart (33-42 ms at 24-30 fps, 100 ms at 10 fps), where 50i and 60i fields are
     17-20 ms apart: moving people comb two to five times as wide as such a camera shows them;
  j  full range: the same pictures written full range (yuvj420p, levels 0-255, colour range "pc"), as many IP
     cameras send them, where the other copies are limited range (16-235, "tv") as most recorders and phones write;
  o  clock overlay: a date and time burnt in top-left that changes every second, as nearly every IP camera draws it
     (white on a black outline, text about 3.5 % of the picture height, like /work/briefs/osd-one-by-one.mp4), and a
     still "Camera 01" bottom-right.

The unaltered clip and every copy are analysed by the whole command and scored by the scorer of
bench/detection_eval.py (its functions, imported), the manifest's boxes scaled to the size analyze reports boxes at
for the copy. Prints per variant and clip: person visits found, false person events, person alarms, pet-only alarms,
detector calls, each with its change against the unaltered clip, and the events of every copy that scored differently.
--work DIR keeps the copies (DIR/VARIANT/CLIP.mp4, for bench/visit_trace.py), the events (DIR/VARIANT/CLIP.jsonl;
`original` for the unaltered clip) and the detector calls (DIR/VARIANT/CLIP.calls) and reuses whatever is there on
the next run, so a long run can be done in parts. Not a test: record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from detection_eval import analyse_clip
from detection_scoring import ClipScore, events_from_json_lines, parse_manifest, score_clip, total_score
from homewarden.camera.runner import detect_size_for
from homewarden.config import HomewardenConfig, load_config, single_source_config
from homewarden.video.display import AsDisplayed, display_turn, pixel_stretch
from homewarden.video.source import StreamInfo
from small_person import Image, night

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
FOLDERS = (
    (DATASETS / "real", REPO / "bench" / "manifests" / "real.json"),
    (DATASETS / "video", REPO / "bench" / "manifests" / "video.json"),
)
ORIGINAL = "original"
CRF = 20
NOISE_SEED = 7
# The clock variant's first time (any will do; a fixed one keeps the copies the same from run to run).
CLOCK_START = datetime(2024, 12, 7, 11, 13, 0)
# cv2.putText's scale for a 432 px high picture: text about 15 px (3.5 %) high, as IP cameras size their clock.
CLOCK_SCALE_AT_432 = 0.7


@dataclass(frozen=True)
class Variant:
    """One way of altering a clip: its picture size, frame rate, picture and compression."""

    key: str
    name: str
    size: Callable[[int, int], tuple[int, int]] = lambda width, height: (width, height)
    rate: Callable[[Fraction], Fraction] = lambda rate: rate
    picture: Callable[[Image, np.random.Generator], Image] | None = None
    # Drawn last, on the written picture, with the frame's time in seconds from the clip's start.
    stamp: Callable[[Image, float], Image] | None = None
    crf: int = CRF
    interlaced: bool = False
    full_range: bool = False


def even(value: float) -> int:
    """Return the value rounded to an even whole number (H.264 in 4:2:0 needs even sizes)."""
    return max(2, round(value / 2) * 2)


def to_width(target: int, enlarge: bool) -> Callable[[int, int], tuple[int, int]]:
    """Return a size rule scaling a picture to `target` px wide, keeping its shape (only if `enlarge` says so)."""

    def size(width: int, height: int) -> tuple[int, int]:
        if width == target or (width < target) != enlarge:
            return width, height
        return target, even(height * target / width)

    return size


def outlined_text(image: Image, text: str, origin: tuple[int, int], scale: float) -> None:
    """Draw white text on a black outline in place, as camera overlays are drawn to read on any background."""
    outline, stroke = max(2, round(4 * scale / CLOCK_SCALE_AT_432)), max(1, round(1.5 * scale / CLOCK_SCALE_AT_432))
    for colour, thickness in (((0, 0, 0), outline), ((255, 255, 255), stroke)):
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def clock_overlay(image: Image, seconds: float) -> Image:
    """Return the picture with a camera's date and time top-left (whole seconds) and its name bottom-right."""
    height, width = image.shape[:2]
    scale = CLOCK_SCALE_AT_432 * height / 432
    stamped = image.copy()
    clock = (CLOCK_START + timedelta(seconds=int(seconds))).strftime("%Y-%m-%d %a %H:%M:%S")
    margin = round(12 * height / 432)
    outlined_text(stamped, clock, (margin, margin + round(18 * height / 432)), scale)
    (name_width, _), _ = cv2.getTextSize("Camera 01", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    outlined_text(stamped, "Camera 01", (width - name_width - 4 * margin, height - 2 * margin), scale)
    return stamped


VARIANTS = {
    variant.key: variant
    for variant in (
        Variant("a", "1080p", size=to_width(1920, enlarge=True)),
        Variant("b", "640 wide", size=to_width(640, enlarge=False)),
        Variant("c", "night", picture=night),
        Variant("d", "10 fps", rate=lambda rate: min(rate, Fraction(10))),
        Variant("e", "crf 35", crf=35),
        # The control: what re-encoding alone (crf 20, constant rate, no sound) changes, which every variant also does.
        Variant("r", "re-encoded"),
        Variant("i", "interlaced", interlaced=True),
        Variant("j", "full range", full_range=True),
        Variant("o", "clock overlay", stamp=clock_overlay),
    )
}


def bgr(frame: av.VideoFrame) -> Image:
    """Return a decoded frame's picture as BGR."""
    return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def write_variant(
    source: Path, out: Path, variant: Variant, source_rate: Fraction, seconds: float | None = None
) -> tuple[int, int, Fraction]:
    """Write the variant of a clip (its first `seconds` only, if given); return its width, height and frame rate."""
    rng = np.random.default_rng(NOISE_SEED)
    rate = variant.rate(source_rate)
    # Each output frame shows the source frame nearest its time: ticks before a frame's time less half a source
    # frame still show the frame before it.
    half_frame = 0.5 / float(source_rate)
    with av.open(str(source)) as container, av.open(str(out), "w") as target:
        # The picture as players show it (and analyze sees it): turned by its display matrix, pixels made square.
        turn = display_turn(str(source))
        video = container.streams.video[0]
        stretch = pixel_stretch(video.sample_aspect_ratio or video.codec_context.sample_aspect_ratio)
        as_shown = AsDisplayed(turn, stretch) if turn or stretch else (lambda frame: frame)
        frames = (as_shown(frame) for frame in container.decode(video))
        first = next(frames)
        width, height = variant.size(first.width, first.height)
        stream = target.add_stream("libx264", rate=rate)
        stream.width, stream.height = width, height
        # libx264 writes the full-range flag (colour range "pc") for yuvj420p; FFmpeg's conversion fills 0-255.
        stream.pix_fmt = "yuvj420p" if variant.full_range else "yuv420p"
        stream.options = {"preset": "veryfast", "crf": str(variant.crf)}
        if variant.interlaced:
            stream.options["x264-params"] = "interlaced=1:tff=1"
        earlier: list[Image] = []

        def emit(image: Image, tick: int) -> None:
            if (image.shape[1], image.shape[0]) != (width, height):
                shrink = width < image.shape[1]
                interpolation = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
                image = np.asarray(cv2.resize(image, (width, height), interpolation=interpolation), dtype=np.uint8)
            if variant.interlaced:
                # The top field (even rows) from the frame before, the bottom field from this one.
                woven = image.copy()
                woven[0::2] = (earlier or [image])[-1][0::2]
                earlier[:] = [image]
                image = woven
            if variant.picture is not None:
                image = variant.picture(image, rng)
            if variant.stamp is not None:
                image = variant.stamp(image, tick / float(rate))
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = tick
            for packet in stream.encode(frame):
                target.mux(packet)

        start = first.time or 0.0
        previous, last_time, tick = bgr(first), 0.0, 0
        for index, frame in enumerate(frames, start=1):
            # Times from the clip's start, as the manifest counts them (a camera recording may not start at 0).
            at = (frame.time - start) if frame.time is not None else index / float(source_rate)
            if seconds is not None and at >= seconds:
                break
            while tick / rate < at - half_frame:
                emit(previous, tick)
                tick += 1
            previous, last_time = bgr(frame), at
        while tick / rate < last_time + half_frame:
            emit(previous, tick)
            tick += 1
        for packet in stream.encode():
            target.mux(packet)
    return width, height, rate


def analysed_size(width: int, height: int, config: HomewardenConfig) -> tuple[int, int]:
    """Return the size analyze looks at (and reports boxes at) for a clip of this size."""
    camera_config, camera = single_source_config("clip.mp4", config)
    info = StreamInfo(codec="h264", width=width, height=height, fps=10.0, time_base=Fraction(1, 1000), live=False)
    return detect_size_for(camera_config, camera, info)


def scaled_entry(entry: dict[str, Any], scale: tuple[float, float]) -> dict[str, Any]:
    """Return a manifest entry with its visits' track boxes and its ignored spans' boxes scaled by (x, y)."""
    sx, sy = scale
    scaled = copy.deepcopy(entry)
    for visit in scaled.get("persons", []):
        for track in visit[2:]:
            for keyframe in track:
                keyframe[1:] = [keyframe[1] * sx, keyframe[2] * sy, keyframe[3] * sx, keyframe[4] * sy]
    for span in scaled.get("ignore", []):
        if len(span) > 3:
            x1, y1, x2, y2 = span[3]
            span[3] = [x1 * sx, y1 * sy, x2 * sx, y2 * sy]
    return scaled


def variant_entry(
    entry: dict[str, Any], width: int, height: int, rate: Fraction, config: HomewardenConfig
) -> dict[str, Any]:
    """Return the manifest entry of a clip's variant written at this size and rate (boxes at the analysed size)."""
    # Manifest boxes are in the unaltered clip's pixels, which (up to 1280 wide) is the size analyze reports its
    # boxes at; the copy's events come at the copy's analysed size.
    analysed_width, analysed_height = analysed_size(width, height, config)
    scaled = scaled_entry(entry, (analysed_width / entry["width"], analysed_height / entry["height"]))
    scaled.update(width=width, height=height, fps=round(float(rate), 3))
    return scaled


@dataclass
class Row:
    """One clip's score in one variant, beside the unaltered clip's."""

    variant: str
    score: ClipScore
    original: ClipScore
    events: str
    calls: int
    original_calls: int


def events_for(clip: Path, saved: Path, config: Path | None) -> tuple[str, int]:
    """Return analyze's JSON lines and detector calls for a clip: saved ones if there, else analyse it and save them."""
    counted = saved.with_suffix(".calls")
    if saved.is_file() and counted.is_file():
        return saved.read_text(encoding="utf-8"), int(counted.read_text(encoding="utf-8"))
    output, wall, calls = analyse_clip(clip, config)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(output, encoding="utf-8")
    counted.write_text(str(calls), encoding="utf-8")
    print(f"{saved.parent.name}/{clip.name}: analysed in {wall:.0f} s, {calls} calls", file=sys.stderr, flush=True)
    return output, calls


def entries_to_run(only: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    """Return each chosen clip's folder and manifest entry (every annotated clip when `only` is empty)."""
    chosen = []
    for folder, manifest in FOLDERS:
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            if not only or entry["file"] in only:
                chosen.append((folder, entry))
    unknown = set(only) - {entry["file"] for _, entry in chosen}
    if unknown:
        sys.exit(f"in no manifest: {', '.join(sorted(unknown))}")
    return chosen


def run(variants: list[Variant], only: list[str], work: Path, config_path: Path | None) -> list[Row]:
    """Write, analyse and score every chosen variant of every chosen clip."""
    config = load_config(config_path) if config_path is not None else HomewardenConfig()
    rows = []
    for folder, entry in entries_to_run(only):
        name = entry["file"]
        original_events, original_calls = events_for(folder / name, work / ORIGINAL / f"{name}.jsonl", config_path)
        original = score_clip(parse_manifest([entry])[0], events_from_json_lines(original_events))
        for variant in variants:
            clip = work / variant.key / f"{Path(name).stem}.mp4"
            described = clip.with_suffix(".json")
            if not described.is_file():
                clip.parent.mkdir(parents=True, exist_ok=True)
                size_and_rate = write_variant(
                    folder / name, clip, variant, Fraction(entry["fps"]).limit_denominator(1001)
                )
                described.write_text(json.dumps(variant_entry(entry, *size_and_rate, config)), encoding="utf-8")
            truth = parse_manifest([json.loads(described.read_text(encoding="utf-8"))])[0]
            output, calls = events_for(clip, work / variant.key / f"{name}.jsonl", config_path)
            score = score_clip(truth, events_from_json_lines(output))
            rows.append(Row(variant.key, score, original, output, calls, original_calls))
    return rows


def change(value: int, before: int) -> str:
    """Format a count with its change against the unaltered clip's."""
    return f"{value}" if value == before else f"{value} ({value - before:+d})"


COUNTS: tuple[tuple[str, Callable[[ClipScore], int]], ...] = (
    ("visits", lambda s: s.visits_found),
    ("false", lambda s: s.false_person_events),
    ("alarms", lambda s: s.person_alarms),
    ("pet-only", lambda s: s.pet_only_alarms),
    ("animals", lambda s: s.animals_found),
)


def differs(row: Row) -> bool:
    """Say whether a variant scored differently from the unaltered clip."""
    return any(count(row.score) != count(row.original) for _, count in COUNTS)


def print_table(rows: list[Row], variants: list[Variant]) -> None:
    """Print one line per variant and clip, a total per variant, and the events of every copy that scored otherwise."""
    titles = [title for title, _ in COUNTS] + ["calls"]
    print(f"{'variant':<12} {'clip':<44} " + " ".join(f"{title:>12}" for title in titles))
    # The unaltered clips first, once (every variant's rows carry the same ones), then each variant against them.
    first = [row for row in rows if row.variant == variants[0].key]
    groups = [(ORIGINAL, [(row.original, row.original, row.original_calls, row.original_calls) for row in first])]
    for variant in variants:
        chosen = [
            (row.score, row.original, row.calls, row.original_calls) for row in rows if row.variant == variant.key
        ]
        groups.append((f"{variant.key} {variant.name}", chosen))
    for title, quads in groups:
        total = (
            total_score(score for score, _, _, _ in quads),
            total_score(original for _, original, _, _ in quads),
            sum(calls for _, _, calls, _ in quads),
            sum(calls for _, _, _, calls in quads),
        )
        for score, original, calls, original_calls in [*quads, total]:
            counts = []
            for name, count in COUNTS:
                text = change(count(score), count(original))
                if name in ("visits", "animals"):
                    whole = score.visits if name == "visits" else score.animals
                    text = f"{count(score)}/{whole}" + text[len(str(count(score))) :]
                counts.append(f"{text:>12}")
            counts.append(f"{change(calls, original_calls):>12}")
            print(f"{title:<12} {score.file[:44]:<44} " + " ".join(counts))
    for row in rows:
        if differs(row):
            events = events_from_json_lines(row.events)
            listed = ", ".join(
                f"{e.label} {e.start:g}-{e.end:g}{' ALARM' if e.alarm else ''}"
                f"{f' at {e.box[0]:.0f},{e.box[1]:.0f}-{e.box[2]:.0f},{e.box[3]:.0f}' if e.box else ''}"
                f"{f' ({e.box_time:g} s)' if e.box_time is not None else ''}"
                for e in events
            )
            print(f"  {row.variant} {row.score.file}: {listed or 'no events'}")


def main() -> None:
    """Make the chosen variants of the chosen clips, analyse and score them against the unaltered clips."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=sorted(VARIANTS))
    parser.add_argument("--only", nargs="+", default=[], metavar="FILE", help="only these clips (default: all)")
    parser.add_argument("--work", type=Path, help="keep copies and events here and reuse them (default: temporary)")
    parser.add_argument("--config", type=Path, help="a homewarden config to analyse with (default: none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    variants = [VARIANTS[key] for key in args.variants]
    with tempfile.TemporaryDirectory(prefix="footage-variants-") as temporary:
        rows = run(variants, args.only, args.work or Path(temporary), args.config)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "variant": row.variant,
                        "score": row.score.as_json(),
                        "original": row.original.as_json(),
                        "calls": row.calls,
                        "original_calls": row.original_calls,
                    }
                    for row in rows
                ]
            )
        )
        return
    print_table(rows, variants)


if __name__ == "__main__":
    main()
