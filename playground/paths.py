"""Where the app keeps its own files (embedding cache, run history)."""

from __future__ import annotations

import os
from pathlib import Path


class DataDirUnusable(OSError):
    """The app's data folder cannot be created or is not a folder; the message says what to do."""


def app_data_dir() -> Path:
    """PLAYGROUND_DATA_DIR, else ~/.local/share/playground (created on first use)."""
    chosen = os.environ.get("PLAYGROUND_DATA_DIR")
    base = Path(chosen) if chosen else Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "playground"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirUnusable(f"The app's data folder {base} cannot be used ({exc.strerror or exc}): "
                              "set PLAYGROUND_DATA_DIR to a folder this account can write.") from None
    return base
