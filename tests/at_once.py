"""Run one Python snippet in several processes released at the same instant (races between processes)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

GATED = """
import sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
exec(sys.argv[2])
"""


def run_at_once(code: str, processes: int, folder: Path) -> list[tuple[int, str]]:
    """Start ``processes`` Pythons that each run ``code`` once all are ready; return each one's exit code and stderr."""
    go = folder / "go"
    started = [
        subprocess.Popen(
            [sys.executable, "-c", GATED, str(go), code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    time.sleep(3.0)  # every process has started and waits at the gate (what `code` imports is imported after it)
    go.touch()
    errors = [process.communicate(timeout=120)[1] for process in started]
    return [(process.returncode, error) for process, error in zip(started, errors, strict=True)]
