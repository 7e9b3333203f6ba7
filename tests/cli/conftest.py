"""A hub config with stored events and accounts, as the command line finds them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import error_lines, write_config
from homewarden.accounts.store import AccountStore
from homewarden.cli import main
from homewarden.events.record import EventRecord
from homewarden.store.database import EventStore

BERLIN_EVENING = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
PASSWORD = "a long enough password"


def live_event(event_id: str, camera: str, label: str, at: datetime, *, alarm: bool = False) -> EventRecord:
    """Return a live event of ten seconds starting at ``at``."""
    start = at.timestamp()
    return EventRecord(
        id=event_id,
        camera=camera,
        label=label,
        score=0.8,
        start=start,
        end=start + 10,
        live=True,
        box=(1, 2, 30, 40),
        snapshot=None,
        alarm=alarm,
        alarm_reason="stranger" if alarm else None,
        sub_label="unknown" if label == "person" else None,
    )


def save_events(config: Path, events: Sequence[EventRecord]) -> None:
    """Store events in the database of a config written by write_config."""
    with EventStore.open(f"sqlite:///{config.parent / 'data' / 'homewarden.db'}") as store:
        for event in events:
            store.save_event(event)


def accounts_of(config: Path) -> tuple[EventStore, AccountStore]:
    """Open the accounts of a config written by write_config."""
    store = EventStore.open(f"sqlite:///{config.parent / 'data' / 'homewarden.db'}")
    return store, AccountStore(store.engine)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command line in this process; return its code, stdout and stderr without the config line."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, "".join(f"{line}\n" for line in error_lines(captured.err))


@pytest.fixture
def hub_config(tmp_path: Path) -> Path:
    """Write a config of two cameras (front_door, garden) with a Berlin schedule zone."""
    return write_config(
        tmp_path / "hub",
        "cameras:\n  front_door:\n    source: rtsp://127.0.0.1:1/a\n  garden:\n    source: rtsp://127.0.0.1:1/b\n"
        "alarm:\n  timezone: Europe/Berlin\n",
    )
