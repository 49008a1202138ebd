"""The visit store: append-only history, versions never overwritten, edits with author, durable commits."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kogata.errors import InputError
from kogata.store import ConflictError, NotFoundError, VisitStore, chart_diff, visit_transcript


def chart(*lines: str) -> dict:
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


@pytest.fixture
def store(tmp_path):
    s = VisitStore(tmp_path / "visits.sqlite3")
    yield s
    s.close()


def test_wal_mode_and_append_only_tables(store):
    visit = store.create_visit(actor="t")
    store.add_utterance(visit.id, "患者", "熱があります", actor="t")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for sql in (
        "UPDATE utterances SET text = 'x'",
        "DELETE FROM utterances",
        "UPDATE chart_versions SET chart = '{}'",
        "DELETE FROM chart_versions",
        "DELETE FROM audit",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


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
    original = sqlite3.connect(store.path).execute("SELECT speaker FROM utterances").fetchone()[0]
    assert original == "医師"
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


def test_a_killed_writer_loses_no_committed_utterance(tmp_path):
    path = tmp_path / "v.sqlite3"
    code = f"""
import os, signal
from kogata.store import VisitStore
s = VisitStore({str(path)!r})
v = s.create_visit(actor="t")
for i in range(5):
    s.add_utterance(v.id, "患者", f"発言{{i}}です", actor="t")
print(v.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == -9
    visit_id = run.stdout.strip()
    texts = [u.text for u in VisitStore(path).utterances(visit_id)]
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


def _stored(tmp_path) -> Path:
    """A database with one row in every table, closed: what an intruder with the file and sqlite3 would find."""
    path = tmp_path / "visits.sqlite3"
    store = VisitStore(path)
    visit = store.create_visit(
        actor="dr",
        patient={"id": "P-1", "name": "山田 太郎", "birth_date": "1960-04-01", "sex": "male"},
        encounter={"date": "2026-12-07", "department": "内科", "doctor": "dr"},
        consent={"given": True, "by": "患者本人"},
    )
    store.add_utterance(visit.id, "患者", "頭が痛いです", actor="asr")
    store.correct_utterance(visit.id, 1, author="dr", speaker="家族")
    store.add_chart_version(visit.id, chart("頭痛あり。"), source="model", author="kogata")
    store.add_chart_version(visit.id, chart("頭痛あり（編集）。"), source="edit", author="dr", base_version=1)
    store.sign_chart(visit.id, practitioner={"id": "dr", "name": "佐藤 花子"}, base_version=2)
    store.close()
    return path


REWRITES = [
    "INSERT OR REPLACE INTO visits (id, created_at, created_by, title) SELECT id, created_at, 'x', 'x' FROM visits",
    "REPLACE INTO utterances SELECT visit_id, seq, speaker, 'rewritten', start_s, end_s, received_at, received_by "
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
    "INSERT INTO utterances SELECT visit_id, seq, speaker, 'x', start_s, end_s, received_at, received_by "
    "FROM utterances WHERE true ON CONFLICT (visit_id, seq) DO UPDATE SET text = 'x'",
    "UPDATE utterances SET text = 'x'",
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


def test_an_edit_without_its_base_version_is_refused(tmp_path):
    store = VisitStore(tmp_path / "v.sqlite3")
    visit = store.create_visit(actor="dr")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    with pytest.raises(InputError, match="base_version"):
        store.add_chart_version(visit.id, chart("発熱なし。"), source="edit", author="dr")
    assert [v.version for v in store.chart_versions(visit.id)] == [1]
