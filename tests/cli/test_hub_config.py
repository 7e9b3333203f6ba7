"""Every command finds its config the same way and says on stderr which config and database it uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.conftest import run
from conftest import write_config


def homewarden(cwd: Path, *arguments: str, config_env: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command in a folder, with or without HOMEWARDEN_CONFIG."""
    environ = {key: value for key, value in os.environ.items() if key != "HOMEWARDEN_CONFIG"}
    if config_env is not None:
        environ["HOMEWARDEN_CONFIG"] = config_env
    return subprocess.run(
        [sys.executable, "-m", "homewarden", *arguments],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["faces", "list"],
        ["users", "create-owner", "anna", "--passphrase-stdin"],
        ["events", "list"],
        ["audit", "show"],
        ["storage", "plan"],
        ["status"],
        ["config", "check"],
    ],
)
def test_without_a_config_a_command_says_where_it_looked_and_creates_nothing(
    tmp_path: Path, arguments: list[str]
) -> None:
    result = homewarden(tmp_path, *arguments)

    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "homewarden: error: no config file: --config was not given, HOMEWARDEN_CONFIG is not set and there is no "
        f"{tmp_path}/homewarden.yaml; pass --config FILE (the hub's YAML config, e.g. the one `homewarden demo` "
        "wrote)\n"
    )
    assert list(tmp_path.iterdir()) == []  # no ./homewarden-data made behind the user's back


def test_the_config_comes_from_the_option_then_the_environment_then_the_folder(tmp_path: Path) -> None:
    by_option = write_config(tmp_path / "option")
    by_environment = write_config(tmp_path / "environment")
    in_folder = write_config(tmp_path / "folder")

    results = [
        homewarden(in_folder.parent, "faces", "list", "--config", str(by_option), config_env=str(by_environment)),
        homewarden(in_folder.parent, "faces", "list", config_env=str(by_environment)),
        homewarden(in_folder.parent, "faces", "list"),
    ]

    announced = [result.stderr.splitlines()[0] for result in results]
    assert announced == [
        f"homewarden: config {by_option} (from --config), database sqlite:///{by_option.parent}/data/homewarden.db",
        f"homewarden: config {by_environment} (from HOMEWARDEN_CONFIG), database "
        f"sqlite:///{by_environment.parent}/data/homewarden.db",
        f"homewarden: config {in_folder} (from ./homewarden.yaml), database "
        f"sqlite:///{in_folder.parent}/data/homewarden.db",
    ]
    assert [result.stdout for result in results] == ["no members enrolled\n"] * 3


def test_an_environment_variable_naming_no_file_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    write_config(tmp_path)  # ./homewarden.yaml exists, but the user asked for another file

    result = homewarden(tmp_path, "faces", "list", config_env=str(tmp_path / "typo.yaml"))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"homewarden: error: HOMEWARDEN_CONFIG names {tmp_path}/typo.yaml, which is not a file\n"


def test_a_database_password_is_not_shown(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    config.write_text(
        config.read_text() + "  database_url: postgresql+psycopg://hub:s3cret@127.0.0.1:1/hub\n", encoding="utf-8"
    )

    result = homewarden(tmp_path, "faces", "list", "--config", str(config))

    assert result.returncode == 2
    assert "s3cret" not in result.stderr
    assert "database postgresql+psycopg://hub:***@127.0.0.1:1/hub" in result.stderr


def test_a_config_key_typo_gets_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "cameras:\n  hall:\n    source: a.mp4\n    zoness: {}\n")

    code, out, err = run(capsys, "config", "check", str(config))

    assert (code, out) == (2, "")
    assert err == f"homewarden: error: {config}: cameras.hall.zoness: unknown key (did you mean 'zones'?)\n"


def test_analyze_without_a_config_says_it_uses_the_defaults(tmp_path: Path) -> None:
    result = homewarden(tmp_path, "analyze", str(tmp_path / "missing.mp4"))

    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("homewarden: no config file (no --config, $HOMEWARDEN_CONFIG or ./homewarden.yaml): ")
    assert first.endswith(f"database sqlite:///{tmp_path}/homewarden-data/homewarden.db")
