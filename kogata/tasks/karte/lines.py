"""Chart lines in the speakers' words: each symptom the patient side tells, with when and how; each examination
the doctor states; tests and the next visit; and the sentences a chart keeps as said (history and habits, results,
the assessment, instructions), cleaned of the fillers of speech and put in chart terms where the lexicons know them.
Every line cites the one utterance it came from, so it is evidence-linked by construction. Small talk is left out
clause by clause: a sentence is kept only where it says something clinical (kogata.tasks.karte.facts reads the
structured facts: vitals, medications, allergies, denials, problems).
"""

from __future__ import annotations

import functools
import re

from kogata.ja import find_findings, find_quantities
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import find_drugs
from kogata.ja.findings import predicates
from kogata.ja.sentences import is_question, says_no, sentences
from kogata.ja.tokenizer import tokenize
from kogata.tasks import data
from kogata.tasks.karte import vocabulary
from kogata.tasks.karte.facts import fold_modifiers, is_allergy_sentence, is_allergy_talk, orders_a_drug
from kogata.verify import Said

_ONSET = re.compile(
    r"((?:\d+(?:〜\d+)?|半|数)(?:日|週間|か月|ヶ月|年|時間)(?:ぐらい|くらい|ほど)?前|昨日(?:の(?:夜|朝|昼|夕方))?|昨夜|今朝"
    r"|一昨日|先週|先月|去年|今日)(?:ぐらい|くらい|ほど)?(?:から|より|前に|に|(?<=[朝夜昼方週月年日])、)"
    r"|この((?:\d+(?:〜\d+)?|数)(?:日|週間|か月|ヶ月|年))(?:ぐらい|くらい|ほど)?(?:で|の間に?)"
)
# When a symptom comes, as a chart writes it (誘因・時間帯): 「寝返りをうったときに」 → 寝返り時
_CIRCUMSTANCES = [
    (re.compile(r"朝起き(?:た|る)?(?:とき|時|ても|て)|起床時|寝起き"), "起床時"),
    (re.compile(r"起き上が(?:る|った)(?:とき|時)"), "起き上がり時"),
    (re.compile(r"寝返り"), "寝返り時"),
    (re.compile(r"夜中|夜間|明け方|寝ている(?:とき|時)"), "夜間"),
    (re.compile(r"お風呂上がり|入浴後|風呂から上が"), "入浴後"),
    (re.compile(r"食後|食べた後|食べたあと"), "食後"),
    (re.compile(r"階段"), "階段昇降時"),
    (re.compile(r"歩き始め"), "歩き始め"),
    (re.compile(r"動く(?:と|とき)|動かす(?:と|とき)"), "体動時"),
    (re.compile(r"安静にして(?:いる|る)?(?:とき|時)|じっとして(?:いる|る)?(?:とき|時)"), "安静時"),
]
_TESTS = re.compile(vocabulary.alternation("tests.tsv", "said"))  # data/tests.tsv
_TEST_TERMS = vocabulary.chart_words("tests.tsv", "said")
_WHEN = re.compile(r"\d+(?:〜\d+)?(?:日|週間|か月|ヶ月)(?:後|ぐらい後|くらい後)|明日|来週|次回")
_ORDERS = re.compile(vocabulary.cues("orders"))
_CANCELLED = re.compile(r"[はも]?(?:やめ|行わ|しない|しません|不要|いらない|必要ない)")
_FOLLOW_UP = re.compile(
    r"(\d+(?:〜\d+)?(?:日|週間|か月|ヶ月)|明日|明後日|来週|来月)(?:後|ぐらい後|くらい後|先)?[^。]{0,20}?"
    r"(?:来て|受診|再診|お越し|診せて|見せて|結果)|次回は(\d+(?:日|週間|か月|ヶ月))後"
)


