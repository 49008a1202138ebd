"""Errors a clinic's IT person can act on: one small hierarchy, each message says what was wrong and what to do."""

from __future__ import annotations


class KogataError(Exception):
    """Base of every error kogata raises on purpose. The CLI prints the message and exits non-zero."""

    exit_code = 1


class InputError(KogataError):
    """The user's input (prompt, transcript, file, schema) is unusable as given."""

    exit_code = 2


class TranscriptError(InputError):
    """A transcript is empty, not UTF-8, not Japanese, or has no recognisable utterance."""


class SchemaError(InputError):
    """A JSON schema is invalid or uses something constrained decoding cannot enforce."""


class ContextOverflowError(InputError):
    """A prompt does not fit the model's context window."""


class ModelError(KogataError):
    """A model is unknown, missing from disk, or corrupt."""

    exit_code = 3


class GenerationError(KogataError):
    """The model produced output that does not satisfy the request (e.g. JSON that fails its schema)."""

    exit_code = 4
