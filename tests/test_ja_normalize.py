import time

import pytest

from kogata.ja import (
    Quantity,
    find_findings,
    find_quantities,
    is_japanese,
    japanese_ratio,
    normalize,
    normalize_numbers,
    parse_kanji_number,
    symptom_lexicon,
)
from kogata.ja.findings import CATEGORIES


def chart(text: str) -> str:
    return normalize_numbers(normalize(text))


def quantities(text: str) -> list[tuple[str, str]]:
    return [(q.value, q.unit) for q in find_quantities(chart(text))]


# --- normalize -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "ABC123"),
        ("ｶﾞｰｾﾞ", "ガーゼ"),
        ("３８．５℃", "38.5℃"),  # NFKC would write °C
        ("38.5°C", "38.5℃"),
        ("ゼ−ゼ−する", "ゼーゼーする"),  # minus sign used as a long-vowel mark
        ("A−1", "A-1"),
        ("痛ーい", "痛ーい"),
        ("2～3日", "2〜3日"),
        ("三十八 度　五分", "三十八度五分"),  # spaces next to Japanese are artefacts
        ("Loxonin   60 mg", "Loxonin 60 mg"),
        ("熱は、ないです。｡､", "熱は、ないです。。、"),
        ("a\u200bb", "ab"),
        ("一行目\r\n二行目", "一行目\n二行目"),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected
    assert normalize(expected) == expected  # idempotent


# --- numbers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("十二", 12),
        ("百五十二", 152),
        ("二千三百", 2300),
        ("一万二千", 12000),
        ("千", 1000),
        ("一五〇", 150),
        ("〇", 0),
    ],
)
def test_parse_kanji_number(numeral, value):
    assert parse_kanji_number(numeral) == value


@pytest.mark.parametrize("bad", ["", "十十", "百千", "二三十", "abc"])
def test_parse_kanji_number_rejects(bad):
    with pytest.raises(ValueError):
        parse_kanji_number(bad)


@pytest.mark.parametrize(
    ("spoken", "charted"),
    [
        ("三十八度五分", "38.5℃"),
        ("三十七度", "37℃"),
        ("百五十二の九十四", "152/94 mmHg"),
        ("上が百五十二、下が九十四です", "152/94 mmHgです"),
        ("血圧は152/94でした", "血圧は152/94 mmHgでした"),
        ("七・八パーセント", "7.8%"),
        ("七点八パーセント", "7.8%"),
        ("ロキソニン六十ミリを出します", "ロキソニン60mgを出します"),
        ("五ミリの錠剤", "5mgの錠剤"),
        ("五百ミリグラム", "500mg"),
        ("一日二回", "1日2回"),
        ("一日三回毎食後", "1日3回毎食後"),
        ("五日分", "5日分"),
        ("三日前から", "3日前から"),
        ("二週間", "2週間"),
        ("三ヶ月", "3か月"),
        ("脈は八十八", "脈は88"),
        ("サチュレーション九十七", "SpO2 97%"),
        ("サチュは九十七パーセント", "SpO2は97%"),
        ("SpO2は97です", "SpO2は97%です"),
        ("一錠", "1錠"),
        ("十二", "12"),
        ("二千三百", "2300"),
        ("〇・五", "0.5"),
        ("二三日前", "2〜3日前"),
        ("一、二回", "1〜2回"),  # once or twice, as 二三日 is two or three days
        ("十分後", "10分後"),
        ("三十分", "30分"),
        ("一時間", "1時間"),
        ("三人", "3人"),
        ("体重が六十五キロ", "体重が65kg"),
        ("HbA1c七・八", "HbA1c 7.8"),
        ("百四十六の…九十", "146/90 mmHg"),  # a pause after の
        ("座って百十二の六十八、立って百の六十二", "座って112/68 mmHg、立って100/62 mmHg"),
        ("血圧百八十二の百、脈拍七十八", "血圧182/100 mmHg、脈拍78"),
        ("体重十キロ二百です", "体重10.2kgです"),  # a child's weight, kilograms and grams
        ("体重は三キロ二百グラム", "体重は3kg 200g"),
        ("フェリチンが六、C4が八で", "フェリチンが6、C4が8で"),
        ("百の位", "百の位"),
        ("２０２４年", "2024年"),
    ],
)
def test_normalize_numbers(spoken, charted):
    assert chart(spoken) == charted


