"""The learned drug status and the safe decision (kogata.tasks.karte.drug_reader): on charts of short visits
written here in the train writers' manner (not copied from any corpus file), and the shipped artefact's hashes."""

from pathlib import Path

import pytest

from kogata.tasks.karte import drug_reader
from kogata.tasks.karte.chart import karte, use_parts
from kogata.tasks.karte.facts import extract
from kogata.tasks.karte.vocabulary import evidence
from kogata.transcript import read_transcript
from kogata.tune.drug_reader import data_hash, npz_bytes, visits

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"

# status → (a visit, the drug's name in a chart line, a word that line must hold); the listed ones are taken now
LISTED = {
    "current": ("患者：血圧の薬はアムロジピンを毎朝飲んでいます。\n", "アムロジピン"),
    "prescribed": ("医師：咳止めにメジコンを1日3回、5日分出しておきます。\n", "デキストロメトルファン"),
    "changed": ("医師：アムロジピンは5mgから10mgに増やしましょう。\n", "アムロジピン"),
}
NOT_LISTED = {
    "stopped": ("医師：胃が荒れているので、ロキソニンは今日で中止します。\n", "中止"),
    "avoided": ("医師：授乳中なので、ロキソニンは使わないでください。\n", "使用せず"),
    "refused": (
        "医師：眠れない時のためにマイスリーを出しましょうか。\n患者：睡眠薬はできれば飲みたくないんです。\n",
        "本人希望せず",
    ),
    "deferred": ("医師：効きが足りなければ、次回ロキソニンを足すことも検討します。\n", "見送り"),
    "discussed": ("患者：友達がロキソニンが効くって言ってたんですけど。\n", "説明のみ"),
    "allergy": ("患者：昔、ロキソニンを飲んだら蕁麻疹が出ました。\n医師：ロキソニンで蕁麻疹ですね。\n", "アレルギー"),
}


def chart_of(text: str, **kwargs):
    return karte(read_transcript(text.encode()), **kwargs)  # the default: rules, reader and status, no model


@pytest.mark.parametrize("status", sorted(LISTED))
def test_a_drug_taken_or_ordered_now_stays_listed_with_the_learned_status_on(status):
    text, name = LISTED[status]
    chart = chart_of(text, reader=True)
    assert [(m["name"], m["status"]) for m in chart.medications] == [(name, status)]


@pytest.mark.parametrize("status", sorted(NOT_LISTED))
def test_a_drug_not_taken_is_never_listed_and_its_status_is_written(status):
    text, word = NOT_LISTED[status]
    chart = chart_of(text, reader=True)
    assert chart.medications == []
    lines = [i.text for s in ("S", "P") for i in chart.soap[s] if "ロキソ" in i.text or "ゾルピデム" in i.text]
    assert any(word in line for line in lines), lines


def test_the_safe_decision_only_ever_takes_a_drug_off_the_list_and_keeps_its_details():
    text = "患者：血圧の薬はアムロジピンを毎朝飲んでいます。\n医師：ロキソニンは使わないでください。\n"
    said = list(evidence(read_transcript(text.encode())).said.values())
    meds = extract(evidence(read_transcript(text.encode()))).medications
    assert drug_reader.judge(said, meds, threshold=0.0) == meds
    doubted = drug_reader.judge(said, meds, threshold=1.01)  # nothing is sure enough: every listed drug doubted
    assert {m["name"]: m["status"] for m in doubted} == {"アムロジピン": "unconfirmed", "ロキソプロフェン": "avoided"}
    assert [m["evidence"] for m in doubted] == [m["evidence"] for m in meds]


def test_a_doubted_drug_is_written_in_the_chart_with_its_details_not_dropped(monkeypatch):
    import kogata.tasks.karte.drug_reader as module

    real = module.record()
    monkeypatch.setattr(module, "record", lambda: {**real, "threshold": 1.01})  # the threshold, not the reader
    chart = chart_of("医師：カロナールを1回500mg、頓服で出しておきます。\n", reader=True)
    assert chart.medications == []
    assert "アセトアミノフェン（カロナール） 500mg 頓用：服用状況未確認。" in [i.text for i in chart.soap["P"]]


def test_rules_only_has_no_learned_part_and_the_status_is_on_by_default():
    assert use_parts(None, True) == (False, False)
    assert use_parts(True, True) == (False, False)
    assert use_parts(False, False) == (False, False)
    assert use_parts(None, False)[1] is True


def test_the_shipped_weights_match_their_recorded_hashes():
    record = drug_reader.record()
    assert drug_reader.sha256_of_weights() == record["sha256"]
    # the bytes are a function of the weights alone, so the recorded sha256 can be reproduced by `make drug-status`
    assert npz_bytes(drug_reader.load_weights()) == drug_reader.weights_path().read_bytes()
    assert data_hash(visits(CORPUS, "train")) == record["training_data_sha256"]
    assert 0.0 < record["threshold"] < 1.0
