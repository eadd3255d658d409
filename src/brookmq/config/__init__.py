"""Settings: models, HOCON file loading, environment overrides."""

from brookmq.config.loader import ConfigError, load_settings
from brookmq.config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
