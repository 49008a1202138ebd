"""Verification: every generated line cites the utterances it came from, and those words support it."""

from kogata.verify.evidence import EvidenceIndex, Said, is_clinician
from kogata.verify.recite import recite
from kogata.verify.text import clean

__all__ = ["EvidenceIndex", "Said", "clean", "is_clinician", "recite"]
