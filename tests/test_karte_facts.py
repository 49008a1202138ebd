"""Facts read straight from the words, without the model."""
from pathlib import Path

import pytest

from kogata.tasks.karte.facts import change_word, extract
from kogata.transcript import read_transcript
from kogata.verify import EvidenceIndex

DATA = Path(__file__).resolve().parents[1] / "data" / "consultations"


def facts_of(name: str):
    return extract(EvidenceIndex(read_transcript(DATA / name)))


def test_vitals_medications_allergies_denials_of_a_bronchitis_visit():
    f = facts_of("001_naika.txt")
    assert {(v["name"], v["value"], v["unit"]) for v in f.vitals} == {("体温", "38.5", "℃"), ("SpO2", "97", "%"),
                                                                      ("脈拍", "88", "/分")}
    meds = {m["name"]: m for m in f.medications}
    assert set(meds) == {"アセトアミノフェン", "カルボシステイン"}
    assert meds["アセトアミノフェン"] | {"evidence": None} == {
        "name": "アセトアミノフェン", "brand": "カロナール", "dose": "500mg", "frequency": "1日3回",
        "duration": "5日分", "status": "prescribed", "evidence": None}
    assert [(a["substance"], a["reaction"]) for a in f.allergies] == [("ペニシリン", "蕁麻疹")]
    assert [n["finding"] for n in f.negatives] == ["呼吸困難"]
    assert any(p["name"] == "急性気管支炎" and p["status"] == "suspected" and p["icd10"] == "J20.9"
               for p in f.problems)
    assert all(p["name"] != "じんま疹" for p in f.problems)  # an allergic reaction, not a diagnosis


def test_dose_increase_is_a_change_from_old_to_new():
    f = facts_of("002_naika.txt")
    amlodipine = next(m for m in f.medications if m["name"] == "アムロジピン")
    assert amlodipine["status"] == "changed" and amlodipine["dose"] == "5mg→10mg"
    assert change_word(amlodipine) == "増量"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.txt")))
def test_every_fact_cites_utterances_that_exist(name):
    visit = read_transcript(DATA / name)
    f = extract(EvidenceIndex(visit))
    ids = {u.id for u in visit.utterances}
    for record in f.vitals + f.medications + f.allergies + f.negatives + f.problems:
        assert record["evidence"] and set(record["evidence"]) <= ids, record


def test_rules_only_charts_invent_nothing_and_keep_the_contract():
    from kogata.tasks.karte.evaluate import evaluate

    summary = evaluate(split=None, rules_only=True, progress=False)["summary"]
    assert summary["errors"] == 0 and summary["valid_contract"] == 1.0
    assert summary["invented_drugs_or_doses"] == 0 and summary["denied_shown_as_present"] == 0
    assert summary["non_japanese_glyphs"] == 0
    assert summary["key_fact_recall"] > 0.5  # rules alone: 0.565 on the test split at this commit