_DAYS_AHEAD = ("明日", "明後日", "来週", "来月")
_HOME_READING = re.compile(r"測[っるりれ][^。]{0,12}?(?<!\d)(?:[89]\d|1\d\d|2[0-2]\d)(?!\d)")  # 「朝測ると150ぐらい」
_MIN_SPOKEN = 8  # characters: a shorter sentence of the patient's kept alone (「飲んでます」) says nothing on its own
_MAX_QUOTE = 120  # characters of the speaker's words kept beside a symptom or examination line
_CHART_ONSET = {"昨日の夜": "昨夜", "昨日の朝": "昨日朝", "昨日の昼": "昨日昼", "昨日の夕方": "昨日夕方"}
_NOT_A_FINDING = re.compile(vocabulary.cues("not_a_finding"))
_CONDITIONAL = re.compile(vocabulary.cues("conditional"))
_FAMILY = re.compile(vocabulary.cues("family"))
# What staff explain, warn or reassure about (「飲むと便が黒くなりますが、心配いりません」「震えや汗…が出ることが
# あります」) is no finding of the patient's; what they find now (「右の陰嚢が腫れていますが、心配いりません」) is.
_EXPLAINING = re.compile(vocabulary.cues("explaining"))
_FOUND_NOW = re.compile(vocabulary.cues("found_now"))
_EXAMINING = re.compile(vocabulary.cues("examining"))  # 「押すと痛くなりますね」: found by a manoeuvre, now
# The weather said in a symptom's words (「今朝はよう冷えましたけんねえ」) is no 冷感
_WEATHER = re.compile(vocabulary.cues("weather"))


# Someone else's symptoms (「上のお姉ちゃんが3日前に同じように吐いてました」): history of contacts, not the patient's.
_ABOUT_OTHERS = re.compile(
    r"(?:お姉ちゃん|お兄ちゃん|姉|兄|妹|弟|(?<!お)母(?!親)|父(?!親)|夫|妻|主人|家族|同僚|友達|友人|周り|クラス)[がもは]"
)
_SIDE = re.compile(r"(左|右|両)(?:の|側の|方の|方)?$")
_SIDE_TERM = {"左": "左", "右": "右", "両": "両側"}


def _sided(text: str, finding) -> str:
    """左膝痛 for 「左の膝が痛い」: the side said just before the words of a finding."""
    side = _SIDE.search(text[max(0, finding.span[0] - 4) : finding.span[0]])
    return _SIDE_TERM[side.group(1)] + finding.term if side else finding.term


_YES = re.compile(r"^(?:はい|ええ|うん|(?:すごく|とても|かなり|少し|ちょっと|たまに|時々|ときどき)?あります)")
_NEGATIVE_WORDS = re.compile(r"ない|ません|いいえ|なかった")


def _answered_yes(question: Said | None, answer: Said) -> list[str]:
    """Findings the doctor asked about that the answer affirms without naming them: 「すごくあります」 to 「…不安に
    なることはありますか」, 「夜になると両方詰まって」 to 「鼻づまりはどうですか」 (the finding's own verb, 詰まる)."""
    if question is None or not question.staff or _NEGATIVE_WORDS.search(answer.text) or is_allergy_talk(question):
        return []
    asked = [f for x in sentences(question.text) if is_question(x) for f in find_findings(x)]
    named = {f.term for f in answer.findings}
    if _YES.match(answer.text):
        return [f.term for f in asked if f.term not in named]
    said_words = {t.normalized_form for t in tokenize(answer.text)}
    return [f.term for f in asked if f.term not in named and predicates(f.term) & said_words]


def explained(sentence: str, start: int) -> bool:
    """Whether the finding at `start` of a staff `sentence` is explained rather than found: its clause explains
    (data/cues.tsv, explaining), or a later clause does (「…黒くなりますが、心配いりません」) and its own does not
    say what is there now (found_now: 「腫れていますが、心配いりません」)."""
    from kogata.tasks.karte.negatives import clauses  # here: negatives reads lines' is_clinical

    at = 0
    for i, clause in enumerate(parts := clauses(sentence)):
        at = sentence.find(clause, at)
        if at <= start < at + len(clause):
            later = "".join(parts[i + 1 :])
            if _EXAMINING.search(clause):
                return False  # 「ここを押すと痛くなりますね」 is what the examination finds, however it is worded
            return bool(_EXPLAINING.search(clause)) or bool(_EXPLAINING.search(later) and not _FOUND_NOW.search(clause))
        at += len(clause)
    return False


def _weather(text: str, finding) -> bool:
    """Whether the words of `finding` are part of what `text` says about the weather (「今朝はよう冷えました」)."""
    return any(m.start() <= finding.span[0] and finding.span[1] <= m.end() for m in _WEATHER.finditer(text))


