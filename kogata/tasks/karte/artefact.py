"""The chart's learned parts as shipped: `data/<name>.npz` (numpy arrays) with `data/<name>.json` beside it, the
record of how they were made (their sha256, the training data's hash, settings, figures). Loading refuses weights
whose sha256 is not the recorded one, so a part trained on other data is never read by mistake.

    arrays = load_verified("reader.npz", "reader.json", what="the chart reader", make="reader")
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files

import numpy as np

from kogata.errors import ModelError

PACKAGE = "kogata.tasks.karte"


def path(name: str):
    return files(PACKAGE).joinpath("data", name)


def sha256(name: str) -> str:
    return hashlib.sha256(path(name).read_bytes()).hexdigest()


def read_record(name: str, *, what: str, make: str) -> dict:
    record = path(name)
    if not record.is_file():
        raise ModelError(f"{what}'s record is missing ({name}); run: make {make}")
    return json.loads(record.read_text(encoding="utf-8"))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def load_verified(weights: str, record: str, *, what: str, make: str) -> dict[str, np.ndarray]:
    """The arrays of `weights`, refused (ModelError naming the make target) when missing or when their sha256 is not
    the one `record` holds."""
    if not path(weights).is_file():
        raise ModelError(f"{what}'s weights are missing ({weights}); run: make {make}")
    if sha256(weights) != read_record(record, what=what, make=make)["sha256"]:
        raise ModelError(f"{what}'s weights ({weights}) do not match their recorded sha256; run: make {make}")
    with path(weights).open("rb") as f:
        return dict(np.load(f))
