"""Fixtures shared by every test package: the real media in tests/data, and one analysis of the real footage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TEST_DATA = Path(__file__).resolve().parent / "data"
ONE_BY_ONE = "video/one-by-one-person-detection.mp4"
# The marker a test gets from a fixture it uses (directly or through another fixture), so `make check` leaves out
# every test that needs a service or the browser without anyone remembering to mark it.
ATTACK_SUITE = Path(__file__).parent / "security"
MARKERS_OF_FIXTURES = {
    "postgres_url": "postgres",
    "mosquitto": "mqtt",
    "private_broker": "mqtt",
    "browser": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the services and browser its fixtures need."""
    for item in items:
        if item.path.parent == ATTACK_SUITE:
            # Every attack runs against a real `serve` process (cameras, events, donations): not for `make check`.
            item.add_marker("slow")
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, marker in MARKERS_OF_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(marker)


def media_file(relative: str) -> Path:
    """Return a photo or clip from tests/data; a missing one fails the test (the suite never skips for media)."""
    path = TEST_DATA / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing: tests/data/README.md lists every test media file", pytrace=False)
    return path


def write_config(folder: Path, text: str = "") -> Path:
    """Write a config whose storage lives in a test folder."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "homewarden.yaml"
    config.write_text(f"storage:\n  folder: {folder / 'data'}\n{text}", encoding="utf-8")
    return config


def error_lines(stderr: str) -> list[str]:
    """Return what a command wrote to stderr without the line saying which config and database it uses."""
    from homewarden.cli.hub_config import ANNOUNCEMENT_PREFIXES

    return [line for line in stderr.splitlines() if not line.startswith(ANNOUNCEMENT_PREFIXES)]


TEST_PASSPHRASE = "a passphrase only tests use"


def init_home_key(folder: Path) -> str:
    """Create the home key of a config written by write_config (the hub records only once it has one)."""
    from homewarden.store.keys import HomeKeyFile

    return HomeKeyFile.in_folder(folder / "data").create(TEST_PASSPHRASE)


def read_sealed(folder: Path, path: str) -> bytes:
    """Decrypt a clip or snapshot the hub stored for a config written by write_config, as its owner would."""
    from homewarden.store.sealed_media import open_hub_storage

    storage = open_hub_storage(folder / "data")
    name = storage.media.object_name(Path(path))
    assert name is not None, f"{path} is not a sealed object of {folder / 'data'}"
    return storage.vault.read(name, storage.key_file.unlock(TEST_PASSPHRASE))


def analyze_json(video: Path, folder: Path, *options: str, config_text: str = "") -> tuple[int, list[dict[str, Any]]]:
    """Run `homewarden analyze --json` as a user would (plain export into the folder); return its code and events."""
    import contextlib
    import io

    from homewarden.cli import main

    config = write_config(folder, config_text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "analyze",
                str(video),
                "--json",
                "--quiet",
                "--config",
                str(config),
                "--out",
                str(folder / "out"),
                *options,
            ]
        )
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture(scope="session")
def one_by_one_analysis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Analyse the one-by-one footage once, as a user would, and keep what it printed."""
    video = media_file(ONE_BY_ONE)
    folder = tmp_path_factory.mktemp("one-by-one")
    code, events = analyze_json(video, folder)
    return {"code": code, "events": events, "folder": folder, "config": folder / "homewarden.yaml"}