def symptom_lines(said: list[Said]) -> list[tuple[str, list[int]]]:
    """「3日前より発熱、咳嗽あり。」 from what the patient side says, one line per utterance with symptoms (and the
    question it answers, where the answer affirms what was asked without naming it)."""
    lines = []
    undated: set[int] = set()  # the lines said with no onset of their own
    previous: Said | None = None
    for s in said:
        heard, previous = previous, s
        if s.staff or is_allergy_talk(s):
            continue  # 「ペニシリンで蕁麻疹が出た」 is recorded as an allergy
        others = [x for x in sentences(s.text) if _ABOUT_OTHERS.search(x)]
        present = list(
            dict.fromkeys(
                _sided(s.text, f)
                for f in s.findings
                if not f.negated and not any(f.surface in x for x in others) and not _weather(s.text, f)
            )
        )
        affirmed = _answered_yes(heard, s)
        present += [t for t in dict.fromkeys(affirmed) if t not in present]
        if present:
            onset = _ONSET.search(s.text)
            lead = _onset_lead(onset)
            circumstances = (
                []
                if onset
                else [  # not 「今朝より夜間の嘔吐」 where 夜中 and 今朝 belong to different symptoms
                    word
                    for pattern, word in _CIRCUMSTANCES
                    if pattern.search(s.text) and not any(word in term for term in present)
                ]
            )  # not 夜間の夜間頻尿
            lead += "・".join(circumstances) + "の" if circumstances else ""
            # the patient's own words beside the terms: where, since when, how (「右手の親指から薬指がしびれる」),
            # from every clinical sentence of the utterance but those that only deny
            echo = {w for term in affirmed for w in predicates(term)}
            words = [
                chart_sentence(clinical).rstrip("。")
                for x in sentences(s.text)
                if not is_question(x)
                and not _ABOUT_OTHERS.search(x)
                and (clinical := _without_small_talk(x, echo))
                and not ((found := find_findings(x)) and all(f.negated for f in found))
            ]
            quote = f"（「{'。'.join(words)}」）" if words and len("".join(words)) <= _MAX_QUOTE else ""
            lines.append((f"{lead}{'、'.join(present)}あり{quote}。", [heard.id, s.id] if affirmed else [s.id]))
            if not onset:
                undated.add(len(lines) - 1)
        elif heard is not None and heard.staff and _ASKS_WHEN.search(heard.text) and (onset := _ONSET.search(s.text)):
            # 「いつからですか」「半年くらい前から」: the onset of the last symptom said without one, in its line
            last = max(undated, default=None)
            if last is not None and lines[last][1][-1] >= s.id - _ONSET_REACH:
                text, ids = lines[last]
                lines[last] = (f"{_onset_lead(onset)}{text}", [*ids, heard.id, s.id])
                undated.discard(last)
    return lines


# a question that asks since when (「いつからですか」「何日前から？」), and how far back (utterances) its answer's
# onset may go to find the symptom it dates
_ASKS_WHEN = re.compile(r"いつ(?:から|ごろ|頃|ぐらい|くらい)|何(?:日|週間|か月|ヶ月|年)(?:前|くらい前|ぐらい前)")
_ONSET_REACH = 4


def _onset_lead(onset: re.Match[str] | None) -> str:
    """「3日前より」「昨夜より」「この1週間、」: how a symptom line opens with its onset (_ONSET), or ""."""
    if onset is None:
        return ""
    when = re.sub(r"ぐらい|くらい|ほど", "", onset.group(1) or onset.group(2) + "前")  # この1週間で
    return f"{_CHART_ONSET.get(when, when)}{'、' if onset.group(0).endswith('、') else 'より'}"


def examination_lines(said: list[Said]) -> list[tuple[str, list[int]]]:
    """What the doctor states on examination, present or absent (「喉が赤いですね」「むくみはないですね」), one line
    per utterance with the doctor's words beside the terms (where, how much: 「左膝の内側を押すと痛い」);
    questions and conditionals (「熱が出たら」) are not findings."""
    lines = []
    previous: Said | None = None
    for s in said:
        heard, previous = previous, s
        if not s.staff or is_allergy_talk(s):
            continue
        echoed = {f.term for f in heard.findings} if heard is not None and not heard.staff else set()
        present: list[str] = []
        absent: list[str] = []
        words: list[str] = []
        for sentence in sentences(s.text):
            if (
                is_question(sentence)
                or _CONDITIONAL.search(sentence)
                or _NOT_A_FINDING.search(sentence)
                or find_drugs(sentence)
                or "薬" in sentence
                or _ADVICE_CUES.search(sentence)
                or _is_assessment(sentence)
            ):
                continue  # 「むくみも見ておきますね」 announces an examination; 「吐き気止めに…」 names a drug's use
            findings = [
                f for f in find_findings(sentence) if f.term not in echoed and not explained(sentence, f.span[0])
            ]
            present += [f.term for f in findings if not f.negated]
            absent += [f.term for f in findings if f.negated]
            if findings or _RESULT_CUES.search(sentence):
                words.append(chart_sentence(sentence).rstrip("。"))
        present = list(dict.fromkeys(present))
        absent = [t for t in dict.fromkeys(absent) if t not in present]
        parts = ([f"{'、'.join(present)}あり"] if present else []) + [f"{t}なし" for t in absent]
        if parts:
            quote = f"（「{'。'.join(words)}」）" if words and len("".join(words)) <= _MAX_QUOTE else ""
            lines.append(("、".join(parts) + quote + "。", [s.id]))
    return lines


