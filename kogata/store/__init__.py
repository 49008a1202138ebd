"""Visits kept on disk (SQLite): who they are for, transcript, chart versions (signed or not), edits and an audit
log; nothing overwritten."""

from kogata.store.errors import ConflictError, FieldError, NotFoundError
from kogata.store.identity import SEXES, Consent, Encounter, Patient, Practitioner
from kogata.store.visits import (
    ChartVersion,
    StoredUtterance,
    Visit,
    VisitStore,
    chart_diff,
    default_path,
    visit_transcript,
)

__all__ = [
    "SEXES",
    "ChartVersion",
    "ConflictError",
    "Consent",
    "Encounter",
    "FieldError",
    "NotFoundError",
    "Patient",
    "Practitioner",
    "StoredUtterance",
    "Visit",
    "VisitStore",
    "chart_diff",
    "default_path",
    "visit_transcript",
]
