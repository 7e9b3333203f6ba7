"""The command line speaks German with HOMEWARDEN_LANG=de (or a German POSIX locale), English otherwise."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.conftest import PASSWORD, accounts_of, run
from homewarden.i18n import set_language


@pytest.fixture
def german(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the commands of a test as a German user would (the command line reads the environment)."""
    monkeypatch.setenv("HOMEWARDEN_LANG", "de")
    yield
    # main() set the language of this process's context; the tests after this one expect English.
    set_language("en")


@pytest.fixture
def household(hub_config: Path) -> Path:
    """Give the config's home an owner and a member with no camera."""
    store, accounts = accounts_of(hub_config)
    with store:
        home = accounts.ensure_home("Home", ["front_door", "garden"])
        accounts.create_user("olga", PASSWORD, "owner", home)
        accounts.create_user("lena", PASSWORD, "member", home)
    return hub_config


def test_users_list_in_german(household: Path, capsys: pytest.CaptureFixture[str], german: None) -> None:
    code, out, err = run(capsys, "users", "list", "--config", str(household))

    assert (code, err) == (0, "")
    assert [line.split() for line in out.splitlines()] == [
        ["olga", "Eigentümer", "nur", "Passwort", "alle", "Kameras"],
        ["lena", "Mitglied", "nur", "Passwort", "noch", "keine", "Kameras"],
    ]


def test_a_new_password_is_confirmed_in_german(
    household: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, german: None
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))

    code, out, _ = run(capsys, "users", "reset-password", "lena", "--passphrase-stdin", "--config", str(household))

    assert (code, out) == (
        0,
        "neues Passwort für Mitglied lena gesetzt: 0 Sitzungen abgemeldet, 0 API-Token widerrufen\n",
    )


def test_an_error_is_one_german_line(household: Path, capsys: pytest.CaptureFixture[str], german: None) -> None:
    code, out, err = run(capsys, "users", "remove", "olga", "--config", str(household))

    assert (code, out) == (2, "")
    assert err == "homewarden: Fehler: olga ist der einzige Eigentümer des Haushalts; nichts wurde entfernt\n"


def test_events_list_in_german(hub_config: Path, capsys: pytest.CaptureFixture[str], german: None) -> None:
    assert run(capsys, "events", "list", "--config", str(hub_config)) == (0, "keine passenden Ereignisse\n", "")
    code, _out, err = run(capsys, "events", "list", "--limit", "0", "--config", str(hub_config))
    assert (code, err) == (2, "homewarden: Fehler: --limit muss mindestens 1 sein, nicht 0\n")


def test_the_config_line_says_which_database_in_german(
    hub_config: Path, capsys: pytest.CaptureFixture[str], german: None
) -> None:
    capsys.readouterr()
    from homewarden.cli import main

    assert main(["events", "list", "--config", str(hub_config)]) == 0
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"homewarden: Konfiguration {hub_config} (aus --config), Datenbank sqlite:///")


def test_without_a_language_the_command_line_stays_english(
    household: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HOMEWARDEN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    code, _out, err = run(capsys, "users", "remove", "olga", "--config", str(household))
    assert code == 2
    assert err == "homewarden: error: olga is the home's only owner; nothing was removed\n"


def test_help_texts_are_german_and_argparse_own_words_stay_english(
    capsys: pytest.CaptureFixture[str], german: None
) -> None:
    from homewarden.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["analyze", "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    words = " ".join(out.split())  # argparse wraps the help at the terminal's width
    assert "eine Videodatei, eine rtsp://- oder http(s)://-Adresse oder /dev/videoN" in words
    assert "ein JSON-Objekt je Ereignis ausgeben, sonst nichts" in words
    # "usage:" and "options:" come from Python's argparse, which has no German catalog (docs/hub.md, Language).
    assert out.startswith("usage: homewarden analyze")


def test_a_missing_video_is_a_german_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], german: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "analyze", str(tmp_path / "garden.mp4"))
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == f"homewarden: Fehler: {tmp_path / 'garden.mp4'}: Datei nicht gefunden"


def test_cloud_status_in_german(hub_config: Path, capsys: pytest.CaptureFixture[str], german: None) -> None:
    code, out, _err = run(capsys, "cloud", "status", "--config", str(hub_config))
    assert (code, out) == (0, "mit keiner Cloud gekoppelt (`homewarden cloud pair URL CODE`)\n")
