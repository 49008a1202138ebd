"""Facts and chart lines read straight from the words, without the model (kogata.tasks.karte.facts, .lines)."""

from pathlib import Path

import pytest

from kogata.tasks.karte.facts import change_word, extract
from kogata.tasks.karte.vocabulary import evidence
from kogata.transcript import read_transcript

DATA = Path(__file__).resolve().parents[1] / "data" / "consultations"


def facts_of(name: str):
    return extract(evidence(read_transcript(DATA / name)))


def test_vitals_medications_allergies_denials_of_a_bronchitis_visit():
    f = facts_of("001_naika.txt")
    assert {(v["name"], v["value"], v["unit"]) for v in f.vitals} == {
        ("体温", "38.5", "℃"),
        ("SpO2", "97", "%"),
        ("脈拍", "88", "/分"),
    }
    meds = {m["name"]: m for m in f.medications}
    assert set(meds) == {"アセトアミノフェン", "カルボシステイン"}
    assert meds["アセトアミノフェン"] | {"evidence": None} == {
        "name": "アセトアミノフェン",
        "brand": "カロナール",
        "dose": "500mg",
        "frequency": "1日3回",
        "duration": "5日分",
        "status": "prescribed",
        "evidence": None,
    }
    assert [(a["substance"], a["reaction"]) for a in f.allergies] == [("ペニシリン", "蕁麻疹")]
    assert [n["finding"] for n in f.negatives] == ["呼吸困難"]
    assert any(p["name"] == "急性気管支炎" and p["status"] == "suspected" and p["icd10"] == "J20.9" for p in f.problems)
    assert all(p["name"] != "じんま疹" for p in f.problems)  # an allergic reaction, not a diagnosis


def test_dose_increase_is_a_change_from_old_to_new():
    f = facts_of("002_naika.txt")
    amlodipine = next(m for m in f.medications if m["name"] == "アムロジピン")
    assert amlodipine["status"] == "changed" and amlodipine["dose"] == "5mg→10mg"
    assert change_word(amlodipine) == "増量"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.txt")))
def test_every_fact_cites_utterances_that_exist(name):
    visit = read_transcript(DATA / name)
    f = extract(evidence(visit))
    ids = {u.id for u in visit.utterances}
    for record in f.vitals + f.medications + f.allergies + f.negatives + f.problems:
        assert record["evidence"] and set(record["evidence"]) <= ids, record


def test_rules_only_charts_invent_nothing_and_keep_the_contract():
    from kogata.evals.karte import evaluate

    summary = evaluate(split=None, rules_only=True, progress=False)["summary"]
    assert summary["errors"] == 0 and summary["valid_contract"] == 1.0
    assert summary["invented_drugs_or_doses"] == 0 and summary["denied_shown_as_present"] == 0
    assert summary["non_japanese_glyphs"] == 0
    assert summary["key_fact_recall"] > 0.87  # rules alone, all 44 consultations: 0.901 on 2026-11-29
    assert summary["must_not_appear_shown"] <= 6  # small talk kept out (5 lines at that commit)


def said_of(text: str):
    return list(evidence(read_transcript(text.encode("utf-8"))).said.values())


def test_examination_is_one_line_per_utterance_in_chart_terms_with_the_doctors_words():
    from kogata.tasks.karte.lines import examination_lines

    said = said_of(
        "患者：膝が痛いです。\n医師：左膝の内側を押すと痛いですね。骨のとげもできています。腫れはないです。\n"
    )
    [(text, ids)] = examination_lines(said)
    assert ids == [2]
    assert text.startswith("圧痛、骨棘あり、腫脹なし（「左膝の内側を押すと痛い")


def test_an_answered_no_denies_the_finding_asked_about():
    index = evidence(read_transcript("医師：便に血が混じったりしていませんか。\n患者：混じってないです。\n".encode()))
    assert [(n["finding"], n["evidence"]) for n in extract(index).negatives] == [("血便", [1, 2])]


def test_small_talk_clauses_are_left_out_and_the_clinical_ones_kept():
    from kogata.tasks.karte.lines import spoken_lines

    said = said_of(
        "医師：お薬は飲めていますか。\n患者：正直、先週は妻が出張でいなくて、3日ぐらい飲ませ忘れました。\n"
        "患者：週末ピアノの発表会があって、ずっと練習してたんです。\n"
    )
    assert [t for t, _ in spoken_lines(said, "S")] == ["3日ぐらい飲ませ忘れました。"]


