"""The learned reader's lines on short visits charted with the real reader (kogata.tasks.karte.chart._reader_lines,
kogata.tasks.karte.extractive): a doctor's echo of what the patient said is not a second S line, a doctor's line
that adds a fact stays, and the everyday talk an utterance carries beside a clinical clause is left out."""

from kogata.tasks.karte import karte
from kogata.transcript import parse_transcript


def _chart(visit: str):
    return karte(parse_transcript(visit), reader=True)


def _shown(chart, section: str) -> dict[str, list[int]]:
    return {i.text: i.evidence for i in chart.soap[section] if i.supported}


def test_a_doctor_echoing_the_patient_gives_no_second_s_line():
    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：三日前から熱が出てまして、咳も出ます。\n"
        "医師：三日前からですね。熱は何度ぐらいありましたか。\n"
        "患者：一番高くて三十八度五分でした。\n"
        "医師：お薬のアレルギーはありますか。\n"
        "患者：昔ペニシリンを飲んで蕁麻疹が出ました。\n"
        "医師：ペニシリンで蕁麻疹ですね、わかりました。ご家族に病気の方はいますか。\n"
        "患者：父が糖尿病です。\n"
    )
    s = _shown(_chart(visit), "S")
    # the patient's words are charted, citing the patient
    assert any("発熱" in text and ids == [2] for text, ids in s.items())
    assert s.get("アレルギー：ペニシリンで蕁麻疹。") == [5, 6]
    assert any("糖尿病" in text and 8 in ids for text, ids in s.items())
    # the doctor's restatements (「三日前からですね」「ペニシリンで蕁麻疹ですね」) are not S lines of their own
    assert not any(ids == [3] or ids == [7] for ids in s.values()), s
    # and no S line is made of a question
    assert not any("ありますか" in text or "いますか" in text for text in s)


def test_a_doctor_line_that_adds_a_fact_stays():
    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：三日前から熱が出てまして。\n"
        "医師：三日前からですね。前回、喘息があるとおっしゃってましたね。\n"
        "患者：はい、子どもの頃からです。\n"
    )
    s = _shown(_chart(visit), "S")
    # 喘息 is the doctor's, not what the patient said just before: the line stays, echo and all
    assert any("喘息" in text and ids == [3] for text, ids in s.items()), s


def test_everyday_talk_beside_a_clinical_clause_is_left_out():
    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：三日前から熱が出てまして。\n"
        "医師：奥さん、ご主人の様子はどうでしたか。\n"
        "家族：テレビで紅白見てて、リモコン落として、話しかけても、うまく返事ができなくて。\n"
    )
    s = _shown(_chart(visit), "S")
    line = next(text for text, ids in s.items() if ids == [4])
    # what the family saw stays (no word list names it: the reader's line), the television and the remote go
    assert "うまく返事ができなくて" in line
    assert not any(word in line for word in ("テレビ", "紅白", "リモコン"))


def test_a_clause_that_names_something_clinical_keeps_its_everyday_word():
    from kogata.tasks.karte import extractive

    # a number or a clinical cue in the clause: not chat, whatever else it names
    assert (
        extractive._without_small_talk("テレビ見ながら2時間くらい寝ちゃいます。")
        == "テレビ見ながら2時間くらい寝ちゃいます。"
    )
    assert extractive._without_small_talk("北海道です。") == "北海道です。"  # no everyday word the table knows
    assert extractive._without_small_talk("運動会の準備があるんです。") == ""


def test_a_doctor_summing_up_what_the_patient_said_in_pieces_is_not_an_echo():
    from kogata.tasks.grounded import Item
    from kogata.tasks.karte import chart, vocabulary

    visit = (
        "医師：ご家族に病気の方はいますか。\n"
        "患者：父が糖尿病です。\n"
        "医師：ほかには。\n"
        "患者：母は高血圧で。\n"
        "医師：お父さんが糖尿病、お母さんが高血圧ですね。\n"
    )
    said = list(vocabulary.evidence(parse_transcript(visit)).said.values())
    position = {s.id: k for k, s in enumerate(said)}
    soap = {"S": [Item("父が糖尿病です。", [2]), Item("母は高血圧で。", [4])], "O": [], "A": [], "P": []}
    summary = Item("お父さんが糖尿病、お母さんが高血圧。", [5])
    # no one line holds both: the summary is the only line with the whole family history
    assert not chart._echoes(summary, "S", said, position, soap)
    # where one does, the doctor only said it back
    soap["S"].append(Item("父が糖尿病、母が高血圧です。", [4]))
    assert chart._echoes(summary, "S", said, position, soap)
    assert not chart._echoes(summary, "A", said, position, soap)  # the doctor's assessment is never an echo


