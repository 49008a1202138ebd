"""Denied findings: what the patient side or the examination says is absent, each as a chart line that cites the
words it came from (「頭痛とか、めまい、ふらつきはどうですか」「いや、特にないです」 →
頭痛なし、めまいなし、ふらつきなし).

- A question that lists findings is split into its items (とか, たり, や, 、: data/negative_cues.tsv, separator). A
  denial with nothing named (「ないです」「それは大丈夫です」) answers every item the answer does not affirm; a
  clause that names items answers only those (「咳とか吐いたりはないです」, 「熱はないけど咳は出ます」); 「かゆい
  だけです」 denies every item it does not name.
- Each item becomes its chart term through data/negative_terms.tsv (a clinician's table: 吐いたり → 嘔吐, 足のしびれ
  → 下肢しびれ), else the symptom lexicon (kogata.ja.findings), else a disease name. With none, the item's own words
  stay (「光がまぶしい感じなし」): a denial the doctor asked about is not lost for want of a term.
- A negative the doctor states (「骨折はありませんでした」「雑音はないですね」) is the examination's (O); one the
  patient side states unasked (「痛風になったことはないです」) is their story (S). A statement gives a line only for a
  known term; the item's own words are kept only where a question named them.
- Negation is read per clause: in 「糖尿病で…飲んでいます。薬のアレルギーはありません。」 only the allergy is denied,
  and advice or a condition (「濡らさないでください」「熱が下がらなければ」) denies nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from kogata.ja import find_findings
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import is_question, sentences
from kogata.ja.tokenizer import tokenize
from kogata.tasks.data import rows
from kogata.tasks.karte.facts import allergens
from kogata.tasks.karte.lines import is_clinical
from kogata.tasks.karte.vocabulary import PACKAGE
from kogata.verify import EvidenceIndex, Said


@dataclass(frozen=True)
class Negative:
    """One denied finding: its chart term (or the asked words, `known` False), the utterances that say so (the
    question and the answer, or the statement), and its section (S: the patient side's; O: the examination's)."""

    finding: str
    evidence: tuple[int, ...]
    section: str
    known: bool = True


@functools.cache
def _cue(kind: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{r['cue']})" for r in rows(PACKAGE, "negative_cues.tsv") if r["kind"] == kind))


def cue_pattern(kind: str) -> re.Pattern[str]:
    """The cues of one kind in data/negative_cues.tsv (denial, gap, separator …) as one pattern."""
    return _cue(kind)


def cue_found(kind: str, text: str) -> str:
    """What the cues of one kind in data/negative_cues.tsv find in `text` (the first match), or "": for
    `separator` the items they split it into (joined by |), for `generic` the first general word (normalized)."""
    if kind == "separator":
        return "|".join(split_items(text))
    if kind == "generic":
        return next((t.normalized_form for t in tokenize(text) if t.normalized_form in _generic()), "")
    m = _cue(kind).search(text)
    return m.group(0) if m else ""


@functools.cache
def _lay_forms() -> tuple[tuple[str, str], ...]:
    """(the words said, the chart term) of data/negative_terms.tsv, then of data/lay_findings.tsv (「しこりはない」
    → 腫瘤), longest words first; of the latter only findings, not lacks (「ほとんど食べてない」 is 経口摂取不良
    there, not denied), diseases (「乳がんとか」 asked of the family is history), habits (「お酒、特にビールは、
    しばらくやめてください」 is advice) or timing (生理の前)."""
    pairs = [(plain, r["term"]) for r in rows(PACKAGE, "negative_terms.tsv") for plain in r["plain"].split("|")]
    pairs += [
        (plain, r["term"])
        for r in rows(PACKAGE, "lay_findings.tsv")
        if r["class"] in ("symptom", "finding") and r["lack"] != "yes"
        for plain in r["plain"].split("|")
    ]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def terms(text: str) -> list[tuple[int, str]]:
    """The chart terms `text` names, each with where it starts, in order: the table's lay words first
    (足のしびれ → 下肢しびれ, not しびれ), then the symptom lexicon's findings, then disease names, none inside
    another's words."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str]] = []

    def add(start: int, end: int, term: str) -> None:
        if not any(start < e and s < end for s, e in taken):
            taken.append((start, end))
            found.append((start, term))

    for plain, term in _lay_forms():
        at = text.find(plain)
        while at >= 0:
            add(at, at + len(plain), term)
            at = text.find(plain, at + 1)
    for f in find_findings(text):
        add(*f.span, f.term)
    for m in find_diseases(text):
        add(*m.span, m.value.name)
    return sorted(set(found))