def names_a_test(text: str) -> bool:
    return bool(_TESTS.search(text))


def chart_test(said: str) -> str:
    """A test as a chart names it (レントゲン → X線; data/tests.tsv)."""
    return _TEST_TERMS.get(said, said)


def tests_named(text: str) -> list[str]:
    """The tests `text` names, as a chart names them."""
    return [chart_test(m.group(0)) for m in _TESTS.finditer(text)]


def plan_lines(said: list[Said]) -> list[tuple[str, list[int]]]:
    """Tests ordered and the next visit, as the doctor says them."""
    lines = []
    for s in said:
        if not s.staff:
            continue
        ordered: list[tuple[str, str]] = []  # (when, tests)
        revisit = ""
        for sentence in sentences(s.text):
            tests = list(
                dict.fromkeys(
                    chart_test(m.group(0))
                    for m in _TESTS.finditer(sentence)
                    if not _CANCELLED.match(sentence, m.end()) and not _CANCELLED.match(sentence, m.end() + 1)
                )
            )  # 「CTはやめて」
            if tests and _ORDERS.search(sentence) and not is_question(sentence) and not _CONDITIONAL.search(sentence):
                when = _WHEN.search(sentence)
                at = re.sub(r"ぐらい|くらい", "", when.group(0)) + "に" if when else ""
                ordered.append((at, "、".join(tests)))
            if (m := _FOLLOW_UP.search(sentence)) and not is_question(sentence):
                when = m.group(1) or m.group(2)
                revisit = f"{when}{'' if when in _DAYS_AHEAD else '後に'}"
        # one line an utterance: 「採血、心エコーを予定、2週間後に再診。」, 「2〜3週間後に尿検査、再診。」
        parts = [f"{at}{tests}" + ("" if revisit and at == revisit else "を予定") for at, tests in ordered]
        if revisit:
            parts.append("再診" if parts and ordered[-1][0] == revisit else f"{revisit}再診")
        if parts:
            lines.append(("、".join(parts) + "。", [s.id]))
    return lines


