"""Config files: strict validation with messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from homewarden.cli import main
from homewarden.config import ConfigError, HomewardenConfig, load_config, single_source_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_config_loads(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
cameras:
  front_door:
    source: rtsp://user:secret@192.0.2.10/stream
    detect: {fps: 4, width: 640}
    motion:
      mask:
        - [[0, 0], [100, 0], [100, 50]]
    zones:
      porch: {coordinates: [[0, 300], [640, 300], [640, 480], [0, 480]], objects: [person]}
objects:
  track: [person, cat]
  filters:
    person: {min_score: 0.4, threshold: 0.6}
record: {pre_roll: 3, post_roll: 4}
storage: {folder: /tmp/hw, database_url: "postgresql+psycopg://hub@db/homewarden"}
""",
        )
    )
    camera = config.cameras["front_door"]
    assert camera.detect.fps == 4
    assert camera.zones["porch"].objects == ["person"]
    assert config.objects.event_threshold("person") == 0.6
    assert config.objects.event_threshold("cat") == 0.45
    assert config.storage.resolved_database_url() == "postgresql+psycopg://hub@db/homewarden"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "cameras:\n  c1:\n    source: a.mp4\n    colour: red\n",
            "cameras.c1.colour: unknown key",
        ),
        (
            "cameras:\n  c1:\n    source: a.mp4\n    detect: {fps: 0}\n",
            "cameras.c1.detect.fps: Input should be greater",
        ),
        (
            "cameras:\n  c1:\n    source: a.mp4\n    detect: {fps: fast}\n",
            "cameras.c1.detect.fps: Input should be a valid",
        ),
        ("objects: {track: [person, unicorn]}\n", "unknown label 'unicorn'"),
        ("record: {pre_roll: 20, post_roll: 20}\n", "pre_roll + post_roll must be shorter than max_clip"),
        ("cameras:\n  bad name:\n    source: a.mp4\n", "camera name 'bad name'"),
        (
            "detector: {type: tensorflow}\n",
            "detector: Input tag 'tensorflow' found using 'type' does not match",
        ),
        ("cameras: [1, 2]\n", "cameras: Input should be a valid dictionary"),
        (
            "cameras:\n  c1:\n    source: a.mp4\n    zones:\n      z: {coordinates: [[0, 0], [1, 1]]}\n",
            "cameras.c1.zones.z.coordinates: List should have at least 3 items",
        ),
        ("server: {trusted_proxies: [proxy.lan]}\n", "server.trusted_proxies: 'proxy.lan' is not an IP address"),
        ("server: {max_json_bytes: 10}\n", "server.max_json_bytes: Input should be greater than or equal to 4096"),
        ("server: {max_photo_bytes: 200000000}\n", "larger than server.max_upload_bytes"),
        (
            "cameras:\n  c1:\n    source: a.mp4\n    detect: {verifier: {min_person_probability: 1.5}}\n",
            "cameras.c1.detect.verifier.min_person_probability: Input should be less than or equal to 0.99",
        ),
        (
            "detector: {type: yolo, model: m.onnx}\ncameras:\n  c1:\n    source: a.mp4\n"
            "    detect: {verifier: {enabled: true}}\n",
            "cameras.c1.detect.verifier.enabled: the verifier needs detector type nanodet",
        ),
    ],
)
def test_bad_values_are_reported_with_their_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "server:\n  trusted_proxies: [127.0.0.1, 10.1.0.0/16, '::1']\n"))
    assert config.server.trusted_proxies == ["127.0.0.1/32", "10.1.0.0/16", "::1/128"]
    assert HomewardenConfig().server.trusted_proxies == []


def test_unreadable_files_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML at line 3, column 1"):
        load_config(write(tmp_path, "cameras:\n  - [unclosed\n"))
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path, "- just a list\n"))


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == HomewardenConfig()


def test_a_single_source_gets_a_default_camera() -> None:
    config, name = single_source_config("video.mp4")
    assert name == "camera"
    assert config.cameras[name].source == "video.mp4"
    assert config.cameras[name].detect.fps == 5


def test_config_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "cameras:\n  c1:\n    source: a.mp4\n")
    assert main(["config", "check", str(good)]) == 0
    assert "OK (1 camera, detector nanodet)" in capsys.readouterr().out
    bad = write(tmp_path, "cameras:\n  c1:\n    source: a.mp4\n    detect: {fps: -1}\n")
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("homewarden: error:")
    assert "cameras.c1.detect.fps" in err


def test_a_camera_can_loop_its_file(tmp_path: Path) -> None:
    text = "cameras:\n  demo:\n    source: demo.mp4\n    loop: true\n  porch:\n    source: p.mp4\n"
    config = load_config(write(tmp_path, text))

    assert config.cameras["demo"].loop
    assert not config.cameras["porch"].loop, "a file is played once unless asked"


def test_loop_must_be_a_yes_or_no(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cameras\.demo\.loop"):
        load_config(write(tmp_path, "cameras:\n  demo:\n    source: demo.mp4\n    loop: sometimes\n"))
