"""The drug lexicon (kogata/ja/data/drugs.tsv): generic ↔ brand names of drugs used in Japan."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from kogata.ja.dictionary import Match, PhraseDict
from kogata.ja.normalize import normalize


@dataclass(frozen=True)
class Drug:
    generic: str
    brands: tuple[str, ...]
    forms: tuple[str, ...]
    category: str
    aliases: tuple[str, ...]


@lru_cache(maxsize=1)
def drugs() -> tuple[Drug, ...]:
    text = files("kogata.ja").joinpath("data/drugs.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    split = lambda s: tuple(x for x in (s or "").split("|") if x)  # noqa: E731
    return tuple(
        Drug(r["generic"], split(r["brands"]), split(r["forms"]), r["category"], split(r["aliases"])) for r in rows
    )


@lru_cache(maxsize=1)
def _names() -> PhraseDict[Drug]:
    entries = []
    for d in drugs():
        for name in (d.generic, *d.brands, *d.aliases):
            entries.append((normalize(name), d))
    return PhraseDict(entries, min_len=3)


def find_drugs(text: str) -> list[Match[Drug]]:
    """Drug names (generic, brand or alias) in normalised text, longest match first."""
    return _names().find(text)


def lookup(name: str) -> Drug | None:
    return _names().get(normalize(name))
