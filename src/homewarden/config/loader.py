"""Read a config file and turn validation failures into messages that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from homewarden.config.model import CameraConfig, HomewardenConfig


class ConfigError(Exception):
    """A config file that cannot be read or does not validate; the message is for the user."""


def load_config(path: Path) -> HomewardenConfig:
    """Read and validate a YAML config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc})") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return validate_config(data, origin=str(path))


def validate_config(data: dict[str, Any], origin: str = "config") -> HomewardenConfig:
    """Validate a config mapping, reporting every problem with its key path."""
    try:
        return HomewardenConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: " + "; ".join(describe_errors(exc))) from None


def describe_errors(exc: ValidationError) -> list[str]:
    """Turn pydantic errors into 'path.to.key: message' lines."""
    lines = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{path}: {message}" if path else message)
    return lines


def single_source_config(source: str, base: HomewardenConfig | None = None) -> tuple[HomewardenConfig, str]:
    """Return a config that analyses one source, and the camera name it uses."""
    config = base or HomewardenConfig()
    if config.cameras:
        name = next(iter(config.cameras))
        camera = config.cameras[name].model_copy(update={"source": source})
    else:
        name = "camera"
        camera = CameraConfig(source=source)
    return config.model_copy(update={"cameras": {name: camera}}), name
