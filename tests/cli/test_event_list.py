"""`homewarden events list`: filters, the home's local time, JSON, and output piped into `head`."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.conftest import BERLIN_EVENING, live_event, run, save_events

EVENTS = [
    live_event("e-person", "front_door", "person", BERLIN_EVENING, alarm=True),
    live_event("e-cat", "garden", "cat", BERLIN_EVENING - timedelta(days=2)),
    live_event("e-car", "front_door", "car", BERLIN_EVENING - timedelta(days=5)),
]


@pytest.fixture
def stored(hub_config: Path) -> Path:
    save_events(hub_config, EVENTS)
    return hub_config


def ids(out: str) -> list[str]:
    return [line.split()[-1] for line in out.splitlines()[1:]]


def test_the_table_is_newest_first_in_the_homes_time(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "events", "list", "--config", str(stored))

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["when", "(Europe/Berlin)", "camera", "what", "alarm", "id"]
    assert lines[1].split() == ["2026-12-01", "18:30:00", "front_door", "person:", "unknown", "yes", "e-person"]
    assert ids(out) == ["e-person", "e-cat", "e-car"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--camera", "front_door"], ["e-person", "e-car"]),
        (["--label", "cat"], ["e-cat"]),
        (["--alarm"], ["e-person"]),
        (["--no-alarm"], ["e-cat", "e-car"]),
        (["--since", "2026-11-29"], ["e-person", "e-cat"]),
        (["--since", "2026-12-01T18:30"], ["e-person"]),  # Berlin time: 17:30 UTC
        (["--since", "2026-12-01T18:31"], []),
        (["--limit", "1"], ["e-person"]),
    ],
)
def test_filters(stored: Path, capsys: pytest.CaptureFixture[str], filters: list[str], expected: list[str]) -> None:
    code, out, _ = run(capsys, "events", "list", "--config", str(stored), *filters)

    assert code == 0
    assert (ids(out) if expected else out) == (expected or "no events match\n")


def test_since_an_age(hub_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    save_events(hub_config, [live_event("recent", "garden", "cat", now - timedelta(minutes=30)), *EVENTS])

    code, out, _ = run(capsys, "events", "list", "--config", str(hub_config), "--since", "2h")

    assert (code, ids(out)) == (0, ["recent"])


def test_json_lines_carry_utc_times(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "events", "list", "--config", str(stored), "--json", "--camera", "front_door")

    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(record["id"], record["start"], record["alarm"]) for record in records] == [
        ("e-person", "2026-12-01T17:30:00Z", True),
        ("e-car", "2026-11-26T17:30:00Z", False),
    ]


def test_json_lines_carry_the_box_time(hub_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The moment of the box and snapshot is stored and printed, in UTC; null for an event without one."""
    seen = dataclasses.replace(EVENTS[0], box_time=EVENTS[0].start + 4.5)
    save_events(hub_config, [seen, EVENTS[1]])

    code, out, _ = run(capsys, "events", "list", "--config", str(hub_config), "--json")

    assert code == 0
    assert [(record["id"], record["box_time"]) for record in map(json.loads, out.splitlines())] == [
        ("e-person", "2026-12-01T17:30:04.500000Z"),
        ("e-cat", None),
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--camera", "attic"], "no camera named 'attic' (cameras: front_door, garden)"),
        (["--since", "yesterday"], "--since 'yesterday': give an age (30m, 2h, 3d, 1w) or a date/time"),
        (["--limit", "0"], "--limit must be at least 1, got 0"),
    ],
)
def test_bad_filters_are_one_line(
    stored: Path, capsys: pytest.CaptureFixture[str], option: list[str], message: str
) -> None:
    code, out, err = run(capsys, "events", "list", "--config", str(stored), *option)

    assert (code, out) == (2, "")
    assert err.startswith(f"homewarden: error: {message}")
    assert err.count("\n") == 1


def test_output_piped_into_head_ends_quietly(hub_config: Path, tmp_path: Path) -> None:
    """`events list | head -n 2` on more events than a pipe holds: no traceback once head stops reading."""
    save_events(
        hub_config,
        [live_event(f"event-{n:05d}", "garden", "cat", BERLIN_EVENING - timedelta(minutes=n)) for n in range(1500)],
    )
    errors = tmp_path / "stderr.txt"
    command = (
        f"{sys.executable} -m homewarden events list --json --limit 1500 --config {hub_config} 2>{errors} | head -n 2"
    )

    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)

    assert len(result.stdout.splitlines()) == 2
    assert json.loads(result.stdout.splitlines()[0])["id"] == "event-00000"
    stderr = errors.read_text()
    assert "Traceback" not in stderr
    assert "Broken pipe" not in stderr
    assert stderr.startswith("homewarden: config ")
    assert result.returncode == 141  # what a program ended by SIGPIPE reports, so a script can tell


def test_a_short_output_into_a_reader_that_never_reads_ends_quietly(stored: Path, tmp_path: Path) -> None:
    """`| true` exits before the command writes: the last flush fails, and must not print an ignored exception."""
    errors = tmp_path / "stderr.txt"
    command = f"{sys.executable} -m homewarden events list --config {stored} 2>{errors} | true"

    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)

    stderr = errors.read_text()
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert result.returncode in (0, 141), stderr  # 0 if the reader was still there to take the bytes
