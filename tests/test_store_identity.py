"""Visit identity (patient, encounter, consent), signing and amending: new rows only, latest wins, nothing lost.

The tests that take `store` run on both backends (SQLite and PostgreSQL: the `where` fixture in conftest.py)."""

import io
import logging
import sqlite3
import time

import pytest
from stores import chart, execute, raw, refused

from kogata.privacy import masking_handler
from kogata.store import ConflictError, FieldError, Patient, Practitioner, VisitStore, migrations, open_store

PATIENT = {"id": "P-000123", "name": "山田 太郎", "birth_date": "1960-04-01", "sex": "male"}
ENCOUNTER = {"date": "2026-12-07", "department": "内科", "doctor": "dr.sato"}
SIGNER = {"id": "dr.sato", "name": "佐藤 花子"}


def test_a_visit_keeps_the_identity_it_was_created_with(store):
    visit = store.create_visit(
        actor="reception", title="初診", patient=PATIENT, encounter=ENCOUNTER, consent={"given": True, "by": "患者本人"}
    )
    assert visit.patient == Patient("P-000123", "山田 太郎", "1960-04-01", "male")
    assert visit.encounter.department == "内科" and visit.encounter.date == "2026-12-07"
    assert visit.consent.given is True and visit.consent.by == "患者本人" and visit.consent.at  # the server's time
    assert (visit.status, visit.latest_version) == ("empty", None)
    record = store.record(visit.id)
    assert record["patient"] == PATIENT and record["encounter"] == ENCOUNTER and record["status"] == "empty"
    bare = store.create_visit(actor="reception", patient={}, encounter={"department": ""})
    assert (bare.patient, bare.encounter, bare.consent) == (None, None, None)  # an empty group is not given


def test_identity_changes_are_new_rows_and_the_latest_wins(store):
    visit = store.create_visit(actor="reception", patient=PATIENT)
    store.set_identity(visit.id, actor="dr.sato", patient={**PATIENT, "birth_date": "1960-04-02"})
    again = store.set_identity(visit.id, actor="dr.sato", encounter=ENCOUNTER, consent={"given": False})
    assert again.patient.birth_date == "1960-04-02" and again.consent.given is False
    stored = execute(store, "SELECT birth_date, author FROM visit_patients ORDER BY id")
    assert stored == [("1960-04-01", "reception"), ("1960-04-02", "dr.sato")]  # the first row is kept
    changes = store.identity_history(visit.id)
    assert [(c["group"], c["author"]) for c in changes] == [
        ("patient", "reception"),
        ("patient", "dr.sato"),
        ("encounter", "dr.sato"),
        ("consent", "dr.sato"),
    ]
    assert [a["action"] for a in store.audit_log(visit.id)] == ["visit.create", "visit.identity", "visit.identity"]
    assert "山田" not in str(store.audit_log(visit.id))  # the audit log names groups, never values
    with pytest.raises(FieldError):
        store.set_identity(visit.id, actor="dr")  # nothing to record


def test_sign_amend_and_sign_again(store):
    visit = store.create_visit(actor="dr")
    with pytest.raises(ConflictError, match="no chart yet"):
        store.sign_chart(visit.id, practitioner=SIGNER, base_version=0)
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    with pytest.raises(ConflictError, match="latest"):
        store.sign_chart(visit.id, practitioner=SIGNER, base_version=0)  # stale, as for edits
    signed = store.sign_chart(visit.id, practitioner=SIGNER, base_version=1)
    assert (signed.version, signed.status, signed.source, signed.author) == (2, "signed", "sign", "dr.sato")
    assert signed.signed_by == Practitioner("dr.sato", "佐藤 花子") and signed.signed_at == signed.created_at
    assert signed.chart == store.chart_version(visit.id, 1).chart
    assert store.visit(visit.id).status == "signed" and store.visit(visit.id).latest_version == 2
    with pytest.raises(ConflictError, match="already signed"):
        store.sign_chart(visit.id, practitioner=SIGNER, base_version=2)

    edit = store.add_chart_version(visit.id, chart("38℃の発熱あり。"), source="edit", author="dr.sato", base_version=2)
    more = store.add_chart_version(visit.id, chart("38℃の発熱。"), source="edit", author="dr.sato", base_version=3)
    redraft = store.add_chart_version(visit.id, chart("発熱。"), source="model", author="kogata")
    assert [edit.status, more.status, redraft.status] == ["amended"] * 3
    assert store.edits(visit.id)[0]["what"]["soap"]["S"]["removed"] == ["発熱あり。"]  # diffed against the signed one
    resigned = store.sign_chart(visit.id, practitioner={"name": "佐藤 花子"}, base_version=5)
    assert (resigned.status, resigned.author, resigned.signed_by.id) == ("signed", "佐藤 花子", None)

    history = store.history(visit.id)
    assert [(h["version"], h["status"], h["source"]) for h in history] == [
        (1, "draft", "model"),
        (2, "signed", "sign"),
        (3, "amended", "edit"),
        (4, "amended", "edit"),
        (5, "amended", "model"),
        (6, "signed", "sign"),
    ]
    assert set(history[0]) == {"version", "status", "source", "author", "created_at", "signed_by", "signed_at"}
    assert history[1]["signed_by"] == SIGNER and history[0]["signed_by"] is None
    assert store.record(visit.id)["versions"][1]["status"] == "signed"
    assert [a["action"] for a in store.audit_log(visit.id)].count("chart.sign") == 2


