"""kogata's folders: its data folder ($KOGATA_HOME) and the folder of joined, verified weights ($KOGATA_MODELS)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """kogata's data folder: $KOGATA_HOME, or ~/.cache/kogata."""
    return Path(os.environ.get("KOGATA_HOME") or Path.home() / ".cache" / "kogata")


def models_dir() -> Path:
    """Where joined weights are kept: $KOGATA_MODELS, or the `models` folder of `home()`."""
    return Path(os.environ.get("KOGATA_MODELS") or home() / "models")
