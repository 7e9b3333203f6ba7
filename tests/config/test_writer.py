"""Config write-back: comments and order kept, invalid changes refused, the file replaced whole and one at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from homewarden.config import ConfigError, load_config
from homewarden.config.writer import REMOVE, ConfigChange, ConfigChangeError, ConfigWriter

CONFIG = """\
# Homewarden at the Müllers'
cameras:
  front_door:  # the one by the bell
    source: rtsp://user:secret@192.0.2.10/stream
    name: Front door
    # masks: the hedge moves in the wind
    motion:
      threshold: 30
storage:
  folder: /tmp/hw-settings  # the SSD
  retention:
    alarm_days: 30
    other_days: 7
objects:
  track: [person, cat]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "homewarden.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_rename_keeps_every_comment_and_the_key_order(config_file: Path) -> None:
    config = ConfigWriter(config_file).apply([ConfigChange(("cameras", "front_door", "name"), "Haustür")])

    assert config.cameras["front_door"].name == "Haustür"
    text = config_file.read_text(encoding="utf-8")
    assert text == CONFIG.replace("name: Front door", "name: Haustür")
    assert load_config(config_file).cameras["front_door"].name == "Haustür"


def test_new_keys_and_sections_are_added_and_removed(config_file: Path) -> None:
    writer = ConfigWriter(config_file)
    writer.apply(
        [
            ConfigChange(("cameras", "garden"), {"source": "rtsp://192.0.2.11/live", "name": "Garden"}),
            ConfigChange(("storage", "retention", "max_gb"), 250.0),
            ConfigChange(("objects", "filters", "person", "min_score"), 0.55),
        ]
    )
    config = load_config(config_file)
    assert config.cameras["garden"].name == "Garden"
    assert config.storage.retention.max_gb == 250.0
    assert config.objects.filters["person"].min_score == 0.55
    assert list(config.cameras) == ["front_door", "garden"]
    assert "# the SSD" in config_file.read_text(encoding="utf-8")

    writer.apply([ConfigChange(("storage", "retention", "max_gb"), REMOVE)])
    assert load_config(config_file).storage.retention.max_gb is None


def test_an_invalid_change_is_refused_naming_the_key_and_the_file_is_untouched(config_file: Path) -> None:
    before = config_file.stat()

    with pytest.raises(ConfigChangeError) as refused:
        ConfigWriter(config_file).apply(
            [
                ConfigChange(("cameras", "front_door", "name"), "Porch"),
                ConfigChange(("storage", "retention", "alarm_days"), -3),
            ]
        )

    assert [key for key, _ in refused.value.problems] == ["storage.retention.alarm_days"]
    assert "storage.retention.alarm_days" in str(refused.value)
    assert config_file.read_text(encoding="utf-8") == CONFIG
    assert config_file.stat().st_ino == before.st_ino
    assert not (config_file.parent / "homewarden.yaml.bak").exists()
    assert [p.name for p in config_file.parent.iterdir() if p.suffix == ".tmp"] == []


def test_an_unknown_key_is_refused_with_a_suggestion(config_file: Path) -> None:
    with pytest.raises(ConfigChangeError) as refused:
        ConfigWriter(config_file).apply([ConfigChange(("cameras", "front_door", "enabeld"), False)])

    assert refused.value.problems == [("cameras.front_door.enabeld", "unknown key (did you mean 'enabled'?)")]


def test_the_previous_version_is_kept_as_a_backup(config_file: Path) -> None:
    ConfigWriter(config_file).apply([ConfigChange(("cameras", "front_door", "enabled"), False)])

    assert (config_file.parent / "homewarden.yaml.bak").read_text(encoding="utf-8") == CONFIG
    assert "enabled: false" in config_file.read_text(encoding="utf-8")


def test_concurrent_writes_are_serialised_and_none_is_lost(config_file: Path) -> None:
    writer = ConfigWriter(config_file)
    errors: list[BaseException] = []

    def add_camera(number: int) -> None:
        try:
            # A writer of its own per thread, as two requests would each build one.
            ConfigWriter(config_file).apply(
                [ConfigChange(("cameras", f"cam{number}"), {"source": f"rtsp://192.0.2.{number}/live"})]
            )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=add_camera, args=(number,)) for number in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert set(writer.read().cameras) == {"front_door"} | {f"cam{number}" for number in range(12)}
    assert "# the one by the bell" in config_file.read_text(encoding="utf-8")


def test_a_missing_file_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        ConfigWriter(tmp_path / "absent.yaml").apply([ConfigChange(("cameras", "x", "name"), "X")])
    assert not (tmp_path / "absent.yaml").exists()


def test_a_read_only_file_gives_a_clear_error_and_stays(config_file: Path) -> None:
    os.chmod(config_file, 0o444)

    with pytest.raises(ConfigError, match="read-only"):
        ConfigWriter(config_file).apply([ConfigChange(("cameras", "front_door", "name"), "Porch")])

    assert config_file.read_text(encoding="utf-8") == CONFIG


def test_a_file_that_is_not_yaml_is_not_touched(config_file: Path) -> None:
    config_file.write_text("cameras: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="not valid YAML"):
        ConfigWriter(config_file).apply([ConfigChange(("cameras", "front_door", "name"), "Porch")])

    assert config_file.read_text(encoding="utf-8") == "cameras: [unclosed\n"


def test_writes_from_two_processes_are_serialised_by_the_file_lock(config_file: Path) -> None:
    # Each process adds its own cameras one write at a time; without the file lock a write would lose the other's.
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from homewarden.config.writer import ConfigChange, ConfigWriter\n"
        "path, tag = Path(sys.argv[1]), sys.argv[2]\n"
        "for number in range(8):\n"
        "    ConfigWriter(path).apply([ConfigChange(('cameras', f'{tag}{number}'), {'source': f'rtsp://h/{tag}{number}'})])\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(config_file), tag], env=environment, stderr=subprocess.PIPE)
        for tag in ("a", "b")
    ]
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode(errors="replace")

    cameras = set(ConfigWriter(config_file).read().cameras)
    assert cameras == {"front_door"} | {f"{tag}{number}" for tag in ("a", "b") for number in range(8)}
