"""The chart's learned reader (kogata.tasks.karte.reader): the shipped weights are the ones recorded, trained on the
train writers' data as it is now, training is deterministic, and what it reads and the lines it adds behave."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kogata.tasks.karte import artefact, karte, reader
from kogata.transcript import parse_transcript
from kogata.tune import reader as training

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
KOGATA = [sys.executable, "-m", "kogata.cli"]


def _said(text: str):
    from kogata.tasks.karte import vocabulary

    return list(vocabulary.evidence(parse_transcript(text)).said.values())


def test_shipped_weights_match_their_record_and_the_training_data():
    record = json.loads(reader.weights_path().with_name(reader.RECORD).read_text(encoding="utf-8"))
    assert reader.sha256_of_weights() == record["sha256"]
    assert hashlib.sha256(reader.weights_path().read_bytes()).hexdigest() == record["sha256"]
    # trained on the train writers' files exactly as they are in the repository now
    assert training.data_hash(training.visits(CORPUS, "train")) == record["training_data_sha256"]
    assert reader.weights_path().stat().st_size < 1_000_000  # small enough to ship in the package
    weights = reader.load_weights()
    assert set(weights.heads) == set(reader.HEADS)


def test_training_is_deterministic_and_uses_only_its_split():
    chosen = training.visits(CORPUS, "train")[:2]
    assert all(v.reference["split"] == "train" for v in chosen)
    assert {v.transcript.parent.name for v in training.visits(CORPUS, "train")} == {"a", "b", "c", "g", "h", "i"}
    assert {v.transcript.parent.name for v in training.visits(CORPUS, "dev")} == {"d", "j", "k", "l"}  # never e, f
    x, y = training.examples(chosen)
    assert len(x) == sum(len(v.reference["utterance_labels"]) for v in chosen)
    first, second = training.npz_bytes(training.fit(x, y)), training.npz_bytes(training.fit(x, y))
    assert first == second  # same data, same bytes, same sha256
    other = training.fit(x[: len(x) // 2], {h: t[: len(x) // 2] for h, t in y.items()})
    assert training.npz_bytes(other) != first  # and the bytes do depend on the data


def test_denial_small_talk_and_a_measurement_are_read_apart():
    said = _said(
        "医師：胸が痛くなることはありますか。\n"
        "患者：いいえ、胸の痛みは全くありません。\n"
        "医師：今日は暑いですね。駐車場はすぐ見つかりましたか。\n"
        "患者：ええ、すぐ停められました。\n"
        "医師：血圧は148の92、脈拍は72で整です。\n"
    )
    readings = {r.id: r for r in reader.read(said)}
    assert len(readings) == 5
    assert readings[2].assertion == "denied" and readings[2].section == "S"
    assert readings[3].section == "-" and readings[4].section == "-"
    assert readings[5].section == "O" and readings[5].clinical > 0.5
    assert readings[3].clinical < readings[5].clinical


def test_reader_lines_chart_what_no_rule_reads_and_keep_denials():
    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：えっと、先週からなんですけど、右の肩甲骨の内側がずっと重だるくて。\n"
        "医師：お仕事は何をされていますか。\n"
        "患者：倉庫で一日中、段ボールを棚に上げ下ろししてます。\n"
        "医師：腕の力が抜ける感じは？\n"
        "患者：いや、それはないです。\n"
        "医師：手に持った物を落としたりすることは？\n"
        "患者：いや、それもないです。\n"
    )
    with_reader = karte(parse_transcript(visit), reader=True)
    baseline = karte(parse_transcript(visit), rules_only=True)
    assert with_reader.model == "rules+reader+status" and baseline.model == "rules"
    shown = {i.text: i.evidence for s in with_reader.soap.values() for i in s if i.supported}
    before = {i.text for s in baseline.soap.values() for i in s}
    assert before <= set(shown)  # every rule line stays
    added = {text: ids for text, ids in shown.items() if text not in before}
    # the occupation, which no word list names, in the patient's words without the filler, under the question's
    # subject (the answer names none of its own), citing both
    assert added.get("お仕事：倉庫で1日中、段ボールを棚に上げ下ろししてます。") == [3, 4]
    # a denial of something no lexicon knows stays a negative, with its question's subject, citing both (the rules'
    # per-item negatives now write it too, so the reader adds no second line)
    assert shown.get("手に持った物を落としたりすることなし。") == [7, 8]
    assert not any(8 in ids for ids in added.values())
    # an answer a rule line already charts (脱力感なし) gets no second line
    assert not any(6 in ids for ids in added.values())
    assert all("えっと" not in text for text in added)
    # the medication list is the rules', less what the learned drug status doubts (kogata.tasks.karte.drug_reader)
    assert all(m in baseline.medications for m in with_reader.medications)


def test_the_reader_vetoes_small_talk_that_a_clinical_cue_let_through():
    visit = (
        "医師：今日はどうされました？\n"
        "患者：咳が三日前から出ています。\n"
        "医師：お大事に。\n"
        "患者：帰りに小倉トースト食べて帰ろ。\n"
        "患者：孫の運動会の準備があるん。\n"
    )
    baseline = karte(parse_transcript(visit), rules_only=True)
    with_reader = karte(parse_transcript(visit), reader=True)
    cited = lambda chart: {i for s in chart.soap.values() for item in s for i in item.evidence}  # noqa: E731
    # the clinical cues take 食 and 運動 for diet and exercise; the reader judges both utterances to be chat
    assert {4, 5} <= cited(baseline)
    assert not {4, 5} & cited(with_reader)
    # the symptom line, which names a finding, is never the reader's to drop
    assert any("咳" in item.text for item in with_reader.soap["S"])


def test_rules_only_keeps_its_meaning_and_refuses_the_reader(tmp_path):
    path = tmp_path / "visit.txt"
    path.write_text("医師：どうされましたか。\n患者：三日前から熱があります。\n", encoding="utf-8")
    out = subprocess.run(
        [*KOGATA, "karte", str(path), "--rules-only", "--reader", "on"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2 and "--rules-only" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run(
        [*KOGATA, "karte", str(path), "--reader", "on", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["soap"]["S"]


def test_weights_that_do_not_match_their_record_are_refused(monkeypatch, tmp_path):
    from kogata.errors import ModelError

    fake = tmp_path / "data"
    fake.mkdir()
    (fake / reader.WEIGHTS).write_bytes(reader.weights_path().read_bytes() + b"x")
    (fake / reader.RECORD).write_text(json.dumps({"sha256": "0" * 64}), encoding="utf-8")
    monkeypatch.setattr(artefact, "files", lambda package: tmp_path)
    reader.load_weights.cache_clear()
    try:
        with pytest.raises(ModelError, match="sha256"):
            reader.load_weights()
    finally:
        monkeypatch.undo()
        reader.load_weights.cache_clear()
    assert isinstance(reader.load_weights().mean, np.ndarray)
