"""Property-based tests (hypothesis): invariants of the normaliser, the transcript parser and masking that must hold
for any input, not only for the examples written beside the code. Bounded (a few hundred examples each) so the
suite stays fast; `HYPOTHESIS_PROFILE=long` runs many more."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kogata.errors import TranscriptError
from kogata.ja import normalize, normalize_numbers
from kogata.privacy import mask_text
from kogata.transcript import parse_transcript

settings.register_profile("suite", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# What a consultation transcript is made of: kana, common kanji, full- and half-width ASCII, dashes, tildes,
# spaces of every width, kanji numerals and units.
_JAPANESE = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんっゃゅょー"
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンッャュョ"
    "熱咳痰頭痛腹胸息苦薬錠朝夕食後日週月年回分度点血圧脈検査処方継続様子見"
    "〇一二三四五六七八九十百千万"
)
_OTHER = "0123456789０１２３４５６７８９ABCabcＡＢＣmgｍｇ℃°%％/.,、。「」・~～〜-‐−－—― 　\u200b"
japanese_text = st.text(alphabet=st.sampled_from(_JAPANESE + _OTHER), max_size=60)


@given(japanese_text)
def test_normalising_twice_changes_nothing(text):
    once = normalize(text)
    assert normalize(once) == once


@given(japanese_text)
def test_normalised_text_holds_no_full_width_ascii_and_no_invisible_characters(text):
    out = normalize(text)
    assert not any(0xFF01 <= ord(ch) <= 0xFF5E for ch in out)
    assert "\u200b" not in out and "\u3000" not in out


def _kanji(n: int) -> str:
    """n (0 < n < 100000) as it is spoken and written in kanji: 3805 → 三千八百五."""
    digits, out = "〇一二三四五六七八九", ""
    for value, name in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            out += ("" if q == 1 and value < 10000 else _kanji(q) if value == 10000 else digits[q]) + name
    return out + (digits[n] if n else "")


@given(st.integers(min_value=2, max_value=99999), st.sampled_from(["ミリグラム", "錠", "回", "日分", "ミリリットル"]))
def test_spoken_numbers_with_a_counter_become_digits_once_and_for_all(n, counter):
    once = normalize_numbers(f"{_kanji(n)}{counter}です")
    assert str(n) in once, once
    assert normalize_numbers(once) == once


speakers = st.sampled_from(["医師", "患者", "看護師", "家族", "母親"])
utterance_text = st.text(alphabet=st.sampled_from(_JAPANESE + "、。？"), min_size=1, max_size=30).filter(
    lambda t: t.strip() and any("\u3041" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in t)
)


@given(st.lists(st.tuples(speakers, utterance_text), min_size=1, max_size=12))
def test_labelled_lines_parse_to_ids_one_to_n_with_their_speakers(turns):
    text = "# 合成\n" + "\n".join(f"{who}：{what}" for who, what in turns) + "\n"
    try:
        transcript = parse_transcript(text)
    except TranscriptError:  # a transcript can be refused (e.g. not Japanese enough), never crash
        return
    assert [u.id for u in transcript.utterances] == list(range(1, len(turns) + 1))
    assert [u.speaker for u in transcript.utterances] == [who for who, _ in turns]
    assert all(u.text for u in transcript.utterances)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_a_transcript_error(text):
    try:
        parse_transcript(text)
    except TranscriptError:
        pass


_SURNAME = "佐藤鈴木高橋田中伊藤渡辺山本中村小林加藤吉田山口松本井上木村斎藤清水森池"
names = st.text(alphabet=st.sampled_from(_SURNAME), min_size=2, max_size=4)
filler = st.text(alphabet=st.sampled_from("あいうえおかきくけこ熱咳痰頭痛、。"), max_size=12)


@given(names, st.sampled_from(["さん", "様", "先生", "氏"]), filler, filler, st.booleans())
def test_a_masked_text_never_contains_a_name_seen_with_an_honorific(name, honorific, before, after, bare_again):
    text = f"{before}{name}{honorific}{after}" + (f"。{after}{name}は来ません" if bare_again else "")
    masked = mask_text(text)
    assert name not in masked, masked


@given(names, filler)
def test_masking_reads_escaped_names_as_written(name, after):
    escaped = f"{name}さん{after}".encode("unicode_escape").decode("ascii")
    masked = mask_text(f"prompt={escaped!s}")
    assert name not in masked and escaped.split("\\u3055")[0] not in masked


@pytest.mark.parametrize("clinical", ["38.5℃", "5mg", "152/94", "1日3回", "患者さん", "様子を見ます"])
def test_masking_keeps_clinical_words(clinical):
    assert mask_text(clinical) == clinical