def chart_term(text: str) -> str:
    """The first chart term `text` names (terms()), or ""."""
    found = terms(text)
    return found[0][1] if found else ""


def _terms(text: str) -> list[tuple[int, str]]:
    """terms() without the words that name no finding (健康診断: data/negative_cues.tsv, not_a_term)."""
    return [(at, t) for at, t in terms(text) if not _cue("not_a_term").search(t)]


# words too general to tell one asked item from another (それ, ある, する …), by Sudachi's normalized form
@functools.cache
def _generic() -> frozenset[str]:
    return frozenset(r["cue"] for r in rows(PACKAGE, "negative_cues.tsv") if r["kind"] == "generic")


def _keys(text: str, *, nouns: bool = True) -> set[str]:
    """What an item or an answer's clause is about: its chart terms and its content words (normalized); the nouns
    only where `nouns` (an item said with a predicate is told apart by it: 「自分の声が響く感じ」 is not named by
    「耳がかゆいだけ」 for sharing a body part)."""
    kinds = ("名詞", "動詞", "形容詞", "形状詞") if nouns else ("動詞", "形容詞", "形状詞")
    words = {t.normalized_form for t in tokenize(text) if t.pos[0] in kinds and t.pos[1] not in ("数詞", "非自立可能")}
    return {term for _, term in terms(text)} | (words - _generic())


def _item_keys(item: str) -> set[str]:
    """An asked item's keys (_keys): without its nouns where it has a predicate of its own to be named by."""
    predicates = _keys(item, nouns=False)
    return predicates if predicates - {t for _, t in terms(item)} else _keys(item)


def occurrences(word: str, text: str) -> list[int]:
    """Where `word` starts in `text`, non-overlapping (str.find: a compiled pattern per table word overflows re's
    cache once the tables hold a few hundred words)."""
    found, at = [], text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + len(word))
    return found


def split_items(sentence: str) -> list[str]:
    """A question's items as said (「頭痛とか、めまい、ふらつきはどうですか。」 → 頭痛とか | めまい、 |
    ふらつきはどうですか。), split where a separator cue falls outside any finding's words (冷や汗 stays whole)."""
    sentence = _cue("lead").sub("", sentence.strip(), count=1)
    inside = [f.span for f in find_findings(sentence)] + [
        (at, at + len(plain)) for plain, _ in _lay_forms() for at in occurrences(plain, sentence)
    ]
    cuts = [0]
    for m in _cue("separator").finditer(sentence):
        at = m.end()
        if 0 < at < len(sentence) and not any(s < at < e for s, e in inside) and at != cuts[-1]:
            cuts.append(at)
    pieces = [sentence[a:b] for a, b in zip(cuts, [*cuts[1:], len(sentence)], strict=False)]
    return [p for p in pieces if p.strip(" 、,。？?")]


def _item_words(piece: str) -> str:
    """An item without how it was asked (「痛いってことは？」 → 痛い, 「吐いたりは？」 → 吐いたり)."""
    text = _cue("asking").sub("", piece.strip(" 、,")).strip(" 、,")
    return re.sub(r"(?:とか|や)(?:は|も)?$", "", text)


