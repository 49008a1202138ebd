"""The visit store: append-only history, versions never overwritten, edits with author, durable commits.

Every test that takes `where` (or `store`) runs twice: on SQLite and on a real PostgreSQL (tests/conftest.py starts
one), so both backends pass the same tests. The tests of raw SQL an intruder could send are per backend: SQLite's
REPLACE and PRAGMA, PostgreSQL's TRUNCATE, ON CONFLICT and a role's privileges.
"""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from stores import chart, raw, refused

from kogata.errors import InputError
from kogata.store import ConflictError, NotFoundError, VisitStore, chart_diff, open_store, visit_transcript


def test_append_only_tables(store):
    visit = store.create_visit(actor="t")
    store.add_utterance(visit.id, "患者", "熱があります", actor="t")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    with raw(store) as db:
        for sql in (
            "UPDATE utterances SET text = 'x'",
            "DELETE FROM utterances",
            "UPDATE chart_versions SET chart = '{}'",
            "DELETE FROM chart_versions",
            "DELETE FROM audit",
            "UPDATE visits SET title = 'x'",
            "DELETE FROM visits",
        ):
            with pytest.raises(refused(), match="append-only"):
                db.execute(sql)


def test_sqlite_is_in_wal_mode(tmp_path):
    store = VisitStore(tmp_path / "visits.sqlite3")
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_versions_are_new_rows_and_edits_record_who_and_what(store):
    visit = store.create_visit(actor="reception")
    store.add_utterance(visit.id, "医師", "どうされましたか", actor="asr")
    store.add_utterance(visit.id, "患者", "三日前から熱があります", actor="asr")
    first = store.add_chart_version(
        visit.id, chart("発熱あり。"), source="model", author="kogata", model="small", utterances=2
    )
    edited = store.add_chart_version(
        visit.id, chart("3日前から発熱あり。"), source="edit", author="dr.yamada", base_version=1
    )
    assert (first.version, edited.version) == (1, 2)
    versions = store.chart_versions(visit.id)
    assert [v.chart["soap"]["S"][0]["text"] for v in versions] == ["発熱あり。", "3日前から発熱あり。"]  # v1 intact
    (edit,) = store.edits(visit.id)
    assert edit["author"] == "dr.yamada" and edit["version"] == 2 and edit["base_version"] == 1 and edit["at"]
    assert edit["what"] == {"soap": {"S": {"removed": ["発熱あり。"], "added": ["3日前から発熱あり。"]}}}
    with pytest.raises(ConflictError, match="version 2 is the latest"):  # someone edited in between
        store.add_chart_version(visit.id, chart("別の編集"), source="edit", author="dr.b", base_version=1)
    record = store.record(visit.id)
    assert len(record["utterances"]) == 2 and len(record["versions"]) == 2 and len(record["edits"]) == 1


def test_corrections_keep_the_original(store):
    visit = store.create_visit(actor="t")
    store.add_utterance(visit.id, "医師", "熱はありますか", actor="asr")
    fixed = store.correct_utterance(visit.id, 1, author="dr", speaker="看護師")
    assert fixed.speaker == "看護師" and fixed.corrected
    with raw(store) as db:
        assert db.execute("SELECT speaker FROM utterances").fetchone()[0] == "医師"
    with pytest.raises(NotFoundError):
        store.correct_utterance(visit.id, 5, author="dr", speaker="患者")


def test_bad_input_and_unknown_visits(store):
    visit = store.create_visit(actor="t")
    with pytest.raises(InputError, match="empty"):
        store.add_utterance(visit.id, "患者", "  ", actor="t")
    with pytest.raises(InputError, match="speaker"):
        store.add_utterance(visit.id, "", "熱です", actor="t")
    with pytest.raises(NotFoundError, match="no visit"):
        store.add_utterance("nope", "患者", "熱です", actor="t")
    with pytest.raises(InputError, match="no utterances"):
        visit_transcript(store, visit.id)
    with pytest.raises(NotFoundError, match="no chart"):
        store.chart_version(visit.id)


