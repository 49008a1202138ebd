"""Leftover tablets counted aloud (残薬) are a note on the drug's line, never a dose or a prescription: real charts
of short visits written here (not copied from any corpus file); the cues are data/cues.tsv's leftover rows, each
row's example checked in tests/test_karte_vocabulary.py."""

import pytest

from kogata.tasks.karte.chart import karte
from kogata.tasks.karte.facts import leftover_counts
from kogata.transcript import read_transcript


def lines_of(text: str) -> list[str]:
    chart = karte(read_transcript(text.encode()))
    return [i.text for s in ("S", "O", "A", "P") for i in chart.soap[s]]


def drug_line(text: str, name: str) -> str:
    found = [line for line in lines_of(text) if line.startswith(name)]
    assert len(found) == 1, lines_of(text)
    return found[0]


# a visit, the drug's chart name, the leftover note its line must hold
COUNTED = [
    ("患者：アムロジピンは、十四錠残ってました。\n", "アムロジピン", "残薬14錠"),
    ("医師：アムロジピンが四錠余ってるんですね。\n", "アムロジピン", "残薬4錠"),
    (
        "医師：残ってるお薬、数えてきてもらえましたか。\n患者：はい、マグミットは三十六錠です。\n",
        "酸化マグネシウム",
        "残薬36錠",
    ),
    ("医師：アムロジピンは何錠残ってますか。\n患者：十四錠です。\n", "アムロジピン", "残薬14錠"),
    ("患者：湿布のモーラステープが十枚あまってます。\n", "ケトプロフェン", "残薬10枚"),
    (
        "医師：袋の中の薬を一緒に数えましょうか。\n患者：はい。\n医師：アムロジピンは…十四錠ですね。\n",
        "アムロジピン",
        "残薬14錠",
    ),
]


@pytest.mark.parametrize(("text", "name", "note"), COUNTED)
def test_a_counted_leftover_is_a_note_not_a_dose_or_a_prescription(text, name, note):
    line = drug_line(text, name)
    assert note in line
    assert "処方" not in line and "内服中" not in line
    chart = karte(read_transcript(text.encode()))
    assert all(m["dose"] == "" for m in chart.medications if m["name"] == name)


def test_a_prescription_beside_a_leftover_count_stays_a_prescription():
    text = "医師：残薬が十四錠あるので、アムロジピンは5mg、1日1回、14日分出しておきます。\n"
    line = drug_line(text, "アムロジピン")
    assert line == "アムロジピン 5mg 1日1回 14日分 処方。"


def test_a_dose_said_with_a_word_like_a_cue_is_still_a_dose():
    # 「痛みが残っている時に」 holds 残って, but the clause orders the drug: its 1錠 is a dose
    text = "医師：ロキソニンは痛みが残っている時に1錠飲んでください。\n"
    assert "1錠" in drug_line(text, "ロキソプロフェン")
    assert "残薬" not in drug_line(text, "ロキソプロフェン")


@pytest.mark.parametrize(
    ("scope", "context", "counts"),
    [
        ("は14錠残ってました", "", ["14錠"]),
        ("は36錠です", "残りを数えてきてください", ["36錠"]),
        ("は…14錠。", "残りを数えましょう", ["14錠"]),  # a count said after a pause
        ("は、1日3回の分がまとまって36錠。", "一緒に数えましょう", ["36錠"]),  # 「1日3回の分」 names which tablets
        ("は36錠です", "", []),  # no talk of leftovers: a count is what it is
        ("は1日1錠、続けてください", "むくみが残ってますね", []),  # a dose, whatever was said before
        ("を1日3回2錠ずつ飲んでください", "残りを数えてきてください", []),  # an order, not a count
    ],
)
def test_leftover_counts(scope, context, counts):
    assert leftover_counts(scope, context) == counts
