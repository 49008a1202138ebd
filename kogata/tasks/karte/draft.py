"""The model's part of a chart: narrative lines per SOAP section, each citing utterance ids
(kogata.tasks.grounded drafts them; what karte tells the model is prompt.toml)."""

from __future__ import annotations

from collections.abc import Sequence

from kogata.engine import Model
from kogata.tasks import grounded
from kogata.tasks.karte.schema import SECTIONS
from kogata.verify import Said

SPEC = grounded.DraftSpec.read("kogata.tasks.karte", limits={s: 6 for s in SECTIONS}, max_tokens=900)  # prompt.toml


def messages(said: Sequence[Said]) -> list[dict[str, str]]:
    return grounded.messages(SPEC, said)


def draft(model: Model, said: Sequence[Said], *, adapter: str | None = None) -> dict[str, list[dict]]:
    """Chart lines written by the model: {"S": [{"text", "evidence"}], "O": …, "A": …, "P": …}."""
    return grounded.draft(SPEC, model, said, adapter=adapter)
