"""Consultation transcripts: reading them into numbered utterances."""

from kogata.transcript.parse import Transcript, Utterance, from_records, parse_transcript, read_transcript

__all__ = ["Transcript", "Utterance", "from_records", "parse_transcript", "read_transcript"]
