"""Measure the review program's two serial points in the cloud: appends to the one audit chain, and the screen.

The chain is one sequence for every home, appended under a PostgreSQL advisory lock, so its appends per second bound
every reviewer view, label and withdrawal the whole program can record. This appends ``--entries`` entries (one
transaction each, as the API and workers do) from 1 and then ``--processes`` processes on a fresh PostgreSQL
database and prints appends per second and p50/p95 latency. Then it screens a real clip sealed to a program key as a
worker does (open with the key in memory, decode with PyAV, NudeNet at 640), ``--screens`` times, and prints seconds
per copy (the model's load is timed apart). Not a test: timings on a shared machine swing; docs/benchmarks.md keeps
the numbers.

    PYTHONPATH=src .venv/bin/python bench/review_chain.py --entries 400 --processes 4 --screens 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from cloud.review.conftest import seal_to_program  # noqa: E402  (how the hub seals a copy)
from homewarden.cloud.database import CloudDatabase  # noqa: E402
from homewarden.cloud.review.audit import record  # noqa: E402
from homewarden.cloud.review.keys import ProgramKeys  # noqa: E402
from homewarden.privacy.screening import ScreeningPolicy, nude_detector, screen_clip  # noqa: E402
from services import ensure_postgres, fresh_postgres_database  # noqa: E402

CLIP = REPO / "tests" / "data" / "video" / "head-pose-face-detection-female-and-male.gif"


def append(database_url: str, worker: int, count: int) -> list[float]:
    """Append ``count`` entries, one transaction each; return each one's seconds."""
    database = CloudDatabase.open(database_url, migrate=False)
    took = []
    try:
        for number in range(count):
            started = time.perf_counter()
            with database.session() as session:
                record(
                    session,
                    home_id=f"h_bench{worker}",
                    donation_id=f"d_bench_{worker}_{number:06d}",
                    action="view",
                    actor="reviewer:r_0123abcd",
                    details={"number": number},
                )
            took.append(time.perf_counter() - started)
    finally:
        database.close()
    return took


def chain_run(entries: int, processes: int) -> None:
    """Print appends per second from ``processes`` processes sharing ``entries``."""
    with fresh_postgres_database() as url:
        CloudDatabase.open(url, migrate=True).close()
        each = entries // processes
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.starmap(append, [(url, worker, each) for worker in range(processes)])
        wall = time.perf_counter() - started
    latencies = sorted(seconds for result in results for seconds in result)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"chain: {processes} process(es), {len(latencies)} appends in {wall:.2f} s = {len(latencies) / wall:.0f}/s;"
        f" latency p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )


def screen_run(screens: int) -> None:
    """Print the seconds a worker takes to open and screen one real copy."""
    policy = ScreeningPolicy()
    started = time.perf_counter()
    nude_detector(policy.resolution)
    print(f"screen: NudeNet loaded in {time.perf_counter() - started:.2f} s (once per worker process)")
    with tempfile.TemporaryDirectory() as folder:
        keys = ProgramKeys(Path(folder) / "keys")
        blob = seal_to_program(keys.program(), "d_bench_copy_000001", CLIP.read_bytes())
        took = []
        for _ in range(screens):
            started = time.perf_counter()
            result = screen_clip(keys.open_copy("d_bench_copy_000001", blob), policy)
            took.append(time.perf_counter() - started)
    print(
        f"screen: {len(blob)} sealed bytes, {result.frames_checked} frames checked, passed={result.passed};"
        f" {statistics.median(took):.2f} s per copy (median of {screens}, min {min(took):.2f} s)"
    )


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=400, help="appends per run (default 400)")
    parser.add_argument("--processes", type=int, default=4, help="processes of the concurrent run (default 4)")
    parser.add_argument("--screens", type=int, default=3, help="copies screened (default 3)")
    args = parser.parse_args()
    ensure_postgres()
    print(f"{platform.node()}: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    chain_run(args.entries, 1)
    chain_run(args.entries, args.processes)
    screen_run(args.screens)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