# Sentences worth keeping in the doctor's or patient's own words when no rule above turned them into a line:
# the history and habits the patient tells, what the doctor reports from an examination or a test, the doctor's
# assessment and instructions. Cited by construction; the model's lines are added beside them, never instead.
_RESULT_CUES = re.compile(vocabulary.cues("result"))
_ADVICE_CUES = re.compile(vocabulary.cues("advice"))
# Words a chart is about (body, symptoms, care, habits); a sentence without any, and without a finding, drug, disease
# or measurement, is small talk (「梅雨でじめじめしてるのに、二人とも元気すぎて大変です」).
_CLINICAL = re.compile(vocabulary.cues("clinical"))  # body, symptoms, care, habits, injuries, results, course, 眼科
_CLINICAL_UNITS = {
    "mg",
    "g",
    "mL",
    "μg",
    "℃",
    "kg",
    "mmHg",
    "%",
    "錠",
    "包",
    "単位",
    "cm",
    "mm",
    "dB",
    "mg/dL",
    "/分",
    "本",
    "杯",
}
_ASSESSMENT = re.compile(r"と考えられ|(?:だ|か)と思い|でしょう|疑い|可能性|かもしれ|状態|診断|ですね|です(?:。|$)")
_ASSESSMENT_END = re.compile(
    r"(?:と考えられます|と考えます|だと思います|かと思います|と思います|でしょう|かもしれません|の状態|状態)?"
    r"(?:な?[んの]です(?:ね)?|ですね|です|ね)?(。?)$"
)
# 「肺炎の可能性があります」「肺炎かもしれません」 after a disease's name: a chart writes 肺炎疑い
_SUSPICION = re.compile(
    r"(?:の)?(?:可能性(?:が(?:高い|ある|あります|考えられます))?|疑い(?:があります|がある)?|かもしれ(?:ません|ない))"
    r"(?:です)?(?:ね|よ)?(?=。?$|[、,])"
)
# How a chart says what the doctor says in words (applied to assessment lines).
_ASSESSMENT_WORDS = [
    (re.compile(r"(?:が|は)?(?:少し|やや|だいぶ|かなり)?(?:悪くなって|悪化して)(?:いる|きている|きた)"), "の増悪"),
    (
        re.compile(r"(?:が|は)?(?:少し|やや|だいぶ|かなり)?(?:良くなって|よくなって)(?:いる|きている|きた|います)"),
        "の改善",
    ),
    (re.compile(r"(?:中くらい|中等度)の発作"), "中発作"),
    (re.compile(r"(?:小さい|小さな|軽い)発作"), "小発作"),
    (re.compile(r"(?:大きい|大きな|重い)発作"), "大発作"),
    (re.compile(r"([一-龥ァ-ヶー]+)は(軽度|中等度|高度|軽症|中等症|重症)"), r"\2\1"),  # 脱水は軽度 → 軽度脱水
]
# An allergy the doctor diagnoses (「アレルギー性の接触皮膚炎と考えられます」), not one the patient reports and the
# doctor repeats (「ペニシリンで蕁麻疹ですね」: the allergy line says it)
_JUDGING = r"と考えられ|と思い|でしょう|疑い|による"  # words of a doctor's judgement
_ALLERGY_DIAGNOSIS = re.compile(_JUDGING + r"|アレルギー性|花粉症|皮膚炎|薬疹")
_JUDGED = re.compile(_JUDGING + r"|可能性|かもしれ|のせい")
_JUDGED_OR_NAMED = re.compile(_JUDGED.pattern + r"|考えやす|診断|です(?:ね)?[。]?$")
_DIAGNOSIS_WORDS = re.compile(vocabulary.cues("diagnosis"))


_LEAD = re.compile(
    r"^(?:[.…‥・\s]+|(?:じゃあ|では|それでは|それと|それから|あと|まず|なので|ですので|はい|ええ|うん|そうですね|えっと|えーと|えー"
    r"|あのー|あの|あー|まあ|うーん)ー*(?![はがをにのもで])[、,]?\s*)+"
)


_ABOUT_AGO = re.compile(r"(?<![約\d])(\d+(?:〜\d+)?)(日|週間|か月|ヶ月|年|時間|分)(?:くらい|ぐらい|ほど)前")


def in_chart_words(text: str) -> str:
    """後ろ頭 → 後頭部, お昼 → 昼食 (data/lay_terms.tsv); for lines, never inside a quote of the words, nor inside
    the longer words its `kept_in` column names (生理 → 月経, but 生理食塩水 stays)."""
    for word, term, kept_in in _lay_words():
        if word not in text:
            continue
        if kept_in is None:
            text = text.replace(word, term)
        else:  # the pieces between the kept words (odd indices are the kept words themselves)
            pieces = kept_in.split(text)
            text = "".join(p if k % 2 else p.replace(word, term) for k, p in enumerate(pieces))
    return text


@functools.cache
def _lay_words() -> list[tuple[str, str, re.Pattern[str] | None]]:
    words = []
    for row in data.rows(vocabulary.PACKAGE, "lay_terms.tsv"):
        kept = [w for w in row["kept_in"].split("|") if w]
        kept_in = re.compile("(" + "|".join(map(re.escape, kept)) + ")") if kept else None
        words += [(word, row["term"], kept_in) for word in row["plain"].split("|")]
    return sorted(words, key=lambda w: -len(w[0]))


def chart_sentence(sentence: str) -> str:
    """A spoken sentence as a chart line: without its opening filler and the closing ね/よ of speech."""
    text = _LEAD.sub("", sentence.strip())
    text = re.sub(r"(?:ね|よ|よね)([。！!？?]?)$", r"\1", text)
    text = _ABOUT_AGO.sub(r"約\1\2前", text)
    return text if text.endswith(("。", "！", "？", "!", "?")) else text + "。"


