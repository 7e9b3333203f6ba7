"""Soak `homewarden run`: N cameras of the shared one-by-one footage, looped at real-time pace, for minutes.

Measures what a household needs from a hub left alone: cameras that stay up (none dead), every visit an event on
every camera, resident memory flat after warm-up, and the cores used per camera, next to the cores that decoding the
same footage alone needs (the floor no analysis can go under). Not a test: the machine is shared and noisy; run it
on a quiet machine and write the numbers in docs/benchmarks.md.

    .venv/bin/python bench/soak.py --cameras 16 --minutes 10
    .venv/bin/python bench/soak.py --cameras 1 --minutes 10 --size 1280x720
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

REPO = Path(__file__).resolve().parents[1]
ONE_BY_ONE = REPO.parent / "shared" / "datasets" / "video" / "one-by-one-person-detection.mp4"
# When each of the six people is in the room, in seconds of the footage (tests/camera/test_one_by_one.py).
VISITS = [(6, 19), (23, 44), (50, 70), (75, 87), (92, 119), (124, 136)]
# A visit counts as due once it ended this long before the hub stopped (event end 4 s + post-roll 5 s + slack).
VISIT_SETTLES = 12.0
SAMPLE_SECONDS = 5.0
PASSPHRASE = "soak benchmark passphrase"
TICKS = os.sysconf("SC_CLK_TCK")


def scaled_copy(source: Path, size: str, folder: Path) -> Path:
    """Return the footage re-encoded at ``size`` (WxH) with libx264, made once into ``folder``."""
    width, height = (int(part) for part in size.split("x"))
    target = folder / f"{source.stem}-{width}x{height}.mp4"
    if target.exists():
        return target
    partial = target.with_suffix(".partial.mp4")
    with av.open(str(source)) as inp, av.open(str(partial), "w") as out:
        stream_in = inp.streams.video[0]
        rate = stream_in.average_rate or Fraction(10)
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(int(rate))}
        for frame in inp.decode(stream_in):
            scaled = frame.reformat(width=width, height=height, format="yuv420p")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    partial.rename(target)
    return target


def decode_cores(video: Path) -> tuple[float, float]:
    """Return (cores that decoding the video at real-time pace takes, the video's length in seconds)."""
    started = time.process_time()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            pass
        seconds = float(stream.duration * stream.time_base) if stream.duration else float(container.duration) / 1e6
    return (time.process_time() - started) / seconds, seconds


def write_config(folder: Path, video: Path, cameras: int) -> Path:
    """Write a config with ``cameras`` looping cameras of ``video`` and storage under ``folder``."""
    lines = [f"storage:\n  folder: {folder / 'data'}\n", "cameras:\n"]
    lines += [f"  cam{index:02d}:\n    source: {video}\n    loop: true\n" for index in range(cameras)]
    config = folder / "soak.yaml"
    config.write_text("".join(lines))
    return config


def process_sample(pid: int) -> tuple[float, int]:
    """Return the process's CPU seconds (all threads) and resident memory in bytes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    rss_kib = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS")
    )
    return cpu, rss_kib * 1024


def hub_status(config: Path) -> dict[str, Any]:
    """Return what `homewarden status --json` says."""
    result = subprocess.run(
        [sys.executable, "-m", "homewarden", "status", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    return dict(json.loads(result.stdout)) if result.stdout else {}


def due_visits(run_seconds: float, video_seconds: float) -> list[tuple[float, float]]:
    """Return the visits (seconds since the cameras started) that had ended, with time to settle, in the run."""
    due = []
    for loop in range(int(run_seconds // video_seconds) + 1):
        for enter, leave in VISITS:
            if loop * video_seconds + leave + VISIT_SETTLES <= run_seconds:
                due.append((loop * video_seconds + enter, loop * video_seconds + leave))
    return due


def match_visits(database: Path, run_seconds: float, video_seconds: float) -> dict[str, dict[str, int]]:
    """Match each camera's events to the visits that were due, by time; return counts per camera.

    The cameras start together, so one offset serves all: the median over cameras of (first event start - the
    first visit's entry). A visit is ``seen`` when an event of any label overlaps it, ``person`` when a person event
    does, ``missed`` when none does, ``doubled`` when more than one does (one person, two events); ``merged`` counts
    events that cover two visits (people a few seconds apart).
    """
    with sqlite3.connect(database) as connection:
        rows = connection.execute("select camera, label, start, end from event order by camera, start").fetchall()
    events: dict[str, list[tuple[str, float, float]]] = {}
    for camera, label, start, end in rows:
        events.setdefault(camera, []).append((label, start, end))
    firsts = [next((s for label, s, _ in found if label == "person"), found[0][1]) for found in events.values()]
    offset = statistics.median(firsts) - VISITS[0][0] - 0.6
    visits = [(offset + enter, offset + leave) for enter, leave in due_visits(run_seconds, video_seconds)]
    result = {}
    for camera, found in events.items():
        counts = {"due": len(visits), "seen": 0, "person": 0, "missed": 0, "merged": 0, "doubled": 0}
        for enter, leave in visits:
            overlapping = [label for label, start, end in found if start <= leave and end >= enter]
            counts["seen"] += bool(overlapping)
            counts["person"] += "person" in overlapping
            counts["missed"] += not overlapping
            counts["doubled"] += len(overlapping) > 1
        counts["merged"] = sum(
            1 for _, start, end in found if sum(1 for enter, leave in visits if start <= leave and end >= enter) > 1
        )
        result[camera] = counts
    return result


def soak(video: Path, cameras: int, minutes: float, keep: Path | None) -> dict[str, Any]:
    """Run the hub and return what was measured."""
    from homewarden.store.keys import HomeKeyFile

    folder = Path(tempfile.mkdtemp(prefix="homewarden-soak-", dir=keep))
    config = write_config(folder, video, cameras)
    HomeKeyFile.in_folder(folder / "data").create(PASSPHRASE)
    log = (folder / "hub.log").open("w")
    hub = subprocess.Popen(
        [sys.executable, "-m", "homewarden", "run", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    samples: list[tuple[float, float, int]] = []
    started = time.monotonic()
    dead_seen: set[str] = set()
    status: dict[str, Any] = {}
    try:
        while time.monotonic() - started < minutes * 60:
            time.sleep(SAMPLE_SECONDS)
            if hub.poll() is not None:
                raise SystemExit(f"the hub exited with {hub.returncode}; see {folder / 'hub.log'}")
            cpu, rss = process_sample(hub.pid)
            samples.append((time.monotonic() - started, cpu, rss))
            status = hub_status(config)
            for name, camera in status.get("cameras", {}).items():
                if camera["state"] in ("failed", "stopped") or (
                    camera["state"] == "reconnecting" and time.monotonic() - started > 30
                ):
                    dead_seen.add(name)
        run_seconds = time.monotonic() - started
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=120)
    finally:
        if hub.poll() is None:
            hub.kill()
        log.close()
    warm = [s for s in samples if s[0] >= min(120.0, run_seconds / 3)]
    first_minute = [rss for at, _, rss in warm if at < warm[0][0] + 60]
    last_minute = [rss for at, _, rss in warm if at > run_seconds - 60]
    cores = (samples[-1][1] - warm[0][1]) / (samples[-1][0] - warm[0][0])
    _, video_seconds = decode_cores(video)
    visits = match_visits(folder / "data" / "homewarden.db", run_seconds - 3.0, video_seconds)
    (folder / "samples.json").write_text(json.dumps([{"at": at, "cpu": cpu, "rss": rss} for at, cpu, rss in samples]))
    # The same moment of the footage comes round once a pass: the peak of each pass compares like with like (an
    # open clip is held in memory while it is sealed, so memory rises and falls with the visits).
    peaks = [
        max(rss for at, _, rss in samples if start <= at < start + video_seconds)
        for start in [index * video_seconds for index in range(int(run_seconds // video_seconds))]
    ]
    return {
        "pass_peaks": peaks,
        "folder": str(folder),
        "seconds": run_seconds,
        "cores": cores,
        "rss_after_warmup": statistics.median(first_minute),
        "rss_at_end": statistics.median(last_minute),
        "dead": sorted(dead_seen),
        "visits": visits,
        "status": status,
        "exit": hub.returncode,
    }


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", help="re-encode the footage at WxH first, e.g. 1280x720")
    parser.add_argument("--video", type=Path, default=ONE_BY_ONE)
    parser.add_argument("--keep", type=Path, help="make the hub's folder under this folder (default: system temp)")
    args = parser.parse_args()
    if not args.video.is_file():
        raise SystemExit(f"{args.video} is missing (the shared datasets folder sits beside the repository)")
    video = scaled_copy(args.video, args.size, Path(tempfile.gettempdir())) if args.size else args.video
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        size = f"{stream.codec_context.width}x{stream.codec_context.height}"
    decode_per_camera, _ = decode_cores(video)
    result = soak(video, args.cameras, args.minutes, args.keep)
    per_camera = result["cores"] / args.cameras
    growth = result["rss_at_end"] / result["rss_after_warmup"] - 1
    cameras = result["status"].get("cameras", {})
    fps = [camera["frames_per_second"] for camera in cameras.values()]
    dropped = sum(camera["frames_dropped"] for camera in cameras.values())
    visits = result["visits"]
    keys = ("due", "seen", "person", "missed", "doubled", "merged")
    totals = {key: sum(counts[key] for counts in visits.values()) for key in keys}
    print(
        f"footage: {video.name} ({size}), {args.cameras} camera(s), {result['seconds'] / 60:.1f} min, "
        f"exit {result['exit']}"
    )
    print(f"dead cameras: {len(result['dead'])} {result['dead'] or ''}")
    print(
        f"visits due: {totals['due']} ({args.cameras} camera(s)); with an event: {totals['seen']}, of them a person "
        f"event: {totals['person']}; missed: {totals['missed']}; with two events: {totals['doubled']}; events "
        f"covering two visits: {totals['merged']}"
    )
    print(f"per camera: {visits}")
    print(
        f"cores used: {result['cores']:.2f} in all, {per_camera:.3f} per camera; decoding alone: "
        f"{decode_per_camera:.3f} per camera (ratio {per_camera / decode_per_camera:.1f}x)"
    )
    print(
        f"resident memory: {result['rss_after_warmup'] / 2**20:.0f} MiB after warm-up, "
        f"{result['rss_at_end'] / 2**20:.0f} MiB at the end ({growth:+.1%})"
    )
    peaks = " → ".join(f"{peak / 2**20:.0f}" for peak in result["pass_peaks"])
    print(f"resident memory, peak of each pass over the footage: {peaks} MiB")
    if fps:
        print(
            f"analysed frames/s per camera at the end: {min(fps):.1f}-{max(fps):.1f}; frames dropped in all: {dropped}"
        )
    print(f"hub folder (log, database): {result['folder']}")


if __name__ == "__main__":
    main()