def test_transcript_ids_are_stored_seq_numbers(store):
    visit = store.create_visit(actor="t")
    for speaker, text in [("医師", "今日はどうされましたか"), ("患者", "咳が出ます"), ("医師", "熱はありますか")]:
        store.add_utterance(visit.id, speaker, text, actor="t")
    transcript = visit_transcript(store, visit.id)
    assert [(u.id, u.speaker, u.text) for u in transcript.utterances] == [
        (1, "医師", "今日はどうされましたか"),
        (2, "患者", "咳が出ます"),
        (3, "医師", "熱はありますか"),
    ]


def test_audit_log_holds_no_patient_text(store):
    visit = store.create_visit(actor="dr")
    store.add_utterance(visit.id, "患者", "田中です、電話は090-1234-5678", actor="asr")
    store.audit("visit.export", actor="dr", visit_id=visit.id, detail="format=md mask=true")
    log = store.audit_log(visit.id)
    assert [a["action"] for a in log] == ["visit.create", "utterance.append", "visit.export"]
    # whole values only: a random visit id or a timestamp may well contain "090"
    said = ("田中", "090-1234-5678", "1234-5678")
    assert not any(x in str(value) for a in log for value in a.values() for x in said)


def test_a_killed_writer_loses_no_committed_utterance(where):
    code = f"""
import os, signal
from kogata.store import open_store
s = open_store({str(where)!r})
v = s.create_visit(actor="t")
for i in range(5):
    s.add_utterance(v.id, "患者", f"発言{{i}}です", actor="t")
print(v.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == -9
    visit_id = run.stdout.strip()
    store = open_store(where)
    texts = [u.text for u in store.utterances(visit_id)]
    store.close()
    assert texts == [f"発言{i}です" for i in range(5)]


def test_chart_diff_names_changed_fields():
    old, new = chart("a"), chart("a")
    new["medications"] = [{"name": "x"}]
    assert chart_diff(old, new) == {"fields": ["medications"]}


# ── migrations ────────────────────────────────────────────────────────────────────────────────────────────────


def _schema(path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    finally:
        db.close()


def test_a_fresh_database_and_one_made_before_migrations_end_alike(tmp_path):
    from kogata.store import migrations

    fresh = tmp_path / "fresh.sqlite3"
    VisitStore(fresh).close()
    # what the code before numbered migrations did on open: the same statements as one script, no version stamp
    old = tmp_path / "old.sqlite3"
    db = sqlite3.connect(old, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(migrations._SCHEMA_1 + migrations._triggers())
    db.execute("INSERT INTO visits (id, created_at, created_by) VALUES ('v1', '2026-01-01', 'dr')")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()
    before = _schema(old)

    store = VisitStore(old)
    assert [v.id for v in store.visits()] == ["v1"]  # opened unchanged, its rows kept
    store.close()
    VisitStore(old).close()  # a second open applies nothing
    for path in (fresh, old):
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
        db.close()
    # every table, index and trigger is still there (step 3 rebuilt chart_versions, so its definition changed)
    assert _schema(old) == _schema(fresh) and {r[:2] for r in before} <= {r[:2] for r in _schema(old)}


def test_a_database_from_a_newer_kogata_is_refused(tmp_path):
    from kogata.store import migrations

    path = tmp_path / "newer.sqlite3"
    VisitStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="newer than this kogata"):
        VisitStore(path)


def _fill_and_close(store) -> None:
    """One row in every table: a visit with identity and consent, an utterance and its correction, a drafted,
    an edited and a signed chart version; then the store is closed."""
    visit = store.create_visit(
        actor="dr",
        patient={"id": "P-1", "name": "山田 太郎", "birth_date": "1960-04-01", "sex": "male"},
        encounter={"date": "2026-12-07", "department": "内科", "doctor": "dr"},
        consent={"given": True, "by": "患者本人"},
    )
    store.add_utterance(visit.id, "患者", "頭が痛いです", actor="asr", speaker_confidence=0.55, speaker_sure=False)
    store.correct_utterance(visit.id, 1, author="dr", speaker="家族")
    store.add_chart_version(visit.id, chart("頭痛あり。"), source="model", author="kogata")
    store.add_chart_version(visit.id, chart("頭痛あり（編集）。"), source="edit", author="dr", base_version=1)
    store.sign_chart(visit.id, practitioner={"id": "dr", "name": "佐藤 花子"}, base_version=2)
    store.close()


def _stored(tmp_path) -> Path:
    """A database with one row in every table, closed: what an intruder with the file and sqlite3 would find."""
    path = tmp_path / "visits.sqlite3"
    _fill_and_close(VisitStore(path))
    return path


REWRITES = [
    "INSERT OR REPLACE INTO visits (id, created_at, created_by, title) SELECT id, created_at, 'x', 'x' FROM visits",
    "REPLACE INTO utterances SELECT visit_id, seq, speaker, 'rewritten', start_s, end_s, received_at, received_by, "
    "speaker_confidence, speaker_sure FROM utterances",
    "REPLACE INTO utterances SELECT visit_id, seq, speaker, text, start_s, end_s, received_at, received_by, 1.0, 1 "
    "FROM utterances",
    "INSERT OR REPLACE INTO utterance_corrections (id, visit_id, seq, speaker, text, author, at) "
    "SELECT id, visit_id, seq, '医師', text, author, at FROM utterance_corrections",
    "INSERT OR REPLACE INTO chart_versions SELECT visit_id, version, '{}', source, author, model, seconds, "
    "utterances, created_at, status, signed_by_id, signed_by_name, signed_at FROM chart_versions",
    "INSERT OR REPLACE INTO chart_versions SELECT visit_id, version, chart, source, author, model, seconds, "
    "utterances, created_at, 'draft', NULL, NULL, NULL FROM chart_versions WHERE status = 'signed'",
    "INSERT OR REPLACE INTO visit_patients SELECT id, visit_id, patient_id, '別人', birth_date, sex, author, at "
    "FROM visit_patients",
    "INSERT OR REPLACE INTO visit_encounters SELECT id, visit_id, '2020-01-01', department, doctor, author, at "
    "FROM visit_encounters",
    "INSERT OR REPLACE INTO visit_consents SELECT id, visit_id, 0, given_by, given_at, author, at FROM visit_consents",
    "INSERT INTO visit_patients SELECT * FROM visit_patients WHERE true ON CONFLICT (id) DO UPDATE SET name = 'x'",
    "UPDATE visit_patients SET birth_date = '1999-01-01'",
    "UPDATE visit_encounters SET date = '2020-01-01'",
    "UPDATE visit_consents SET given = 0",
    "UPDATE chart_versions SET status = 'draft'",
    "INSERT OR REPLACE INTO edits (id, visit_id, version, base_version, author, at, what) "
    "SELECT id, visit_id, version, base_version, 'x', at, '{}' FROM edits",
    "INSERT OR REPLACE INTO audit (id, at, actor, action, visit_id, detail) SELECT id, at, 'x', action, visit_id, "
    "'' FROM audit",
    "UPDATE visits SET title = 'x'",
    "DELETE FROM visits",
    "INSERT INTO utterances SELECT visit_id, seq, speaker, 'x', start_s, end_s, received_at, received_by, "
    "speaker_confidence, speaker_sure FROM utterances WHERE true ON CONFLICT (visit_id, seq) DO UPDATE SET text = 'x'",
    "UPDATE utterances SET text = 'x'",
    "UPDATE utterances SET speaker_sure = 1",
    "UPDATE utterance_corrections SET speaker = '医師'",
    "UPDATE chart_versions SET chart = '{}'",
    "UPDATE edits SET author = 'x'",
    "UPDATE audit SET actor = 'x'",
] + [
    f"DELETE FROM {table}"
    for table in (
        "utterances",
        "utterance_corrections",
        "chart_versions",
        "edits",
        "audit",
        "visit_patients",
        "visit_encounters",
        "visit_consents",
    )
]


@pytest.mark.parametrize("sql", REWRITES)
def test_no_path_rewrites_what_is_stored_through_plain_sqlite3(tmp_path, sql):
    path = _stored(tmp_path)
    before = _dump(path)
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(sql)
    db.close()
    assert _dump(path) == before


def _dump(path: Path) -> dict:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}
    finally:
        db.close()


def test_an_edit_without_its_base_version_is_refused(store):
    visit = store.create_visit(actor="dr")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    with pytest.raises(InputError, match="base_version"):
        store.add_chart_version(visit.id, chart("発熱なし。"), source="edit", author="dr")
    assert [v.version for v in store.chart_versions(visit.id)] == [1]


# ── both backends: migrations up and down, concurrency between two stores on one database ────────────────────────


def test_migrations_go_down_and_up_again_on_an_empty_database(where):
    from kogata.store import migrations

    store = open_store(where)
    assert store.schema_version() == migrations.LATEST
    with raw(store) as db:
        fresh = _schema_of(db, store)
    for step in range(migrations.LATEST - 1, -1, -1):  # every down step, one at a time
        assert store.migrate(to=step) == step
    with raw(store) as db:  # at 0 no table of kogata's is left (PostgreSQL keeps its append-only step log)
        tables = _tables(db, store)
    assert not set(tables) & {"visits", "utterances", "chart_versions", "audit"}
    assert store.migrate() == migrations.LATEST
    with raw(store) as db:
        assert _schema_of(db, store) == fresh  # every table, column, constraint, index and trigger as before
    visit = store.create_visit(actor="t")  # the schema made again works
    store.add_utterance(visit.id, "患者", "熱です", actor="t")
    assert [u.text for u in store.utterances(visit.id)] == ["熱です"]
    store.close()


def test_a_down_step_never_drops_stored_rows(store):
    from kogata.store import migrations

    visit = store.create_visit(actor="t")
    store.add_utterance(visit.id, "患者", "頭が痛いです", actor="t")
    if migrations.LATEST > 1:
        store.migrate(to=1)  # the later steps hold no rows of their own here, or only triggers
    with pytest.raises(InputError, match="restore from a backup"):
        store.migrate(to=0)
    store.migrate()
    assert [u.text for u in store.utterances(visit.id)] == ["頭が痛いです"]


def test_two_stores_on_one_database_never_share_a_seq_or_a_version(where):
    """Two processes' stores (here two connections) writing one visit at once: seqs stay 1..N without a gap or a
    twin, and of two edits made on the same version exactly one is stored."""
    import threading

    one, two = open_store(where), open_store(where)
    visit = one.create_visit(actor="t")
    one.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    errors: list[Exception] = []
    outcomes: list[str] = []

    def append(store, n):
        try:
            for i in range(10):
                store.add_utterances(visit.id, [{"speaker": "患者", "text": f"{n}の{i}です"}] * 2, actor=str(n))
        except Exception as e:  # noqa: BLE001 (collected, asserted below)
            errors.append(e)

    def edit(store, n):
        try:
            store.add_chart_version(visit.id, chart(f"編集{n}"), source="edit", author=str(n), base_version=1)
            outcomes.append("stored")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=append, args=(s, n)) for n, s in enumerate((one, two, one, two))]
    threads += [threading.Thread(target=edit, args=(s, n)) for n, s in enumerate((one, two, one, two))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [u.seq for u in two.utterances(visit.id)] == list(range(1, 81))
    assert sorted(outcomes) == ["conflict"] * 3 + ["stored"]
    assert [v.version for v in one.chart_versions(visit.id)] == [1, 2]
    one.close()
    two.close()


def _schema_of(db, store) -> list[tuple]:
    if store.dialect == "sqlite":
        return sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    queries = (
        "SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name "
        "FROM information_schema.columns WHERE table_schema = 'public'",
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
        "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
    )
    return sorted(tuple(map(str, row)) for sql in queries for row in db.execute(sql).fetchall())


def _tables(db, store) -> list[str]:
    if store.dialect == "sqlite":
        return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


# ── PostgreSQL only: what plain SQL on its URL may not do ─────────────────────────────────────────────────────────


def _stored_pg(url: str) -> str:
    _fill_and_close(open_store(url))
    return url


PG_COLUMN = {  # a column of each table to rewrite
    "visits": "title",
    "utterances": "text",
    "utterance_corrections": "speaker",
    "chart_versions": "chart",
    "edits": "author",
    "audit": "actor",
    "visit_patients": "name",
    "visit_encounters": "date",
    "visit_consents": "given",
    "kogata_schema": "version",
}
PG_TABLES = tuple(PG_COLUMN)
PG_REWRITES = [
    *(f"UPDATE {t} SET {c} = {c}" for t, c in PG_COLUMN.items()),
    *(f"DELETE FROM {t}" for t in PG_TABLES),
    *(f"TRUNCATE {t} CASCADE" for t in PG_TABLES),
    "UPDATE utterances SET speaker_sure = 1",
    "INSERT INTO visits SELECT * FROM visits ON CONFLICT (id) DO UPDATE SET title = 'x'",
    "INSERT INTO utterances SELECT * FROM utterances ON CONFLICT (visit_id, seq) DO UPDATE SET text = 'x'",
    "INSERT INTO chart_versions SELECT * FROM chart_versions ON CONFLICT (visit_id, version) "
    "DO UPDATE SET chart = '{}'",
    "INSERT INTO chart_versions SELECT * FROM chart_versions WHERE status = 'signed' ON CONFLICT (visit_id, version) "
    "DO UPDATE SET status = 'draft'",
    "INSERT INTO visit_patients OVERRIDING SYSTEM VALUE SELECT * FROM visit_patients ON CONFLICT (id) "
    "DO UPDATE SET name = '別人'",
    "MERGE INTO utterances u USING utterances s ON u.visit_id = s.visit_id AND u.seq = s.seq "
    "WHEN MATCHED THEN UPDATE SET text = 'x'",
]


@pytest.mark.parametrize("sql", PG_REWRITES)
def test_no_path_rewrites_what_is_stored_through_plain_postgresql(pg_url, sql):
    url = _stored_pg(pg_url)
    before = _dump_pg(url)
    with raw(url) as db, pytest.raises(refused(), match="append-only"):
        db.execute(sql)
    assert _dump_pg(url) == before


def _dump_pg(url: str) -> dict:
    with raw(url) as db:
        return {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}").fetchall())) for t in PG_TABLES}


def test_a_postgresql_role_with_select_and_insert_only_runs_kogata_and_cannot_lift_the_guard(pg_url):
    """kogata run as a role that does not own the tables (docs/deploy.md) can do all it does, and nothing that would
    let it rewrite a row: disabling a trigger, dropping a table, altering one."""
    import psycopg

    _stored_pg(pg_url)  # migrated by the owner
    with raw(pg_url) as db:
        db.execute("CREATE ROLE kogata_app LOGIN")
        db.execute("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO kogata_app")
        db.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO kogata_app")
    app_url = pg_url.replace("postgresql://postgres@", "postgresql://kogata_app@")
    store = open_store(app_url)
    visit = store.create_visit(actor="dr")
    store.add_utterance(visit.id, "患者", "熱があります", actor="asr")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    assert store.chart_version(visit.id).version == 1
    store.close()
    with raw(app_url) as db:
        for sql in (
            "ALTER TABLE utterances DISABLE TRIGGER ALL",
            "DROP TRIGGER utterances_append_only ON utterances",
            "DROP TABLE audit",
            "ALTER TABLE chart_versions DROP CONSTRAINT chart_versions_pkey",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                db.execute(sql)


def test_postgresql_from_a_newer_kogata_is_refused_and_an_unreachable_one_is_a_clear_error(pg_url):
    from kogata.store import StoreUnavailable, migrations_pg

    open_store(pg_url).close()
    with raw(pg_url) as db:
        db.execute("INSERT INTO kogata_schema (version, direction) VALUES (%s, 'up')", (migrations_pg.LATEST + 1,))
    with pytest.raises(InputError, match="newer than this kogata"):
        open_store(pg_url)
    dead = "postgresql://kogata:secret@127.0.0.1:1/nothing"
    with pytest.raises(StoreUnavailable, match="unreachable") as caught:
        open_store(dead)
    assert "secret" not in str(caught.value)  # the password never appears


def test_a_value_postgresql_cannot_hold_is_a_clear_input_error(where):
    """A NUL character (PostgreSQL's text cannot hold one) is refused on both backends alike, before a write."""
    store = open_store(where)
    visit = store.create_visit(actor="t")
    with pytest.raises(InputError):
        store.add_utterance(visit.id, "患者", "熱\x00です", actor="t")
    with pytest.raises(InputError):
        store.create_visit(actor="t", title="題\x00名")
    assert store.utterances(visit.id) == []
    store.close()
