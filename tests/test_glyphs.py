from kogata.engine import gguf
from kogata.engine.model import banned_token_ids, token_texts
from kogata.ja.glyphs import GETA, is_non_japanese_han, japanese_forms, non_japanese_chars, to_japanese


def test_simplified_chinese_is_flagged_and_japanese_is_not():
    for ch in "药气过轻结们这说":
        assert is_non_japanese_han(ch), ch
    for ch in "薬気過軽結叶弥痒脉𠮷髙﨑鰻あア、。A1":
        assert not is_non_japanese_han(ch), ch
    assert non_japanese_chars("药物过敏と气苦しさ、轻微な结核") == ["药", "过", "气", "轻", "结"]
    assert non_japanese_chars("薬物過敏と息苦しさ、軽微な結核") == []


def test_gguf_vocabulary_is_read_without_loading_tensors(model_file):
    path = model_file("small")
    meta = gguf.read_metadata(path)
    assert meta["general.architecture"] == "qwen2"
    texts = token_texts(meta)
    assert len(texts) == len(meta["tokenizer.ggml.tokens"]) > 150_000
    assert "気" in texts and "气" in texts  # both are single tokens in Qwen's vocabulary


def test_banned_tokens_cover_chinese_only_tokens_of_the_default_model(model_file):
    path = model_file()
    texts = token_texts(gguf.read_metadata(path))
    banned = set(banned_token_ids(str(path)))
    assert texts.index("药") in banned and texts.index("气") in banned
    assert texts.index("過") not in banned and texts.index("気") not in banned
    assert 10_000 < len(banned) < 20_000  # about 8 % of the vocabulary


def test_non_japanese_glyphs_are_rewritten_in_their_japanese_form():
    assert to_japanese("药物过敏で气苦しさ、风邪") == "薬物過敏で気苦しさ、風邪"
    japanese = "三十八度五分の発熱、𠮷野さん、髙橋さん、痙攣"
    assert to_japanese(japanese) is japanese  # Japanese text passes untouched


def test_a_glyph_without_a_japanese_form_becomes_geta_not_a_silent_change():
    out = to_japanese("咔嚓")
    assert non_japanese_chars(out) == [] and set(out) == {GETA}


def test_every_rewrite_target_is_japanese():
    assert all(not is_non_japanese_han(ch) for ch in japanese_forms().values())


def test_kanji_japanese_medicine_writes_in_their_jis_forms_are_japanese():
    # 側弯症 (scoliosis) and 弯曲 are written with 弯 in Japanese clinical writing, though it is also a simplified form
    for term in ("側弯症", "弯曲", "脉", "痒み"):
        assert non_japanese_chars(term) == [], term
        assert to_japanese(term) == term
