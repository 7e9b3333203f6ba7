"""Draw a manifest's person boxes on frames of a clip, to check an annotation by eye.

    python bench/draw_visits.py CLIP --manifest bench/manifests/video.json --at 6 6.5 7 19 19.5 --out sheet.png
    python bench/draw_visits.py CLIP --manifest M --at 38 42 --events analyze.jsonl --crop 960,0,1160,100 --scale 4

Writes one PNG of the frames at the times given (the first frame at or after each), tiled, each labelled with its
time, a grid every 100 clip pixels, every track of the clip's visits at that moment in red (as the scoring reads it:
linear between keyframes, held at the ends) and, with --events (what `homewarden analyze CLIP --json` printed), each
person event's box in blue while the event runs. --crop x1,y1,x2,y2 cuts a part of the clip's picture before
--scale. Not a test: view the PNG, move the keyframes, draw again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import av
import cv2
import numpy as np

from detection_scoring import ClipTruth, SeenEvent, events_from_json_lines, parse_manifest

RED, BLUE, GREY, YELLOW = (0, 0, 255), (255, 0, 0), (180, 180, 180), (0, 255, 255)
GRID = 100


def frames_at(clip: Path, times: list[float]) -> dict[float, np.ndarray]:
    """Decode the clip once; return the first frame at or after each time (seconds from its first frame)."""
    wanted, found = sorted(set(times)), {}
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        first = None
        for frame in container.decode(stream):
            at = float(frame.time) if frame.time is not None else 0.0
            first = at if first is None else first
            while wanted and at - first >= wanted[0] - 1e-3:
                found[wanted.pop(0)] = frame.to_ndarray(format="bgr24")
            if not wanted:
                break
    return found


def draw(image: np.ndarray, at: float, truth: ClipTruth, events: list[SeenEvent]) -> None:
    """Draw the grid, the tracks in view at `at` and the person events running then, in place."""
    height, width = image.shape[:2]
    for x in range(0, width, GRID):
        cv2.line(image, (x, 0), (x, height), GREY, 1)
    for y in range(0, height, GRID):
        cv2.line(image, (0, y), (width, y), GREY, 1)
    for visit in truth.persons:
        if visit.start - 0.5 <= at <= visit.end + 0.5:
            for track in visit.tracks:
                x1, y1, x2, y2 = track.box_at(at)
                cv2.rectangle(image, (round(x1), round(y1)), (round(x2), round(y2)), RED, 1)
    for event in events:
        if event.label == "person" and event.box is not None and event.start <= at <= event.end:
            x1, y1, x2, y2 = event.box
            cv2.rectangle(image, (round(x1), round(y1)), (round(x2), round(y2)), BLUE, 1)


def main() -> None:
    """Write the sheet."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", type=Path)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--at", type=float, nargs="+", required=True, metavar="SECONDS")
    parser.add_argument("--events", type=Path, help="the JSON lines `homewarden analyze CLIP --json` printed")
    parser.add_argument("--crop", help="x1,y1,x2,y2 in the clip's pixels")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--columns", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("visits.png"))
    args = parser.parse_args()
    clips = {clip.file: clip for clip in parse_manifest(json.loads(args.manifest.read_text(encoding="utf-8")))}
    if args.clip.name not in clips:
        sys.exit(f"{args.clip.name} is not in {args.manifest}")
    events = events_from_json_lines(args.events.read_text(encoding="utf-8")) if args.events else []
    frames = frames_at(args.clip, args.at)
    tiles = []
    for at in args.at:
        if at not in frames:
            continue
        image = frames[at].copy()
        draw(image, at, clips[args.clip.name], events)
        if args.crop:
            x1, y1, x2, y2 = (int(value) for value in args.crop.split(","))
            image = image[y1:y2, x1:x2]
        image = cv2.resize(image, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_NEAREST)
        cv2.putText(image, f"{at:g} s", (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, YELLOW, 2)
        tiles.append(image)
    if not tiles:
        sys.exit("no frame at those times")
    blank = np.zeros_like(tiles[0])
    rows = [tiles[i : i + args.columns] for i in range(0, len(tiles), args.columns)]
    sheet = np.vstack([np.hstack(row + [blank] * (args.columns - len(row))) for row in rows])
    cv2.imwrite(str(args.out), sheet)
    print(f"{args.out}: {len(tiles)} frames")


if __name__ == "__main__":
    main()
