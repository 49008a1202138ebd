"""Visits kept in a database (a SQLite file, or PostgreSQL for several replicas): transcript, chart versions, edits
and an audit log; nothing overwritten."""

from kogata.store.errors import ConflictError, FieldError, NotFoundError, StoreUnavailable
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
    "ChartVersion",
    "ConflictError",
    "FieldError",
    "NotFoundError",
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
