"""Where the app keeps its own files (embedding cache, run history)."""

from __future__ import annotations

import os
from pathlib import Path


def app_data_dir() -> Path:
    """PLAYGROUND_DATA_DIR, else ~/.local/share/playground (created on first use)."""
    chosen = os.environ.get("PLAYGROUND_DATA_DIR")
    base = Path(chosen) if chosen else Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "playground"
    base.mkdir(parents=True, exist_ok=True)
    return base
