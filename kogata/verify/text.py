"""Text as the verifier compares it: normalised, its quantities, its content characters.

Shared by the check of a line against utterances (kogata.verify.evidence) and of a sentence against document
passages (kogata.verify.passages).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence
from typing import Protocol

from kogata.ja import find_quantities, normalize, normalize_numbers
from kogata.ja.drugs import find_drugs
from kogata.ja.glyphs import non_japanese_chars

# Content characters (kanji, katakana, Latin, digits): chart style rewrites the kana of speech
# (昨日の夜から右の耳が痛い → 昨夜より右耳痛) but keeps these. Measured on the 595 key facts of
# data/consultations: at 0.4, 92 % of correctly cited facts pass and 97 % of facts citing a random other
# utterance fail (character bigrams managed 74 % / 99 %).
_CONTENT = re.compile(r"[\u30a0-\u30ff\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")


def clean(text: str) -> str:
    """Normalised text as the verifier compares it: NFKC, spoken numbers as digits with units, ミリ as mg
    where a drug is named."""
    text = normalize_numbers(normalize(text))
    if find_drugs(text):
        text = re.sub(r"(\d+(?:\.\d+)?)ミリ(?!リットル|グラム|メートル|[Lgm])", r"\1mg", text)
    return text


def same_quantity(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Equal values whose units agree, where a missing unit or a unit's prefix (mg of mg/dL) agrees too."""
    (value_a, unit_a), (value_b, unit_b) = a, b
    return value_a == value_b and (not unit_a or not unit_b or unit_a.startswith(unit_b) or unit_b.startswith(unit_a))


def quantities(text: str) -> set[tuple[str, str]]:
    """(value, unit) of every number in `text`."""
    return {(q.value, q.unit) for q in find_quantities(text)}


def content_chars(text: str, stock: re.Pattern[str] | None = None) -> set[str]:
    """The content characters of a line (kanji, katakana, Latin, digits), without the task's stock words
    (Vocabulary.stock_pattern: 処方, 継続 … in a chart)."""
    return {c for c in (stock.sub(" ", text) if stock else text) if _CONTENT.match(c)}


def citation_problems(cites: Sequence[int], known: Container[int], *, none: str, source: str) -> list[str]:
    """Why a citation leaves nothing to check against: no number at all (the message `none`), or numbers that
    name no `source` (発言, 資料) there is."""
    if not cites:
        return [none]
    unknown = [i for i in cites if i not in known]
    return [f"{source}{', '.join(map(str, unknown))}は存在しません"] if unknown else []


def glyph_problems(text: str) -> list[str]:
    """A problem for characters Japanese does not use (a small model's simplified Chinese), or none."""
    foreign = non_japanese_chars(text)
    return [f"日本語で使わない漢字「{''.join(foreign)}」があります"] if foreign else []


class Facts(Protocol):
    """What a cited utterance or passage has read: its numbers with units, and its drugs' generic names."""

    quantities: set[tuple[str, str]]
    drugs: set[str]


def fact_problems(line: str, written: Iterable[tuple[str, str]], cited: Sequence[Facts], where: str) -> list[str]:
    """The numbers (`written`: the line's, names and article numbers taken out) and drugs of a line that the cited
    words (`where`: 発言1・2, 資料3) do not have."""
    have_quantities = set().union(*(s.quantities for s in cited))
    problems = [
        f"数値「{value}{unit}」が{where}にありません"
        for value, unit in sorted(written)
        if not any(same_quantity((value, unit), q) for q in have_quantities)
    ]
    have_drugs = set().union(*(s.drugs for s in cited))
    problems += [
        f"薬剤「{m.surface}」が{where}にありません" for m in find_drugs(line) if m.value.generic not in have_drugs
    ]
    return problems
