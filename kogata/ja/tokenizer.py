"""Sudachi morphological analysis behind one cached, thread-safe entry point: `tokenize(text)`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kogata.errors import KogataError

if TYPE_CHECKING:
    from sudachipy import Dictionary, Tokenizer

# Sudachi refuses inputs over 49,149 bytes; 4,000 characters is at most 12 KB of UTF-8 and keeps each call short.
_CHUNK_CHARS = 4_000

_dictionary: Dictionary | None = None
_dictionary_lock = threading.Lock()
_local = threading.local()  # a Sudachi Tokenizer is not safe to share between threads; the Dictionary is


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme. begin/end are character offsets into the text given to `tokenize`."""

    surface: str
    begin: int
    end: int
    pos: tuple[str, ...]  # Sudachi's six fields, e.g. ("動詞", "一般", "*", "*", "五段-カ行", "連用形-一般")
    dictionary_form: str
    normalized_form: str


def _tokenizer() -> Tokenizer:
    global _dictionary
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        with _dictionary_lock:
            if _dictionary is None:  # building the dictionary is the slow part (~0.1 s); do it once per process
                try:
                    from sudachipy import Dictionary

                    _dictionary = Dictionary(dict="core")
                except Exception as exc:  # ImportError, or sudachidict_core missing/corrupt
                    raise KogataError(
                        f"Japanese analyser unavailable ({exc}); install it: pip install sudachipy sudachidict_core"
                    ) from exc
        from sudachipy import SplitMode

        tok = _local.tokenizer = _dictionary.tokenizer(mode=SplitMode.C)
    return tok


def _chunks(text: str) -> list[tuple[int, str]]:
    """(offset, piece) pieces of at most _CHUNK_CHARS characters, cut after a line break or 。 where possible."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > _CHUNK_CHARS:
        limit = start + _CHUNK_CHARS
        cut = max(text.rfind("\n", start, limit), text.rfind("。", start, limit))
        cut = cut + 1 if cut > start else limit
        out.append((start, text[start:cut]))
        start = cut
    out.append((start, text[start:]))
    return out


def tokenize(text: str) -> list[Token]:
    """Sudachi SplitMode.C morphemes of text, any length."""
    if not text:
        return []
    tok = _tokenizer()
    tokens: list[Token] = []
    for offset, piece in _chunks(text):
        for m in tok.tokenize(piece):
            tokens.append(
                Token(
                    m.surface(),
                    offset + m.begin(),
                    offset + m.end(),
                    tuple(m.part_of_speech()),
                    m.dictionary_form(),
                    m.normalized_form(),
                )
            )
    return tokens