def test_the_doctors_assessment_is_written_in_chart_words():
    from kogata.tasks.karte.lines import spoken_lines

    said = said_of("医師：脱水は軽度ですね。\n医師：心不全が少し悪くなっている状態ですね。\n医師：では押しますね。\n")
    assert [t for t, _ in spoken_lines(said, "A")] == ["軽度脱水。", "心不全の増悪。"]


def test_chart_words_never_break_a_verb_or_a_longer_word():
    from kogata.tasks.karte.lines import assessment_sentence, in_chart_words

    # a finding said as a verb keeps its verb (no 「ふらつきて」); 生理食塩水 is no 月経 (lay_terms.tsv, kept_in)
    assert "ふらついて" in assessment_sentence("それでふらついて脚立から落ちた、いうことでしょう。")
    assert in_chart_words("点滴、生理食塩水を入れます。生理は順調。") == "点滴、生理食塩水を入れます。月経は順調。"


def test_an_onset_given_when_asked_dates_the_symptom_said_before_it():
    from kogata.tasks.karte.lines import symptom_lines

    said = said_of("患者：毎日、頭痛がひどいんです。\n医師：いつからですか。\n患者：半年くらい前から。\n")
    [(text, ids)] = symptom_lines(said)
    assert text.startswith("半年前より頭痛あり") and ids == [1, 2, 3]
    # a symptom that has its own onset keeps it; an answer far from any symptom dates nothing
    said = said_of("患者：三日前から熱があります。\n医師：いつからですか。\n患者：昨日から。\n")
    assert symptom_lines(said)[0][0].startswith("3日前より発熱")


def test_the_side_said_before_a_symptom_goes_into_its_term():
    from kogata.tasks.karte.lines import symptom_lines

    [(text, _)] = symptom_lines(said_of("患者：先月ぐらいから左の膝が痛くなってきて。\n"))
    assert text.startswith("先月より左膝痛あり")


def test_tests_ordered_and_the_next_visit_are_one_line_with_their_time_and_chart_names():
    from kogata.tasks.karte.lines import plan_lines

    said = said_of(
        "医師：2、3週間後に尿の検査をしますので、もう一度来てください。\n"
        "医師：採血と心エコーをしましょう。2週間後にまた来てください。\n"
    )
    assert plan_lines(said) == [("2〜3週間後に尿検査、再診。", [1]), ("採血、心エコーを予定、2週間後に再診。", [2])]


def test_a_disease_whose_signs_are_absent_is_not_a_problem():
    from kogata.tasks.karte.facts import problems

    said = said_of("医師：今のところアナフィラキシーの症状はありません。\n")
    assert problems(said) == []


def test_a_dose_said_in_the_answer_belongs_to_the_drug_asked_about():
    f = extract(
        evidence(
            read_transcript(
                "医師：ハルシオンをもらっているんでしたね。\n患者：〇・二五ミリを寝る前に飲んでます。\n".encode()
            )
        )
    )
    [med] = f.medications
    assert (med["brand"], med["dose"], med["status"], med["evidence"]) == ("ハルシオン", "0.25mg", "current", [1, 2])


def test_fine_as_an_answer_denies_what_was_asked():
    index = evidence(
        read_transcript(
            "医師：歯の痛みや、物が二重に見えることはありますか。\n患者：歯は痛くないです。目も大丈夫です。\n".encode()
        )
    )
    assert sorted(n["finding"] for n in extract(index).negatives) == ["歯痛", "複視"]


def test_a_taper_a_later_supply_and_a_cancelled_test():
    from kogata.tasks.karte.lines import plan_lines

    f = extract(
        evidence(
            read_transcript(
                "医師：プレドニゾロンを、30mgから始めて、3日ごとに20mg、10mgと減らしていきます。\n"
                "医師：ナゾネックスという点鼻薬を、1日1回使ってください。\n患者：毎日ですか。\n医師：はい。30日分お出しします。\n".encode()
            )
        )
    )
    meds = {m["name"]: m for m in f.medications}
    assert meds["プレドニゾロン"]["dose"] == "30mg→20mg→10mg" and change_word(meds["プレドニゾロン"]) == "漸減"
    assert meds["モメタゾン"]["duration"] == "30日分" and meds["モメタゾン"]["evidence"] == [2, 4]
    said = said_of("医師：冠動脈のCTはやめて、まず運動負荷心電図をやります。\n")
    assert plan_lines(said) == [("運動負荷心電図を予定。", [1])]