@pytest.mark.parametrize(
    "text",
    [
        "一緒に来ました",
        "一般的な風邪です",
        "十分です",
        "十分休んでください",
        "一度も吐いていません",
        "もう一度測ります",
        "一番つらいのは咳です",
        "一時的に良くなりました",
        "一人暮らしです",  # 一人/二人 are words (ひとり/ふたり); 三人 and up are counted
        "二人で来ました",
        "十二指腸潰瘍",
        "百日咳",
        "五十肩",
        "万が一",
        "二の腕",
    ],
)
def test_non_numeric_kanji_stay(text):
    assert chart(text) == normalize(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("五ミリくらいのしこり", "5ミリ"),  # no drug in the sentence: could be mm
        ("シロップを五ミリ", "5ミリ"),  # liquid: mL, not mg
        ("五キロ歩く", "5キロ"),  # no weight context: km
        ("七・八月ごろ", "7・8月"),  # list, not a decimal
        ("九十度曲げる", "90度"),  # not a body temperature
        ("5/12に来院", "5/12"),  # a date, not a blood pressure
    ],
)
def test_ambiguous_units_are_left_alone(text, kept):
    assert kept in chart(text)


@pytest.mark.parametrize(
    ("spellings", "quantity"),
    [
        (["三十八度五分", "38.5℃", "３８．５度", "38度5分", "38.5度", "38.5 °C"], ("38.5", "℃")),
        (["百五十二の九十四", "152/94 mmHg", "152/94mmHg", "上が152、下が94", "血圧 152/94"], ("152/94", "mmHg")),
        (["七・八パーセント", "7.8%", "７．８％", "七点八パーセント"], ("7.8", "%")),
        (["五百ミリグラム", "500mg", "500 mg", "５００ｍｇ", "500ミリグラム"], ("500", "mg")),
        (["五日分", "5日分", "５日分"], ("5", "日分")),
        (["三ヶ月", "3か月", "3カ月", "３ヵ月"], ("3", "か月")),
        (["二千三百", "2300", "2,300"], ("2300", "")),
        (["〇・五", "0.5"], ("0.5", "")),
        (["一錠", "1錠"], ("1", "錠")),
    ],
)
def test_same_quantity_from_kanji_and_digits(spellings, quantity):
    for s in spellings:
        assert quantities(s) == [quantity], s


def test_find_quantities_units_and_spans():
    text = chart("一日二回、五日分。脈は八十八、サチュレーション九十七。体重六十キロ、身長百七十センチ、二十歳")
    found = find_quantities(text)
    assert [(q.value, q.unit) for q in found] == [
        ("1", "日"),
        ("2", "回"),
        ("5", "日分"),
        ("88", ""),
        ("97", "%"),
        ("60", "kg"),
        ("170", "cm"),
        ("20", "歳"),
    ]
    for q in found:
        assert text[q.span[0] : q.span[1]].startswith(q.value)
    assert isinstance(found[0], Quantity)


def test_find_quantities_ignores_digits_in_names_and_shares_range_units():
    assert quantities("SpO2 98%、HbA1c 6.5%") == [("98", "%"), ("6.5", "%")]
    assert quantities("二三日") == [("2", "日"), ("3", "日")]
    assert quantities("1〜2錠") == [("1", "錠"), ("2", "錠")]


# --- findings --------------------------------------------------------------------------------------------------


def findings(text: str) -> list[tuple[str, str, bool]]:
    return [(f.term, f.surface, f.negated) for f in find_findings(text)]


