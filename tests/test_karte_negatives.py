"""Denied findings (kogata.tasks.karte.negatives) in real charts, on consultations written for these tests: each
denial a line that says the finding with なし and cites the question and the answer."""

from __future__ import annotations

from kogata.ja import find_findings
from kogata.tasks.karte import karte, negatives
from kogata.tasks.karte.vocabulary import evidence
from kogata.transcript import parse_transcript, read_transcript
from kogata.verify import clean


def _chart(text: str):
    return karte(read_transcript(text.encode("utf-8")), rules_only=True)


def _shown(chart, section: str | None = None) -> list[tuple[str, list[int]]]:
    return [
        (i.text, i.evidence) for s, items in chart.soap.items() if section in (None, s) for i in items if i.supported
    ]


def _denied(text: str) -> list[str]:
    return [n.finding for n in negatives.find(evidence(read_transcript(text.encode("utf-8"))))]


def test_each_item_of_a_listing_question_is_denied_and_cites_question_and_answer():
    chart = _chart("医師：咳とか、めまい、むくみはありますか。\n患者：いえ、特にないです。\n")
    lines = [(t, ids) for t, ids in _shown(chart, "S") if "咳嗽なし" in t]
    assert lines == [("咳嗽なし、めまいなし、浮腫なし。", [1, 2])]


def test_lay_words_become_chart_terms_through_the_table():
    chart = _chart(
        "医師：吐いたり、お腹を下したりは？\n母親：ないですね。\n医師：足のしびれはどうですか。\n患者：大丈夫です。\n"
    )
    text = " ".join(t for t, _ in _shown(chart))
    assert "嘔吐なし" in text and "下肢しびれなし" in text


def test_a_partial_answer_denies_only_what_it_names():
    found = _denied("医師：熱とか、咳はありますか。\n患者：熱はないんですけど、咳は夜に出ます。\n")
    assert found == ["発熱"]
    chart = _chart("医師：熱とか、咳はありますか。\n患者：熱はないんですけど、咳は夜に出ます。\n")
    assert not any("咳嗽なし" in t for t, _ in _shown(chart))


def test_only_this_denies_the_rest_and_keeps_unknown_words():
    found = _denied("医師：自分の声が響く感じとか、めまいは？\n患者：いや、耳がかゆいだけです。\n")
    assert "めまい" in found and "自分の声が響く感じ" in found
    chart = _chart("医師：自分の声が響く感じとか、めまいは？\n患者：いや、耳がかゆいだけです。\n")
    assert any("自分の声が響く感じなし" in t and "めまいなし" in t for t, _ in _shown(chart, "S"))


def test_a_yes_denies_nothing():
    assert _denied("医師：頭痛とか、めまいはありますか。\n患者：ちょっとあります。\n") == []
    assert _denied("医師：息切れは？\n患者：坂道で少し。普段は大丈夫です。\n") == []


def test_the_doctors_examination_negatives_go_to_o():
    chart = _chart(
        "患者：転んで手首をつきました。\n医師：念のためレントゲンを撮りましたが、骨折はありませんでした。\n"
        "医師：皮膚はじゅくじゅくしたところはないですね。\n"
    )
    o_text = " ".join(t for t, _ in _shown(chart, "O"))
    assert "骨折なし" in o_text and "びらんなし" in o_text


def test_negation_is_scoped_per_clause():
    text = "医師：持病はありますか。\n患者：糖尿病でメトホルミンを1日2回飲んでいます。薬のアレルギーはありません。\n"
    assert "糖尿病" not in _denied(text)
    chart = _chart(text)
    shown = " ".join(t for t, _ in _shown(chart))
    assert "糖尿病なし" not in shown and "アレルギー歴なし" in shown


def test_advice_and_conditions_deny_nothing():
    assert _denied("医師：傷は濡らさないでください。熱が下がらなければまた来てください。\n") == []
    assert _denied("医師：風邪のウイルスには抗生物質は効かないんです。\n") == []


