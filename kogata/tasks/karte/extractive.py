"""Lines for what no word list knows: each utterance the learned reader judges clinical becomes a short chart line
in the reader's section, made of the utterance's own words (extractive, so nothing is invented): questions and
acknowledgements out, fillers out, the closing ね/よ of speech out, lay words in chart words.

A short answer that does not say what it is about takes the question's subject: 「いや、特にないです」 to
「足のむくみは？」 → 「足のむくみなし。」, 「はい、あります」 → 「…あり。」. A denial stays a negative. A bare yes, no
or not-sure word (data/answers.tsv: 「はい」「うん」, 「ううん」「いや」, 「たぶん」「わからない」) to a clinical
question is read whatever the reader makes of it (it says nothing on its own): a confirmed restatement is charted in
the doctor's words citing both (「夜も咳で起きるんですね？」「はい」 → 「夜も咳で起きる。」), a denied one is left to
the negatives, an unsure one gives nothing.
Medication safety stays with the rules: a sentence naming a drug the rules give a status is left to their line, and
the medication list is never touched here.
"""

from __future__ import annotations

import re

from kogata.ja import find_findings
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import is_question, says_no, sentences
from kogata.ja.tokenizer import tokenize
from kogata.tasks.grounded import Item
from kogata.tasks.karte import lines as in_words
from kogata.tasks.karte import vocabulary
from kogata.tasks.karte.reader import Reading
from kogata.verify import Said, clean

CLINICAL = 0.7  # the reader's probability above which an utterance is clinical (dev: 0.5, 0.7, 0.85 tried)
# ... and above which a line that names nothing (no clinical cue, finding, drug, disease, test or number) is kept:
# the largest of 0.75-0.995 that lost no key fact on any train writer read by a reader trained on the other two
# (leave one writer out; 0.85 lost one of writer a's); confirmed on dev (README, chart section)
BARE = 0.8
_SHORT_ANSWER = 15  # characters: an answer this short says little without its question
_MIN_LINE = 5  # characters of content: shorter is an acknowledgement (「はい。」「そうですか。」)

# Fillers inside a sentence (the opening ones go by lines.chart_sentence), pauses and stammers.
_FILLERS = re.compile(
    r"(?:えっと|えーと|えーっと|えー|あのー|あの|あー|うーん|んー|まあ|なんか|その)ー*[、,]\s*|[…‥]+|\.{2,}"
)
_ACKNOWLEDGE = re.compile(
    r"^(?:はい|ええ|うん|いいえ|いや|そうですか|そうですね|なるほど|わかりました|分かりました|お願いします|よろしくお願いします"
    r"|ありがとうございます|ありがとうございました|大丈夫です|了解です|はーい)[、。!！ー]*$"
)
# The asking words at the end of a question, so that what is left names its subject (「足のむくみは？」 → 足のむくみ).
_ASKING = re.compile(
    r"(?:とか|なんか|など|って)?(?:は|が|も)?(?:どう|いかが)?(?:ありますか|ありませんか|ないですか|出ますか|出ていますか"
    r"|されますか|しますか|でしょうか|ですか|か)?(?:ね)?[?？。]*$"
)
# Everyday talk: events, pastimes, places, things (data/small_talk.tsv, from the train writers' small-talk lists only;
# not people, animals, food, sport, travel, work or weather, which a history can need)
SMALL_TALK = re.compile(vocabulary.alternation("small_talk.tsv", "word"))
_STATUS = re.compile(vocabulary.alternation("statuses.tsv", "cue"))  # stopped, changed, refused … (statuses.tsv)
_YES = re.compile(r"^(?:はい|ええ|うん|あります|ありました|時々|たまに|少し|ちょっと)")


def _sentence(text: str) -> str:
    """One spoken sentence as chart words, or "" when nothing is left but an acknowledgement."""
    text = _FILLERS.sub("", text).strip()
    if not text or is_question(text) or _ACKNOWLEDGE.match(text):
        return ""
    line = in_words.in_chart_words(in_words.chart_sentence(text))
    return line if len(clean(line).strip("。、 ")) >= _MIN_LINE else ""