def test_fluid_drawn_in_milli_is_millilitres():
    from kogata.verify import clean

    assert "20mL抜けました" in clean("黄色い透明な水が二十ミリ抜けました。アルツを注射しておきます。")


def test_an_answer_that_affirms_by_the_findings_own_verb_or_a_yes():
    from kogata.tasks.karte.lines import symptom_lines

    said = said_of(
        "医師：鼻づまりはどうですか。\n患者：夜になると両方詰まって、口で息してます。\n"
        "医師：また発作が起きるんじゃないかと不安になることはありますか。\n患者：すごくあります。\n"
        "医師：耳が詰まった感じはありますか。\n患者：詰まってはいないです。\n"
    )
    assert symptom_lines(said) == [
        ("鼻閉あり（「夜になると両方詰まって、口で息してます」）。", [1, 2]),
        ("予期不安あり。", [3, 4]),
    ]  # not 耳閉感: a negative answer


def test_a_noun_denied_in_the_answer_denies_the_finding_asked_with_it():
    index = evidence(read_transcript("医師：耳の痛みや、耳だれは。\n患者：痛みもないし、耳だれもないです。\n".encode()))
    assert sorted(n["finding"] for n in extract(index).negatives) == ["耳漏", "耳痛"]


def test_values_counts_and_habits_in_answers_are_kept_with_their_subject():
    from kogata.tasks.karte.lines import spoken_lines, symptom_lines

    said = said_of(
        "医師：毎年この時期に症状が出ますか。\n患者：はい、五年くらい前から毎年です。\n"
        "医師：コーヒーはよく飲みますか。\n患者：一日五杯くらい飲んでます。\n"
        "医師：そのとき血糖は測れましたか。\n患者：一回だけ測ったら、六十二でした。\n"
        "医師：一緒に来た方は。\n患者：一時間くらい前に、母が後ろ頭をぶつけたんです。\n"
    )
    assert [t for t, _ in spoken_lines(said, "S")] == [
        "約5年前から毎年です。",
        "コーヒー：1日5杯くらい飲んでます。",
        "1回だけ測ったら、62でした。",
        "約1時間前に、母が後頭部をぶつけたんです。",
    ]
    [(text, _)] = symptom_lines(said_of("患者：水みたいな下痢が、今日だけで六回くらい。\n"))
    assert "今日だけで6回" in text


def test_a_drug_taken_already_stays_current_when_the_doctor_names_it_again():
    f = extract(
        evidence(
            read_transcript(
                "家族：ワーファリンを二ミリ飲んでます。\n医師：PT-INRは二・四で、ワーファリンの効き具合は予定どおりです。\n"
                "医師：ワーファリンはいつもどおり続けて大丈夫です。\n".encode()
            )
        )
    )
    [med] = f.medications
    assert med["status"] == "current" and f.continued == ["ワルファリン"]


def test_a_lab_value_beside_a_drug_is_still_a_result():
    from kogata.tasks.karte.lines import spoken_lines

    said = said_of("医師：血液検査のPT-INRは二・四で、ワーファリンの効き具合は予定どおりです。\n")
    assert [t for t, _ in spoken_lines(said, "O")] == ["血液検査のPT-INRは2.4で。"]


def test_onset_over_the_past_week_an_unasked_no_allergy_and_lay_words_longest_first():
    from kogata.tasks.karte.lines import spoken_lines, symptom_lines

    [(text, _)] = symptom_lines(said_of("患者：この一週間くらいで、坂道とか階段で息が切れるようになって。\n"))
    assert text.startswith("1週間前より")
    f = extract(
        evidence(read_transcript("医師：治療中の病気は。\n患者：特にないです。薬のアレルギーもないです。\n".encode()))
    )
    assert f.no_allergies == [2] and f.allergies == []
    said = said_of(
        "医師：足の指の感覚と、足の甲の脈も問題ありません。\n医師：お酒はどのくらい。\n患者：日本酒を毎晩二合くらい。\n"
    )
    assert [t for t, _ in spoken_lines(said, "O")] == ["足趾の感覚と、足背動脈も問題ありません。"]
    assert [t for t, _ in spoken_lines(said, "S")] == ["日本酒を毎晩2合くらい。"]


