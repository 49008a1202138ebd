"""Lab and vital values read aloud (kogata.tasks.karte.readings): whole charts, rules only, from sentences written
for these tests (not from the corpus). Each value on a line must be the one said, cited to the utterance that said
it, and pass the verifier."""

from __future__ import annotations

import pytest

from kogata.tasks.karte import readings
from kogata.tasks.karte.chart import karte
from kogata.transcript import read_transcript


def _chart(text: str):
    return karte(read_transcript(text.encode("utf-8")), rules_only=True)


def _o_lines(chart) -> list:
    return [i for i in chart.soap["O"] if i.supported]


VISIT = """医師：今日はどうですか。
患者：特に変わりないです。
看護師：血圧、座って百三十八の八十四、立ってもらって一分後、百二十の七十六です。脈は八十、整です。
医師：採血の結果です。エイチビーエーワンシーが七点九、あ、違う、七点二ですね。前回が七点八だったので下がりました。
医師：腎臓はクレアチニン〇点九四、イージーエフアールが五十八。エーエルティーが三十一、ガンマジーティーピーが四十五です。
看護師：眼圧は右十六、左十七です。
医師：血小板は、十九万です。目標はエイチビーエーワンシー七未満です。
"""


def test_a_visit_gets_one_reading_line_per_utterance_in_chart_language():
    chart = _chart(VISIT)
    lines = {i.text: i.evidence for i in _o_lines(chart)}
    assert lines["血圧 座位138/84 立位120/76 mmHg、脈拍 80/分 整。"] == [3]
    assert lines["HbA1c 7.2%（前回7.8%）。"] == [4]  # the corrected value wins; 7.9 is not charted
    assert lines["Cr 0.94mg/dL、eGFR 58、ALT 31U/L、γ-GTP 45U/L。"] == [5]
    assert lines["眼圧 右16 左17 mmHg。"] == [6]
    assert lines["Plt 19万/μL。"] == [7]  # the target 「7未満」 is not a reading
    assert not any("7.9" in text for text in lines)


def test_reading_lines_pass_the_verifier_and_invent_nothing():
    chart = _chart(VISIT)
    made = [
        i for i in chart.soap["O"] if any(i.text.startswith(n) for n in ("血圧 座位", "HbA1c", "Cr ", "眼圧", "Plt"))
    ]
    assert len(made) == 5
    assert all(i.supported for i in made), [(i.text, i.problems) for i in made]


def test_a_wrong_value_cited_to_the_utterance_is_flagged_by_the_verifier():
    from kogata.tasks.karte.vocabulary import evidence

    index = evidence(read_transcript(VISIT.encode("utf-8")))
    assert index.check("HbA1c 7.2%（前回7.8%）。", [4]) == []
    assert index.check("HbA1c 8.3%。", [4])  # a value not said there


def test_a_patients_home_reading_goes_to_s():
    chart = _chart("医師：お家の血圧はどうですか。\n患者：家だと百三十五の八十八ぐらいです。\n")
    assert "血圧 135/88 mmHg。" in [i.text for i in chart.soap["S"] if i.supported]
    assert not any(i.text.startswith("血圧") for i in chart.soap["O"])


@pytest.mark.parametrize(
    ("said", "line"),
    [
        ("カリウムが高いので、カリウムを下げる薬、ロケルマを五グラム出します。", ""),  # a dose, not a reading
        ("体重が一キロ以上増えたら、連絡してください。", ""),  # a bound in advice
        ("頸動脈に六十パーセントの狭窄があります。", ""),  # 脈 inside 頸動脈
        ("CRPが二点四、血沈が五十ミリです。", "CRP 2.4mg/dL"),  # 血沈 is not CRP's
        ("体温は三十九度…いや、三十八度七分です。", "体温 38.7℃"),
        ("視力は右〇点六、左〇点七、矯正で右一点〇、左一点二です。", "視力 右0.6 左0.7 矯正 右1.0 左1.2"),
        ("朝の血糖は八十から百四十くらいです。", ""),  # a range, no one value
        ("体重は七十キロから六十八キロに減りました。", "体重 70kg→68kg"),
        ("酸素、いつもは九十七ですが、今は九十二パーセントです。", "SpO2 92%（普段97%）"),
        ("INRが出ました。二点四です。", "PT-INR 2.4"),
    ],
)
def test_line(said, line):
    assert readings.line(said) == line
