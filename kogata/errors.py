"""Errors a clinic's IT person can act on: one small hierarchy, each message says what was wrong and what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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


@contextmanager
def reading(path: str | Path, what: str, error: type[InputError] = InputError) -> Iterator[None]:
    """Inside the block, the reasons the OS gives for not reading a user's file become `error`s that name the
    file and what it was (`what`: "transcript", "glossary" …)."""
    try:
        yield
    except FileNotFoundError:
        raise error(f"{what} file not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} path is a directory, not a file: {path}") from None
    except UnicodeDecodeError:
        raise error(f"{what} file {path} is not UTF-8 text") from None
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror}") from None
