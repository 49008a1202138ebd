"""Chart terms for findings said in lay words: a line kept in the speaker's words (「天井がぐるぐる回って」, 「しこりが
あるんです」) also carries the term a chart writes (回転性めまい, 腫瘤), as a label before the words:
「回転性めまい：天井がぐるぐる回って。」. The words stay, so the line still reads as what was said and cites the same
utterance; the verifier knows the terms (data/lay_findings.tsv is in karte's vocabulary), so it does not flag them.

- The lay expressions are a clinician's table, data/lay_findings.tsv (term, the words said for it); the symptom
  lexicon's own lay words (ドキドキ → 動悸) count too, where `lexicon` asks for them.
- Negation is read per clause (kogata.tasks.karte.negatives): 「ドキドキはしないです」 adds nothing (the negatives say
  動悸なし), nor does advice on a condition (「ドキドキしたら来てください」). The denial may be part of the
  expression itself (「何も口にしない」 → 経口摂取不良): only a denial outside the words counts.
- A reworded line is kept only where the verifier accepts it as it accepted the line (`reword`).
"""

from __future__ import annotations

import functools
import re

from kogata.ja import find_findings
from kogata.tasks.data import rows
from kogata.tasks.grounded import Item
from kogata.tasks.karte.negatives import clauses, cue_pattern, occurrences, polarity
from kogata.tasks.karte.vocabulary import PACKAGE, cues
from kogata.verify import EvidenceIndex, clean

TABLE = "lay_findings.tsv"
SECTIONS = ("S", "O", "A")  # not P: a plan names symptoms without saying the patient has them
# the symptom lexicon's lay words too (kogata.ja.findings: ドキドキ → 動悸), not only the table's, in S lines (dev,
# rules only: recall 0.650 with the table alone, 0.652 with the lexicon too; README, chart section)
LEXICON = True

# A condition with advice (「ドキドキしたら来てください」) says nothing about the patient now. Not data/cues.tsv's
# conditional, which holds 「ように」 (「しみるように痛くて」 is a symptom).
_IF = re.compile(r"たら|れば|場合|時は|ときは|なら")
_ADVICE = re.compile(r"ください|ましょう|して下さい")
# A judgement that rules the finding out (「頭のけがの可能性は低そうです」) or a side effect that may come
_UNLIKELY = re.compile(r"可能性は(?:低|少な|な)|考えにく|否定的")
# What staff explain rather than find (「鉄剤は、吐き気が出やすいんです」「2、3kg減らすだけでも」): no term in O or A
# and data/cues.tsv's explaining (「便が黒くなりますが」)
_EXPLAINING = re.compile(r"やすい|ことが多い|ことがあ|だけでも|副作用|ように|" + cues("explaining"))
# Someone else's words (「友達がそういう薬で筋肉が痛くなったって」): the lexicon's findings there are not the
# patient's; the table's rows stay (「母が乳がんに」 is family history, 乳癌)
_DENIAL = cue_pattern("denial")  # data/negative_cues.tsv
_OWN_GAP = 2  # characters between a lack's words and the denial that is theirs (濡れ|て|ない)
_OTHERS = re.compile(r"(?:友達|友人|同僚|知り合い|近所の人|隣の人)[がもは]")


@functools.cache
def forms() -> tuple[tuple[str, str], ...]:
    """(the words said, the chart term) of data/lay_findings.tsv, longest words first."""
    pairs = [(plain, row["term"]) for row in rows(PACKAGE, TABLE) for plain in row["plain"].split("|")]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@functools.cache
def _lacks() -> frozenset[str]:
    """The words that say that something is missing (「おむつが濡れない」 → 尿量減少: the table's `lack`). Per row,
    not per term: 「食欲がな」 says a lack, 「食欲が落ち」 does not, and a denial after it (「食欲は落ちてない」)
    is a denial."""
    return frozenset(plain for row in rows(PACKAGE, TABLE) if row["lack"] == "yes" for plain in row["plain"].split("|"))