@pytest.mark.parametrize(
    ("text", "term", "surface"),
    [
        ("お腹が痛くて", "腹痛", "お腹が痛く"),
        ("おなかは痛かったです", "腹痛", "おなかは痛かっ"),
        ("お腹痛い", "腹痛", "お腹痛い"),
        ("頭が痛かった", "頭痛", "頭が痛かっ"),
        ("昨日吐きました", "嘔吐", "吐きました"),
        ("二回吐いた", "嘔吐", "吐いた"),
        ("熱っぽいです", "発熱", "熱っぽい"),
        ("咳が出ます", "咳嗽", "咳が出"),
        ("たんが絡む", "喀痰", "たんが絡む"),
        ("手がしびれる", "しびれ", "しびれる"),
        ("足がむくんでいます", "下腿浮腫", "足がむくん"),
        ("鼻水が出ます", "鼻汁", "鼻水"),
        ("鼻が詰まって", "鼻閉", "鼻が詰まっ"),
        ("息苦しいです", "呼吸困難", "息苦しい"),
        ("胸がドキドキする", "動悸", "ドキドキ"),
        ("体がだるくて", "倦怠感", "体がだるく"),
        ("寝付けないんです", "入眠困難", "寝付けない"),
        ("眠れませんでした", "不眠", "眠れません"),
        ("食欲がありません", "食欲不振", "食欲がありません"),
        ("かゆくて", "掻痒感", "かゆく"),
        ("ゼーゼーします", "喘鳴", "ゼーゼー"),
        ("寒気がします", "悪寒", "寒気がし"),
        ("寝汗をかきます", "盗汗", "寝汗"),
        ("喉が渇きます", "口渇", "喉が渇き"),
        ("気分が落ち込んで", "抑うつ気分", "気分が落ち込ん"),
        ("死にたいと思う", "希死念慮", "死にたい"),
        ("トイレが近い", "頻尿", "トイレが近い"),
        ("膝が痛む", "膝痛", "膝が痛む"),
    ],
)
def test_colloquial_phrases_map_to_chart_terms(text, term, surface):
    assert (term, surface, False) in findings(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("しびれはありません", [("しびれ", "しびれ", True)]),
        ("咳が止まらない", [("咳嗽", "咳", False)]),
        ("熱はないです", [("発熱", "熱", True)]),
        ("吐き気もないですね", [("嘔気", "吐き気", True)]),
        ("お腹が痛くて", [("腹痛", "お腹が痛く", False)]),
        ("お腹は痛くなかった", [("腹痛", "お腹は痛く", True)]),
        ("熱が下がらない", [("発熱", "熱が下がらない", False)]),
        ("嘔吐はしていません", [("嘔吐", "嘔吐", True)]),
        ("胸痛は否定的", [("胸痛", "胸痛", True)]),
        ("食欲がないです", [("食欲不振", "食欲がない", False)]),  # the negation is the symptom
        ("眠れないです", [("不眠", "眠れない", False)]),
        ("頭が痛くてたまらない", [("頭痛", "頭が痛く", False)]),
        ("お腹が痛くて、熱はないです", [("腹痛", "お腹が痛く", False), ("発熱", "熱", True)]),
        ("咳はないけど痰はあります", [("咳嗽", "咳", True), ("喀痰", "痰", False)]),
        ("咳、痰、鼻水はありません", [("咳嗽", "咳", True), ("喀痰", "痰", True), ("鼻汁", "鼻水", True)]),
        ("熱はありましたが、今はないです", [("発熱", "熱はあり", False)]),
        ("咳が出ます熱はないです", [("咳嗽", "咳が出", False), ("発熱", "熱", True)]),  # ASR without 。
        ("熱は、ありません", [("発熱", "熱", True)]),
        ("頭痛なし", [("頭痛", "頭痛", True)]),
    ],
)
def test_negation(text, expected):
    assert findings(text) == expected


@pytest.mark.parametrize("text", ["熱いお茶を飲みます", "解熱剤を飲みました", "一緒に来ました", "薬を元に戻した"])
def test_no_false_findings(text):
    assert find_findings(text) == []


def _not_findings_rows():
    import csv
    from importlib import resources

    path = resources.files("kogata.ja") / "data" / "not_findings.tsv"
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))


@pytest.mark.parametrize("row", _not_findings_rows(), ids=lambda r: r["phrase"])
def test_words_that_hold_a_findings_words_are_no_finding(row):
    """data/not_findings.tsv: each example gives no finding where its phrase stands (吸って、吐いて is no 嘔吐)."""
    assert row["phrase"] in row["example"]
    start = row["example"].index(row["phrase"])
    inside = [f for f in find_findings(row["example"]) if f.span[0] < start + len(row["phrase"]) and f.span[1] > start]
    assert inside == []