def test_a_new_draft_before_any_signature_stays_a_draft(store):
    visit = store.create_visit(actor="dr")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    edit = store.add_chart_version(visit.id, chart("発熱。"), source="edit", author="dr", base_version=1)
    assert edit.status == "draft" and store.visit(visit.id).status == "draft"


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"patient": {"birth_date": "1960/04/01"}}, "patient.birth_date"),
        ({"patient": {"birth_date": "1960-02-30"}}, "patient.birth_date"),
        ({"patient": {"birth_date": "19600401"}}, "patient.birth_date"),
        ({"patient": {"birth_date": "2999-01-01"}}, "patient.birth_date"),
        ({"patient": {"sex": "M"}}, "patient.sex"),
        ({"patient": {"name": "山" * 101}}, "patient.name"),
        ({"patient": {"id": "x" * 65}}, "patient.id"),
        ({"patient": {"id": 123}}, "patient.id"),
        ({"patient": {"name": "山田\n太郎"}}, "patient.name"),
        ({"patient": {"name": "\ud800"}}, "patient.name"),
        ({"patient": {"nickname": "たろう"}}, "patient"),
        ({"patient": "山田"}, "patient"),
        ({"encounter": {"date": "12/07"}}, "encounter.date"),
        ({"encounter": {"department": "内" * 61}}, "encounter.department"),
        ({"consent": {"by": "本人"}}, "consent.given"),
        ({"consent": {"given": "yes"}}, "consent.given"),
        ({"consent": {"given": True, "at": "yesterday"}}, "consent.at"),
    ],
)
def test_bad_identity_names_its_field_and_stores_nothing(store, kwargs, param):
    with pytest.raises(FieldError) as e:
        store.create_visit(actor="dr", **kwargs)
    assert e.value.param == param
    assert store.visits() == []


def test_a_signature_needs_a_practitioner_and_a_base_version(store):
    visit = store.create_visit(actor="dr")
    store.add_chart_version(visit.id, chart("発熱あり。"), source="model", author="kogata")
    for practitioner, base, param in (({}, 1, "practitioner.id"), (SIGNER, None, "base_version")):
        with pytest.raises(FieldError) as e:
            store.sign_chart(visit.id, practitioner=practitioner, base_version=base)
        assert e.value.param == param
    assert len(store.chart_versions(visit.id)) == 1


