"""The configuration tree, its loader and where a command finds its file."""

from homewarden.config.discovery import CONFIG_ENV, FoundConfig, find_config
from homewarden.config.loader import ConfigError, load_config, single_source_config, validate_config
from homewarden.config.model import CameraConfig, HomewardenConfig

__all__ = [
    "CONFIG_ENV",
    "CameraConfig",
    "ConfigError",
    "FoundConfig",
    "HomewardenConfig",
    "find_config",
    "load_config",
    "single_source_config",
    "validate_config",
]
