"""Homewarden: privacy-first home security cameras on your own hardware."""

__version__ = "0.1.0"
