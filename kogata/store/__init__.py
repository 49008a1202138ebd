"""Visits kept in a database (a SQLite file, or PostgreSQL for several replicas): who they are for, transcript,
chart versions (signed or not), edits and an audit log; nothing overwritten."""

from kogata.store.errors import ConflictError, FieldError, NotFoundError, StoreUnavailable
from kogata.store.identity import SEXES, Consent, Encounter, Patient, Practitioner
from kogata.store.visits import (
    ChartVersion,
    StoredUtterance,
    Visit,
    VisitStore,
    chart_diff,
    default_path,
    describe,
    is_store_url,
    open_store,
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
    "StoreUnavailable",
    "StoredUtterance",
    "Visit",
    "VisitStore",
    "chart_diff",
    "default_path",
    "describe",
    "is_store_url",
    "open_store",
    "visit_transcript",
]
