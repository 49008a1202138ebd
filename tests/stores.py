"""Helpers for the tests that run on both visit-store backends (the `where` fixture is in conftest.py)."""

from __future__ import annotations

import sqlite3


def raw(store_or_where):
    """A plain connection to the store's database, as an intruder with its file or its URL would open one."""
    where = getattr(store_or_where, "where", store_or_where)
    if isinstance(where, str) and where.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(where, autocommit=True)
    return sqlite3.connect(where)


def execute(store, sql: str, params: tuple = ()) -> list[tuple]:
    """Run `sql` (written with `?`) on a plain connection and commit; its rows."""
    if store.dialect == "postgresql":
        sql = sql.replace("?", "%s")
    db = raw(store)
    try:
        cursor = db.execute(sql, params)
        rows = cursor.fetchall() if cursor.description else []
        db.commit()
        return rows
    finally:
        db.close()


def refused() -> tuple[type[Exception], ...]:
    """What a database raises when a trigger refuses a statement."""
    try:
        import psycopg

        return (sqlite3.DatabaseError, psycopg.Error)
    except ImportError:
        return (sqlite3.DatabaseError,)


def new_database(cluster) -> str:
    """The URL of a new, empty database on a running cluster (the `postgres` fixture's)."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return cluster.database_url(name)


def chart(*lines: str) -> dict:
    """A chart in the contract's shape whose S section holds `lines`, each citing utterance 1."""
    soap = {"S": [{"text": t, "evidence": [1], "supported": True} for t in lines], "O": [], "A": [], "P": []}
    return {
        "soap": soap,
        "medications": [],
        "allergies": [],
        "vitals": [],
        "problems": [],
        "negatives": [],
        "warnings": [],
    }
