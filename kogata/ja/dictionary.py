"""Longest-match lookup of dictionary phrases (drug names, disease names) in normalised Japanese text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Match(Generic[V]):
    surface: str
    value: V
    span: tuple[int, int]


class PhraseDict(Generic[V]):
    """Phrases mapped to values; `find` scans text left to right and takes the longest phrase at each point,
    so ロキソニンテープ wins over ロキソニン and 急性気管支炎 over 気管支炎."""

    def __init__(self, items: Iterable[tuple[str, V]], *, min_len: int = 2, whole_katakana: bool = False):
        self._whole_katakana = whole_katakana  # ブラ (a bulla) is not a disease inside ビブラマイシン
        self._map: dict[str, V] = {}
        for phrase, value in items:
            if len(phrase) >= min_len:
                self._map.setdefault(phrase, value)
        self._lengths = sorted({len(p) for p in self._map}, reverse=True)
        self._first = {p[0] for p in self._map}

    def __contains__(self, phrase: str) -> bool:
        return phrase in self._map

    def get(self, phrase: str) -> V | None:
        return self._map.get(phrase)

    def find(self, text: str) -> list[Match[V]]:
        found: list[Match[V]] = []
        i = 0
        while i < len(text):
            if text[i] in self._first:
                for n in self._lengths:
                    phrase = text[i : i + n]
                    if (
                        len(phrase) == n
                        and phrase in self._map
                        and not (self._whole_katakana and _inside_katakana(text, i, i + n))
                    ):
                        found.append(Match(phrase, self._map[phrase], (i, i + n)))
                        i += n
                        break
                else:
                    i += 1
            else:
                i += 1
        return found


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def _inside_katakana(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] begins or ends a katakana word that goes on past it."""
    return (_is_katakana(text[start]) and start > 0 and _is_katakana(text[start - 1])) or (
        _is_katakana(text[end - 1]) and end < len(text) and _is_katakana(text[end])
    )
