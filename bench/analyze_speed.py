"""Time the whole `homewarden analyze` command on a video against decoding the same file alone, in one run.

    python bench/analyze_speed.py [VIDEO] [--runs 3]

Prints, best of --runs: the command's wall time (start-up, imports, model loads, database and analysis, as a user
runs it) and its CPU time, the start-up alone (`analyze --help`), decoding alone with PyAV, their ratio, the
real-time factor, and detector calls per video second (read from the command's own log line with -v, in a run of
its own so logging does not weigh on the timed runs). The command runs with bytecode caching on, as an installed
package has it, in a folder that keeps its database between runs, as a user's second `analyze` finds it; the first
run (which creates both) is shown apart. Not a test: timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline import ONE_BY_ONE, decode_alone

DETECTOR_CALLS = re.compile(r"analysed ([\d.]+) s of video: (\d+) frames, (\d+) detector calls")


def timed(command: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; return its wall seconds, its CPU seconds (user + system) and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, nargs="?", default=ONE_BY_ONE)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.video.is_file():
        sys.exit(f"missing {args.video}")
    # An installed package has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE would compile
    # every module of the project at each start and measure that instead.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="analyze-speed-") as name:
        folder = Path(name)
        analyze = [sys.executable, "-m", "homewarden", "analyze", str(args.video.resolve())]
        analyze += ["--json", "--quiet", "--out", str(folder / "media")]
        first_wall, first_cpu, _ = timed(analyze, folder, env)
        commands = [timed(analyze, folder, env) for _ in range(args.runs)]
        helps = [timed([*analyze[:4], "--help"], folder, env) for _ in range(args.runs)]
        decodes = [decode_alone(args.video) for _ in range(args.runs)]
        _, _, log = timed([*analyze[:3], "-v", *analyze[3:]], folder, env)
    match = DETECTOR_CALLS.search(log)
    if match is None:
        sys.exit("the command's log has no 'detector calls' line")
    video_seconds, calls = float(match.group(1)), int(match.group(3))
    wall, cpu = min(wall for wall, _, _ in commands), min(cpu for _, cpu, _ in commands)
    help_wall, help_cpu = min(wall for wall, _, _ in helps), min(cpu for _, cpu, _ in helps)
    decode = min(seconds for seconds, _ in decodes)
    print(f"== `homewarden analyze {args.video.name}` ({video_seconds:.1f} s of video), best of {args.runs}")
    print(f"  whole command           {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    print(f"  first run (new database) {first_wall:5.2f} s wall, {first_cpu:6.2f} s CPU")
    print(f"  start-up (analyze --help) {help_wall:4.2f} s wall, {help_cpu:6.2f} s CPU")
    print(f"  decode alone            {decode:6.2f} s")
    print(f"  ratio to decoding       {wall / decode:6.1f} x")
    print(f"  real-time factor        {video_seconds / wall:6.1f} x")
    print(f"  detector calls          {calls} = {calls / video_seconds:.2f} per video second")
    print(f"  load average            {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
