"""Chart terms for findings said in lay words (kogata.tasks.karte.layterms, data/lay_findings.tsv), in real charts of
consultations written for these tests: the line keeps the words, carries the term, cites the same utterance and
passes the verifier; a denied or conditional lay finding adds no term."""

from __future__ import annotations

from kogata.tasks.grounded import Item
from kogata.tasks.karte import karte, layterms
from kogata.tasks.karte.vocabulary import evidence
from kogata.transcript import read_transcript


def _chart(text: str, **options):
    return karte(read_transcript(text.encode("utf-8")), rules_only=True, **options)


def _shown(chart) -> list[tuple[str, str, list[int]]]:
    return [(s, i.text, i.evidence) for s, items in chart.soap.items() for i in items if i.supported]


def _with(chart, word: str) -> list[tuple[str, str, list[int]]]:
    return [line for line in _shown(chart) if word in line[1]]


def test_a_lay_expression_becomes_its_term_and_keeps_its_words_and_evidence():
    chart = _chart(
        "医師：今日はどうされました？\n"
        "患者：今朝、起き上がろうとしたら、天井がぐるぐるーって回って、気持ち悪いです。\n"
        "医師：耳鳴りは？\n"
        "患者：ないです。\n"
    )
    lines = _with(chart, "回転性めまい")
    assert lines, _shown(chart)
    section, text, ids = lines[0]
    assert section == "S" and "天井がぐるぐる" in text and ids == [2]


def test_a_lump_said_as_しこり_is_a_mass_and_a_denied_one_is_a_negative():
    chart = _chart(
        "患者：右の脇の下にしこりがあるんです。2週間前に気づいて。\n"
        "医師：ほかに、胸のしこりはありますか。\n"
        "患者：胸のほうはないです。\n"
    )
    present = _with(chart, "腫瘤")
    assert any(ids == [1] and "脇の下" in text for _, text, ids in present), _shown(chart)
    assert not any("腫瘤" in text and "なし" not in text and 3 in ids for _, text, ids in present)


def test_a_denied_lay_symptom_goes_to_negatives_as_the_term_and_never_as_present():
    chart = _chart("医師：胸がドキドキすることはありますか。\n患者：ドキドキはしないです。\n")
    assert any(n["finding"] == "動悸" for n in chart.negatives)
    assert not any("動悸" in text and "動悸なし" not in text for _, text, _ in _shown(chart)), _shown(chart)


def test_a_condition_in_advice_adds_no_term():
    assert layterms.worded("ドキドキしたら来てください。") == "ドキドキしたら来てください。"
    assert layterms.worded("おしっこするときにしみるように痛くて。").startswith("排尿時痛：")


def test_a_lack_said_with_its_own_denial_is_the_term_but_a_denied_lack_is_not():
    assert layterms.terms("おむつがあまり濡れてないんです。") == ["尿量減少"]
    assert layterms.terms("寝付きが悪いことはないです。") == []
    assert layterms.terms("食欲が落ちたりはしてないです。") == []


def test_a_lack_is_a_row_of_words_not_a_term():
    # 鼻閉 has words that say a lack (鼻が通らない) and words that do not (鼻が詰まる): a denial right after the
    # latter denies them
    assert layterms.terms("鼻が通らなくて、口で息してます。") == ["鼻閉"]
    assert layterms.terms("鼻が詰まってないです。") == []
    assert layterms.terms("生理が止まってしまって。") == ["無月経"]
    assert layterms.terms("生理が止まらないんです。") == []  # lasting bleeding, not amenorrhoea
    assert layterms.terms("ぐったりはしてないです。") == []


def test_everyday_senses_of_lay_words_add_no_term():
    for text in (
        "甘いものが食べたくなるんです。",
        "痩せたいんです。",
        "結果が出るまでに時間がかかります。",
        "ぶつぶつ言ってます。",
    ):
        assert layterms.terms(text, lexicon=False) == [], text


def test_the_patients_words_for_sleep_and_urine_reach_the_chart_as_terms():
    chart = _chart(
        "医師：今日はどうされました？\n"
        "患者：このところ、布団に入っても寝つけなくて。\n"
        "患者：それと、夜中にトイレに3回は起きます。\n"
    )
    assert any(ids == [2] for _, _, ids in _with(chart, "入眠困難")), _shown(chart)
    assert any(ids == [3] for _, _, ids in _with(chart, "夜間頻尿")), _shown(chart)


def test_a_general_term_gives_way_to_the_precise_one_and_a_lay_topic_to_its_term():
    assert layterms.worded("めまいあり（「天井がぐるぐる回る」）。") == "回転性めまいあり（「天井がぐるぐる回る」）。"
    assert layterms.worded("タバコ：1日20本。") == "喫煙：1日20本。"


def test_the_verifier_accepts_the_term_from_the_words_it_cites():
    index = evidence(read_transcript("患者：夜中に汗で目が覚めちゃって、2回くらい。\n".encode()))
    assert index.check("中途覚醒：夜中に汗で目が覚めちゃって、2回くらい。", [1]) == []


def test_a_line_the_verifier_would_reject_keeps_its_words():
    # a line citing words that hold no trace of the term (a wrong citation) is left as it was, for the verifier to
    # judge as it would have
    index = evidence(read_transcript("患者：今日は晴れてよかったです。\n患者：しこりがあるんです。\n".encode()))
    soap = {"S": [Item("しこりがあるんです。", [1])], "O": [], "A": [], "P": []}
    layterms.reword(index, soap)
    assert soap["S"][0].text == "しこりがあるんです。"
    soap = {"S": [Item("しこりがあるんです。", [2])], "O": [], "A": [], "P": []}
    layterms.reword(index, soap)
    assert soap["S"][0].text == "腫瘤：しこりがあるんです。"