def test_an_answer_without_its_subject_takes_the_questions_topic_and_cites_it():
    from kogata.tasks.karte.lines import spoken_lines

    said = said_of(
        "医師：喘息はいつからですか。\n患者：子どものころからです。\n"
        "医師：熱はありましたか。\n患者：熱はないです。家で測って三十六度台でした。\n"
        "医師：ビブラマイシン、飲み薬の方はどうでした？\n患者：毎日一錠飲んでます。\n"
    )
    assert spoken_lines(said, "S") == [
        ("気管支喘息：小児期からです。", [1, 2]),
        ("家で測って36℃台でした。", [4]),
        ("毎日1錠飲んでます。", [6]),
    ]  # no 発熱 for a denied fever, no ブラ in ビブラマイシン


# Each drug status, from visits written for these tests. Only current, prescribed and changed go in the chart's
# medication list; the rest are plan lines (or allergies) with their status.
STATUS_VISITS = {
    "current": "患者：血圧の薬はアムロジピンを毎朝飲んでいます。\n医師：アムロジピンはそのまま続けましょう。\n",
    "prescribed": "医師：咳止めにメジコンを1回15mg、1日3回、5日分出しておきます。\n",
    "changed": "医師：アムロジピンを5mgから10mgに増やしましょう。\n",
    "stopped": "医師：胃が荒れているので、ロキソニンは中止します。\n",
    "avoided": "医師：妊娠後期なので、ロキソニンは使わないでください。\n",
    "refused": "医師：禁煙のためにチャンピックスという飲み薬を始める方法もあります。\n"
    "患者：いやあ、薬を飲んでまではやめたくないです。勘弁してください。\n",
    "deferred": "医師：注射のデュピクセントもありますが、今回はまだ使いません。\n",
    "discussed": "患者：友達がリリカっていうのを飲んでるって聞いたんですけど。\n",
    "allergy": "患者：昔、セフゾンを飲んだら蕁麻疹が出ました。\n医師：セフゾンで蕁麻疹ですね。\n",
}


def facts_from(text: str):
    return extract(evidence(read_transcript(text.encode())))


@pytest.mark.parametrize("status", sorted(STATUS_VISITS))
def test_each_drug_status_is_read_from_the_words(status):
    meds = facts_from(STATUS_VISITS[status]).medications
    assert [m["status"] for m in meds] == [status], meds


def test_a_negation_in_the_next_sentence_is_not_about_the_drug():
    f = facts_from("患者：糖尿病でメトホルミンを1日2回飲んでいます。薬のアレルギーはありません。\n")
    [med] = f.medications
    assert (med["name"], med["status"], med["frequency"]) == ("メトホルミン", "current", "1日2回")
    assert f.allergies == []


def test_a_drug_advised_against_with_another_is_said_of_the_other():
    f = facts_from(
        "医師：ワーファリンは今の量のまま続けましょう。"
        "イブプロフェンのような痛み止めは、ワーファリンと一緒だと出血しやすいので使わないでください。\n"
    )
    assert {m["name"]: m["status"] for m in f.medications} == {"ワルファリン": "current", "イブプロフェン": "avoided"}


def test_a_drug_ordered_today_stays_ordered_when_named_again_in_advice():
    f = facts_from(
        "医師：パタノールを1日4回、両目にさしてください。\n"
        "医師：パタノールはコンタクトを外してさしてください。かゆい間はコンタクトは控えてください。\n"
    )
    assert [m["status"] for m in f.medications] == ["prescribed"]


def test_the_chart_lists_only_medicines_taken_and_writes_the_rest_as_plan_lines():
    from kogata.tasks.karte.chart import karte

    chart = karte(
        read_transcript(
            (
                "患者：血圧の薬はアムロジピンを毎朝飲んでいます。\n"
                "医師：痛み止めはカロナールを1回500mg、頓服で10回分出します。"
                "妊娠後期なので、ロキソニンは使わないでください。\n"
                "医師：禁煙のためにチャンピックスという飲み薬を始める方法もあります。\n"
                "患者：薬を飲んでまではやめたくないです。勘弁してください。\n"
            ).encode()
        ),
        rules_only=True,
    )
    assert {m["name"]: m["status"] for m in chart.medications} == {
        "アムロジピン": "current",
        "アセトアミノフェン": "prescribed",
    }
    plan = [item.text for item in chart.soap["P"]]
    assert "ロキソプロフェン（ロキソニン）：妊娠後期のため使用せず。" in plan
    assert "バレニクリン（チャンピックス）：本人希望せず見送り。" in plan
    assert chart.to_dict()["medications"] == chart.medications


