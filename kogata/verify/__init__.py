"""Verification: every generated line cites the utterances it came from, and those words support it."""

from kogata.verify.evidence import EvidenceIndex, Said, clean, is_clinician, recite

__all__ = ["EvidenceIndex", "Said", "clean", "is_clinician", "recite"]
