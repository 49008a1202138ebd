"""karte's words: the tables in data/*.tsv that the chart rules (facts.py, lines.py) build their patterns from, and
the words karte hands the verifier (kogata.verify.Vocabulary).

A table's word column holds a word or a regular-expression fragment; the rows are tried in file order (the first
that matches at a place wins, so a longer word goes before its part: 運動負荷心電図 before 心電図).
"""

from __future__ import annotations

import dataclasses
import functools
import re

from kogata.tasks import data
from kogata.tasks.data import rows
from kogata.transcript import Transcript
from kogata.verify import EvidenceIndex

PACKAGE = "kogata.tasks.karte"


def _reading_names() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(HbA1c, (エイチビーエーワンシー, …)): the names a readings line writes for what was said (data/readings.tsv),
    so that 「HbA1c 8.3%」 is matched against 「エイチビーエーワンシーが八点三」."""
    pairs = (
        (row["name"], tuple(f for f in row["said"].split("|") if f != row["name"] and len(f) >= 2))
        for row in rows(PACKAGE, "readings.tsv")
    )
    return tuple((name, said) for name, said in pairs if said)


def _lay_findings(known: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(回転性めまい, (ぐるぐる回, …)): the terms of data/lay_findings.tsv for the words said (a line that says
    回転性めまい for 「天井がぐるぐる回る」: kogata.tasks.karte.layterms), less the words the other tables already
    give the same term (タバコ → 喫煙)."""
    given = {(term, p) for term, plain in known for p in plain}
    pairs = (
        (term, tuple(p for p in plain if (term, p) not in given))
        for term, plain in data.synonyms(PACKAGE, "lay_findings.tsv")
    )
    return tuple((term, plain) for term, plain in pairs if plain)


# staff.tsv, stock.tsv, chart_terms.tsv, lay_terms.tsv, the names of readings.tsv, and lay_findings.tsv
VOCABULARY = dataclasses.replace(
    data.vocabulary(PACKAGE),
    synonyms=data.vocabulary(PACKAGE).synonyms + _reading_names() + _lay_findings(data.vocabulary(PACKAGE).synonyms),
)


def evidence(transcript: Transcript) -> EvidenceIndex:
    """The transcript as the verifier reads it, with karte's words."""
    return EvidenceIndex(transcript, VOCABULARY)


def alternation(name: str, key: str) -> str:
    """A table's words as one regular-expression alternation, in file order."""
    return data.alternation(PACKAGE, name, key)


def cues(kind: str) -> str:
    """The cues of one kind in data/cues.tsv (prescribing, suspected, clinical …) as one alternation."""
    return data.alternation(PACKAGE, "cues.tsv", "cue", kind=kind)


def chart_words(name: str, key: str) -> dict[str, str]:
    """{word as said: word as a chart writes it} for the rows of a table that name one in `chart`."""
    return {row[key]: row["chart"] for row in rows(PACKAGE, name) if row["chart"]}


def status_cues(status: str) -> str:
    """The cues in data/statuses.tsv that give a drug named before them one status (stopped, avoided, refused,
    deferred, changed, current) as one alternation."""
    return data.alternation(PACKAGE, "statuses.tsv", "cue", kind=status)


def drug_word_rows() -> tuple[dict[str, str], ...]:
    """The rows of data/drug_words.tsv: how a drug is taken as said (kind, said, chart)."""
    return rows(PACKAGE, "drug_words.tsv")


def answer(text: str) -> str:
    """How a short answer to a yes/no question answers (data/answers.tsv): "unsure" (「たぶん」「わからない」,
    read first and anywhere: neither there nor absent), "no" (「ううん」「いや、」), "yes" (「はい」「うん」「まあ、
    …」, unless the rest denies: 「はい、飲んでません」), or "" (it says none of them in so many words)."""
    text = text.strip()
    for kind in ("unsure", "no", "yes"):
        if _answers(kind).search(text):
            return "" if kind == "yes" and _DENIED_AFTER.search(text) else kind
    return ""


@functools.cache
def _answers(kind: str) -> re.Pattern[str]:
    return re.compile(data.alternation(PACKAGE, "answers.tsv", "cue", kind=kind))


_DENIED_AFTER = re.compile(r"ない|ません|なかった|いいえ")  # 「はい、でも飲んでません」: a yes word, then a no