# Lifestyle guidance as a chart names it, when the doctor advises less of the habit (「塩分は控えめにしましょう」).
_GUIDANCE = [
    ("減塩指導", re.compile(r"塩分|塩|しょっぱ")),
    ("節酒指導", re.compile(r"お酒|飲酒|アルコール|ビール")),
    ("禁煙指導", re.compile(r"タバコ|たばこ|煙草|喫煙|禁煙")),
    ("体重管理", re.compile(r"体重を(?:減ら|落と)|減量")),
]
_REVISIT = re.compile(r"(?:もう一度|また)(?:来て|診せて|見せて|受診して)ください")
_LIMIT_ADVICE = re.compile(vocabulary.cues("limit_advice"))


# Findings said in lay words (data/lay_findings.tsv: 「しこりがある」, 「天井がぐるぐる回って」) are clinical too;
# not its social rows (お酒, タバコ: the clinical cues say when a habit is clinical), diseases (「母が、60歳で乳がんに」
# would lose 「母が、」, a clause of its own) or timing rows.
_LAY_FINDINGS = re.compile(
    "|".join(
        re.escape(plain)
        for row in data.rows(vocabulary.PACKAGE, "lay_findings.tsv")
        if row["class"] in ("symptom", "finding")
        for plain in row["plain"].split("|")
    )
)


def is_clinical(text: str) -> bool:
    return bool(
        _CLINICAL.search(text)
        or _LAY_FINDINGS.search(text)
        or find_findings(text)
        or find_drugs(text)
        or find_diseases(text)
        or any(q.unit in _CLINICAL_UNITS for q in find_quantities(text))
    )


_WHEN_CLAUSE = re.compile(
    r"(?:\d+(?:〜\d+)?(?:日|週間|か月|ヶ月|年|時間)(?:ぐらい|くらい|ほど)?前|昨日|一昨日|今朝|昨夜|先週|先月|去年|今日)"
    r"(?:の(?:朝|夜|昼|夕方))?(?:に|から|より|は)?"
)


_BARE_VALUE = re.compile(
    r"\d+(?:\.\d+)?(?:〜\d+(?:\.\d+)?)?(?:くらい|ぐらい|程度|台)?(?:でした|です|だった|ぐらいでした|くらいでした)?"
)


def _without_small_talk(sentence: str, echo: set[str] = frozenset()) -> str:
    """The clauses of a patient's sentence that say something clinical (「正直、先週は妻が出張でいなくて、3日ぐらい
    飲ませ忘れました」 → 「3日ぐらい飲ませ忘れました」), or that hold one of the `echo` words (the verb of a finding
    the answer affirms: 「夜になると両方詰まって」); empty when none does."""
    clauses = [c for c in re.split(r"(?<=[、,])", sentence) if c.strip()]
    clinical = [is_clinical(c) or bool(echo and echo & {t.normalized_form for t in tokenize(c)}) for c in clauses]
    # a time clause (「3日前に、」) goes with the clinical clause it leads, a bare value or a count (「62でした」
    # 「今日だけで6回くらい」) with the one it follows
    kept = [
        c
        for k, c in enumerate(clauses)
        if clinical[k]
        or (_WHEN_CLAUSE.fullmatch(c.strip("、, ")) and any(clinical[k + 1 : k + 2]))
        or (
            k
            and clinical[k - 1]
            and (
                _BARE_VALUE.fullmatch(c.strip("、,。 "))
                or (len(c) <= 14 and any(q.unit in _COUNTS for q in find_quantities(c)))
            )
        )
    ]
    return "".join(kept).rstrip("、,") if any(clinical) else ""


_VERB_GOES_ON = set("てたでだ")  # after a finding's words, a verb still being said: its term would not fit there


def assessment_sentence(sentence: str) -> str:
    """「慢性の機能性便秘ですね。」 → 「慢性機能性便秘。」: the doctor's diagnosis without the words of speech."""
    text = chart_sentence(sentence)
    for f in find_findings(text):
        verb = text[f.span[1] : f.span[1] + 1] in _VERB_GOES_ON  # ふらついて: no 「ふらつきて」
        if not f.negated and f.surface != f.term and len(f.surface) >= 2 and not verb:
            text = text.replace(f.surface, f.term)  # むくみ → 浮腫
    for pattern, chart_words in _ASSESSMENT_WORDS:
        text = pattern.sub(chart_words, text)
    text = fold_modifiers(text)
    for d in reversed(find_diseases(text)):
        if suspected := _SUSPICION.match(text, d.span[1]):
            text = text[: d.span[1]] + "疑い" + text[suspected.end() :]
    text = _ASSESSMENT_END.sub(r"\1", text.rstrip("。")) + "。"
    return fold_modifiers(text)