def _said(text: str, *, lexicon: bool) -> list[tuple[int, int, str]]:
    """(start, end, term) of each lay expression in `text`, the table's first, none inside another's words."""
    found: list[tuple[int, int, str]] = []

    def add(start: int, end: int, term: str) -> None:
        if not any(start < e and s < end for s, e, _ in found):
            found.append((start, end, term))

    for plain, term in forms():
        for at in occurrences(plain, text):
            add(at, at + len(plain), term)
    if lexicon and not _OTHERS.search(text):
        for f in find_findings(text):
            if not f.negated and f.surface != f.term:
                add(*f.span, f.term)
    return sorted(found)


def _denied(clause: str, start: int, end: int, *, lack: bool = False) -> bool:
    """Whether a clause denies the words at start:end, or says them only as a condition of advice. Where the words
    say a lack (`lack`), a denial right after them is theirs (「おむつがあまり濡れてない」), not one after a
    topic particle (「寝付きが悪いことはない」)."""
    rest = clause[:start] + "〇" + clause[end:]  # a denial inside the words (何も口にしない) is the words'
    own = _DENIAL.search(rest, start + 1) if lack else None
    if (
        own is not None
        and own.start() - (start + 1) <= _OWN_GAP
        and not re.search("[はも]", rest[start + 1 : own.start()])
    ):
        rest = rest[: own.start()] + "〇" + rest[own.end() :]
    return (
        polarity(rest) == "no" or bool(_IF.search(clause) and _ADVICE.search(clause)) or bool(_UNLIKELY.search(clause))
    )


def terms(text: str, *, lexicon: bool = LEXICON, staff: bool = False) -> list[str]:
    """The chart terms for what `text` says in lay words and does not deny, in order, each once; for a `staff` line
    (O, A), none in a clause that explains (_EXPLAINING)."""
    found: list[str] = []
    for clause in clauses(text):
        if staff and _EXPLAINING.search(clause):
            continue
        for start, end, term in _said(clause, lexicon=lexicon):
            if not _denied(clause, start, end, lack=clause[start:end] in _lacks()) and term not in found:
                found.append(term)
    return found


def worded(text: str, *, lexicon: bool = LEXICON, staff: bool = False) -> str:
    """`text` with the chart terms it lacks before it: 「天井がぐるぐる回って。」 →
    「回転性めまい：天井がぐるぐる回って。」; unchanged where it says none or has them all."""
    have = clean(text)
    new = [t for t in terms(have, lexicon=lexicon, staff=staff) if t not in have]
    new = [t for t in new if not any(t != u and t in u for u in new)]  # 掻破 inside 掻破痕
    if not new:
        return text
    # a symptom line's general term gives way to the precise one: 「めまいあり（「天井が…」）」 → 回転性めまいあり
    head, quote = (text.split("（「", 1) + [""])[:2]
    for term in list(new):
        general = [f.term for f in find_findings(head) if f.term != term and term.endswith(f.term)]
        for g in general:
            precise = re.sub(f"(^|、|より|の)({re.escape(g)})(?=、|あり)", rf"\g<1>{term}", head, count=1)
            if precise != head:
                head = precise
                new.remove(term)
                break
    text = head + ("（「" + quote if quote else "")
    # a topic said in lay words (「タバコ：1日20本」) is the term's: 「喫煙：1日20本」
    label = re.match(r"([^：、。（]{1,8})：", text)
    if label and new and any(plain == label.group(1) for plain, term in forms() if term in new):
        return f"{'、'.join(new)}：{text[label.end() :]}"
    if label and new:  # 「転倒：足が前に出なくなって」 → 「転倒、すくみ足：…」
        return f"{label.group(1)}、{'、'.join(new)}：{text[label.end() :]}"
    return f"{'、'.join(new)}：{text}" if new else text


def reword(index: EvidenceIndex, soap: dict[str, list[Item]], *, lexicon: bool = LEXICON) -> None:
    """Puts the chart terms into the S, O and A lines of `soap` that say findings in lay words (worded), each line
    only where the verifier accepts the new wording against the same evidence as it did the old."""
    for section in SECTIONS:
        for item in soap[section]:
            # the lexicon's words only in the patient's story: in the staff's lines it misreads explanations and
            # homographs (「結果で、いらしたん」 → 喀痰), and the examination lines have its terms already
            staff = section != "S"
            text = worded(item.text, lexicon=lexicon and not staff, staff=staff)
            if text != item.text and not index.check(text, item.evidence):
                item.text = text
