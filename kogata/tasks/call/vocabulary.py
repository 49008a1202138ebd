"""call's words: the cue table in data/cues.tsv that the call rules (rules.py) build their patterns from, and the
words call hands the verifier (kogata.verify.Vocabulary: staff.tsv, stock.tsv, chart_terms.tsv, lay_terms.tsv; the
last three as karte has them, so that a call is verified as before)."""

from __future__ import annotations

import re

from kogata.tasks.data import alternation, column, rows
from kogata.transcript import Transcript
from kogata.verify import EvidenceIndex, Vocabulary

PACKAGE = "kogata.tasks.call"


def synonyms(name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(the word written, the plain words said for it) of a table with `term` and `plain` (words split by |)."""
    return tuple((row["term"], tuple(row["plain"].split("|"))) for row in rows(PACKAGE, name))


VOCABULARY = Vocabulary(
    staff=column(PACKAGE, "staff.tsv", "label"),
    stock=column(PACKAGE, "stock.tsv", "word"),
    synonyms=synonyms("chart_terms.tsv") + synonyms("lay_terms.tsv"),
)


def evidence(transcript: Transcript) -> EvidenceIndex:
    """The transcript as the verifier reads it, with call's words."""
    return EvidenceIndex(transcript, VOCABULARY)


def cues(kind: str) -> re.Pattern[str]:
    """The cues of one kind in data/cues.tsv (wish, courtesy, done, promise) as one pattern, in file order."""
    return re.compile(alternation(PACKAGE, "cues.tsv", "cue", kind=kind))