def test_a_refusal_in_the_next_sentence_is_not_about_the_drug_prescribed():
    f = facts_from(
        "医師：咳にはメジコンを1日3回で出します。抗生物質は効かないので使いません。副作用が出ることがあります。\n"
    )
    assert [(m["name"], m["status"]) for m in f.medications] == [("デキストロメトルファン", "prescribed")]


def test_a_drug_named_after_the_doctor_says_what_is_given_is_prescribed():
    f = facts_from("医師：お腹がゆるくなったとき用に整腸剤も出しておきますね。ミヤBMです。\n")
    assert [m["status"] for m in f.medications] == ["prescribed"]


def test_a_drug_that_brought_a_rash_is_an_allergy_and_not_a_medicine():
    f = facts_from("患者：前にセフゾンを飲んだら、体に赤いぶつぶつが出て。\n医師：それはセフゾンじゃないですか？\n")
    assert [a["substance"] for a in f.allergies] == ["セフジニル（セフゾン）"]
    assert [m["status"] for m in f.medications] == ["allergy"]


def test_a_drug_replaced_by_another_is_stopped_and_the_other_changed():
    f = facts_from("医師：アレグラを、ザイザルっていう別の薬に変えましょう。1日1回、寝る前です。\n")
    assert [(m["brand"], m["status"]) for m in f.medications] == [("アレグラ", "stopped"), ("ザイザル", "changed")]


def test_a_drug_for_when_it_hurts_is_ordered_when_the_next_sentence_gives_it():
    f = facts_from("医師：痛いときはカロナールにしましょう。十回分出しておきます。\n")
    assert [(m["name"], m["status"]) for m in f.medications] == [("アセトアミノフェン", "prescribed")]


def test_no_drug_allergy_is_read_in_its_own_sentence_after_a_drug_taken():
    f = facts_from("患者：糖尿病でメトホルミンを1日2回飲んでいます。薬のアレルギーはありません。\n")
    assert [m["status"] for m in f.medications] == ["current"]
    assert f.no_allergies == [1]


def test_a_drug_named_with_nothing_to_say_it_is_taken_is_unconfirmed_not_current():
    bare = facts_from("医師：今飲んでいるお薬は？\n患者：アムロジピンです。\n")
    assert [m["status"] for m in bare.medications] == ["unconfirmed"]
    said = facts_from("患者：あと血圧の薬、アムロジピン。\n")  # 「血圧の薬、」 says it is a medicine taken
    assert [m["status"] for m in said.medications] == ["current"]
    dosed = facts_from("患者：アムロジピン5mgです。\n")
    assert [(m["status"], m["dose"]) for m in dosed.medications] == [("current", "5mg")]


def _drug_lines(text: str) -> tuple[list[str], dict[str, str]]:
    """The S and P lines of a short visit's chart (rules only), and its medication list (name → status)."""
    from kogata.tasks.karte.chart import karte

    chart = karte(read_transcript(text.encode()), rules_only=True)
    assert all(item.supported for s in "SP" for item in chart.soap[s]), chart.warnings
    return [i.text for s in "SP" for i in chart.soap[s]], {m["name"]: m["status"] for m in chart.medications}


def test_a_drug_paused_for_a_procedure_and_restarted_says_so_on_its_line():
    lines, listed = _drug_lines(
        "医師：血をサラサラにするリクシアナ、30mgを1日1回ですね。抜歯の前の日だけ休んだんですよね。\n"
        "患者：はい。\n"
        "医師：リクシアナは今日から再開しましょう。\n"
    )
    assert any(line.startswith("エドキサバン（リクシアナ） 30mg 1日1回 休薬・再開") for line in lines), lines
    assert "エドキサバン" in listed


def test_a_drug_the_patient_stopped_is_self_stopped_not_stopped_by_the_doctor_and_stays_off_the_list():
    lines, listed = _drug_lines(
        "母親：吸入のフルタイドもあったんですけど、2か月前に調子よかったのでやめちゃって。\n"
        "医師：フルタイドは50マイクロを朝と夜1回ずつ、再開してほしいです。\n"
    )
    assert any("（フルタイド） 50μg 朝夕 自己中断・再開。" in line for line in lines), lines
    assert "フルチカゾンプロピオン酸エステル" not in listed  # the rules read it as stopped: not added to the list


