"""Config errors in German: the loader's sentences and the problems of each key, still named by the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from homewarden.config import ConfigError, load_config
from homewarden.i18n import use_language


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "english", "german"),
    [
        (
            "cameras: {c1: {source: a.mp4, enabeld: true}}\n",
            "cameras.c1.enabeld: unknown key (did you mean 'enabled'?)",
            "cameras.c1.enabeld: unbekannter Schlüssel (meinten Sie 'enabled'?)",
        ),
        (
            "cameras: {c1: {source: a.mp4, detect: {fps: 0}}}\n",
            "cameras.c1.detect.fps: Input should be greater than 0",
            "cameras.c1.detect.fps: Geben Sie eine Zahl größer als 0 ein.",
        ),
        (
            "cameras: {c1: {source: a.mp4}}\nalarm: {cameras: {shed: {modes: [away]}}}\n",
            "alarm.cameras.shed: no camera of that name",
            "alarm.cameras.shed: keine Kamera dieses Namens",
        ),
        ("cameras: [1\n", "not valid YAML at line 2, column 1", "kein gültiges YAML in Zeile 2, Spalte 1"),
        ("- 1\n", "the top level must be a mapping of sections", "die oberste Ebene muss aus Abschnitten"),
    ],
)
def test_a_config_problem_reads_in_the_language_of_the_moment(
    tmp_path: Path, text: str, english: str, german: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as in_english:
        load_config(path)
    with use_language("de"), pytest.raises(ConfigError) as in_german:
        load_config(path)
    assert english in str(in_english.value)
    assert german in str(in_german.value)
    assert str(in_german.value).startswith(f"{path}: ")


def test_a_missing_file_is_said_in_german(tmp_path: Path) -> None:
    with use_language("de"), pytest.raises(ConfigError, match="diese Konfigurationsdatei gibt es nicht"):
        load_config(tmp_path / "nowhere.yaml")
