"""cloud.yaml: defaults, bounds, credentials from the environment, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from homewarden.cloud.config import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    CloudConfigError,
    FolderStoreConfig,
    S3StoreConfig,
    load_cloud_config,
    validate_cloud_config,
)


def test_an_empty_file_is_a_one_machine_trial(tmp_path: Path) -> None:
    path = tmp_path / "cloud.yaml"
    path.write_text("", encoding="utf-8")

    config = load_cloud_config(path)

    assert config.database_url.startswith("sqlite:///")
    assert isinstance(config.object_store, FolderStoreConfig)
    assert config.tasks.in_process
    assert config.signup == "invitation"
    assert config.limits.clock_window_seconds == 300
    assert config.limits.max_object_bytes == 16 * 1024 * 1024


def test_s3_credentials_come_from_the_environment_when_not_in_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACCESS_KEY_ENV, "from-env")
    monkeypatch.setenv(SECRET_KEY_ENV, "secret-from-env")

    config = validate_cloud_config({"object_store": {"type": "s3", "bucket": "homewarden"}})

    assert isinstance(config.object_store, S3StoreConfig)
    assert config.object_store.access_key == "from-env"
    assert "secret-from-env" not in repr(config)


def test_s3_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ACCESS_KEY_ENV, raising=False)
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)

    with pytest.raises(CloudConfigError, match=f"object_store: S3 credentials are missing.*{ACCESS_KEY_ENV}"):
        validate_cloud_config({"object_store": {"type": "s3", "bucket": "homewarden"}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"signup": "everyone"}, "signup: Input should be 'open' or 'invitation'"),
        ({"homes": {"retention_days": 0}}, "homes.retention_days: Input should be greater than or equal to 1"),
        ({"limits": {"part_bytes": 1024}}, "limits.part_bytes: Input should be greater than or equal to 5242880"),
        ({"tasks": {"broker": "amqp://"}}, "tasks.broker: Extra inputs are not permitted"),
        ({"object_store": {"type": "ftp"}}, "object_store: Input tag 'ftp' found using 'type' does not match"),
        ({"limits": {"part_bytes": 20 * 1024 * 1024}}, "a part could never be uploaded"),
    ],
)
def test_bad_values_are_refused_naming_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(CloudConfigError) as refused:
        validate_cloud_config(data)

    assert message in str(refused.value)


def test_unreadable_files_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("signup: [\n", encoding="utf-8")

    with pytest.raises(CloudConfigError, match="no such config file"):
        load_cloud_config(tmp_path / "missing.yaml")
    with pytest.raises(CloudConfigError, match="top level must be a mapping"):
        load_cloud_config(tmp_path / "list.yaml")
    with pytest.raises(CloudConfigError, match="not valid YAML at line"):
        load_cloud_config(tmp_path / "broken.yaml")


def test_the_review_section_names_the_key_of_a_problem() -> None:
    from homewarden.cloud.config import validate_cloud_config
    from homewarden.privacy.screening import EXPOSED_CLASSES

    defaults = validate_cloud_config({}).review

    with pytest.raises(CloudConfigError, match=r"review\.screening: unknown NudeNet classes NAKED"):
        validate_cloud_config({"review": {"screening": {"refuse_classes": ["NAKED"]}}})
    with pytest.raises(CloudConfigError, match=r"review\.sweep_every_seconds: .* less than or equal to 60"):
        validate_cloud_config({"review": {"sweep_every_seconds": 61}})
    with pytest.raises(CloudConfigError, match=r"review\.checkpoint_every_seconds: .* 3600"):
        validate_cloud_config({"review": {"checkpoint_every_seconds": 7200}})
    with pytest.raises(CloudConfigError, match=r"review\.key_file: Extra inputs are not permitted"):
        validate_cloud_config({"review": {"key_file": "x"}})
    assert set(defaults.screening.refuse_classes) == EXPOSED_CLASSES
    assert defaults.sweep_every_seconds <= 60
    assert defaults.checkpoint_every_seconds <= 3600


def test_training_keys_are_bounded_and_named() -> None:
    defaults = validate_cloud_config({}).training

    with pytest.raises(CloudConfigError, match=r"training\.evaluation_percent: .* less than or equal to 90"):
        validate_cloud_config({"training": {"evaluation_percent": 95}})
    with pytest.raises(CloudConfigError, match=r"training\.shards: .* greater than or equal to 1"):
        validate_cloud_config({"training": {"shards": 0}})
    # Disgorgement waits at most one period for its retraining: the default keeps it well inside 15 minutes.
    assert defaults.every_seconds <= 300
    assert 0 < defaults.evaluation_percent < 50