def asked_items(question: Said) -> list[str]:
    """The findings a doctor's question asks about, one item each; none for a question that asks what, when or how
    (「何分くらいで？」) or that does not end as a question."""
    items: list[str] = []
    parts = sentences(question.text)
    for k, sentence in enumerate(parts):
        # 「ぶつけたとか、重いものを持ったとか。」 lists too, when the utterance asks
        listing = sentence.rstrip("。").endswith(("とか", "たり")) and any(is_question(p) for p in parts[k + 1 :])
        if not (is_question(sentence) or listing):
            continue
        if _cue("wh").search(_cue("asking").sub("", sentence)) or _cue("not_asking").search(sentence):
            continue
        items += _shared_heads([w for w in (_item_words(p) for p in split_items(sentence)) if w])
    return items


_HEAD = re.compile(r"の(?:痛み|腫れ|しびれ|かゆみ|むくみ|出血|傷|赤み|こわばり)$")
_SHARED = re.compile(r"([一-龥ぁ-んァ-ヴー]{1,4})や([一-龥ぁ-んァ-ヴー]{1,4})(" + _HEAD.pattern[:-1] + ")")


def _spread(text: str) -> str:
    """「唇やのどの腫れはありません」 → 唇の腫れやのどの腫れは…: each part with the finding it shares."""
    return _SHARED.sub(r"\1\3や\2\3", text)


def _shared_heads(items: list[str]) -> list[str]:
    """「首や肩の痛み」 → 首の痛み, 肩の痛み: a bare body part before an item that ends in 「の痛み」 shares it."""
    out = list(items)
    for k in range(len(out) - 2, -1, -1):
        head = _HEAD.search(out[k + 1])
        if head and all(t.pos[0] == "名詞" for t in tokenize(out[k])) and len(out[k]) <= 4:
            out[k] += head.group(0)
    return out


_CLAUSE_END = re.compile(
    r"(?<=[。！？!?])|(?<=けど)、?|(?<=けれど)、?|(?<=ですが)、?|(?<=ますが)、?|(?<=[てし]、)|(?<=^いや、)|(?<=^いえ、)|(?<=^ええ、)|(?<=^はい、)"
)


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_END.split(text) if c and c.strip(" 、,。")]


def clauses(text: str) -> list[str]:
    """`text` cut where a denial's reach ends (a sentence, 「けど」「ですが」, a て-form's comma): what polarity()
    reads."""
    return _clauses(text)


def polarity(clause: str) -> str:
    """How a clause answers: "no" (a denial), "only" (「かゆいだけです」), "yes", or "" (it says neither)."""
    if _cue("only").search(clause):
        return "only"
    findings = find_findings(clause)
    if _cue("not_denial").search(clause):
        return "yes" if findings else ""  # 「咳が止まらない」: there
    if _cue("affirm_end").search(clause):
        return "yes"  # 「ちょっと…3日出ないことがありました」
    no = _cue("denial").search(clause)
    if no and not any(not f.negated and f.span[0] <= no.start() < f.span[1] for f in findings):
        return "no"  # a denial the lexicon may not read (「熱はねえ」), but not one inside a finding (食欲がない)
    return "yes" if findings or _cue("affirm").search(clause) else ""


def _there(clause: str) -> set[str]:
    """The findings a clause says are there: the lexicon's, less those a denial it does not read follows
    (「痛ない」「熱はねえ」: data/negative_cues.tsv, gap)."""
    denials = list(_cue("denial").finditer(clause))
    return {
        f.term
        for f in find_findings(clause)
        if not f.negated
        and not any(d.start() >= f.span[1] and _cue("gap").search(clause[f.span[1] : d.start()]) for d in denials)
    }