def test_dialect_denials_are_read():
    assert _denied("医師：頭痛とか、吐き気は？\n患者：そんなのはねえな。\n") == ["頭痛", "嘔気"]
    assert _denied("医師：胸が痛いことは？\n患者：それはなかです。\n") == ["胸痛"]


def test_small_talk_gives_no_negative():
    assert _denied("医師：駐車場は混んでましたか？\n患者：いえ、大丈夫でした。\n") == []
    assert _denied("医師：お薬は飲めていますか。\n患者：飲めてないです。\n") == []


def test_no_negative_line_writes_a_finding_as_present():
    chart = _chart(
        "医師：吐いたり、下痢は？\n患者：ないです。\n医師：胸がどきどきするとか、ゼーゼーする音は？\n"
        "患者：それはないです。\n医師：胸の音はきれいで、雑音はないですね。\n"
    )
    negative_lines = [t for t, _ in _shown(chart) if t.endswith("なし。")]
    assert negative_lines and all(f.negated for t in negative_lines for f in find_findings(clean(t)))
    assert any("心雑音なし" in t for t, _ in _shown(chart, "O"))
    assert {n["finding"] for n in chart.negatives} >= {"嘔吐", "下痢", "動悸", "喘鳴", "心雑音"}


def test_a_finding_shared_by_two_parts_is_denied_for_each():
    assert _denied("医師：唇やまぶたの腫れはありませんね。\n") == ["口唇腫脹", "眼瞼腫脹"]
    assert _denied("医師：首や肩の痛みは？\n患者：ないです。\n") == ["頸部痛", "肩痛"]


def test_a_list_the_doctor_states_is_denied_whole():
    assert _denied("医師：筋肉のこわばりや、動作の遅さはありません。\n") == ["固縮", "無動"]


def test_a_denied_allergy_is_read_in_its_own_sentence():
    chart = _chart("患者：血圧の薬でアムロジピンを飲んでいます。薬のアレルギーはないです。\n")
    assert any(t == "薬剤アレルギー歴なし。" and ids == [1] for t, ids in _shown(chart, "S"))


def test_not_knowing_is_no_denial():
    assert _denied("医師：頭をぶつけたり、胸を押さえたりは。\n妻：わかりません、倒れていたのを見つけたので。\n") == []


def test_a_finding_said_as_there_is_not_denied_by_another_clause():
    assert _denied("医師：咳と息切れはどうですか。\n患者：咳は相変わらず、痰の出ない乾いた咳が一日中です。\n") == []
    assert _denied("医師：息切れはいかがですか。\n患者：家の中は平気です。坂道はまだきついけど。\n") == []
    assert _denied("医師：息切れは？\n患者：前は平気だったんですが、今は階段がつらいです。\n") == []


def test_no_allergy_only_where_the_allergy_is_denied():
    assert negatives.no_allergy(evidence(read_transcript("患者：アレルギーの薬は飲んでないです。\n".encode()))) == []
    text = (
        "医師：お薬のアレルギーはありますか。\n"
        "患者：血圧の薬でアムロジピンを飲んでいますが、アレルギーは特にないです。\n"
    )
    assert negatives.no_allergy(evidence(read_transcript(text.encode()))) == [1, 2]


def test_a_symptom_that_goes_on_is_not_denied_by_its_negative_verb_form():
    # 「止まらなくて」 says the cough goes on: no 「…なし」 line may cite the answer
    chart = karte(
        parse_transcript("医師：他に症状はありますか。\n患者：咳が止まらなくて、痰も出るんです。\n"), rules_only=True
    )
    lines = [item for items in chart.soap.values() for item in items if 2 in item.evidence]
    assert lines and not any("なし" in item.text for item in lines), [i.text for i in lines]
    assert any("咳嗽" in item.text for item in lines)
