"""The embedding cache a live visit charts through: the same vectors as embed(), each text embedded once, so the
chart at a visit's end embeds only what was said since the last warm-up (embedding is most of a chart's time)."""

from __future__ import annotations

import numpy as np

from kogata.engine.embed import EmbeddingCache, embed
from kogata.tasks.karte import karte
from kogata.transcript import parse_transcript

VISIT = """医師：今日はどうされましたか。
患者：三日前から咳が出て、夜も眠れないんです。
医師：熱はありますか。
患者：昨日は三十七度八分ありました。
患者：糖尿病でメトホルミンを一日二回飲んでいます。
医師：胸の音を聞きますね。少しゼーゼーしています。
医師：咳止めを五日分出しておきます。"""

MORE = "\n患者：あと、鼻水も少し出ます。"


def test_the_cache_gives_embeds_vectors_and_embeds_each_text_once():
    texts = ["咳が出ます。", "熱はありません。", "咳が出ます。"]
    cache = EmbeddingCache()
    first = cache(texts)
    assert np.allclose(first, embed(texts), atol=1e-6)
    assert cache.embedded == 2  # the repeated text once
    again = cache(list(reversed(texts)))
    assert np.allclose(again, first[::-1], atol=1e-6) and cache.embedded == 2
    assert cache([]).shape == (0, first.shape[1])


def test_a_full_cache_drops_its_oldest_vectors_and_still_answers():
    cache = EmbeddingCache(limit=2)
    vectors = cache(["一つ目。", "二つ目。", "三つ目。"])  # more texts than it holds: still one vector each
    assert vectors.shape[0] == 3 and np.allclose(vectors, embed(["一つ目。", "二つ目。", "三つ目。"]), atol=1e-6)
    assert len(cache._vectors) == 2


def test_a_visit_charted_again_through_its_cache_embeds_only_what_is_new_and_charts_the_same():
    cache = EmbeddingCache()
    first = karte(parse_transcript(VISIT), embeddings=cache)
    embedded = cache.embedded
    assert embedded > 0  # the reader and the drug status read through it
    again = karte(parse_transcript(VISIT), embeddings=cache)
    assert cache.embedded == embedded  # nothing new to embed
    assert again.to_dict()["soap"] == first.to_dict()["soap"] == karte(parse_transcript(VISIT)).to_dict()["soap"]
    assert again.medications == first.medications
    grown = karte(parse_transcript(VISIT + MORE), embeddings=cache)
    assert 0 < cache.embedded - embedded <= 2  # the new utterance (and at most one clause of a drug in it)
    assert any("鼻水" in line["text"] for line in grown.to_dict()["soap"]["S"])
