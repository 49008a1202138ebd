"""Character-level normalisation of Japanese text: one canonical spelling for width, dashes, tildes and spaces.

Numbers are left as written; `kogata.ja.numbers.normalize_numbers` turns spoken numerals into charted ones.
"""

from __future__ import annotations

import re
import unicodedata

from kogata.ja.script import is_kana, is_kanji

# Everything a transcript uses for a dash or a long-vowel mark, after NFKC (which already folds ｰ→ー and －→-).
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2500\u2501\u30fc"
_DASH_RUN = re.compile(f"[{re.escape(_DASHES)}]")
# Invisible characters that only get in the way of matching (zero-width space/joiners, stray BOMs).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_HSPACE_RUN = re.compile(r"[^\S\n]+")


def _is_japanese_char(ch: str) -> bool:
    """Kana, kanji or CJK punctuation (、。「」・〜 …): characters that never need a space next to them."""
    return is_kana(ch) or is_kanji(ch) or 0x3000 <= ord(ch) <= 0x303F or ch == "・"


def _dash(m: re.Match[str]) -> str:
    # After kana a dash is a long-vowel mark (ASR and IMEs mix them: "ゼ−ゼ−"); after ASCII it is a hyphen or minus;
    # a ー elsewhere is an elongation ("痛ーい") and stays.
    text, i = m.string, m.start()
    while i and text[i - 1] in _DASHES:
        i -= 1
    prev = text[i - 1] if i else ""
    if prev and is_kana(prev):
        return "ー"
    return "ー" if m.group() == "ー" and not (prev.isascii() and prev.isalnum()) else "-"


def _space(m: re.Match[str]) -> str:
    # Japanese is written without spaces, so a space touching Japanese is an artefact of ASR or typing.
    text, i, j = m.string, m.start(), m.end()
    if i == 0 or j == len(text) or text[i - 1] == "\n" or text[j] == "\n":
        return ""
    if _is_japanese_char(text[i - 1]) or _is_japanese_char(text[j]):
        return ""
    return " "


def normalize(text: str) -> str:
    """NFKC, ℃ kept, dashes → ー after kana else '-', '~' → '〜', spaces touching Japanese removed, others collapsed.

    Idempotent; keeps line breaks and Japanese punctuation (、。「」).
    """
    t = unicodedata.normalize("NFKC", text)
    t = t.replace("\r\n", "\n").replace("\r", "\n")
    t = _INVISIBLE.sub("", t)
    t = t.replace("°C", "℃")  # NFKC splits ℃ into °C; charts write ℃
    t = t.replace("~", "〜")  # NFKC folds full-width ～ to ASCII ~; charts write ranges as 〜
    # Spaces before dashes: a dash reads the character before it, which must not be a space that goes (「あ ‐」).
    # Spaces again after: a dash that became ー makes its neighbouring space one that touches Japanese.
    t = _HSPACE_RUN.sub(_space, t)
    t = _DASH_RUN.sub(_dash, t)
    return _HSPACE_RUN.sub(_space, t)
