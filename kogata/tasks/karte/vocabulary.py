"""The words karte hands the verifier (kogata.verify.Vocabulary), read from data/*.tsv."""

from __future__ import annotations

from kogata.tasks.data import column
from kogata.transcript import Transcript
from kogata.verify import EvidenceIndex, Vocabulary

VOCABULARY = Vocabulary(staff=column("kogata.tasks.karte", "staff.tsv", "label"))


def evidence(transcript: Transcript) -> EvidenceIndex:
    """The transcript as the verifier reads it, with karte's words."""
    return EvidenceIndex(transcript, VOCABULARY)
