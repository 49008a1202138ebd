"""FHIR and the other formats of a signed, amended or draft chart: status, Patient, Encounter, Practitioner,
attester; every Bundle validated with fhir.resources (R4B). Charts from the rules alone (no model)."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from kogata.render.fhir import chart_bundle
from kogata.render.header import ChartHeader
from kogata.render.markdown import chart_markdown, chart_text
from kogata.serve import ServerConfig, Services, create_app
from kogata.store import Encounter, Patient, Practitioner
from kogata.tasks.karte import karte
from kogata.transcript import read_transcript

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "consultations" / "001_naika.txt"
PATIENT = {"id": "P-000123", "name": "山田 太郎", "birth_date": "1960-04-01", "sex": "male"}
ENCOUNTER = {"date": "2026-12-07", "department": "内科", "doctor": "dr.sato"}
SIGNER = {"id": "dr.sato", "name": "佐藤 花子"}


@pytest.fixture(scope="module")
def chart():
    return karte(SAMPLE, rules_only=True)


def resources(bundle: dict) -> dict[str, list[dict]]:
    Bundle.model_validate(bundle)  # raises on anything FHIR R4B does not allow
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def by_url(bundle: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


SIGNED = ChartHeader(
    "signed",
    Patient(**PATIENT),
    Encounter(**ENCOUNTER),
    Practitioner(**SIGNER),
    "2026-12-07T01:23:45.678+00:00",
    2,
)


def test_a_signed_chart_is_a_final_composition_with_patient_encounter_and_attester(chart):
    bundle = chart_bundle(chart, header=SIGNED)
    found, urls = resources(bundle), by_url(bundle)
    composition = found["Composition"][0]
    assert composition["status"] == "final" and "下書き" not in composition["title"]
    patient = urls[composition["subject"]["reference"]]
    assert patient["identifier"] == [{"system": "urn:kogata:patient-id", "value": "P-000123"}]
    assert patient["name"][0] == {
        "use": "official",
        "text": "山田 太郎",
        "family": "山田",
        "given": ["太郎"],
        "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "IDE"}
        ],
    }
    assert (patient["birthDate"], patient["gender"]) == ("1960-04-01", "male")
    encounter = urls[composition["encounter"]["reference"]]
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "AMB"
    assert encounter["period"]["start"] == "2026-12-07" and encounter["serviceType"]["text"] == "内科"
    assert encounter["subject"]["reference"] == composition["subject"]["reference"]
    author = urls[composition["author"][0]["reference"]]
    assert author["resourceType"] == "Practitioner"
    assert author["identifier"][0]["value"] == "dr.sato" and author["name"][0]["text"] == "佐藤 花子"
    assert composition["attester"] == [{"mode": "legal", "time": SIGNED.signed_at, "party": composition["author"][0]}]
    assert composition["date"] == SIGNED.signed_at
    assert {o["status"] for o in found["Observation"]} == {"final"}
    assert {m["status"] for m in found["MedicationRequest"]} == {"active"}


def test_an_amended_chart_says_amended_and_a_draft_preliminary(chart):
    amended = chart_bundle(
        chart, header=ChartHeader("amended", SIGNED.patient, SIGNED.encounter, SIGNED.signed_by, SIGNED.signed_at, 3)
    )
    composition = resources(amended)["Composition"][0]
    assert composition["status"] == "amended" and composition["attester"][0]["mode"] == "legal"
    draft = chart_bundle(chart)
    found = resources(draft)
    composition = found["Composition"][0]
    assert composition["status"] == "preliminary" and "下書き" in composition["title"]
    assert "attester" not in composition and "Practitioner" not in found and "Encounter" not in found
    assert "kogata" in composition["author"][0]["display"]
    assert {o["status"] for o in found["Observation"]} == {"preliminary"}


def test_medications_carry_no_made_up_code(chart):
    for header in (ChartHeader(), SIGNED):
        for resource in resources(chart_bundle(chart, header=header))["MedicationRequest"]:
            assert "coding" not in resource["medicationCodeableConcept"]  # no bundled drug master: name only
            assert resource["medicationCodeableConcept"]["text"]


def test_markdown_and_text_say_draft_only_when_draft(chart):
    assert "下書き" in chart_markdown(chart) and "下書き" in chart_text(chart)
    signed_md, signed_text = chart_markdown(chart, header=SIGNED), chart_text(chart, header=SIGNED)
    for text in (signed_md, signed_text):
        assert "下書き" not in text and "署名済" in text and "佐藤 花子" in text and "山田 太郎" in text
        assert "受診日 2026-12-07" in text and "生年月日 1960-04-01" in text
    assert signed_text.startswith("【カルテ（SOAP）署名済】") and "\n・" in signed_text and "## " not in signed_text
    assert chart_markdown(chart).splitlines()[0] == "# カルテ下書き（SOAP）"  # a bare draft reads as it always did


# ── through the server: identity, sign, amend, every format ──


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fhir")
    services = Services(ServerConfig(models=("qwen2.5-coder-0.5b",), waiting=1, db=folder / "v.sqlite3"))
    return TestClient(create_app(services), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


def test_exports_follow_the_visit_from_draft_to_signed_to_amended(client, chart):
    visit = client.post("/v1/visits", json={"patient": PATIENT, "encounter": ENCOUNTER}).json()["id"]
    utterances = [{"speaker": u.speaker, "text": u.text} for u in read_transcript(SAMPLE).utterances]
    assert client.post(f"/v1/visits/{visit}/utterances", json={"utterances": utterances}).status_code == 201
    body = {"chart": chart.to_dict(), "base_version": 0, "author": "dr.sato"}
    assert client.put(f"/v1/visits/{visit}/chart", json=body).status_code == 201

    def export(fmt: str, **params):
        response = client.get(f"/v1/visits/{visit}/export", params={"format": fmt, **params})
        assert response.status_code == 200, response.text
        return response

    draft = export("fhir").json()
    assert resources(draft)["Composition"][0]["status"] == "preliminary"
    assert resources(draft)["Patient"][0]["identifier"][0]["value"] == "P-000123"  # known before signing too
    assert export("json").json()["status"] == "draft"
    assert "下書き" in export("md").text and "下書き" in export("text").text
    assert export("text").headers["content-type"].startswith("text/plain")

    client.post(f"/v1/visits/{visit}/sign", json={"practitioner": SIGNER, "base_version": 1})
    signed = export("fhir").json()
    composition = resources(signed)["Composition"][0]
    assert composition["status"] == "final" and composition["attester"][0]["mode"] == "legal"
    assert by_url(signed)[composition["attester"][0]["party"]["reference"]]["name"][0]["text"] == "佐藤 花子"
    assert by_url(signed)[composition["encounter"]["reference"]]["serviceType"]["text"] == "内科"
    as_json = export("json").json()
    assert (as_json["status"], as_json["signed_by"], as_json["patient"]) == ("signed", SIGNER, PATIENT)
    for fmt in ("md", "text"):
        assert "下書き" not in export(fmt).text and "署名済" in export(fmt).text

    edited = chart.to_dict()
    edited["soap"]["P"] = edited["soap"]["P"][:1]
    client.put(f"/v1/visits/{visit}/chart", json={"chart": edited, "base_version": 2})
    amended = resources(export("fhir").json())["Composition"][0]
    assert amended["status"] == "amended" and amended["attester"][0]["time"] == as_json["signed_at"]
    assert resources(export("fhir", version=1).json())["Composition"][0]["status"] == "preliminary"
    assert resources(export("fhir", version=2).json())["Composition"][0]["status"] == "final"
    assert "署名後修正" in export("md").text

    masked = json.dumps(export("fhir", mask="true").json(), ensure_ascii=False)
    masked += export("md", mask="true").text + json.dumps(export("json", mask="true").json(), ensure_ascii=False)
    for secret in ("山田", "太郎", "P-000123", "1960-04-01"):
        assert secret not in masked, secret
    assert "38.5℃" in masked
