"""A glossary of an office's own terms: one TSV that speech recognition, normalisation and retrieval all read.

Format (UTF-8, tab-separated, `#` starts a comment line; the header line is optional):

    term	reading	synonyms	category
    児童手当	ジドウテアテ	子ども手当|こども手当	給付
    粗大ごみ	ソダイゴミ	大型ごみ|そだいゴミ	ごみ

`term` is the standard spelling; `reading` its katakana; `synonyms` other spellings, sound-alikes and what
people say instead, separated by `|` (or `、`); `category` is free text. Only `term` is required.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kogata.errors import InputError
from kogata.ja.dictionary import Match, PhraseDict
from kogata.ja.normalize import normalize

COLUMNS = ("term", "reading", "synonyms", "category")
_SYNONYM_SEPARATORS = re.compile(r"[|｜、]")


@dataclass(frozen=True)
class Entry:
    term: str
    reading: str = ""
    synonyms: tuple[str, ...] = ()
    category: str = ""

    @property
    def forms(self) -> tuple[str, ...]:
        """The standard term first, then every other way of writing or saying it."""
        return (self.term, *self.synonyms)

    def to_dict(self) -> dict:
        return {"term": self.term, "reading": self.reading, "synonyms": list(self.synonyms), "category": self.category}


@dataclass
class Glossary:
    entries: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._phrases: PhraseDict[Entry] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def load(cls, path: str | Path) -> Glossary:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read glossary {path}: {e.strerror}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"glossary {path} is not UTF-8 text (convert it, e.g. iconv -f cp932 -t utf-8)") from None
        return cls(parse_glossary(text, name=str(path)))

    def find(self, text: str) -> list[Match[Entry]]:
        """Every glossary term or synonym in `text` (normalised), longest match first at each position."""
        if self._phrases is None:
            self._phrases = PhraseDict(((normalize(form), e) for e in self.entries for form in e.forms), min_len=1)
        return self._phrases.find(normalize(text))

    def merged(self, other: Iterable[Entry]) -> Glossary:
        return Glossary([*self.entries, *other])


def parse_glossary(text: str, *, name: str = "glossary") -> list[Entry]:
    entries: list[Entry] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if not entries and cells[0].lower() == "term":
            continue  # the header line (speech glossaries name the third column sound_alikes)
        if len(cells) > len(COLUMNS):
            raise InputError(
                f"{name} line {lineno}: {len(cells)} tab-separated columns, at most {len(COLUMNS)} "
                f"({', '.join(COLUMNS)})"
            )
        cells += [""] * (len(COLUMNS) - len(cells))
        term, reading, synonyms, category = cells
        if not term:
            raise InputError(f"{name} line {lineno}: the term (first column) is empty")
        forms = tuple(s.strip() for s in _SYNONYM_SEPARATORS.split(synonyms) if s.strip() and s.strip() != term)
        entries.append(Entry(term, reading, forms, category))
    if not entries:
        raise InputError(f"{name} has no glossary entries (expected: term<TAB>reading<TAB>synonyms<TAB>category)")
    return entries
