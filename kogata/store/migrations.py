"""The visit database's schema, as numbered steps recorded in SQLite's `PRAGMA user_version`.

Step N brings a database at version N-1 to version N, in one transaction with the stamp, so a crash leaves a
database at one version or the next, never between. Step 1 is the schema kogata has always created (every
statement `IF NOT EXISTS`): a database made before the steps were numbered opens unchanged and is stamped 1.
A new step appends a function to `STEPS` and its undoing to `DOWN`; a step is never edited once released.
Undoing runs only over tables that hold no rows: going back past stored visits is a restore from a backup.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from kogata.errors import InputError

_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS visits (
    id          TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS utterances (
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    seq         INTEGER NOT NULL,              -- 1, 2, 3 … in order received: the id a chart line cites
    speaker     TEXT NOT NULL,
    text        TEXT NOT NULL,
    start_s     REAL,
    end_s       REAL,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL,
    PRIMARY KEY (visit_id, seq)
);
CREATE TABLE IF NOT EXISTS utterance_corrections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    speaker     TEXT,                           -- NULL: unchanged
    text        TEXT,
    author      TEXT NOT NULL,
    at          TEXT NOT NULL,
    FOREIGN KEY (visit_id, seq) REFERENCES utterances(visit_id, seq)
);
CREATE TABLE IF NOT EXISTS chart_versions (
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    version     INTEGER NOT NULL,              -- 1, 2, 3 …; never reused, never overwritten
    chart       TEXT NOT NULL,                 -- JSON, the karte contract (Chart.to_dict())
    source      TEXT NOT NULL CHECK (source IN ('model', 'edit')),
    author      TEXT NOT NULL,
    model       TEXT NOT NULL DEFAULT '',
    seconds     REAL NOT NULL DEFAULT 0,
    utterances  INTEGER NOT NULL DEFAULT 0,    -- how many utterances the chart was made from
    created_at  TEXT NOT NULL,
    PRIMARY KEY (visit_id, version)
);
CREATE TABLE IF NOT EXISTS edits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id    TEXT NOT NULL,
    version     INTEGER NOT NULL,              -- the version the edit created
    base_version INTEGER NOT NULL,             -- the version it was made on
    author      TEXT NOT NULL,
    at          TEXT NOT NULL,
    what        TEXT NOT NULL,                 -- JSON: lines removed/added per section, fields changed
    FOREIGN KEY (visit_id, version) REFERENCES chart_versions(visit_id, version)
);
CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    visit_id    TEXT,
    detail      TEXT NOT NULL DEFAULT ''       -- ids and counts only: never patient text
);
"""
_APPEND_ONLY = ("utterances", "utterance_corrections", "chart_versions", "edits", "audit")


def _refuse(verb: str, table: str, *, if_absent: bool = False) -> str:
    """The trigger that refuses `verb` (UPDATE or DELETE) on `table`."""
    absent = "IF NOT EXISTS " if if_absent else ""
    return (
        f"CREATE TRIGGER {absent}{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: {verb} is refused'); END"
    )


def _refuse_replace(table: str, key: tuple[str, ...], *, if_absent: bool = False) -> str:
    """The trigger that refuses a new row with the key of a stored one (what INSERT OR REPLACE would delete)."""
    absent = "IF NOT EXISTS " if if_absent else ""
    same = " AND ".join(f"{column} = NEW.{column}" for column in key)
    return (
        f"CREATE TRIGGER {absent}{table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {same}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: a stored row cannot be replaced'); END"
    )


def _triggers() -> str:
    return "".join(
        _refuse(verb, table, if_absent=True) + ";\n" for table in _APPEND_ONLY for verb in ("UPDATE", "DELETE")
    )


def _step_1(db: sqlite3.Connection) -> None:
    """The tables and append-only triggers as they were before migrations were numbered."""
    # one execute() a statement (executescript would commit the transaction): each ends with ";" and a newline
    for statement in (_SCHEMA_1 + _triggers()).split(";\n"):
        if statement.strip():
            db.execute(statement)


# The key that identifies a row of each table: a new row with the key of a stored one is refused, which closes the
# path that UPDATE and DELETE triggers leave open (INSERT OR REPLACE deletes the old row without firing them).
_KEYS = {
    "visits": ("id",),
    "utterances": ("visit_id", "seq"),
    "utterance_corrections": ("id",),
    "chart_versions": ("visit_id", "version"),
    "edits": ("id",),
    "audit": ("id",),
}