def _subject(question: str) -> str:
    """「頭痛とか、めまい、ふらつきはどうですか。」 → 「頭痛とか、めまい、ふらつき」: what a question asks about."""
    asked = [s for s in sentences(question) if is_question(s)]
    if not asked:
        return ""
    subject = _ASKING.sub("", _FILLERS.sub("", asked[-1]).strip())
    subject = in_words.chart_sentence(subject).rstrip("。")
    return subject if 2 <= len(subject) <= 30 else ""


def _answer_line(question: Said, answer: Said, reading: Reading) -> str:
    """A short answer with its question's subject: 「足のむくみなし。」, 「夜間の咳あり。」; a confirmed restatement
    in the doctor's words: 「夜も咳で起きるんですね？」「はい」 → 「夜も咳で起きる。」, 「お酒は毎日ですか」「まあ、
    晩酌ぐらいは」 → 「お酒は毎日。」; "" when it is neither, or when the answer is unsure (「たぶん」「わからない」:
    neither there nor absent; data/answers.tsv)."""
    subject = _subject(question.text)
    said = vocabulary.answer(answer.text)
    if not subject or said == "unsure":
        return ""
    if said == "no" or reading.assertion == "denied" or says_no(answer.text):
        # 「タバコは吸いますか」「いや」: not chart words as a line; the negatives say it (喫煙なし)
        return f"{subject}なし。" if _ends_in_noun(subject) else ""
    if said == "yes" or (reading.assertion == "affirmed" and _YES.match(answer.text.strip())):
        named = _ends_in_noun(subject) and not re.search(r"[はも]", subject)  # not 「お酒は毎日」: a statement
        return f"{subject}あり。" if named else in_words.in_chart_words(f"{_STATED.sub('', subject)}。")
    return ""


# how a restatement asks to be confirmed (「起きるんですね？」 → 起きる): off the end of what is stated
_STATED = re.compile(r"(?:ん|の)?(?:です|でしょう|だ)?(?:ね|よね)?$")


# what a question is about, before its topic particle (「眼科は最後にいつ行かれました」 → 眼科); not a pointing word
_TOPIC = re.compile(r"([^、,。？?\s]{1,14}?)(?:って|は|の方は|のほうは)[^、,は]*$")
_POINTING = re.compile(
    r"^(?:それ|これ|あれ|そこ|ここ|今日|今|最近|前回|ほか|他|何|どこ|いつ|[ぁ-ん]$)|こういう|そういう|ああいう"
)


def _topic(question: str) -> str:
    """The subject a question names before は or って (「お酒はどのくらい？」 → お酒, 「ご家族で肝臓の病気の方は？」 →
    ご家族で肝臓の病気), in chart words; "" when it names none."""
    asked = [x for x in sentences(question) if is_question(x)] or sentences(question)[-1:]
    m = (
        _TOPIC.search(re.sub(r"^(?:じゃあ|では|で|それで|あと)[、,]?", "", _FILLERS.sub("", asked[-1]).strip()))
        if asked
        else None
    )
    if not m or _POINTING.search(m.group(1)):
        return ""
    return in_words.in_chart_words(m.group(1))


def _needs_its_question(answer: str) -> bool:
    """An answer that does not say what it is about: short (「10年前に1回あるよ」), or longer but naming no finding,
    drug or disease of its own (「たぶんしとると思いますけど、はっきりはわからんです」)."""
    if len(answer) <= _SHORT_ANSWER:
        return True
    text = clean(answer)
    return len(answer) <= 2 * _SHORT_ANSWER and not (find_findings(text) or find_drugs(text) or find_diseases(text))


def _ends_in_noun(subject: str) -> bool:
    """「足のむくみ」「ワクチンは打ったこと」, not 「タバコは吸います」 (no 「…吸いますなし」)."""
    tokens = [t for t in tokenize(subject) if t.pos[0] not in ("補助記号", "空白")]
    return bool(tokens) and tokens[-1].pos[0] == "名詞"


def _confirms(question: Said | None, answer: Said) -> bool:
    """A patient-side answer of a yes, no or not-sure word (data/answers.tsv) and little more, to a doctor's question
    the rules read as clinical (「夜も咳で起きるんですね？」「はい」, 「熱は三十八度くらい？」「うん」)."""
    return (
        question is not None
        and not answer.staff
        and len(answer.text) <= _SHORT_ANSWER
        and bool(vocabulary.answer(answer.text))
        and (in_words.is_clinical(question.text) or bool(re.search(r"\d|[一二三四五六七八九十]", question.text)))
    )


