"""The store's errors: a missing visit or version, one unusable field, a write made on a stale version."""

from __future__ import annotations

from kogata.errors import InputError, KogataError


class NotFoundError(InputError):
    """A visit or chart version that does not exist."""


class FieldError(InputError):
    """Unusable input in one named field; `param` names it as an API error does ("start", "utterances[2].text")."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


class ConflictError(KogataError):
    """A write made on a chart version that is no longer the latest, or a sign that cannot be made (no chart yet,
    already signed)."""

    exit_code = 2


class StoreUnavailable(KogataError):
    """The visit database cannot be reached now (PostgreSQL down, no free connection); retrying later may work.
    A write that raised this may or may not have been stored: read the visit before writing it again."""

    exit_code = 3
