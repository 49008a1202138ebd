"""The language models on disk: what `kogata models` lists, for every model in the catalogue.

Joining and verifying weights is `kogata.weights`; this module only walks the engine's catalogue.
"""

from __future__ import annotations

from kogata.engine.registry import MODELS
from kogata.weights import ModelState, state


def states() -> list[ModelState]:
    return [state(spec) for spec in MODELS.values()]
