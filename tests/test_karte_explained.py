"""What staff explain, warn or reassure about is no finding of the patient's (kogata.tasks.karte.lines.explained):
real charts of short visits, on the default path."""

import pytest

from kogata.tasks.karte import karte
from kogata.transcript import parse_transcript


def _lines(visit: str) -> dict[str, list[str]]:
    chart = karte(parse_transcript(visit))
    return {section: [item.text for item in items] for section, items in chart.soap.items()}


def _all(lines: dict[str, list[str]]) -> str:
    return "\n".join(text for texts in lines.values() for text in texts)


@pytest.mark.parametrize(
    ("visit", "not_a_finding"),
    [
        # an iron tablet's effect, explained and reassured about
        ("医師：鉄剤を出しておきますね。飲むと便が黒くなりますが、心配いりません。\n患者：わかりました。\n", "黒色便"),
        # a warning of what may come after stopping drinking
        (
            "医師：お酒をやめると、数日して震えや汗、眠れないといった離脱症状が出ることがあります。\n患者：はい。\n",
            "振戦",
        ),
        (
            "医師：お酒をやめると、数日して震えや汗、眠れないといった離脱症状が出ることがあります。\n患者：はい。\n",
            "不眠",
        ),
        # what may come after a procedure, an injection or a vaccine
        ("医師：抜いたあと、数日は傷の周りが腫れることがあります。\n患者：はい。\n", "腫脹"),
        ("医師：注射のあとは、だるくなりやすいです。\n患者：はい。\n", "倦怠感"),
        ("医師：ワクチンのあと、熱が出る人もいます。\n患者：はい。\n", "発熱"),
    ],
)
def test_what_staff_explain_is_no_finding(visit, not_a_finding):
    lines = _lines(visit)
    assert not any(not_a_finding in text for text in lines["O"] + lines["A"]), lines


def test_the_weather_is_no_chill_but_the_patients_complaint_stays():
    lines = _lines(
        "患者：今朝はよう冷えましたけんねえ。\n医師：そうですね。今日はどうされました。\n患者：膝が痛くて。\n"
    )
    assert "冷感" not in _all(lines)
    assert any(text.startswith("膝痛あり") for text in lines["S"]), lines


def test_what_the_doctor_finds_stays_even_when_reassured():
    lines = _lines("医師：右の陰嚢が腫れていますね。\n患者：そうなんです。\n")
    assert any(text.startswith("腫脹あり") and "右の陰嚢" in text for text in lines["O"]), lines
    lines = _lines("医師：右の陰嚢が腫れていますが、心配いりません。\n患者：よかった。\n")
    assert any(text.startswith("腫脹あり") for text in lines["O"]), lines


def test_a_patients_own_complaint_said_as_what_happens_stays():
    # 「…ことがあります」 from the patient is a symptom, not an explanation
    lines = _lines("医師：どうされました。\n患者：夜中に急に胸が苦しくなることがあります。\n")
    assert any("胸" in text and "あり" in text for text in lines["S"]), lines


def test_cold_hands_are_a_chill():
    lines = _lines("医師：どうされました。\n患者：最近、手足が冷えてつらいんです。\n")
    assert "冷感" in "\n".join(lines["S"]), lines


def test_a_finding_a_manoeuvre_brings_out_stays_a_finding():
    from kogata.tasks.karte import karte
    from kogata.transcript import read_transcript

    chart = karte(read_transcript("医師：ここを押すと痛くなりますね。\n".encode()), rules_only=True)
    assert any(i.text.startswith("圧痛あり") for i in chart.items()["O"]), chart.items()["O"]
