"""The visit store's PostgreSQL connection (`--store postgresql://user@host:5432/db`), for several replicas on one
database.

The store's SQL is written once with `?` placeholders (kogata.store.sqlite's docstring); here they become
psycopg's `%s`. Every write is one transaction on a pooled connection and is committed (PostgreSQL's default
synchronous_commit: on disk, and on a synchronous standby where one is configured) before the store returns.
A visit's writers, in every process, go one at a time: each write transaction first takes a transaction-level
advisory lock on the visit's id, so reading the next seq or the latest version and inserting after it cannot
interleave with another replica's. The primary keys (visit_id, seq) and (visit_id, version) are the backstop:
a second row with one of them is refused, never stored.

Errors: PostgreSQL unreachable (or no connection free within POOL_TIMEOUT_S) → StoreUnavailable (HTTP 503); a
value PostgreSQL cannot hold (a NUL character) → InputError (400); a duplicate key → ConflictError (409).
The URL's password never appears in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from kogata.errors import InputError
from kogata.store import migrations_pg
from kogata.store.errors import ConflictError, StoreUnavailable

POOL_SIZE = 8  # connections per process: FastAPI's thread pool shares them
POOL_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5


def is_url(where: Any) -> bool:
    return isinstance(where, str) and where.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password (postgresql://user:secret@host → postgresql://user:***@host)."""
    return re.sub(r"^(postgres(?:ql)?://[^:@/]*):[^@/]*@", r"\1:***@", url)


def _sql(sql: str) -> str:
    # the store's SQL holds no literal '?' or '%'; a statement that did would be caught by the tests of both backends
    return sql.replace("?", "%s")


@contextmanager
def _errors(where: str) -> Iterator[None]:
    """psycopg's exceptions as kogata's (see the module docstring)."""
    try:
        yield
    except psycopg.errors.UniqueViolation as e:
        raise ConflictError(
            f"another writer stored this row first ({e.diag.constraint_name}); reload and retry"
        ) from None
    except (psycopg.DataError, UnicodeEncodeError) as e:
        raise InputError(f"the visit database cannot hold this value: {str(e).splitlines()[0]}") from None
    except PoolTimeout:
        raise StoreUnavailable(f"no connection to {where} within {POOL_TIMEOUT_S:.0f} s; try again") from None
    except psycopg.OperationalError as e:
        reason = " ".join(line.strip() for line in str(e).strip().splitlines()[:1])  # psycopg's first line says why
        raise StoreUnavailable(f"{where} is unreachable: {reason}") from None


class PostgresTx:
    """One write transaction on one connection."""

    def __init__(self, db: psycopg.Connection):
        self._db = db

    def execute(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cursor = self._db.execute(_sql(sql), params)
        return cursor.fetchall() if cursor.description else []

    def lock_visit(self, visit_id: str) -> None:
        """Until this transaction ends, no other (in any process) writes this visit."""
        self._db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (visit_id,))


class PostgresBackend:
    dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE):
        self.url = url
        self.shown = redact(url)
        self.name = f"the visit database {self.shown}"
        with _errors(self.name):
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as db:
                migrations_pg.migrate(db, name=self.name)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S},
            check=ConnectionPool.check_connection,  # a connection broken by a database restart is replaced
            timeout=POOL_TIMEOUT_S,
            open=True,
            name="kogata-store",
        )

    def __str__(self) -> str:
        return self.shown

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[PostgresTx]:
        with _errors(self.name), self._pool.connection() as db, db.transaction():
            yield PostgresTx(db)

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with _errors(self.name), self._pool.connection() as db:
            return db.execute(_sql(sql), params).fetchall()

    def migrate(self, to: int | None = None) -> int:
        with _errors(self.name), self._pool.connection() as db:
            db.row_factory = psycopg.rows.tuple_row
            try:
                return migrations_pg.migrate(db, name=self.name, to=to)
            finally:
                db.row_factory = dict_row

    def version(self) -> int:
        with _errors(self.name), self._pool.connection() as db:
            db.row_factory = psycopg.rows.tuple_row
            try:
                return migrations_pg.version(db)
            finally:
                db.row_factory = dict_row
