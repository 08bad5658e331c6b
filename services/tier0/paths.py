"""Where Tier-0 keeps things outside the repository."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Root of Tier-0's cache: ``${XDG_CACHE_HOME:-$HOME/.cache}/tier0``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tier0"


def bin_dir() -> Path:
    """Directory holding the pinned tools Tier-0 builds (one sub-folder per name and version)."""
    return cache_dir() / "bin"
