"""Run `homewarden demo` as a user does (a real process on a free port) and the browser that looks at it.

Shared by tests/test_serve.py, the browser tests (tests/web/) and scripts/screenshots.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# As root and on a closed network: no sandbox, and none of Chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SETUP_LINK = r"(http://127\.0\.0\.1:\d+)(/setup\?token=(\S+))"


def free_port() -> int:
    """Return a port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_until(
    process: subprocess.Popen[str], pattern: str, timeout: float, seen: list[str] | None = None
) -> re.Match[str]:
    """Read output lines (into ``seen``) until one matches (fail loudly with what was printed otherwise)."""
    assert process.stdout is not None
    seen = [] if seen is None else seen
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    process.kill()
    raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(seen)}")


@dataclass
class DemoProcess:
    """A running `homewarden demo`: where it listens, its one-time setup token, and what it has logged."""

    process: subprocess.Popen[str]
    base_url: str
    setup_token: str
    out: Path
    logged: list[str] = field(default_factory=list)
    _drain: threading.Thread | None = None

    @property
    def config(self) -> Path:
        """Return the config the demo wrote (for `homewarden users ...` on the same hub)."""
        return self.out / "homewarden-demo.yaml"

    @property
    def setup_link(self) -> str:
        """Return the one-time setup link the demo printed."""
        return f"{self.base_url}/setup?token={self.setup_token}"

    def stop(self) -> int:
        """SIGTERM the demo as a user's Ctrl-C would, wait for it, and return its exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            if self._drain is not None:
                self._drain.join(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
        return code


def start_demo(out: Path, port: int | None = None, extra_args: list[str] | None = None) -> DemoProcess:
    """Start `homewarden demo` and return once it has printed its setup link (its log is read on from then on)."""
    command = [sys.executable, "-m", "homewarden", "demo", "--out", str(out), "--port", str(port or free_port())]
    process = subprocess.Popen(
        command + (extra_args or []),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    start_up: list[str] = []
    link = read_until(process, SETUP_LINK, timeout=120, seen=start_up)
    # 127.0.0.1 exactly: Chromium treats it as a secure origin, so it keeps the hub's Secure session cookie.
    demo = DemoProcess(process, link.group(1), link.group(3), out, logged=start_up)
    # Keep reading what the hub logs, so a full pipe never blocks it.
    demo._drain = threading.Thread(target=demo.logged.extend, args=(process.stdout,), daemon=True)
    demo._drain.start()
    return demo
