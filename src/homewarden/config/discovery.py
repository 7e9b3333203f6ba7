"""Which config file a command uses: --config, else HOMEWARDEN_CONFIG, else ./homewarden.yaml, else a clear error."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from homewarden.config.loader import ConfigError
from homewarden.i18n import _

CONFIG_ENV = "HOMEWARDEN_CONFIG"
DEFAULT_CONFIG_NAME = "homewarden.yaml"


@dataclass(frozen=True)
class FoundConfig:
    """A config file and how it was found (shown to the user, who may not have expected it)."""

    path: Path
    found_by: str


def find_config(
    explicit: Path | None, environ: Mapping[str, str] | None = None, folder: Path | None = None
) -> FoundConfig:
    """Return the config to use, or raise ConfigError saying every place that was looked at."""
    if explicit is not None:
        return FoundConfig(explicit.resolve(), "--config")
    environ = os.environ if environ is None else environ
    named = environ.get(CONFIG_ENV, "").strip()
    if named:
        path = Path(named).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(_("{variable} names {path}, which is not a file").format(variable=CONFIG_ENV, path=path))
        return FoundConfig(path, CONFIG_ENV)
    default = ((folder or Path.cwd()) / DEFAULT_CONFIG_NAME).resolve()
    if default.is_file():
        return FoundConfig(default, f"./{DEFAULT_CONFIG_NAME}")
    raise ConfigError(
        _(
            "no config file: --config was not given, {variable} is not set and there is no {default}; "
            "pass --config FILE (the hub's YAML config, e.g. the one `homewarden demo` wrote)"
        ).format(variable=CONFIG_ENV, default=default)
    )