def _step_2(db: sqlite3.Connection) -> None:
    """Nothing stored can be rewritten: no REPLACE on any table, and visits are append-only too."""
    for table, key in _KEYS.items():
        db.execute(_refuse_replace(table, key, if_absent=True))
    for verb in ("UPDATE", "DELETE"):
        db.execute(_refuse(verb, "visits", if_absent=True))


# Step 3: who the visit is for, the patient's consent, and signed chart versions. Identity is kept as rows, one per
# change (the latest row of a visit wins when read), so a corrected birth date never overwrites the one it corrects.
_SCHEMA_3 = """
CREATE TABLE chart_versions_3 (
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    version     INTEGER NOT NULL,
    chart       TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('model', 'edit', 'sign')),
    author      TEXT NOT NULL,
    model       TEXT NOT NULL DEFAULT '',
    seconds     REAL NOT NULL DEFAULT 0,
    utterances  INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed', 'amended')),
    signed_by_id   TEXT,                       -- the practitioner who signed (status 'signed' only)
    signed_by_name TEXT,
    signed_at   TEXT,
    PRIMARY KEY (visit_id, version)
);
INSERT INTO chart_versions_3 (visit_id, version, chart, source, author, model, seconds, utterances, created_at)
    SELECT visit_id, version, chart, source, author, model, seconds, utterances, created_at FROM chart_versions;
DROP TABLE chart_versions;
ALTER TABLE chart_versions_3 RENAME TO chart_versions;
CREATE TABLE visit_patients (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    patient_id  TEXT,                           -- the clinic system's id; NULL: not given
    name        TEXT,
    birth_date  TEXT,                           -- YYYY-MM-DD
    sex         TEXT CHECK (sex IN ('male', 'female', 'other', 'unknown')),
    author      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX visit_patients_visit ON visit_patients (visit_id);
CREATE TABLE visit_encounters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    date        TEXT,                           -- YYYY-MM-DD
    department  TEXT,
    doctor      TEXT,
    author      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX visit_encounters_visit ON visit_encounters (visit_id);
CREATE TABLE visit_consents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    visit_id    TEXT NOT NULL REFERENCES visits(id),
    given       INTEGER NOT NULL CHECK (given IN (0, 1)),
    given_by    TEXT,                           -- 患者本人, 家族 …
    given_at    TEXT NOT NULL,                  -- when consent was given (the server's time when not told)
    author      TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX visit_consents_visit ON visit_consents (visit_id);
"""
_KEYS_3 = {
    "chart_versions": ("visit_id", "version"),
    "visit_patients": ("id",),
    "visit_encounters": ("id",),
    "visit_consents": ("id",),
}


def _step_3(db: sqlite3.Connection) -> None:
    """Patient, encounter and consent rows; chart versions gain a status and a signature (source 'sign').

    SQLite cannot change a CHECK in place, so chart_versions is rebuilt: every row copied as it was (status
    'draft': nothing was signed before this step), the old table dropped, the new one renamed, and its
    append-only triggers (dropped with the old table) made again. `migrate` runs steps with foreign keys off,
    as SQLite's procedure for this requires, and checks them before the step commits.
    """
    for statement in _SCHEMA_3.split(";\n"):
        if statement.strip():
            db.execute(statement)
    for table, key in _KEYS_3.items():
        db.execute(_refuse_replace(table, key))
        for verb in ("UPDATE", "DELETE"):
            db.execute(_refuse(verb, table))
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise InputError(f"the visit database has {len(broken)} rows whose references are broken; not migrating")


# Step 4: the recogniser's guess at who spoke, kept with the utterance: how sure (0–1) and whether it was shown as
# sure. NULL in both: a label a person gave (typed, pasted, or an utterance stored before this step). ADD COLUMN
# changes the schema only: no stored row is rewritten and the append-only triggers stay as they are.
_GUESS_COLUMNS = (
    "speaker_confidence REAL CHECK (speaker_confidence BETWEEN 0 AND 1)",
    "speaker_sure INTEGER CHECK (speaker_sure IN (0, 1))",
)


def _step_4(db: sqlite3.Connection) -> None:
    """Utterances gain speaker_confidence and speaker_sure (NULL for every row stored before)."""
    for column in _GUESS_COLUMNS:
        db.execute(f"ALTER TABLE utterances ADD COLUMN {column}")


STEPS: tuple[Callable[[sqlite3.Connection], None], ...] = (_step_1, _step_2, _step_3, _step_4)
LATEST = len(STEPS)


