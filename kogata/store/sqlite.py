"""The visit store's SQLite connection: one file, WAL, synchronous=FULL, one writer at a time.

The store writes its SQL once, with `?` placeholders, and runs it through a backend: this one, or
kogata.store.postgres. A backend gives a write transaction (`transaction()`, whose `execute` returns the rows as
dicts) and plain reads (`rows`). Here a write transaction is BEGIN IMMEDIATE, which takes the database's write
lock at once: the store's read-then-insert steps (next seq, latest version) are serialised by it, between
threads by the lock below and between processes by SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.store import migrations


class SqliteTx:
    """One write transaction (BEGIN IMMEDIATE … COMMIT)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def execute(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    def lock_visit(self, visit_id: str) -> None:
        """Writers of one visit one at a time: BEGIN IMMEDIATE already holds the whole file's write lock."""


class SqliteBackend:
    """One SQLite file; safe to share between threads (one connection, calls serialised by a lock)."""

    dialect = "sqlite"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"the visit database {self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.row_factory = sqlite3.Row
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the client hears "stored"
            self._db.execute("PRAGMA foreign_keys=ON")
            migrations.migrate(self._db, name=self.name)
        except sqlite3.DatabaseError as e:
            raise InputError(f"cannot open {self.name}: {e}") from None
        if mode.lower() != "wal":
            raise InputError(f"{self.name} cannot use WAL journaling (got {mode}); put it on a local disk")
        self._lock = threading.Lock()

    def __str__(self) -> str:
        return str(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[SqliteTx]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield SqliteTx(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    def migrate(self, to: int | None = None) -> int:
        """Bring the schema to step `to` (None: the latest), up or down; the version it ends at."""
        with self._lock:
            return migrations.migrate(self._db, name=self.name, to=to)

    def version(self) -> int:
        with self._lock:
            return migrations.version(self._db)
