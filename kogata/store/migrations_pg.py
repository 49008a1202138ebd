"""The visit database's schema on PostgreSQL: the same numbered steps as SQLite's (kogata.store.migrations), so a
version number means the same tables and guarantees on both, recorded in an append-only `kogata_schema` table.

Each step (up or down) runs in one transaction with its row in `kogata_schema`, under a transaction-level advisory
lock: replicas starting at once migrate one after another, and the second finds nothing left to do. PostgreSQL's
DDL is transactional, so a crash leaves the schema at one version or the next.

Append-only is enforced by the database: a row trigger refuses UPDATE and DELETE (INSERT … ON CONFLICT DO UPDATE
is an UPDATE and is refused too) and a statement trigger refuses TRUNCATE, on every table. PostgreSQL has no
REPLACE, so SQLite's step-2 REPLACE guards have no counterpart; a duplicate key is refused by the primary key.
Triggers bind every role but a table's owner (who may disable them): run kogata as a role granted only SELECT and
INSERT (docs/deploy.md) so that nothing it can do rewrites a row.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from kogata.errors import InputError
from kogata.store.migrations import refuse_if_guessed, refuse_if_stored

MIGRATION_LOCK = 0x6B6F6761  # "koga": the advisory lock every migrating process takes

_SCHEMA_TABLE = """
CREATE TABLE kogata_schema (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version     INTEGER NOT NULL,              -- the schema version after this row's step
    direction   TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    by_role     TEXT NOT NULL DEFAULT current_user
)
"""

_REFUSE = """
CREATE OR REPLACE FUNCTION kogata_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only: % is refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END $$
"""

_SCHEMA_1 = """
CREATE TABLE visits (
    id          TEXT PRIMARY KEY,
    created_at  TEXT COLLATE "C" NOT NULL,     -- ISO times as kogata writes them: byte order is time order
    created_by  TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE utterances (
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    seq         INTEGER NOT NULL,
    speaker     TEXT NOT NULL,
    text        TEXT NOT NULL,
    start_s     DOUBLE PRECISION,
    end_s       DOUBLE PRECISION,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    PRIMARY KEY (visit_id, seq)
);
CREATE TABLE utterance_corrections (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    speaker     TEXT,
    text        TEXT,
    author      TEXT NOT NULL,
    at          TEXT NOT NULL,
    FOREIGN KEY (visit_id, seq) REFERENCES utterances(visit_id, seq)
);
CREATE TABLE chart_versions (
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    version     INTEGER NOT NULL,
    chart       TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('model', 'edit')),
    author      TEXT NOT NULL,
    model       TEXT NOT NULL DEFAULT '',
    seconds     DOUBLE PRECISION NOT NULL DEFAULT 0,
    utterances  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (visit_id, version)          -- two writers of one version: the second is refused (409)
);
CREATE TABLE edits (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    base_version INTEGER NOT NULL,
    author      TEXT NOT NULL,
    at          TEXT NOT NULL,
    what        TEXT NOT NULL,
    FOREIGN KEY (visit_id, version) REFERENCES chart_versions(visit_id, version)
);
CREATE TABLE audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    visit_id    TEXT,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_visit ON audit (visit_id, id);
CREATE INDEX visits_created ON visits (created_at)
"""
_TABLES_1 = ("visits", "utterances", "utterance_corrections", "chart_versions", "edits", "audit")
_APPEND_ONLY_1 = ("utterances", "utterance_corrections", "chart_versions", "edits", "audit")


def guard(table: str) -> list[str]:
    """The statements that make `table` append-only."""
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION kogata_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION kogata_append_only()",
    ]


def unguard(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def _run(db: psycopg.Connection, statements: list[str]) -> None:
    for statement in statements:
        if statement.strip():
            db.execute(statement)


def _step_1(db: psycopg.Connection) -> None:
    """The tables, and every table but visits append-only (as SQLite's step 1)."""
    _run(db, [_REFUSE, *_SCHEMA_1.split(";\n")])
    _run(db, [s for table in _APPEND_ONLY_1 for s in guard(table)])


def _step_2(db: psycopg.Connection) -> None:
    """Visits are append-only too (as SQLite's step 2)."""
    _run(db, guard("visits"))


def _down_2(db: psycopg.Connection) -> None:
    _run(db, unguard("visits"))


def _down_1(db: psycopg.Connection) -> None:
    refuse_if_stored(db, list(_TABLES_1), 1)
    _run(db, [f"DROP TABLE {table}" for table in reversed(_TABLES_1)])  # the function stays: kogata_schema uses it


# Step 3 (as SQLite's): who the visit is for, consent, and signed chart versions. PostgreSQL changes a CHECK and adds
# columns in place (no UPDATE runs, so the append-only trigger is not involved); every stored version reads 'draft'.
_SCHEMA_3 = """
ALTER TABLE chart_versions DROP CONSTRAINT chart_versions_source_check;
ALTER TABLE chart_versions ADD CONSTRAINT chart_versions_source_check CHECK (source IN ('model', 'edit', 'sign'));
ALTER TABLE chart_versions ADD COLUMN status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'signed', 'amended'));
ALTER TABLE chart_versions ADD COLUMN signed_by_id TEXT;
ALTER TABLE chart_versions ADD COLUMN signed_by_name TEXT;
ALTER TABLE chart_versions ADD COLUMN signed_at TEXT;
CREATE TABLE visit_patients (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    patient_id  TEXT,
    name        TEXT,
    birth_date  TEXT,
    sex         TEXT CHECK (sex IN ('male', 'female', 'other', 'unknown')),
    author      TEXT NOT NULL,
    at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX visit_patients_visit ON visit_patients (visit_id, id);
CREATE TABLE visit_encounters (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    date        TEXT COLLATE "C",
    department  TEXT,
    doctor      TEXT,
    author      TEXT NOT NULL,
    at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX visit_encounters_visit ON visit_encounters (visit_id, id);
CREATE TABLE visit_consents (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    given       INTEGER NOT NULL CHECK (given IN (0, 1)),
    given_by    TEXT,
    given_at    TEXT NOT NULL,
    author      TEXT NOT NULL,
    at          TEXT COLLATE "C" NOT NULL
);
CREATE INDEX visit_consents_visit ON visit_consents (visit_id, id)
"""
_TABLES_3 = ("visit_patients", "visit_encounters", "visit_consents")


def _step_3(db: psycopg.Connection) -> None:
    """Patient, encounter and consent rows (append-only); chart versions gain a status and a signature."""
    _run(db, _SCHEMA_3.split(";\n"))
    _run(db, [s for table in _TABLES_3 for s in guard(table)])


def _down_3(db: psycopg.Connection) -> None:
    refuse_if_stored(db, ["chart_versions", *_TABLES_3], 3)
    _run(db, [f"DROP TABLE {table}" for table in reversed(_TABLES_3)])
    _run(
        db,
        [
            "ALTER TABLE chart_versions DROP COLUMN status, DROP COLUMN signed_by_id, DROP COLUMN signed_by_name, "
            "DROP COLUMN signed_at",
            "ALTER TABLE chart_versions DROP CONSTRAINT chart_versions_source_check",
            "ALTER TABLE chart_versions ADD CONSTRAINT chart_versions_source_check CHECK (source IN ('model', 'edit'))",
        ],
    )


# Step 4 (as SQLite's): the recogniser's speaker guess kept with each utterance; NULL for a label a person gave and
# for every row stored before. Adding a nullable column without a default rewrites no row.
_GUESS_COLUMNS = (
    "speaker_confidence DOUBLE PRECISION CHECK (speaker_confidence BETWEEN 0 AND 1)",
    "speaker_sure INTEGER CHECK (speaker_sure IN (0, 1))",
)


def _step_4(db: psycopg.Connection) -> None:
    _run(db, [f"ALTER TABLE utterances ADD COLUMN {column}" for column in _GUESS_COLUMNS])


def _down_4(db: psycopg.Connection) -> None:
    refuse_if_guessed(db)
    _run(db, [f"ALTER TABLE utterances DROP COLUMN {column.split()[0]}" for column in reversed(_GUESS_COLUMNS)])


STEPS: tuple[Callable[[psycopg.Connection], None], ...] = (_step_1, _step_2, _step_3, _step_4)
DOWN: tuple[Callable[[psycopg.Connection], None], ...] = (_down_1, _down_2, _down_3, _down_4)
LATEST = len(STEPS)


def version(db: psycopg.Connection) -> int:
    """The schema version (0: a database kogata has not touched)."""
    if db.execute("SELECT to_regclass('kogata_schema')").fetchone()[0] is None:
        return 0
    row = db.execute("SELECT version FROM kogata_schema ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else 0


def migrate(db: psycopg.Connection, *, name: str = "the visit database", to: int | None = None) -> int:
    """Bring the schema to `to` (None: the latest), one transaction a step; the version it ends at.

    `db` must be in autocommit mode. A database from a newer kogata is refused. A database already at the
    target is only read, so a role without CREATE privilege (the one kogata should run as) opens it.
    """
    target = LATEST if to is None else to
    if not 0 <= target <= LATEST:
        raise InputError(f"schema version {target} does not exist (0–{LATEST})")
    while True:
        with db.transaction():
            current = version(db)
            if current == target:  # the common case, read without the lock
                return current
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            current = version(db)  # re-read under the lock: another replica may have migrated
            if current > LATEST:
                raise InputError(
                    f"{name} is at schema version {current}, newer than this kogata knows ({LATEST}); "
                    "upgrade kogata to open it"
                )
            if current == target:
                return current
            if db.execute("SELECT to_regclass('kogata_schema')").fetchone()[0] is None:
                _run(db, [_REFUSE, _SCHEMA_TABLE, *guard("kogata_schema")])
            if current < target:
                STEPS[current](db)
                after, direction = current + 1, "up"
            else:
                DOWN[current - 1](db)
                after, direction = current - 1, "down"
            db.execute("INSERT INTO kogata_schema (version, direction) VALUES (%s, %s)", (after, direction))