def answered(items: list[str], answer: str) -> list[int]:
    """The indices of the `items` that `answer` denies (module docstring)."""
    keys = [_item_keys(item) for item in items]
    denied: set[int] = set()
    affirmed: set[int] = set()
    for_all = False  # a denial that names none of the items
    vague_yes = False  # 「ちょっとあります」: something asked is there, which is not said
    named: set[int] = set()
    item_terms = [{t for _, t in terms(item)} for item in items]
    for clause in _clauses(answer):
        named |= {i for i, k in enumerate(keys) if k & _keys(clause)}
        # a finding said as there in the clause is there, whatever else it denies (「咳は…痰の出ない乾いた咳が」)
        there = _there(clause)
        affirmed |= {i for i, t in enumerate(item_terms) if any(x in y for x in t for y in there)}  # 咳嗽 in 乾性咳嗽
        way = polarity(clause)
        if not way:  # 「目やには、」 names what the next clause answers, within its sentence
            if clause.rstrip().endswith(("。", "？", "?", "！", "!")):
                named = set()
            continue
        if way == "no":
            denied |= named
            for_all = for_all or not named
        elif way == "only":
            affirmed |= named
            for_all = True
        else:
            affirmed |= named
            # 「坂道はまだきついけど」 is about what was asked; 「ただ、目がかゆいんです」 names another matter
            vague_yes = vague_yes or not (named or there)
        named = set()
    if for_all and not vague_yes:
        denied |= set(range(len(items))) - affirmed
    return sorted(denied - affirmed)


def _lay_line(words: str) -> str:
    """The asked words as a line's item: 「光がまぶしい」 → 光がまぶしい感じ,
    「頭を打ったり」 → 頭を打ったりすること."""
    tokens = tokenize(words)
    last = tokens[-1] if tokens else None
    if last is None or last.pos[0] == "名詞":
        return words
    if last.surface == "たり":
        return words + "すること"
    return words + ("感じ" if last.pos[0] in ("形容詞", "形状詞") else "こと")


def _stated(s: Said) -> list[str]:
    """The chart terms a statement denies, clause by clause (「骨折はありませんでした」 → 骨折): a term just before
    the denial in its own clause (not 「風邪のウイルスには抗生物質は効かない」), and no advice or condition there."""
    found: list[str] = []
    for sentence in sentences(s.text):
        if is_question(sentence):
            continue
        for clause in _clauses(_spread(sentence)):
            if polarity(clause) != "no":
                continue
            denials = list(_cue("denial").finditer(clause))
            # a finding whose own words hold the denial (食欲がない, 眠れない) is there
            present = {
                f.term
                for f in find_findings(clause)
                if not f.negated and any(f.span[0] <= no.start() < f.span[1] for no in denials)
            }
            listed_to = -1  # where the next term denied starts: 「筋肉のこわばりや、動作の遅さはありません」 is a list
            for at, term in reversed(_terms(clause)):
                end = at + len(_said_as(clause, at))
                # the denial after the term's first character (「首も柔らか」 holds its own)
                no = next((d for d in denials if d.start() > at), None)
                if no is None or term in present:
                    continue
                gap = clause[end : no.start()] if end < no.start() else ""
                if _cue("gap").search(gap) or (
                    listed_to > end and re.fullmatch(r"[やとか、,\s]*", clause[end:listed_to])
                ):
                    found.insert(0, term)
                    listed_to = at
    return found


def _said_as(text: str, at: int) -> str:
    """The words at `at` that named a term: the longest lay form, finding or disease starting there."""
    spans = [len(p) for p, _ in _lay_forms() if text.startswith(p, at)]
    spans += [f.span[1] - f.span[0] for f in find_findings(text) if f.span[0] == at]
    spans += [m.span[1] - m.span[0] for m in find_diseases(text) if m.span[0] == at]
    return text[at : at + max(spans, default=0)]


