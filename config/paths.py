"""Where koe keeps its files. $KOE_HOME moves all of them (tests, portable installs)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path, user_data_path


def data_dir() -> Path:
    """Durable files: assembled models, the memory store."""
    home = os.environ.get("KOE_HOME")
    return Path(home, "data") if home else user_data_path("koe")


def cache_dir() -> Path:
    """Files koe can rebuild."""
    home = os.environ.get("KOE_HOME")
    return Path(home, "cache") if home else user_cache_path("koe")


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by the user alone."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path