def diagnosis_line(name: str, status: str, said: list[Said]) -> str:
    """A diagnosis the doctor named, as a chart line: its MEDIS name (骨粗鬆症 for 「骨粗しょう症」), with the word
    said beside it where that is another word (「更年期症候群（更年期障害）」), and 疑い where the doctor only
    suspects it (「肺炎疑い。」)."""
    spoken = [
        m.surface for s in said for m in find_diseases(fold_modifiers(s.text)) if m.value.name == name
    ]  # the words in `said` that name it
    word = spoken[0] if spoken else name
    # a word with a kanji or letter the name lacks is another word for it (風邪 for 感冒, COPD for 慢性閉塞性肺疾患);
    # hiragana for a kanji (しょう for 鬆) is not
    other = any(not "ぁ" <= ch <= "ゖ" and ch not in name for ch in word)
    return f"{name}{f'（{word}）' if other else ''}{'疑い' if status == 'suspected' else ''}。"


def _is_assessment(sentence: str) -> bool:
    """「良性発作性頭位めまい症が一番考えやすいです」: a diagnosis, not an examination finding."""
    return bool((find_diseases(sentence) or _DIAGNOSIS_WORDS.search(sentence)) and _JUDGED_OR_NAMED.search(sentence))


_HABITS = re.compile(vocabulary.cues("habit"))


def _topic(question: Said, answer: Said) -> str:
    """What a question is about, for an answer that does not say it: a habit, a disease, else a finding the answer
    does not deny (not 「発熱：家で測って36℃台でした」)."""
    asked = " ".join(x for x in sentences(question.text) if is_question(x))
    if habit := _HABITS.search(asked):
        return habit.group(0)
    if diseases := find_diseases(asked):
        return diseases[0].value.name
    denied = {f.term for f in answer.findings if f.negated}
    findings = [f.term for f in find_findings(asked) if f.term not in denied]
    return findings[0] if findings and not says_no(answer.text) else ""


def _answers_when(sentence: str, question: Said | None) -> bool:
    """「5年くらい前から毎年です」 to 「毎年この時期に症状が出ますか」: when, how long or how often, answering a
    question about something clinical."""
    return (
        question is not None
        and is_clinical(question.text)
        and not says_no(sentence)
        and bool(_AGO.search(sentence) or find_quantities(sentence) or _SOME.search(sentence))
    )


_AGO = re.compile(
    r"\d+(?:〜\d+)?(?:日|週間|か月|ヶ月|年|時間)(?:ぐらい|くらい|ほど)?前"
)  # not 今日, 昨日: small talk has them too
_SOME = re.compile(r"数(?:時間|日|週間|か月|年|分|回)|半日|子ども|子供|小さい頃|小さいころ|幼少|小学|中学|高校|学生")
_COUNTS = {"回", "日", "週間", "週", "か月", "年", "時間", "分", "杯", "本"}


def _answered_denial(sentence: str, question: Said | None) -> bool:
    """「ないです」 answering a question about symptoms: the denied-findings line says it."""
    return question is not None and bool(question.findings) and says_no(sentence) and not find_diseases(sentence)


