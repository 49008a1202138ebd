"""The engine with the real bundled model: Japanese answers, streaming, constrained JSON, clear errors."""

import time

import pytest

import kogata
from kogata.engine import gguf
from kogata.engine.model import token_texts
from kogata.errors import ContextOverflowError, GenerationError, InputError, SchemaError
from kogata.ja.glyphs import non_japanese_chars

PATIENT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "symptoms": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5},
        "severity": {"enum": ["軽症", "中等症", "重症"]},
    },
    "required": ["name", "age", "symptoms", "severity"],
    "additionalProperties": False,
}


def has_kana(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" for ch in text)


def test_answers_in_japanese(llm):
    r = kogata.generate(llm, "風邪をひいたときに気をつけることを一文で教えてください。", max_tokens=60)
    assert has_kana(r.text)
    assert r.stats.completion_tokens > 0 and r.stats.generation_tps > 0


def test_stream_equals_whole_answer(llm):
    prompt = "日本の首都はどこですか。一文で答えてください。"
    whole = kogata.generate(llm, prompt, max_tokens=40).text
    stream = kogata.stream_generate(llm, prompt, max_tokens=40)
    pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces) == whole
    assert stream.stats is not None and stream.stats.first_token_s > 0


def test_stream_never_splits_a_character(llm):
    # Medical kanji such as 蕁, 痙, 攣, 膿 are no token of the vocabulary: the model writes each as two or
    # three byte tokens, so a naive stream would emit half characters.
    texts = token_texts(gguf.read_metadata(llm.path))
    split = "蕁痙攣膿嚥"
    assert not any(ch in t for t in texts for ch in split)
    pieces = list(
        kogata.stream_generate(
            llm, "次の病名をそのまま一度だけ書き写してください：「蕁麻疹、痙攣、膿瘍、嚥下障害」", max_tokens=40
        )
    )
    text = "".join(pieces)
    assert sum(ch in text for ch in split) >= 3, text
    for piece in pieces:
        assert "\ufffd" not in piece
        piece.encode("utf-8")  # every piece is whole characters (a lone surrogate would raise)


def test_glyph_guard_keeps_chinese_only_glyphs_out(llm):
    # Asked in Chinese, the model answers in Chinese; the guard must still keep 药/过/气… out.
    prompt = "请用中文简单解释：药物过敏的常见症状有哪些？"
    guarded = kogata.generate(llm, prompt, max_tokens=80).text
    assert non_japanese_chars(guarded) == [], guarded
    unguarded = kogata.load(glyph_guard=False, progress=False)
    raw = kogata.generate(unguarded, prompt, max_tokens=80).text
    assert non_japanese_chars(raw), "the prompt no longer provokes Chinese glyphs; the test above proves nothing"


def test_generate_json_validates(llm):
    value = kogata.generate_json(
        llm, "患者は山田太郎さん、52歳。3日前から発熱と咳があり、中等症。", PATIENT_SCHEMA, max_tokens=200
    )
    assert value["age"] == 52
    assert value["severity"] == "中等症"
    assert value["name"].startswith("山田")


def test_invalid_schema_is_refused_before_generation(llm):
    with pytest.raises(SchemaError, match="objekt"):
        kogata.generate_json(llm, "テスト", {"type": "objekt"})
    with pytest.raises(SchemaError, match="uniqueItems"):
        kogata.generate_json(llm, "テスト", {"type": "array", "uniqueItems": True})
    with pytest.raises(SchemaError, match="local"):
        kogata.generate_json(llm, "テスト", {"$ref": "https://example.com/s.json"})


def test_json_cut_short_fails_closed(llm):
    with pytest.raises(GenerationError, match="max_tokens"):
        kogata.generate_json(llm, "患者は山田太郎さん、52歳。発熱と咳。", PATIENT_SCHEMA, max_tokens=5)


def test_empty_prompt_is_refused(llm):
    with pytest.raises(InputError, match="empty"):
        kogata.generate(llm, "   ")


def test_prompt_longer_than_context_says_by_how_much(small_llm):
    with pytest.raises(ContextOverflowError, match=r"shorten it by at least \d+ tokens"):
        kogata.generate(small_llm, "長い文章です。" * 200, max_tokens=5)


def test_growing_prompt_reuses_the_kv_cache(small_llm):
    history = [{"role": "user", "content": "医師：今日はどうされましたか。\n患者：三日前から熱があります。"}]
    first = kogata.generate(small_llm, history, max_tokens=8)
    history += [
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "医師：咳は出ますか。\n患者：はい、夜に出ます。"},
    ]
    second = kogata.generate(small_llm, history, max_tokens=8)
    assert second.stats.cached_tokens >= first.stats.prompt_tokens - 1


def test_leaving_a_stream_early_stops_generation(small_llm):
    start = time.perf_counter()
    stream = kogata.stream_generate(small_llm, "日本の歴史を詳しく説明してください。", max_tokens=400)
    for i, _ in enumerate(stream):
        if i == 2:
            break
    assert stream.stats is not None and stream.stats.completion_tokens < 50
    assert time.perf_counter() - start < 30
    assert kogata.generate(small_llm, "こんにちは", max_tokens=5).text  # the model is free again


def test_unknown_adapter_is_a_clear_error(small_llm):
    with pytest.raises(InputError, match="adapter 'cardiology'"):
        kogata.generate(small_llm, "こんにちは", adapter="cardiology")


def test_smallest_profile_loads_and_completes():
    tiny = kogata.load("gemma-3-270m", n_ctx=512, progress=False)
    assert tiny.spec.instruct is False
    r = kogata.generate(tiny, "日本の首都は", max_tokens=8)
    assert r.stats.completion_tokens > 0


def test_the_bindings_loopback_listener_is_locked(small_llm):
    import urllib.error
    import urllib.request

    address = small_llm._server.listening_address
    assert address.startswith("http://127.0.0.1:")
    request = urllib.request.Request(
        address + "/completion", data=b'{"prompt": "a", "n_predict": 1}', headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
