"""Find the smallest person `homewarden analyze` finds, by day and in a grey, noisy night picture.

    python bench/small_person.py [--heights 200 120 80 50 30] [--seconds 50] [--pictures day night]

The footage is made from real video: the first --seconds of the shared one-by-one clip (people walking into an
office, one at a time) shrunk so its visitors stand about H px tall, pasted picture-in-picture into the first frame of
the shared parking-lot clip (a real 1280x720 outdoor view), written with PyAV. "Night" is the same picture made grey
(no colour), darkened to a third and given Gaussian sensor noise (sigma 6), as an infrared camera delivers. Each clip
is analysed by the whole command (defaults, a fresh folder); a visit is found when a person event overlaps it. Not a
test: record the numbers in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

from pipeline import ONE_BY_ONE

BACKGROUND = ONE_BY_ONE.parent.parent / "real" / "parking_lot_ipcam_hevc_aac.mp4"
# The visits of the one-by-one clip (tests/camera/test_one_by_one.py) and the height its visitors stand in its
# 432-line picture near the camera (about 400 px, from detector boxes; about half that at the door).
VISITS = [(6.0, 19.0), (23.0, 44.0), (50.0, 70.0), (75.0, 87.0), (92.0, 119.0), (124.0, 136.0)]
PERSON_HEIGHT = 400
Image = npt.NDArray[np.uint8]


def first_frame(path: Path) -> Image:
    """Return a video's first frame as BGR."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        image: Image = frame.to_ndarray(format="bgr24")
        return image


def night(image: Image, rng: np.random.Generator) -> Image:
    """Return the picture grey, dark and noisy, as an infrared camera at night gives it."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) / 3.0 + 10.0
    noisy = np.clip(grey + rng.normal(0.0, 6.0, grey.shape), 0, 255).astype(np.uint8)
    return cv2.cvtColor(noisy, cv2.COLOR_GRAY2BGR)


def make_clip(out: Path, height: int, seconds: float, is_night: bool) -> None:
    """Write the one-by-one clip shrunk to put its visitors at `height` px into the parking-lot background."""
    background = first_frame(BACKGROUND)
    scale = height / PERSON_HEIGHT
    rng = np.random.default_rng(7)
    with av.open(str(ONE_BY_ONE)) as source, av.open(str(out), "w") as target:
        stream = target.add_stream("libx264", rate=10)
        stream.width, stream.height = background.shape[1], background.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for frame in source.decode(video=0):
            if frame.time is not None and frame.time > seconds:
                break
            room = frame.to_ndarray(format="bgr24")
            small = cv2.resize(room, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            picture = background.copy()
            h, w = small.shape[:2]
            # Bottom right, where the parking lot's own pedestrian walks: a plausible place for a person.
            y, x = picture.shape[0] - h - 40, picture.shape[1] - w - 40
            picture[y : y + h, x : x + w] = small
            if is_night:
                picture = night(picture, rng)
            out_frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
            for packet in stream.encode(out_frame):
                target.mux(packet)
        for packet in stream.encode():
            target.mux(packet)


def found_visits(clip: Path, seconds: float) -> tuple[int, int, int]:
    """Run the command on a clip; return visits found, visits in the clip and person events outside any visit."""
    with tempfile.TemporaryDirectory(prefix="small-person-") as folder:
        command = [sys.executable, "-m", "homewarden", "analyze", str(clip), "--json", "--quiet"]
        command += ["--out", str(Path(folder) / "media")]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"homewarden analyze failed:\n{done.stderr.strip()}")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    people = [(e["start"], e["end"]) for e in events if e["label"] == "person"]
    visits = [(a, min(b, seconds)) for a, b in VISITS if a < seconds - 2]
    found = sum(any(s <= b + 0.5 and e >= a - 0.5 for s, e in people) for a, b in visits)
    false = sum(not any(s <= b + 0.5 and e >= a - 0.5 for a, b in visits) for s, e in people)
    return found, len(visits), false


def main() -> None:
    """Make the clips, analyse them and print visits found per person height, day and night."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heights", type=int, nargs="+", default=[200, 120, 80, 50, 30])
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--pictures", nargs="+", choices=["day", "night"], default=["day", "night"])
    args = parser.parse_args()
    print("person height  picture  visits found  false person events")
    with tempfile.TemporaryDirectory(prefix="small-person-clips-") as folder:
        for height in args.heights:
            for picture in args.pictures:
                clip = Path(folder) / f"person-{height}-{picture}.mp4"
                make_clip(clip, height, args.seconds, picture == "night")
                found, total, false = found_visits(clip, args.seconds)
                print(f"{height:>10} px  {picture:>7}  {found:>5}/{total}  {false:>12}", flush=True)


if __name__ == "__main__":
    main()