def spoken_lines(
    said: list[Said], section: str, *, skip: set[int] = frozenset(), known_values: set[str] = frozenset()
) -> list[tuple[str, list[int]]]:
    """S: what the patient side tells beyond symptoms (history, habits, timing, course); O: the doctor's or nurse's
    examination and test results; A: the doctor's assessment; P: the doctor's instructions and procedures.
    Questions, small talk, allergy talk, and sentences that name a drug (a medication line says them; A keeps them:
    「フロモックスによる薬疹」) are left out, and so are utterances in `skip` (already a line) and measurements
    whose values are all in `known_values` (the vitals line)."""
    lines = []
    previous: Said | None = None
    for s in said:
        heard, previous = previous, s
        if s.staff != (section != "S") or s.id in skip:
            continue
        question = heard if heard is not None and heard.staff else None
        for sentence in sentences(s.text):
            if section == "O" and find_drugs(sentence):  # 「PT-INRは2.4で、ワーファリンの効き具合は予定どおりです」
                if orders_a_drug(sentence):
                    continue  # 「ムコダイン、500mgを1日3回…出しておきます」: the medication line says it
                sentence = "".join(c for c in re.split(r"(?<=[、,])", sentence) if not find_drugs(c)).rstrip("、,")
                if not sentence:
                    continue
            if (
                is_question(sentence)
                or (
                    is_allergy_sentence(sentence)
                    and not (section == "A" and _ALLERGY_DIAGNOSIS.search(sentence))
                    and not (section == "P" and _ADVICE_CUES.search(sentence))
                )
                or (
                    not is_clinical(sentence)
                    and section != "P"
                    and not (section == "S" and _answers_when(sentence, question))
                )
                or (find_drugs(sentence) and section != "A" and not (section == "P" and not orders_a_drug(sentence)))
            ):
                continue  # a doctor's instruction is clinical however it is worded (「バスマットは分けてください」)
            findings = find_findings(sentence)
            if section == "S":
                if (
                    (any(not f.negated for f in findings) and not _ABOUT_OTHERS.search(sentence))
                    or (findings and all(f.negated for f in findings))
                    or _answered_denial(sentence, question)
                ):
                    continue  # a symptom line or the denied-findings line says it
                clinical = _without_small_talk(sentence) or (sentence if _answers_when(sentence, question) else "")
                # an answer that does not say what it is about takes the question's topic, and cites the question:
                # 「コーヒー：1日5杯くらい飲んでます」 for 「1日5杯くらい飲んでます」 to 「コーヒーはよく飲みますか」
                topic = _topic(question, s) if clinical and _answers_when(sentence, question) else ""
                topic = topic if topic not in clinical and not _HABITS.search(clinical) else ""
                if len(clinical) >= _MIN_SPOKEN or (clinical and find_quantities(clinical) and len(clinical) > 6):
                    home_bp = (
                        question is not None and "血圧" in question.text + sentence and _HOME_READING.search(clinical)
                    )
                    lead = f"{topic}：" if topic else "家庭血圧：" if home_bp else ""
                    lines.append(
                        (lead + in_chart_words(chart_sentence(clinical)), [question.id, s.id] if topic else [s.id])
                    )
            elif section == "O":
                numbers = {q.value for q in find_quantities(sentence)}
                if (
                    _CONDITIONAL.search(sentence)
                    or _ADVICE_CUES.search(sentence)
                    or _NOT_A_FINDING.search(sentence)
                    or (_ASSESSMENT.search(sentence) and _DIAGNOSIS_WORDS.search(sentence) and not numbers)
                ):
                    continue  # advice, an announced examination, or an assessment (A keeps it)
                if _RESULT_CUES.search(sentence) or findings or (numbers and not numbers <= known_values):
                    lines.append(
                        (
                            _TESTS.sub(
                                lambda m: chart_test(m.group(0)),
                                in_chart_words(chart_sentence(sentence)),
                            ),
                            [s.id],
                        )
                    )  # レントゲンでは骨折はありません → X線では…
            elif section == "A":
                if (
                    _CONDITIONAL.search(sentence)
                    or _ADVICE_CUES.search(sentence)
                    or _FAMILY.search(sentence)  # a relative's illness is family history (S), not a diagnosis
                    or not _ASSESSMENT.search(sentence)
                ):
                    continue
                if (
                    find_diseases(sentence)
                    or _DIAGNOSIS_WORDS.search(sentence)
                    or (find_findings(sentence) and _JUDGED.search(sentence))
                ):
                    lines.append((assessment_sentence(sentence), [s.id]))
            elif _ADVICE_CUES.search(sentence) or _TESTS.search(sentence) and _ORDERS.search(sentence):
                topics = [term for term, topic in _GUIDANCE if topic.search(sentence)]
                lead = "、".join(topics) + "：" if topics and _LIMIT_ADVICE.search(sentence) else ""
                lines.append((lead + _REVISIT.sub("再診", in_chart_words(chart_sentence(sentence))), [s.id]))
    return lines if section == "A" else _per_utterance(lines)  # A: one diagnosis a line


def _per_utterance(lines: list[tuple[str, list[int]]]) -> list[tuple[str, list[int]]]:
    """The sentences kept from one utterance as one line (「食事を減らして、毎日1時間歩くようにしたんです。
    お昼を抜いちゃう日もあって。」), as a chart writes what was said in one breath."""
    joined: list[tuple[str, list[int]]] = []
    for text, ids in lines:
        if joined and joined[-1][1] == ids:
            joined[-1] = (joined[-1][0] + text, ids)
        else:
            joined.append((text, ids))
    return joined
