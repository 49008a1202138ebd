"""Which script a character or text is written in: kana, kanji, and whether a text reads as Japanese."""

from __future__ import annotations

# A text is Japanese when at least this share of its letters are kana or kanji. Low enough for consultations full
# of drug names in Latin script ("Loxonin 60mg"), high enough to reject English or romaji transcripts.
MIN_JAPANESE_RATIO = 0.2

# Kanji with no kana is Chinese far more often than Japanese, except in very short texts ("頭痛", "腹痛あり").
# Longer than this many letters, a text needs at least one kana to count as Japanese.
KANJI_ONLY_MAX_LETTERS = 10


def is_kana(ch: str) -> bool:
    """Hiragana or katakana letter (incl. ー and half-width katakana; not the punctuation ・ ゛)."""
    o = ord(ch)
    in_block = 0x3041 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D
    return in_block and ch.isalpha()


def is_kanji(ch: str) -> bool:
    """CJK ideographs (unified, extensions, compatibility; as kogata.ja.glyphs.is_han) and the marks 々 〆."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x323AF
        or ch in "々〆"
    )


def japanese_ratio(text: str) -> float:
    """Share of letters (str.isalpha) that are kana or kanji; 0.0 when the text has no letters."""
    letters = jp = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if is_kana(ch) or is_kanji(ch):
                jp += 1
    return jp / letters if letters else 0.0


def is_japanese(text: str) -> bool:
    """True when ≥ 20 % of letters are kana/kanji and, beyond 10 letters, at least one is kana (else: Chinese)."""
    if japanese_ratio(text) < MIN_JAPANESE_RATIO:
        return False
    letters = sum(1 for ch in text if ch.isalpha())
    return letters <= KANJI_ONLY_MAX_LETTERS or any(is_kana(ch) for ch in text)
