"""Visits kept on disk (SQLite): transcript, chart versions, edits and an audit log; nothing overwritten."""

from kogata.store.visits import (
    ChartVersion,
    ConflictError,
    NotFoundError,
    StoredUtterance,
    Visit,
    VisitStore,
    chart_diff,
    default_path,
    visit_transcript,
)

__all__ = [
    "ChartVersion",
    "ConflictError",
    "NotFoundError",
    "StoredUtterance",
    "Visit",
    "VisitStore",
    "chart_diff",
    "default_path",
    "visit_transcript",
]
