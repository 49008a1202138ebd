"""Which Han characters belong in Japanese text, and which token ids a model must never emit.

Small multilingual models trained mostly on Chinese write simplified forms (药物, 气苦しさ, 过敏) in Japanese
answers. A Han character is accepted when JIS X 0213 (Shift_JIS-2004) or Windows-31J (CP932) can encode it — the
set Japanese text uses, including rare kanji in names — except for a short list of simplified forms that JIS X 0213 also
contains but that Japanese writing does not use (气 for 気, 开 for 開, …).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# Simplified Chinese forms that Shift_JIS-2004 can still encode, with the Japanese form they stand for.
# Checked one by one: each is absent from ordinary Japanese writing (radicals and variants that Japanese
# does use, such as 叶, 弥, 痒, 脉, 云, and 弯 of 側弯症 and 弯曲, are deliberately not listed).
SIMPLIFIED_IN_JIS = {
    "气": "気",
    "种": "種",
    "么": "麼",
    "无": "無",
    "网": "網",
    "肤": "膚",
    "苹": "蘋",
    "帮": "幇",
    "吨": "屯",
    "坏": "壊",
    "夸": "誇",
    "价": "価",
    "决": "決",
    "况": "況",
    "凉": "涼",
    "听": "聴",
    "呕": "嘔",
    "壳": "殻",
    "宁": "寧",
    "弃": "棄",
    "极": "極",
    "梦": "夢",
    "泻": "瀉",
    "渊": "淵",
    "渗": "滲",
    "灵": "霊",
    "灾": "災",
    "盖": "蓋",
    "确": "確",
    "离": "離",
    "筹": "籌",
    "粮": "糧",
    "耻": "恥",
    "腊": "臘",
    "荐": "薦",
    "荣": "栄",
    "蜡": "蝋",
    "迁": "遷",
    "适": "適",
    "阳": "陽",
    "阴": "陰",
    "开": "開",
    "关": "関",
    "从": "従",
    "个": "個",
    "丰": "豊",
    "几": "幾",
    "凭": "憑",
    "划": "劃",
    "匀": "勻",
    "圣": "聖",
    "复": "復",
    "异": "異",
    "愿": "願",
    "厂": "廠",
    "儿": "児",
    "帘": "簾",
    "扑": "撲",
    "巩": "鞏",
    "档": "檔",
    "烟": "煙",
    "犹": "猶",
    "迹": "跡",
    "沪": "滬",
    "涂": "塗",
}

# Variant kanji of Japanese names that even JIS X 0213 lacks (𠮷野家's つちよし).
JAPANESE_OUTSIDE_JIS = {"𠮷"}


def is_han(ch: str) -> bool:
    """True for CJK ideographs (unified, extensions, compatibility), not for kana or symbols."""
    cp = ord(ch)
    return 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x323AF


@lru_cache(maxsize=65536)
def is_non_japanese_han(ch: str) -> bool:
    """True when `ch` is a Han character that Japanese text does not use."""
    if not is_han(ch) or ch in JAPANESE_OUTSIDE_JIS:
        return False
    if ch in SIMPLIFIED_IN_JIS:
        return True
    for encoding in ("shift_jis_2004", "cp932"):  # cp932 adds the IBM/NEC kanji of names such as 髙 and 﨑
        try:
            ch.encode(encoding)
            return False
        except UnicodeEncodeError:
            pass
    return True


def non_japanese_chars(text: str) -> list[str]:
    """The Han characters in `text` that do not belong in Japanese, in order of appearance, without repeats."""
    return list(dict.fromkeys(ch for ch in text if is_non_japanese_han(ch)))


# A character with no Japanese form is replaced by 〓 (geta), the mark Japanese typesetting uses for a
# glyph it cannot print: visible to the reader, never a silent change of meaning.
GETA = "〓"


@lru_cache(maxsize=1)
def japanese_forms() -> dict[str, str]:
    """Han characters Japanese does not use → their Japanese form (data/japanese_glyphs.tsv, from OpenCC)."""
    path = Path(__file__).parent / "data" / "japanese_glyphs.tsv"
    rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    return {simplified: japanese for simplified, japanese in rows}


def to_japanese(text: str) -> str:
    """`text` with every Han character Japanese does not use rewritten in its Japanese form (药 → 薬, 风 → 風),
    or 〓 where there is none. Text that is already Japanese comes back unchanged (the same object)."""
    if not any(is_non_japanese_han(ch) for ch in text):
        return text
    forms = japanese_forms()
    return "".join(forms.get(ch, GETA) if is_non_japanese_han(ch) else ch for ch in text)
