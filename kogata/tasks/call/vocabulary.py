"""call's words: the cue table in data/cues.tsv that the call rules (rules.py) build their patterns from, and the
words call hands the verifier (kogata.verify.Vocabulary: staff.tsv, stock.tsv, chart_terms.tsv, lay_terms.tsv; the
last three as karte has them, so that a call is verified as before)."""

from __future__ import annotations

import re

from kogata.tasks import data
from kogata.tasks.data import alternation
from kogata.transcript import Transcript
from kogata.verify import EvidenceIndex

PACKAGE = "kogata.tasks.call"
VOCABULARY = data.vocabulary(PACKAGE)  # staff.tsv, stock.tsv, chart_terms.tsv, lay_terms.tsv


def evidence(transcript: Transcript) -> EvidenceIndex:
    """The transcript as the verifier reads it, with call's words."""
    return EvidenceIndex(transcript, VOCABULARY)


def cues(kind: str) -> re.Pattern[str]:
    """The cues of one kind in data/cues.tsv (wish, courtesy, done, promise) as one pattern, in file order."""
    return re.compile(alternation(PACKAGE, "cues.tsv", "cue", kind=kind))