@pytest.mark.parametrize("text", ["昨日三回吐いた。", "朝から吐いています", "食べたあとに吐いてしまいました"])
def test_vomiting_is_still_read_beside_the_not_findings(text):
    assert "嘔吐" in [f.term for f in find_findings(text)]


def _dialect_rows():
    import csv
    from importlib import resources

    path = resources.files("kogata.ja") / "data" / "dialect_negation.tsv"
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t"))


@pytest.mark.parametrize("row", _dialect_rows(), ids=lambda r: r["example"])
def test_a_dialects_negation_denies_the_finding_before_it(row):
    """data/dialect_negation.tsv: each example's finding is denied (むくみはなかです, 頭痛はあらへん), its words and
    span taken from the text as said."""
    found = find_findings(row["example"])
    assert found and all(f.negated for f in found), found
    assert all(row["example"][f.span[0] : f.span[1]] == f.surface for f in found)


@pytest.mark.parametrize(
    "text", ["お腹が痛いです。", "夜中に咳が出るんです。", "ねえ、先生、咳が出るんです。", "熱が下がらんのです。"]
)
def test_words_like_a_dialects_negation_deny_nothing(text):
    assert find_findings(text) and not any(f.negated for f in find_findings(text))


def test_longest_match_wins_and_spans_point_into_text():
    text = "先生、昨日から寝汗がひどくて、お腹も痛いんです。"
    found = find_findings(text)
    assert [f.term for f in found] == ["盗汗", "腹痛"]
    for f in found:
        assert text[f.span[0] : f.span[1]] == f.surface


def test_long_text_is_tokenised_in_chunks_with_correct_spans():
    text = "患者：お腹が痛くて、熱はないです。\n" * 1200  # 21,600 chars, 64 KB: over Sudachi's 48 KB per call
    found = find_findings(text)
    assert len(found) == 2400
    assert all(text[f.span[0] : f.span[1]] == f.surface for f in found)
    assert [f.negated for f in found[-2:]] == [False, True]


def test_lexicon_is_complete_and_self_consistent():
    lexicon = symptom_lexicon()
    assert len(lexicon) >= 120
    assert len({e.term for e in lexicon}) == len(lexicon)
    assert {e.category for e in lexicon} <= set(CATEGORIES)
    for entry in lexicon:
        for phrase in (entry.term, *entry.colloquial):
            found = find_findings(phrase)
            assert [(f.term, f.negated) for f in found] == [(entry.term, False)], phrase


def test_findings_are_fast():
    text = (
        "患者：三日前から熱っぽくて、咳が止まらないんです。痰も出ます。吐き気はないです。お腹が痛くて眠れませんでした。"
        * 40
    )[:2000]
    find_findings(text)  # warm-up: Sudachi dictionary and lexicon
    start = time.perf_counter()
    for _ in range(5):
        find_findings(text)
        find_quantities(chart(text))
    assert (time.perf_counter() - start) / 5 < 0.1


# --- script ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "japanese"),
    [
        ("三日前から熱があります", True),
        ("頭痛", True),  # short kanji-only notes are Japanese
        ("Loxonin 60mg を1日3回", True),
        ("How are you today?", False),
        ("我们今天去医院检查身体", False),  # kanji without kana, longer than 10 letters: Chinese
        ("", False),
        ("12345 !!!", False),
    ],
)
def test_is_japanese(text, japanese):
    assert is_japanese(text) is japanese


def test_japanese_ratio():
    assert japanese_ratio("") == 0.0
    assert japanese_ratio("あいう") == 1.0
    assert japanese_ratio("abあい") == 0.5
    assert japanese_ratio("熱 38.5℃!") == 1.0  # digits and symbols are not letters


@pytest.mark.parametrize(
    "said, charted",
    [
        ("30万円", "300000円"),
        ("1万2千円", "12000円"),
        ("5千円", "5000円"),
        ("1万5000円", "15000円"),
        ("三十万円", "300000円"),
    ],
)
def test_digits_said_with_kanji_multipliers(said, charted):
    assert normalize_numbers(normalize(said)) == charted
