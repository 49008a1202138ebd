"""Article references in Japanese regulations, in one spelling for matching and citing.

article_refs("第五条第二項による")     # ['第5条', '第5条第2項']
article_label("三", "の二")           # '第3条の2'
"""

from __future__ import annotations

import re
import unicodedata

from kogata.ja.numbers import parse_kanji_number

NUMERALS = "0-9〇一二三四五六七八九十百千"  # a character class: the digits an article number is written in
_ARTICLE_REF = re.compile(rf"第([{NUMERALS}]+)条((?:の[{NUMERALS}]+)*)(?:第([{NUMERALS}]+)項)?(?:第([{NUMERALS}]+)号)?")


def number(numeral: str) -> int:
    """'3' or '三' → 3."""
    return int(numeral) if numeral.isdigit() else parse_kanji_number(numeral)


def article_label(main: str, branches: str = "") -> str:
    """第三条の二 → 第3条の2: one spelling for matching and citing."""
    label = f"第{number(main)}条"
    for branch in filter(None, branches.split("の")):
        label += f"の{number(branch)}"
    return label


def article_refs(text: str) -> list[str]:
    """Article references in `text`, normalised: 「第五条第二項」 → ['第5条', '第5条第2項']."""
    refs: list[str] = []
    for m in _ARTICLE_REF.finditer(unicodedata.normalize("NFKC", text)):
        try:
            label = article_label(m.group(1), m.group(2) or "")
            refs.append(label)
            if m.group(3):
                refs.append(f"{label}第{number(m.group(3))}項")
        except ValueError:
            continue
    return refs