def _down_2(db: sqlite3.Connection) -> None:
    """Back to step 1: the triggers step 2 added go; no row is touched."""
    for table in _KEYS:
        db.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
    for verb in ("update", "delete"):
        db.execute(f"DROP TRIGGER IF EXISTS visits_no_{verb}")


def _down_1(db: sqlite3.Connection) -> None:
    """Back to an empty file: only when no table holds a row (a down step never loses what was stored)."""
    refuse_if_stored(db, [*_KEYS], 1)
    for table in reversed([*_KEYS]):  # referencing tables first
        db.execute(f"DROP TABLE IF EXISTS {table}")


# DOWN[N-1] takes a database at version N back to N-1. A step whose tables hold rows is not undone: going back past
# stored visits is a restore from a backup, never a DROP (kogata keeps what it stored).
def _down_3(db: sqlite3.Connection) -> None:
    """Back to step 2: identity tables go, chart_versions loses status and signature (made again as step 1 made
    it, with its step-1 and step-2 triggers); only when none of them holds a row."""
    refuse_if_stored(db, ["chart_versions", *(t for t in _KEYS_3 if t != "chart_versions")], 3)
    for table in ("visit_consents", "visit_encounters", "visit_patients", "chart_versions"):
        db.execute(f"DROP TABLE {table}")
    (create,) = [s for s in _SCHEMA_1.split(";\n") if "EXISTS chart_versions" in s]
    db.execute(create)
    for verb in ("UPDATE", "DELETE"):
        db.execute(_refuse(verb, "chart_versions"))
    db.execute(_refuse_replace("chart_versions", _KEYS["chart_versions"]))


def refuse_if_guessed(db: sqlite3.Connection | Any) -> None:
    """Refuse to undo step 4 while an utterance holds a guess: dropping the columns would lose it."""
    if db.execute(
        "SELECT EXISTS (SELECT 1 FROM utterances WHERE speaker_confidence IS NOT NULL OR speaker_sure IS NOT NULL)"
    ).fetchone()[0]:
        raise InputError(
            "cannot undo schema step 4: utterances hold the recogniser's speaker guesses; going back past stored "
            "guesses is a restore from a backup, not a migration"
        )


def _down_4(db: sqlite3.Connection) -> None:
    """Back to step 3: the guess columns go, only when no utterance holds a guess (rows without one lose nothing)."""
    refuse_if_guessed(db)
    for column in reversed(_GUESS_COLUMNS):
        db.execute(f"ALTER TABLE utterances DROP COLUMN {column.split()[0]}")


DOWN: tuple[Callable[[sqlite3.Connection], None], ...] = (_down_1, _down_2, _down_3, _down_4)


def refuse_if_stored(db: sqlite3.Connection | Any, tables: list[str], step: int) -> None:
    """Refuse to undo `step` while any of `tables` holds a row (sqlite3 or psycopg: the SQL is the same)."""
    held = [t for t in tables if db.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0]]
    if held:
        raise InputError(
            f"cannot undo schema step {step}: {', '.join(held)} hold stored rows; going back past stored visits "
            "is a restore from a backup, not a migration"
        )


def version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, *, name: str = "the visit database", to: int | None = None) -> int:
    """Apply the steps `db` lacks (or, with `to` below its version, undo steps down to `to`), one transaction a
    step with its stamp; the version it ends at.

    `db` must be in autocommit mode (isolation_level=None). A database from a newer kogata is refused.
    Foreign keys are off while the steps run (a step may rebuild a table others refer to) and restored after.
    """
    target = LATEST if to is None else to
    if not 0 <= target <= LATEST:
        raise InputError(f"schema version {target} does not exist (0–{LATEST})")
    foreign_keys = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys=OFF")  # outside a transaction: inside one SQLite ignores it
    try:
        return _run_steps(db, name, target)
    finally:
        db.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")


def _run_steps(db: sqlite3.Connection, name: str, target: int) -> int:
    while True:
        db.execute("BEGIN IMMEDIATE")  # re-read under the write lock: another process may have migrated
        try:
            current = version(db)
            if current > LATEST:
                raise InputError(
                    f"{name} is at schema version {current}, newer than this kogata knows ({LATEST}); "
                    "upgrade kogata to open it"
                )
            if current < target:
                STEPS[current](db)
                db.execute(f"PRAGMA user_version = {current + 1}")
            elif current > target:
                DOWN[current - 1](db)
                db.execute(f"PRAGMA user_version = {current - 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if current == target:
            return current
