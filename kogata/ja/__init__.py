"""Japanese text processing: normalisation, numbers and units, symptom findings, script detection."""

from kogata.ja.findings import Finding, SymptomEntry, find_findings, symptom_lexicon
from kogata.ja.normalize import normalize
from kogata.ja.numbers import Quantity, find_quantities, normalize_numbers, parse_kanji_number
from kogata.ja.script import is_japanese, japanese_ratio

__all__ = [
    "Finding",
    "Quantity",
    "SymptomEntry",
    "find_findings",
    "find_quantities",
    "is_japanese",
    "japanese_ratio",
    "normalize",
    "normalize_numbers",
    "parse_kanji_number",
    "symptom_lexicon",
]