def test_a_doctor_naming_in_chart_words_what_the_patient_described_is_not_an_echo():
    from kogata.tasks.grounded import Item
    from kogata.tasks.karte import chart, vocabulary

    visit = (
        "医師：今日はどうされました？\n"
        "患者：急に顔がカーッと熱くなって、汗がだらだら出るのが、一日に何回も。\n"
        "医師：ホットフラッシュですね。夜は眠れてます？\n"
        "患者：三日前から熱が出てまして。\n"
        "医師：三日前からですね。\n"
    )
    said = list(vocabulary.evidence(parse_transcript(visit)).said.values())
    position = {s.id: k for k, s in enumerate(said)}
    soap = {
        "S": [Item("発汗あり（「汗がだらだら出る」）。", [2]), Item("3日前より発熱あり。", [4])],
        "O": [],
        "A": [],
        "P": [],
    }
    # the chart word is the doctor's (most misses need words the patient did not say): it stays
    assert not chart._echoes(Item("ホットフラッシュです。", [3]), "S", said, position, soap)
    # a bare confirmation of what one charted patient utterance said goes
    assert chart._echoes(Item("3日前からです。", [5]), "S", said, position, soap)


def test_a_near_call_that_names_nothing_gives_no_line():
    from kogata.tasks.karte import extractive, vocabulary
    from kogata.tasks.karte.reader import Reading

    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：いやあ、なんとかやってます、おかげさまで。\n"
        "患者：右の膝がずっと重だるいんです。\n"
    )
    said = list(vocabulary.evidence(parse_transcript(visit)).said.values())

    def lines(p: float) -> dict[int, str]:
        readings = [Reading(s.id, "S", "affirmed", "patient", p) for s in said]
        return {item.evidence[-1]: item.text for _, item in extractive.lines(said, readings, set())}

    near, sure = extractive.CLINICAL + 0.05, extractive.BARE + 0.05
    assert extractive.CLINICAL < near < extractive.BARE
    # between the two thresholds, only the line that names something (a body part: 膝) is kept
    assert 2 not in lines(near) and 3 in lines(near)
    # above BARE the reader's call stands on its own, as before
    assert 2 in lines(sure) and 3 in lines(sure)


def _negatives(chart) -> dict[str, list[int]]:
    return {n["finding"]: n["evidence"] for n in chart.negatives}


def test_a_confirmed_yes_no_question_is_charted_in_the_doctors_words_citing_both():
    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：咳が続いてて。\n"
        "医師：夜も咳で起きるんですね？\n"
        "患者：はい。\n"
        "医師：お酒は毎日ですか。\n"
        "患者：まあ、晩酌ぐらいは。\n"
    )
    chart = _chart(visit)
    s = _shown(chart, "S")
    # the fact is in the doctor's question, confirmed by a bare 「はい」: a patient-side line citing both
    assert any("夜も咳で起きる" in text and ids == [3, 4] for text, ids in s.items()), s
    assert any("お酒は毎日" in text and ids == [5, 6] for text, ids in s.items()), s
    assert not any("ですね" in text or "ですか" in text for text in s), s
    assert chart.negatives == []


def test_a_parent_confirming_a_number_is_charted_and_a_denial_goes_to_the_negatives():
    visit = (
        "医師：熱は三十八度くらい？\n"
        "母：うん。\n"
        "医師：痰は出ますか。\n"
        "患者：ううん。\n"
        "医師：タバコは吸いますか。\n"
        "患者：いや、吸いません。\n"
    )
    chart = _chart(visit)
    lines = [i.text for section in "SOAP" for i in chart.soap[section] if i.supported]
    assert any("38" in text for text in lines), lines
    # 「ううん」 and 「いや」 deny: negatives, never a line that shows them as there
    assert _negatives(chart).get("喀痰") == [3, 4], chart.negatives
    assert _negatives(chart).get("喫煙") == [5, 6], chart.negatives
    assert not any(("喀痰" in t or "痰" in t or "喫煙" in t or "タバコ" in t) and "なし" not in t for t in lines), lines


def test_an_unsure_answer_gives_neither_a_finding_nor_a_negative():
    visit = (
        "医師：今日はどうされましたか。\n"
        "患者：咳が続いてて。\n"
        "医師：息苦しさはありますか。\n"
        "患者：わからない。\n"
        "医師：胸の痛みは？\n"
        "患者：たぶん…どうだろう。\n"
    )
    chart = _chart(visit)
    lines = [i.text for section in "SOAP" for i in chart.soap[section]]
    assert not any("呼吸困難" in t or "息苦し" in t or "胸痛" in t or "胸の痛み" in t for t in lines), lines
    assert not any(n["finding"] in ("呼吸困難", "胸痛") for n in chart.negatives), chart.negatives


def test_an_answer_that_does_not_name_its_subject_takes_the_questions():
    visit = (
        "医師：子どものころ、水ぼうそうはしましたか。\n"
        "患者：たぶんしとると思いますけど、はっきりはわからんです。\n"
        "医師：お腹の調子はどうですか。\n"
        "患者：下痢が続いていて、一日に三回くらいです。\n"
    )
    s = _shown(_chart(visit), "S")
    # the answer's subject is the question's (水ぼうそう), and the line cites both
    assert any(text.startswith("水ぼうそう：") and ids == [1, 2] for text, ids in s.items()), s
    assert not any("水痘なし" in text for text in s), s  # 「わからん」 is not knowing, no denial
    # an answer that names its own finding keeps its own words, not a topic label
    assert not any(text.startswith("お腹の調子：") for text in s), s