@pytest.fixture
def tokyo(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_visits_of_a_day_by_encounter_date_else_local_creation_day(store, tokyo):
    dated = store.create_visit(actor="dr", encounter={"date": "2026-12-07"})
    moved = store.create_visit(actor="dr", encounter={"date": "2026-12-07"})
    store.set_identity(moved.id, actor="dr", encounter={"date": "2026-12-08", "department": "内科"})
    undated = store.create_visit(actor="dr")
    today = time.strftime("%Y-%m-%d")  # local (Tokyo) day the undated visit was created

    def day(date: str) -> set[str]:
        return {v.id for v in store.visits(date=date)}

    assert day("2026-12-07") - {undated.id} == {dated.id}  # moved's latest encounter is on the 8th
    assert day("2026-12-08") - {undated.id} == {moved.id}
    assert undated.id in day(today) and undated.id not in day("2026-12-01")
    # a visit created at 23:30 UTC on the 6th is on the 7th in Tokyo
    execute(
        store, "INSERT INTO visits (id, created_at, created_by) VALUES ('late', '2026-12-06T23:30:00.000+00:00', 'dr')"
    )
    execute(
        store, "INSERT INTO visits (id, created_at, created_by) VALUES ('early', '2026-12-06T14:59:00.000+00:00', 'dr')"
    )
    assert "late" in day("2026-12-07") and "early" not in day("2026-12-07") and "early" in day("2026-12-06")
    with pytest.raises(FieldError) as e:
        store.visits(date="12/07")
    assert e.value.param == "date"


def test_a_step_2_database_migrates_with_every_row_kept(tmp_path):
    path = tmp_path / "step2.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    migrations.STEPS[0](db)
    migrations.STEPS[1](db)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO visits (id, created_at, created_by) VALUES ('v1', '2026-12-01T00:00:00.000+00:00', 'dr')")
    for version, source in ((1, "model"), (2, "edit")):
        db.execute(
            "INSERT INTO chart_versions (visit_id, version, chart, source, author, created_at) "
            "VALUES ('v1', ?, ?, ?, 'dr', '2026-12-01T00:00:00.000+00:00')",
            (version, '{"soap": {}}', source),
        )
    db.execute(
        "INSERT INTO edits (visit_id, version, base_version, author, at, what) VALUES ('v1', 2, 1, 'dr', 'x', '{}')"
    )
    before = db.execute("SELECT * FROM chart_versions ORDER BY version").fetchall()
    db.close()

    store = VisitStore(path)
    assert store._backend._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # restored after the rebuild
    versions = store.chart_versions("v1")
    assert [(v.version, v.source, v.status, v.signed_by) for v in versions] == [
        (1, "model", "draft", None),
        (2, "edit", "draft", None),
    ]
    assert store.edits("v1")[0]["version"] == 2
    signed = store.sign_chart("v1", practitioner=SIGNER, base_version=2)
    assert signed.status == "signed"
    store.close()
    db = sqlite3.connect(path)
    after = db.execute("SELECT * FROM chart_versions ORDER BY version").fetchall()
    assert [row[:9] for row in after[:2]] == before  # the old rows, column for column
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE chart_versions SET chart = '{}'")  # the rebuilt table's triggers are back
    db.close()


def test_a_patient_given_as_fields_is_masked_in_later_log_lines(tmp_path):
    # once, not per backend: the log's memory of names is the process's, so a second run would find it filled
    store = VisitStore(tmp_path / "visits.sqlite3")
    stream = io.StringIO()
    logger = logging.getLogger("kogata.test_store_identity")
    logger.propagate = False
    logger.addHandler(masking_handler(stream))
    try:
        logger.warning("before: 鳥海 一郎 Q-998877")  # a bare name with no honorific is not detected on sight
        store.create_visit(actor="dr", patient={"id": "Q-998877", "name": "鳥海 一郎"})
        logger.warning("after: 鳥海 一郎 (鳥海一郎, 一郎) Q-998877")
    finally:
        logger.handlers.clear()
    before, after = stream.getvalue().splitlines()
    assert "鳥海" in before and "Q-998877" in before  # so the test can fail: masking comes from the visit
    assert "鳥海" not in after and "一郎" not in after and "Q-998877" not in after
    assert "［氏名］" in after and "［ID］" in after


def test_a_step_2_postgresql_database_migrates_with_every_row_kept(pg_url):
    """PostgreSQL's step 3 alters chart_versions in place: the stored rows read as drafts, their columns unchanged,
    and the append-only guard still holds."""
    store = open_store(pg_url)
    store.migrate(to=2)
    execute(
        store, "INSERT INTO visits (id, created_at, created_by) VALUES ('v1', '2026-12-01T00:00:00.000+00:00', 'dr')"
    )
    for version, source in ((1, "model"), (2, "edit")):
        execute(
            store,
            "INSERT INTO chart_versions (visit_id, version, chart, source, author, created_at) "
            "VALUES ('v1', ?, ?, ?, 'dr', '2026-12-01T00:00:00.000+00:00')",
            (version, '{"soap": {}}', source),
        )
    before = execute(store, "SELECT * FROM chart_versions ORDER BY version")
    assert store.migrate() == migrations.LATEST
    assert [(v.version, v.source, v.status) for v in store.chart_versions("v1")] == [
        (1, "model", "draft"),
        (2, "edit", "draft"),
    ]
    assert store.sign_chart("v1", practitioner=SIGNER, base_version=2).status == "signed"
    after = execute(store, "SELECT * FROM chart_versions ORDER BY version")
    assert [row[:9] for row in after[:2]] == before
    with raw(store) as db, pytest.raises(refused(), match="append-only"):
        db.execute("UPDATE chart_versions SET status = 'draft'")
    store.close()
