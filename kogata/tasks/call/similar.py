"""When two requirements say the same thing: the matching behind ASDC scoring and record de-duplication.

Both sides NFKC-normalised with spoken numbers as digits; wording every request shares (希望, したい, がよい …)
removed; then the Dice overlap of their content units, where a unit is a run of digits (4, 12, 5000) or one
kanji, katakana or Latin letter (kana are mostly grammar and politeness). Two items that both name numbers but
share none do not match (泊数は1泊 / 泊数は2泊).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from kogata.ja import normalize_numbers

MATCH_THRESHOLD = 0.5

# Wording that every request shares, so it says nothing about which request it is.
_SHARED_WORDING = re.compile(r"ご?希望|したい|がよい|が良い|がいい|いただきたい|お願い|条件|可能")
_UNIT = re.compile(r"\d+|[\u30a0-\u30ff\u3400-\u9fff\uf900-\ufaffA-Za-z]")
# Matching.


def units(text: str) -> set[str]:
    """Content units of a requirement: digit runs and single kanji / katakana / Latin letters."""
    text = normalize_numbers(unicodedata.normalize("NFKC", text)).replace(",", "")
    return set(_UNIT.findall(_SHARED_WORDING.sub(" ", text).lower()))


def similarity(a: str, b: str) -> float:
    """Dice overlap of the content units of two requirements (0 … 1); 0 when both name numbers and share
    none (泊数は1泊 / 泊数は2泊 are different requirements however alike their words)."""
    ua, ub = units(a), units(b)
    numbers_a, numbers_b = {u for u in ua if u.isdigit()}, {u for u in ub if u.isdigit()}
    if numbers_a and numbers_b and not numbers_a & numbers_b:
        return 0.0
    return 2 * len(ua & ub) / (len(ua) + len(ub)) if ua and ub else 0.0


def match(
    predicted: Sequence[str], gold: Sequence[str], threshold: float = MATCH_THRESHOLD
) -> list[tuple[int, int, float]]:
    """One-to-one pairs (predicted index, gold index, similarity) at or above `threshold`, most similar first."""
    scored = sorted(
        ((similarity(p, g), i, j) for i, p in enumerate(predicted) for j, g in enumerate(gold)), key=lambda t: -t[0]
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for sim, i, j in scored:
        if sim < threshold:
            break
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            pairs.append((i, j, sim))
    return pairs
