"""Symptoms in a patient's words → chart terms, with negation: 「お腹が痛くて」 → 腹痛, 「熱はないです」 → 発熱
(negated).

Matching works on Sudachi *keys*, not on characters, so conjugation and spelling do not matter:
a token's key is its normalized form (痛く/痛かった → 痛い, しびれ → 痺れ, おなか → 御腹), except that
- the particles が/は/も are dropped (お腹が痛い = お腹は痛い = お腹痛い),
- polite ます/です are dropped (吐きました = 吐いた),
- degree adverbs and また/ずっと/まだ/たまに are dropped (お腹が少し痛い = お腹が痛い, 膝がまた痛い = 膝が痛い),
- every negative (ない, 無い, ず, ぬ: 食欲がありません, 眠れませんでした) becomes ない.
A lexicon phrase matches where its key sequence occurs in the text's, starting on a token; it may end inside a
token only when both end in a verb or adjective stem.

Overlaps: the longest match wins (寝汗 over 汗, 食欲がない over a negated 食欲).

Negation (cues in data/negation_cues.tsv): a finding is negated when a cue follows it in the same clause.
The clause ends at 。!? or a line break; at 、 after a predicate (痛くて、); at a conjunctive particle
(けど, が, ので, て … but not the て of している/していない); and where a content word follows a sentence-final
form (咳が出ます熱はない, as ASR writes it without punctuation). A 、 after a noun or particle continues the clause,
so 「咳、痰、鼻水はありません」 negates all three. Cues inside a "persist" phrase (止まらない, 下がらない, たまらない …)
and inside another finding (眠れない, 食欲がない: negation that is the symptom) do not count.
Questions are not told apart from statements: 「熱はないですか」 is negated; the chart cites the patient's answer.
"""

from __future__ import annotations

import bisect
import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources

from kogata.errors import KogataError
from kogata.ja.tokenizer import Token, tokenize

CATEGORIES = (
    "全身",
    "呼吸器",
    "消化器",
    "神経",
    "循環器",
    "皮膚",
    "耳鼻",
    "泌尿器",
    "精神",
    "運動器",
    "所見",
)  # 所見: found on examination

_DROPPED_PARTICLES = {"が", "は", "も"}
_POLITE = {"ます", "です"}
_NEGATIVE = {"ない", "無い", "ず", "ぬ"}
# Degree adverbs say how much, not what: お腹が少し痛い is お腹が痛い (normalized forms).
_DEGREE = {
    "少し",
    "一寸",
    "やや",
    "迚も",
    "可成",
    "結構",
    "大分",
    "割と",
    "特に",  # not あまり: あまり出ない is less
    "又",
    "ずっと",
    "未だ",
    "偶に",
}  # nor do again / still / sometimes (膝がまた痛い = 膝が痛い)
_CONJUGATING = {"動詞", "形容詞"}
_HARD_STOPS = set("。.!?！？…")
_MAX_SCAN_TOKENS = 40  # a clause longer than this is a run-on ASR line; a cue that far away is not about the finding


@dataclass(frozen=True)
class Finding:
    """A symptom: chart term, the patient's own words (text[span]), and whether it was denied."""

    term: str
    surface: str
    negated: bool
    span: tuple[int, int]


@dataclass(frozen=True)
class SymptomEntry:
    """One row of data/symptoms.tsv."""

    term: str
    colloquial: tuple[str, ...]
    category: str


def _key(t: Token) -> str:
    pos0, pos1 = t.pos[0], t.pos[1]
    if pos0 == "空白":
        return ""
    if pos0 == "助詞" and pos1 in ("格助詞", "係助詞") and t.surface in _DROPPED_PARTICLES:
        return ""
    if pos0 == "助動詞" and t.normalized_form in _POLITE:
        return ""
    if pos0 == "副詞" and t.normalized_form in _DEGREE:
        return ""
    if pos0 in ("助動詞", "形容詞") and t.normalized_form in _NEGATIVE:
        return "ない"
    return t.normalized_form


@dataclass(frozen=True)
class _Phrase:
    key: str
    conjugating_end: bool  # last token is a verb/adjective, so it may match the stem of a longer form
    label: str  # term for symptoms, kind for cues


