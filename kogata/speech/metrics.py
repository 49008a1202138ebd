"""Character error rate for Japanese speech recognition, three ways (used by bench/asr.py and the tests).

- as written: edit distance over the characters after NFKC, without punctuation and spaces;
- numbers folded: both sides through kogata.ja's number normalisation first, so 七・八パーセント and 7.8% agree;
- kana: Sudachi's readings compared (numbers folded), so 喉/のど or 渇く/かわく are no errors: how much is
  spelling and how much hearing.
"""

from __future__ import annotations

import re
import unicodedata

from kogata.ja import normalize, normalize_numbers

_NOT_TEXT = re.compile(r"[\W_]+")
_KATAKANA = re.compile(r"[\u30a0-\u30ff]+")


def chars(text: str, *, fold_numbers: bool = False, kana: bool = False) -> str:
    text = unicodedata.normalize("NFKC", text)
    if fold_numbers:
        text = normalize_numbers(normalize(text))
    text = _NOT_TEXT.sub("", text)
    return reading(text) if kana else text


def reading(text: str) -> str:
    """Katakana reading by Sudachi (a word without one is kept as written)."""
    from kogata.ja.tokenizer import _tokenizer

    return "".join(
        m.reading_form() if _KATAKANA.fullmatch(m.reading_form() or "") else m.surface()
        for m in _tokenizer().tokenize(text)
    )


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diag, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (ca != cb))
    return row[-1]


def errors(ref: str, hyp: str, *, fold_numbers: bool = False, kana: bool = False) -> tuple[int, int]:
    """(character edits, reference characters): sum these over visits for a corpus-level CER."""
    r, h = chars(ref, fold_numbers=fold_numbers, kana=kana), chars(hyp, fold_numbers=fold_numbers, kana=kana)
    return edit_distance(r, h), len(r)


def cer(ref: str, hyp: str, **how: bool) -> float:
    err, n = errors(ref, hyp, **how)
    return err / max(n, 1)
