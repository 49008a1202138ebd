"""How alike two Japanese words sound: kana → morae (consonant, vowel), and a weighted consonant distance.

Whisper's mistakes on medical words keep the rhythm and the vowels and slip on consonants: 糖尿病 トーニョービョー
→ 同量量 ドーリョーリョー, 空腹時 クーフクジ → 空腹地 クーフクチ, ジャヌビア → ジャヌビが. So two readings are
compared only when their vowel sequences are identical (that is also the index key, which makes lookup O(1)), and
the distance sums consonant substitutions, cheaper for voicing pairs (t/d, k/g) and nasals/liquids (n/r) than for
unrelated sounds.
"""

from __future__ import annotations

from functools import lru_cache

# Katakana → (consonant, vowel). Consonants carry their glide: キャ is ("ky", "a"). ン, ッ and ー are their own morae.
_ROWS = {
    "": "アイウエオ",
    "k": "カキクケコ",
    "g": "ガギグゲゴ",
    "s": "サシスセソ",
    "z": "ザジズゼゾ",
    "t": "タチツテト",
    "d": "ダヂヅデド",
    "n": "ナニヌネノ",
    "h": "ハヒフヘホ",
    "b": "バビブベボ",
    "p": "パピプペポ",
    "m": "マミムメモ",
    "r": "ラリルレロ",
    "y": "ヤ_ユ_ヨ",
    "w": "ワヰ_ヱヲ",
}
_SINGLE: dict[str, tuple[str, str]] = {}
for _c, _kana in _ROWS.items():
    for _v, _k in zip("aiueo", _kana):
        if _k != "_":
            _SINGLE[_k] = (_c, _v)
# Irregular consonants as they sound: シ is "sh", チ "ch", ツ "ts", フ "f", ジ/ヂ "j", ヅ "z", ヲ like オ.
_SINGLE.update(
    {
        "シ": ("sh", "i"),
        "チ": ("ch", "i"),
        "ツ": ("ts", "u"),
        "フ": ("f", "u"),
        "ジ": ("j", "i"),
        "ヂ": ("j", "i"),
        "ヅ": ("z", "u"),
        "ヲ": ("", "o"),
        "ヴ": ("v", "u"),
        "ヰ": ("", "i"),
        "ヱ": ("", "e"),
    }
)
_SMALL_Y = {"ャ": "a", "ュ": "u", "ョ": "o"}
_SMALL_V = {"ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o"}
_SPECIAL = {"ン": ("N", "N"), "ッ": ("Q", "Q"), "ー": ("", "-")}

Mora = tuple[str, str]


def to_katakana(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


@lru_cache(maxsize=65536)
def morae(reading: str) -> tuple[Mora, ...] | None:
    """Morae of a kana reading, long vowels folded to "-" (コウ = コー, セイ = セー); None if it is not all kana."""
    kana = to_katakana(reading)
    out: list[Mora] = []
    i = 0
    while i < len(kana):
        ch = kana[i]
        nxt = kana[i + 1] if i + 1 < len(kana) else ""
        if ch in _SPECIAL:
            mora = _SPECIAL[ch]
        elif ch in _SINGLE:
            cons, vowel = _SINGLE[ch]
            if nxt in _SMALL_Y and vowel == "i":
                base = {"sh": "sh", "ch": "ch", "j": "j"}.get(cons, cons + "y")
                mora, i = (base, _SMALL_Y[nxt]), i + 1
            elif nxt in _SMALL_V:
                mora, i = (cons or "w", _SMALL_V[nxt]), i + 1
            else:
                mora = (cons, vowel)
        elif ch in _SMALL_V or ch in _SMALL_Y:
            mora = ("", _SMALL_V.get(ch) or _SMALL_Y[ch])
        else:
            return None
        # A vowel that repeats the one before, or ウ after o and イ after e, is a long vowel as spoken.
        if (
            out
            and mora[0] == ""
            and out[-1][1] in "aiueo"
            and (mora[1] == out[-1][1] or (mora[1], out[-1][1]) in {("u", "o"), ("i", "e")})
        ):
            mora = ("", "-")
        out.append(mora)
        i += 1
    return tuple(out)


def vowel_key(m: tuple[Mora, ...]) -> str:
    return "".join(v for _, v in m)


_CLOSE = [
    {"k", "g"},
    {"s", "z"},
    {"t", "d"},
    {"h", "b"},
    {"h", "p"},
    {"b", "p"},
    {"sh", "j"},
    {"ch", "j"},
    {"ts", "z"},
    {"sh", "s"},
    {"ch", "t"},
    {"ch", "sh"},
    {"f", "h"},
    {"j", "z"},
    {"", "w"},
    {"", "y"},
]
_NEAR = [{"n", "r"}, {"r", "d"}, {"m", "b"}, {"n", "m"}, {"", "g"}, {"", "h"}, {"", "r"}, {"n", "d"}]


def _base(cons: str) -> tuple[str, bool]:
    if len(cons) == 2 and cons.endswith("y"):
        return cons[0], True
    return cons, False


@lru_cache(maxsize=4096)
def consonant_cost(a: str, b: str) -> float:
    """Cost of hearing consonant `a` as `b`: 0 same, 0.3 voicing/place neighbours, 0.5 nasal/liquid, 0.8 else."""
    if a == b:
        return 0.0
    (ba, ga), (bb, gb) = _base(a), _base(b)
    glide = 0.2 if ga != gb else 0.0
    if ba == bb:
        return glide
    pair = {ba, bb}
    if pair in _CLOSE:
        return 0.3 + glide
    if pair in _NEAR:
        return 0.5 + glide
    return 0.8 + glide


def distance(a: tuple[Mora, ...], b: tuple[Mora, ...]) -> float:
    """Summed consonant cost of two readings with the same vowel sequence (inf when the vowels differ)."""
    if len(a) != len(b) or vowel_key(a) != vowel_key(b):
        return float("inf")
    return sum(consonant_cost(x[0], y[0]) for x, y in zip(a, b))