def _keeps_words(item: str, question: str = "", *, listed: bool = False) -> bool:
    """Whether an asked item's own words make a negative line when no term is known: a finding said with a
    predicate (「光がまぶしい」) or ending in a symptom noun (「性交の時の痛み」), not an action (「お薬は飲んで
    ますか」) or a bare topic (「寝付き」「涙」)."""
    if _cue("action").search(item) or _cue("wh").search(item) or _cue("vague").search(item) or find_drugs(item):
        return False
    last = [t for t in tokenize(re.sub(r"たり$", "", item)) if t.pos[0] not in ("補助記号", "空白")][-1:]
    predicate = bool(last) and last[0].pos[0] in ("動詞", "形容詞", "形状詞", "助動詞")
    if re.search(f"(?:{_cue('symptom_noun').pattern})$", item):
        return is_clinical(item) or is_clinical(question)
    if listed and bool(last) and last[0].pos[0] == "名詞" and _cue("exists").search(question):
        return True  # 「左右差とか、…とかは、なかったです？」「なかったです」: 左右差なし, where no list knows 左右差
    # 「血が混じってたり」 asked in a visit about diarrhoea: the question around it, or a list of such, says it is
    # clinical
    return predicate and (is_clinical(item) or is_clinical(question) or listed)


def find(index: EvidenceIndex) -> list[Negative]:
    """The denied findings of a visit (module docstring), each once, none the patient side affirms elsewhere."""
    said = list(index.said.values())
    # what the patient side says is there, clause by clause (not 「熱はねえ」, which the lexicon reads as 熱)
    affirmed = {
        f.term
        for s in said
        if not s.staff
        for c in _clauses(s.text)
        if polarity(c) != "no"
        for f in find_findings(c)
        if not f.negated
    }
    out: dict[str, Negative] = {}

    def add(finding: str, evidence: tuple[int, ...], section: str, *, known: bool = True) -> None:
        if finding and finding not in affirmed and finding not in out:
            out[finding] = Negative(finding, evidence, section, known)

    for k, s in enumerate(said):
        question = said[k - 1] if k and said[k - 1].staff and not s.staff else None
        items = asked_items(question) if question is not None else []
        answered_items = set(answered(items, s.text)) if items else set()
        for i in sorted(answered_items):
            item = items[i]
            if {f.term for f in find_findings(item)} & affirmed:
                continue  # 「足がしびれる」 said elsewhere: not denied as 下肢しびれ either
            named = [t for _, t in _terms(item)]
            for term in named:
                add(term, (question.id, s.id), "S")  # type: ignore[union-attr]
            if not named and _keeps_words(item, question.text, listed=len(items) > 1):  # type: ignore[union-attr]
                add(_lay_line(item), (question.id, s.id), "S", known=False)  # type: ignore[union-attr]
        for term in _stated(s):
            add(term, (s.id,), "O" if s.staff else "S")
    return list(out.values())


def no_allergy(index: EvidenceIndex) -> list[int]:
    """The ids of a denied allergy that names no substance, read per clause: 「糖尿病でメトホルミンを飲んでいます。
    薬のアレルギーはありません。」 denies a drug allergy though the utterance names a drug; with the question when
    it asked about allergies. Empty when none is said."""
    said = list(index.said.values())
    for k, s in enumerate(said):
        if s.staff:
            continue
        question = said[k - 1] if k and said[k - 1].staff and "アレルギー" in said[k - 1].text else None
        for sentence in _clauses(s.text):  # a clause: 「アムロジピンを飲んでいますが、アレルギーは特にないです」
            if find_drugs(sentence) or allergens(sentence):
                continue  # a substance named: facts.allergies reads it
            # 「薬のアレルギーはありません」, not 「アレルギーの薬は飲んでないです」
            said_of_it = any(
                _cue("gap").search(sentence[m.end() : d.start()])
                for m in re.finditer("アレルギー", sentence)
                for d in _cue("denial").finditer(sentence, m.end())
            )
            answers = question is not None and "アレルギー" not in sentence and polarity(sentence) == "no"
            if said_of_it or answers:
                return ([question.id] if question is not None else []) + [s.id]
    return []


def lines(negatives: list[Negative]) -> list[tuple[str, str, list[int]]]:
    """(section, line, evidence): one line for the negatives that cite the same words, 「嘔吐なし、下痢なし。」."""
    groups: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    for n in negatives:
        groups.setdefault((n.section, n.evidence), []).append(n.finding)
    return [
        (section, "、".join(f + "なし" for f in findings) + "。", list(evidence))
        for (section, evidence), findings in groups.items()
    ]
