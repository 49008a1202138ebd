"""Visit identity, sign and amend over HTTP: the real app over FastAPI's TestClient, a real store (SQLite, then
PostgreSQL), no model (charts come from the doctor's PUT, which is what signing needs)."""

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient
from stores import chart

from kogata.privacy import masking_handler
from kogata.serve import ServerConfig, Services, create_app

PATIENT = {"id": "P-000123", "name": "山田 太郎", "birth_date": "1960-04-01", "sex": "male"}
ENCOUNTER = {"date": "2026-12-07", "department": "内科", "doctor": "dr.sato"}
SIGNER = {"id": "dr.sato", "name": "佐藤 花子"}
VISIT_KEYS = {"id", "created_at", "created_by", "title", "patient", "encounter", "consent", "status", "latest_version"}
VERSION_KEYS = {"version", "status", "source", "author", "created_at", "signed_by", "signed_at"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def services(request, tmp_path_factory):
    """The API on each store backend: a SQLite file, then a new PostgreSQL database (tests/conftest.py)."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("identity") / "v.sqlite3"
    else:
        from stores import new_database

        db = new_database(request.getfixturevalue("postgres"))
    return Services(ServerConfig(models=("qwen2.5-coder-0.5b",), waiting=1, db=db))


@pytest.fixture(scope="module")
def client(services):
    # No `with`: the lifespan would start loading the model, and nothing here needs it.
    return TestClient(create_app(services), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


def refused(response, status: int, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and error["param"] == param, error
    return error


def new_visit(client, **body) -> dict:
    response = client.post("/v1/visits", json=body, headers={"X-Kogata-User": "reception"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_visit_carries_its_identity_in_every_read(client):
    consent = {"given": True, "by": "患者本人"}
    visit = new_visit(client, title="初診", patient=PATIENT, encounter=ENCOUNTER, consent=consent)
    assert set(visit) == VISIT_KEYS and visit["created_by"] == "reception"
    assert visit["patient"] == PATIENT and visit["encounter"] == ENCOUNTER
    assert visit["consent"]["given"] is True and visit["consent"]["by"] == "患者本人" and visit["consent"]["at"]
    assert (visit["status"], visit["latest_version"]) == ("empty", None)
    record = client.get(f"/v1/visits/{visit['id']}").json()
    assert {k: record[k] for k in VISIT_KEYS} == visit
    listed = {v["id"]: v for v in client.get("/v1/visits", params={"date": "2026-12-07"}).json()["visits"]}
    assert listed[visit["id"]] == visit
    assert visit["id"] not in {v["id"] for v in client.get("/v1/visits?date=2026-12-06").json()["visits"]}
    assert set(new_visit(client)) == VISIT_KEYS  # no body at all still works


def test_patch_adds_identity_as_new_rows(client, services):
    visit = new_visit(client)
    first = client.patch(
        f"/v1/visits/{visit['id']}", json={"consent": {"given": True, "at": "2026-12-07T09:00:00+09:00"}}
    )
    assert first.status_code == 200 and first.json()["consent"]["at"] == "2026-12-07T09:00:00+09:00"
    client.patch(f"/v1/visits/{visit['id']}", json={"patient": PATIENT}, headers={"X-Kogata-User": "dr.sato"})
    fixed = client.patch(f"/v1/visits/{visit['id']}", json={"patient": {**PATIENT, "sex": "female"}}).json()
    assert fixed["patient"]["sex"] == "female" and fixed["consent"]["given"] is True  # other groups untouched
    identity = client.get(f"/v1/visits/{visit['id']}/history").json()["identity"]
    assert [(c["group"], c["author"]) for c in identity] == [
        ("consent", "api"),
        ("patient", "dr.sato"),
        ("patient", "api"),
    ]
    assert identity[1]["patient"]["sex"] == "male"  # the row it replaced is kept
    refused(client.patch("/v1/visits/nope", json={"patient": PATIENT}), 404)
    refused(client.patch(f"/v1/visits/{visit['id']}", json={}), 400, "patient")


def test_sign_amend_history_over_http(client):
    visit = new_visit(client, patient=PATIENT, encounter=ENCOUNTER)["id"]
    sign = f"/v1/visits/{visit}/sign"
    refused(client.post(sign, json={"practitioner": SIGNER, "base_version": 0}), 409)  # no chart yet
    assert "no chart" in client.post(sign, json={"practitioner": SIGNER, "base_version": 0}).json()["error"]["message"]
    put = client.put(
        f"/v1/visits/{visit}/chart", json={"chart": chart("発熱あり。"), "base_version": 0, "author": "dr.sato"}
    )
    assert put.status_code == 201 and put.json()["status"] == "draft"
    assert client.get(f"/v1/visits/{visit}").json()["status"] == "draft"

    refused(client.post(sign, json={"practitioner": SIGNER}), 400, "base_version")
    refused(client.post(sign, json={"practitioner": {}, "base_version": 1}), 400, "practitioner.id")
    refused(client.post(sign, json={"practitioner": SIGNER, "base_version": 0}), 409)  # stale
    signed = client.post(sign, json={"practitioner": SIGNER, "base_version": 1})
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert (body["version"], body["status"], body["signed_by"]) == (2, "signed", SIGNER) and body["signed_at"]
    again = refused(client.post(sign, json={"practitioner": SIGNER, "base_version": 2}), 409)
    assert "already signed" in again["message"]
    summary = client.get(f"/v1/visits/{visit}").json()
    assert (summary["status"], summary["latest_version"]) == ("signed", 2)

    amended = client.put(f"/v1/visits/{visit}/chart", json={"chart": chart("38℃の発熱あり。"), "base_version": 2})
    assert amended.json()["status"] == "amended"
    assert client.get(f"/v1/visits/{visit}/chart", params={"version": 2}).json()["status"] == "signed"  # kept
    resigned = client.post(sign, json={"practitioner": SIGNER, "base_version": 3}).json()
    assert resigned["status"] == "signed" and resigned["chart"] == amended.json()["chart"]

    versions = client.get(f"/v1/visits/{visit}/history").json()["versions"]
    assert all(set(v) == VERSION_KEYS for v in versions)
    assert [(v["version"], v["status"], v["source"], v["author"]) for v in versions] == [
        (1, "draft", "edit", "dr.sato"),
        (2, "signed", "sign", "dr.sato"),
        (3, "amended", "edit", "api"),
        (4, "signed", "sign", "dr.sato"),
    ]
    listed = {v["id"]: v for v in client.get("/v1/visits?date=2026-12-07").json()["visits"]}
    assert listed[visit]["status"] == "signed"
    refused(client.get("/v1/visits/nope/history"), 404)


@pytest.mark.parametrize(
    "body, param",
    [
        ({"patient": {"birth_date": "1960/04/01"}}, "patient.birth_date"),
        ({"patient": {"birth_date": "1960-13-01"}}, "patient.birth_date"),
        ({"patient": {"birth_date": "2999-01-01"}}, "patient.birth_date"),
        ({"patient": {"sex": "M"}}, "patient.sex"),
        ({"patient": {"name": "山" * 101}}, "patient.name"),
        ({"patient": {"id": "x" * 65}}, "patient.id"),
        ({"patient": {"name": "山田\n太郎"}}, "patient.name"),
        ({"patient": {"nickname": "たろう"}}, "patient.nickname"),
        ({"encounter": {"date": "2026-12-32"}}, "encounter.date"),
        ({"encounter": {"department": "内" * 61}}, "encounter.department"),
        ({"consent": {"by": "本人"}}, "consent.given"),
        ({"consent": {"given": "yes"}}, "consent.given"),
        ({"consent": {"given": True, "at": "yesterday"}}, "consent.at"),
        ({"title": "x", "doctor": "dr"}, "doctor"),
    ],
)
def test_bad_identity_is_a_400_naming_its_field_and_nothing_is_stored(client, services, body, param):
    before = len(services.store.visits(500))
    refused(client.post("/v1/visits", json=body), 400, param)
    assert len(services.store.visits(500)) == before
    visit = new_visit(client)["id"]
    if "title" not in body:
        refused(client.patch(f"/v1/visits/{visit}", json=body), 400, param)
        assert client.get(f"/v1/visits/{visit}").json()["patient"] is None


def test_a_bad_date_filter_is_a_400(client):
    refused(client.get("/v1/visits", params={"date": "12/07"}), 400, "date")
    refused(client.get("/v1/visits", params={"date": "2026-12-07-01"}), 400, "date")


def test_a_created_visits_patient_is_not_in_the_logs(client):
    """Everything logged while a visit is created, read, listed and signed, and a later line that names the
    patient bare (as an error's message might), goes through the server's masking: no name, no id."""
    stream = io.StringIO()
    root = logging.getLogger()
    handler = masking_handler(stream, level=logging.DEBUG)
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    patient = {"id": "K-424242", "name": "鳥羽 次郎", "birth_date": "1971-02-03", "sex": "male"}
    try:
        visit = new_visit(client, patient=patient, encounter=ENCOUNTER)["id"]
        client.get(f"/v1/visits/{visit}")
        client.get("/v1/visits?date=2026-12-07")
        client.put(f"/v1/visits/{visit}/chart", json={"chart": chart("発熱あり。"), "base_version": 0})
        client.post(f"/v1/visits/{visit}/sign", json={"practitioner": SIGNER, "base_version": 1})
        logging.getLogger("kogata.serve").error("request failed for %s", json.dumps(patient, ensure_ascii=False))
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
    out = stream.getvalue()
    assert "request failed for" in out  # the line was written, masked
    for secret in ("鳥羽", "次郎", "K-424242"):
        assert secret not in out, out
