"""The configuration tree and its loader."""

from homewarden.config.loader import ConfigError, load_config, single_source_config, validate_config
from homewarden.config.model import CameraConfig, HomewardenConfig

__all__ = [
    "CameraConfig",
    "ConfigError",
    "HomewardenConfig",
    "load_config",
    "single_source_config",
    "validate_config",
]