def test_frequency_condition_and_supply_are_written_as_said():
    lines, _ = _drug_lines(
        "医師：メネシットは朝昼夕の3回、飲めてますね。\n"
        "患者：はい、飲んでます。\n"
        "医師：吐き気止めのノバミンを、気持ち悪いとき1回1錠、5回分出します。\n"
        "医師：センノシドを2錠、3日出ない日の寝る前に飲んでください。10回分出しておきます。\n"
    )
    assert "レボドパ・カルビドパ（メネシット） 朝昼夕3回 内服中。" in lines, lines
    assert "プロクロルペラジン（ノバミン） 1錠 嘔気時 5回分 処方。" in lines, lines
    assert any(line.startswith("センノシド 2錠 便秘時 就寝前 10回分") for line in lines), lines


def test_a_pause_said_of_a_list_of_drugs_is_said_of_each_and_a_warning_is_no_note():
    lines, _ = _drug_lines(
        "医師：メトホルミンとジャディアンスは、食べられない間はお休みです。\n"
        "医師：アムロジピンは飲み忘れないようにね。毎朝飲んでください。\n"
    )
    assert "メトホルミン 休薬。" in lines, lines
    assert "エンパグリフロジン（ジャディアンス） 休薬。" in lines, lines
    assert not any("飲み忘れ" in line and "アムロジピン" in line for line in lines), lines


def test_a_missed_dose_answered_after_the_drug_asked_about_says_how_often():
    lines, listed = _drug_lines(
        "医師：お薬はアムロジピン5mg、朝1回、ちゃんと飲めてます？\n患者：ええ、飲み忘れは、2週に1回くらいかな。\n"
    )
    assert "アムロジピン 5mg 飲み忘れ（2週に1回） 内服中。" in lines, lines
    assert listed == {"アムロジピン": "current"}
    for answer in ("はい、忘れてないです。", "飲み忘れは特にないです。", "飲み忘れはありません。"):
        kept, _ = _drug_lines(f"医師：アムロジピン5mg、朝1回、飲めてますか。\n患者：{answer}\n")
        assert "アムロジピン 5mg 内服中。" in kept, (answer, kept)  # the drug line notes no missed dose


def test_a_condition_before_the_next_drug_is_that_drugs_and_one_dose_a_bag_is_no_supply():
    lines, _ = _drug_lines(
        "医師：めまい止めのメリスロン、6ミリを1日3回、1週間分と、吐き気が強いときのトラベルミンを頓服で出します。\n"
        "医師：マグミットも朝1回、2錠にします。1回分を1袋にまとめます。\n"
    )
    assert "ベタヒスチン（メリスロン） 6mg 1日3回 1週間分 処方。" in lines, lines
    assert any(line.startswith("ジフェンヒドラミン・ジプロフィリン（トラベルミン） 嘔気時 頓用") for line in lines), (
        lines
    )
    assert not any("1回分" in line and "マグミット" in line for line in lines), lines


def test_a_changed_drug_is_written_with_its_new_frequency():
    lines, _ = _drug_lines(
        "医師：セレコキシブは100mgを朝晩飲んでますね。\n患者：はい。\n医師：セレコキシブは100mgを1日1回夕に減らしましょう。\n"
    )
    assert "セレコキシブ 100mg 1日1回 減量。" in lines, lines


def test_an_answer_naming_no_drug_notes_a_stop_by_the_patient_or_a_restart_by_the_doctor():
    lines, listed = _drug_lines(
        "医師：メルカゾールはちゃんと飲めてますか。\n患者：調子よかったので、2か月前から自分でやめちゃってました。\n"
        "患者：手術の前に止めとったバイアスピリン、あれはいつから飲んだらええの？\n"
        "医師：傷も落ち着いてるので、明日から再開してください。\n"
    )
    assert any(line.startswith("チアマゾール（メルカゾール） 自己中断") for line in lines), lines
    assert "アスピリン（バイアスピリン） 再開。" in lines, lines
    assert "チアマゾール" not in listed and "アスピリン" not in listed  # statuses, and so the list, are as before
    told, _ = _drug_lines("医師：アムロジピンは飲めてますか。\n患者：先生に言われてやめました。\n")
    assert not any("自己中断" in line for line in told), told