class _KeyView:
    """The text's keys joined into one string, with the way back from key offsets to tokens."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.string_parts: list[str] = []
        self.starts: list[int] = []  # key offset of each token with a non-empty key
        self.index: list[int] = []  # ... and that token's index
        pos = 0
        for i, t in enumerate(tokens):
            k = _key(t)
            if k:
                self.starts.append(pos)
                self.index.append(i)
                self.string_parts.append(k)
                pos += len(k)
        self.string = "".join(self.string_parts)
        self._start_set = {s: n for n, s in enumerate(self.starts)}

    def occurrences(self, phrase: _Phrase) -> list[tuple[int, int]]:
        """(first, last) token indices of each token-aligned occurrence of phrase.key."""
        found: list[tuple[int, int]] = []
        k = phrase.key
        at = self.string.find(k)
        while at >= 0:
            n = self._start_set.get(at)
            if n is not None:
                end = at + len(k)
                m = bisect.bisect_right(self.starts, end - 1) - 1
                whole = self.starts[m] + len(self.string_parts[m]) == end
                last = self.index[m]
                if whole or (phrase.conjugating_end and self.tokens[last].pos[0] in _CONJUGATING):
                    found.append((self.index[n], last))
            at = self.string.find(k, at + 1)
        return found


def _compile(text: str, label: str) -> _Phrase | None:
    tokens = tokenize(text)
    key = "".join(_key(t) for t in tokens)
    if not key:
        return None
    return _Phrase(key, tokens[-1].pos[0] in _CONJUGATING, label)


def _read_tsv(name: str, header: list[str]) -> list[list[str]]:
    path = resources.files("kogata.ja") / "data" / name
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or rows[0] != header:
        raise KogataError(f"kogata/ja/data/{name}: header must be {' / '.join(header)}")
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) or not all(cell.strip() for cell in row):
            raise KogataError(f"kogata/ja/data/{name} line {n}: expected {len(header)} non-empty tab-separated fields")
    return rows[1:]


@functools.cache
def symptom_lexicon() -> tuple[SymptomEntry, ...]:
    """The symptom lexicon (data/symptoms.tsv), validated."""
    entries = []
    for n, (term, colloquial, category) in enumerate(_read_tsv("symptoms.tsv", ["term", "colloquial", "category"]), 2):
        if category not in CATEGORIES:
            raise KogataError(f"kogata/ja/data/symptoms.tsv line {n}: unknown category {category!r}")
        phrases = tuple(p.strip() for p in colloquial.split("|") if p.strip())
        entries.append(SymptomEntry(term, phrases, category))
    return tuple(entries)


@functools.cache
def _symptom_phrases() -> tuple[_Phrase, ...]:
    phrases = []
    for e in symptom_lexicon():
        for p in dict.fromkeys((e.term, *e.colloquial)):  # the chart term itself is also said (頭痛, 動悸)
            compiled = _compile(p, e.term)
            if compiled:
                phrases.append(compiled)
    # words that hold a finding's words but are none (吸って吐いて, 生理食塩水): matched like a finding, so the
    # longest match takes their span, then dropped (label "")
    for phrase, _example, _note in _read_tsv("not_findings.tsv", ["phrase", "example", "note"]):
        if compiled := _compile(phrase, _NOT_A_FINDING):
            phrases.append(compiled)
    return tuple(phrases)


_NOT_A_FINDING = ""


_TOO_GENERAL = {
    "有る",
    "為る",
    "居る",
    "成る",
    "出る",
    "感じる",
    "見える",
    "無い",
    "下がる",
}  # echo nothing on their own


@functools.cache
def predicates(term: str) -> frozenset[str]:
    """The verbs and adjectives the lexicon says a finding with (normalized forms): 鼻閉 → {詰まる}, from
    「鼻が詰まる」. An answer that repeats one (「夜になると両方詰まって」 to 「鼻づまりはどうですか」) affirms it."""
    words: set[str] = set()
    for e in symptom_lexicon():
        if e.term == term:
            for phrase in e.colloquial:
                words.update(t.normalized_form for t in tokenize(phrase) if t.pos[0] in _CONJUGATING)
    return frozenset(words - _TOO_GENERAL)


@functools.cache
def _negation_phrases() -> tuple[_Phrase, ...]:
    phrases = []
    for n, (phrase, kind, _note) in enumerate(_read_tsv("negation_cues.tsv", ["phrase", "kind", "note"]), 2):
        if kind not in ("cue", "persist"):
            raise KogataError(f"kogata/ja/data/negation_cues.tsv line {n}: kind must be cue or persist")
        compiled = _compile(phrase, kind)
        if compiled:
            phrases.append(_Phrase(compiled.key, False, kind))  # cues must match whole tokens
    return tuple(phrases)


def _ends_clause(tokens: list[Token], k: int) -> bool:
    """Whether the clause that a scan is in ends before tokens[k]."""
    t = tokens[k]
    prev = tokens[k - 1] if k else None
    if t.pos[0] == "補助記号":
        if t.surface in "、,":
            return prev is not None and (prev.pos[0] in ("動詞", "形容詞", "助動詞") or prev.pos[1] == "接続助詞")
        return t.surface in _HARD_STOPS
    if t.pos[0] == "空白":
        return "\n" in t.surface
    if t.pos[1] == "接続助詞":
        j = k + 1
        while j < len(tokens) and tokens[j].surface in ("は", "も"):  # 「吐いてはいません」「痛くてもない」
            j += 1
        nxt = tokens[j] if j < len(tokens) else None
        aux_te = (
            t.surface in ("て", "で") and nxt is not None and nxt.pos[1] == "非自立可能" and nxt.pos[0] in _CONJUGATING
        )
        return not aux_te
    if prev is None or t.pos[0] in ("助動詞", "助詞", "補助記号", "空白", "接尾辞"):
        return False
    # A content word after a finished predicate starts a new sentence. Polite ます/です (and ました/でした) are
    # never attributive in speech, though Sudachi tags them so when ASR leaves out the 。 before a noun.
    before_prev = tokens[k - 2] if k >= 2 else None
    polite_past = prev.normalized_form == "た" and before_prev is not None and before_prev.normalized_form in _POLITE
    polite = prev.pos[0] == "助動詞" and prev.normalized_form in _POLITE and not prev.pos[5].startswith("連用形")
    return prev.pos[5].startswith("終止形") or polite or polite_past


def _selected(view: _KeyView) -> list[tuple[int, int, str]]:
    """Non-overlapping (first, last, term) matches; longer surface spans win, then earlier ones."""
    tokens = view.tokens
    candidates = [(first, last, p.label) for p in _symptom_phrases() for first, last in view.occurrences(p)]
    candidates.sort(key=lambda c: (-(tokens[c[1]].end - tokens[c[0]].begin), c[0]))
    taken: set[int] = set()
    chosen = []
    for first, last, term in candidates:
        span = range(first, last + 1)
        if not taken.intersection(span):
            taken.update(span)
            chosen.append((first, last, term))
    return sorted(chosen)


@functools.cache
def _dialect_negations() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, standard form) of data/dialect_negation.tsv: a dialect's ない (なかです, あらへん, 出とらん) as the
    tokenizer knows it; each replacement is as long as what it matches, so spans still point into the text."""
    rules = []
    for n, (pattern, standard, example, _note) in enumerate(
        _read_tsv("dialect_negation.tsv", ["pattern", "replacement", "example", "note"]), 2
    ):
        compiled = re.compile(pattern)
        found = compiled.search(example)
        if not found or len(found.group(0)) != len(standard):
            raise KogataError(
                f"kogata/ja/data/dialect_negation.tsv line {n}: the pattern must match its example with as many"
                " characters as its replacement"
            )
        rules.append((compiled, standard))
    return tuple(rules)


