"""koe's configuration: defaults in default.toml, typed by schema.py, merged by loader.py."""

from koe.config.loader import ConfigError, load_settings
from koe.config.schema import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
