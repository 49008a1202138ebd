"""Verification: every generated line cites the utterances it came from, and those words support it."""

from kogata.verify.evidence import EvidenceIndex, Said
from kogata.verify.recite import recite
from kogata.verify.text import clean
from kogata.verify.vocabulary import Vocabulary

__all__ = ["EvidenceIndex", "Said", "Vocabulary", "clean", "recite"]