def _standard_negation(text: str) -> str:
    """`text` with dialect negations in standard form, character for character (same length)."""
    for pattern, standard in _dialect_negations():
        text = pattern.sub(lambda m, s=standard: s if len(m.group(0)) == len(s) else m.group(0), text)
    return text


def find_findings(text: str) -> list[Finding]:
    """Symptoms mentioned in text, in order, each with the patient's words and a negation flag (module docstring).
    Dialect negations (data/dialect_negation.tsv) are read as ない."""
    tokens = tokenize(_standard_negation(text))
    if not tokens:
        return []
    view = _KeyView(tokens)
    chosen = _selected(view)
    masked: set[int] = set()
    cue_starts: set[int] = set()
    for p in _negation_phrases():
        for first, last in view.occurrences(p):
            if p.label == "persist":
                masked.update(range(first, last + 1))
            else:
                cue_starts.add(first)
    for first, last, _ in chosen:
        masked.update(range(first, last + 1))
    cues = cue_starts - masked

    findings = []
    for first, last, term in chosen:
        if term == _NOT_A_FINDING:
            continue
        negated = False
        for k in range(last + 1, min(len(tokens), last + 1 + _MAX_SCAN_TOKENS)):
            if _ends_clause(tokens, k):
                break
            if k in cues:
                negated = True
                break
        span = (tokens[first].begin, tokens[last].end)
        findings.append(Finding(term, text[span[0] : span[1]], negated, span))
    return findings
