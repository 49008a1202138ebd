"""The assessment says the diagnosis the doctor named, in chart form, once a visit (kogata.tasks.karte.chart, .lines):
real charts of short visits, by the rules alone (the reader adds no A line these cases depend on)."""

import pytest

from kogata.tasks.karte import karte
from kogata.tasks.karte.facts import fold_modifiers
from kogata.transcript import read_transcript


def assessment(visit: str) -> list[tuple[str, list[int]]]:
    """The chart's shown A lines for a visit given as `話者：発話` lines."""
    chart = karte(read_transcript(visit.encode()), rules_only=True)
    return [(item.text, item.evidence) for item in chart.items()["A"]]


@pytest.mark.parametrize(
    ("doctor", "line"),
    [
        # a diagnosis inside an instruction about a drug: no sentence of it is an A line, the name is
        (
            "更年期障害で、イライラとほてりが目立つので、お薬を加味逍遙散に替えましょう。",
            "更年期症候群（更年期障害）。",
        ),
        ("ウイルス性の胃腸炎ですね。", "ウイルス性胃腸炎。"),  # 「…性の…」 folded, ですね of speech off
        ("一次性の夜尿症ですね。", "一次性夜尿症。"),
        ("骨密度が低いので、骨粗しょう症の治療を始めましょう。", "骨粗鬆症。"),  # the MEDIS spelling
        ("COPDなので、吸入は毎日続けましょう。", "慢性閉塞性肺疾患（COPD）。"),  # the abbreviation said beside
        ("肺炎の可能性がありますね。", "肺炎疑い。"),
        ("喘息かもしれませんね。", "喘息疑い。"),  # the doctor's word kept in a line of the words
    ],
)
def test_a_named_diagnosis_is_an_assessment_line_citing_its_utterance(doctor, line):
    lines = assessment(f"患者：昨日から具合が悪くて。\n医師：{doctor}\n")
    assert (line, [2]) in lines


def test_a_diagnosis_is_charted_once_a_visit():
    lines = assessment(
        "患者：昨日から吐いて、下痢もしてます。\n"
        "医師：ウイルス性の胃腸炎ですね。\n"
        "医師：胃腸炎なので、水分をこまめにとってください。\n"
    )
    assert [text for text, _ in lines if "胃腸炎" in text] == ["ウイルス性胃腸炎。"]


@pytest.mark.parametrize(
    "doctor",
    [
        "肺炎になると困るので、熱が続いたら早めに来てください。",  # a warning
        "もし肺炎なら入院になります。",  # a condition
        "お母さんが糖尿病なんですね。",  # a relative's illness
        "肺炎ですか？",  # a question
    ],
)
def test_a_disease_named_but_not_found_in_the_patient_is_no_assessment(doctor):
    assert assessment(f"患者：咳が出ます。\n医師：{doctor}\n") == []


@pytest.mark.parametrize(
    ("doctor", "kept"),
    [
        ("胸の音はきれいなので、肺炎ではないですね。", "ない"),  # ruled out: 「…肺炎ではない。」 at most
        ("以前、肺炎と言われたことがあるんですね。", "以前"),  # past history: said as such, never 「肺炎。」
    ],
)
def test_a_ruled_out_or_past_disease_is_never_charted_as_a_diagnosis(doctor, kept):
    lines = assessment(f"患者：咳が出ます。\n医師：{doctor}\n")
    assert all(kept in text for text, _ in lines if "肺炎" in text)


def test_of_a_kind_folds_only_before_a_disease():
    assert fold_modifiers("アレルギー性の鼻炎です") == "アレルギー性鼻炎です"
    assert fold_modifiers("可能性の高い病気です") == "可能性の高い病気です"


@pytest.mark.parametrize(
    ("doctor", "disease"),
    [
        ("レントゲンを撮りました。骨折や歯のかけらはありません。", "骨折"),  # ruled out as one of a list
        ("肘のレントゲン、骨折なし。", "骨折"),
        ("この薬と一緒だと出血しやすくなるので、飲まないでください。", "出血"),  # a risk explained
        ("子宮筋腫などがないか、婦人科で診てもらいましょう。", "子宮筋腫"),  # a check to be made
    ],
)
def test_a_disease_ruled_out_risked_or_to_be_checked_is_no_assessment(doctor, disease):
    shown = assessment(f"医師：{doctor}\n")
    assert not any(text.startswith(disease) for text, _ in shown), shown