def _without_small_talk(line: str) -> str:
    """A line without its clauses of everyday talk (data/small_talk.tsv: 運動会, テレビ, 駐車場 … from the train
    writers' small-talk lists) that say nothing clinical: 「テレビで紅白見てて、妻がリモコン落として、話しかけても、
    うまく返事ができなくて。」 → 「話しかけても、うまく返事ができなくて。」; "" when too little is left. The reader
    judges a whole utterance, so one clinical clause carried the chat beside it into the chart."""
    clauses = [c for c in re.split(r"(?<=[、,])", line) if c.strip()]
    kept = [c for c in clauses if not (SMALL_TALK.search(c) and not _says_something(clean(c)))]
    if len(kept) == len(clauses):
        return line
    text = "".join(kept).rstrip("、,")
    text = text if text.endswith("。") else text + "。"
    return text if len(clean(text).strip("。、 ")) >= _MIN_LINE else ""


def _says_something(clause: str) -> bool:
    """A clinical cue, a finding, drug, disease or a number (「2時間くらい」) beside the everyday words: not chat,
    whatever else it names (運動会 is no 運動, the exercise cue)."""
    rest = SMALL_TALK.sub("", clause)
    return in_words.is_clinical(rest) or bool(re.search(r"\d", rest))


def _names_anything(text: str) -> bool:
    """What keeps a line the reader was less sure of (BARE): a clinical cue, finding, drug, disease or number, a
    test, or a drug status said of something no drug list names (「魚の油のサプリ、…やめちゃったんです」)."""
    return _says_something(text) or in_words.names_a_test(text) or bool(_STATUS.search(text))


def candidates(said: list[Said]) -> set[int]:
    """The utterances that can give a line: not those that only ask (the reader need not read them: embedding is
    most of its time)."""
    return {s.id for s in said if not all(is_question(x) for x in sentences(s.text) or [s.text])}


def lines(said: list[Said], readings: list[Reading], medicines: set[str]) -> list[tuple[str, Item]]:
    """(section, line) for every utterance the reader judges clinical. A and P lines come only from the staff side
    (a plan is the doctor's); sentences naming a drug in `medicines` are left out (the rules' medication line
    says it, with its status)."""
    found: list[tuple[str, Item]] = []
    by_id = {r.id: r for r in readings}
    for k, s in enumerate(said):
        r = by_id.get(s.id)
        question = said[k - 1] if k and said[k - 1].staff and is_question(said[k - 1].text) else None
        if _confirms(question, s):
            # 「はい」「うん」 alone say nothing the reader can judge: the doctor's question holds the fact (a reply
            # that ends like a question, 「まあ、晩酌ぐらいは。」, is not read at all: candidates())
            reading = r or Reading(id=s.id, section="S", assertion="-", about="-", clinical=0.0)
            if text := _answer_line(question, s, reading):  # type: ignore[arg-type]
                found.append(("S", Item(text, [question.id, s.id])))  # type: ignore[union-attr]
            continue
        if r is None or r.section == "-" or r.clinical < CLINICAL:
            continue
        if r.section in ("A", "P") and not s.staff:
            continue
        if question is not None and not s.staff and len(s.text) <= _SHORT_ANSWER:
            if text := _answer_line(question, s, r):
                found.append((r.section, Item(text, [question.id, s.id])))
                continue
        kept = [
            line
            for sentence in sentences(s.text)
            if not {m.value.generic for m in find_drugs(clean(sentence))} & medicines
            for line in [_without_small_talk(_sentence(sentence))]
            if line
        ]
        if not kept:
            continue
        text = "".join(kept)
        if r.clinical < BARE and not _names_anything(clean(text)):
            continue  # 「それはよかった。」: a reader's near call that names nothing
        if question is not None and not s.staff and _needs_its_question(s.text):
            if (topic := _topic(question.text)) and topic not in text:
                text = f"{topic}：{text}"  # 「眼科は最後にいつ？」「2年ぐらい行ってない」 → 眼科：2年ぐらい行ってない。
                evidence = [question.id, s.id]
                found.append((r.section, Item(text, evidence)))
                continue
        if r.assertion == "family" and "家族" not in text:
            text = "家族歴：" + text
        found.append((r.section, Item(text, [s.id])))
    return found
