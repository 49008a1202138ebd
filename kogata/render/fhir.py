"""A chart as a FHIR R4 Bundle of type `document`: a Composition with S/O/A/P sections first, then the
Patient, Encounter, Practitioner, Conditions, medications, vital-sign Observations and AllergyIntolerances it
points to.

Resources name the JP Core profiles (http://jpfhir.jp/fhir/core) where JP Core has one and the resource meets it
(tests/data/jp_core_constraints.tsv lists the checks, each with its line in the JP Core FSH); the Composition is
plain FHIR (JP Core defines none for a progress note). Not claimed: JP_MedicationRequest (it requires an Rp number
and an order within the Rp, which a conversation does not give), JP_Observation_VitalSigns on HbA1c and blood
glucose (laboratory results, not vital signs), JP_Patient on a Patient without an identifier (JP_Patient requires
one), and JP_Patient/JP_Practitioner on a name that is neither kanji, kana only nor Latin letters (JP_HumanName
requires the name's representation: IDE, SYL or ABC). With no JP_Patient, nothing claims a profile: each one here
types its subject as Reference(JP_Patient). The Composition is `preliminary` until a doctor signs it
(`final`; edited after the signature and not signed again: `amended`); a signed one has the practitioner as
author and legal attester. Every resource notes the utterance numbers it came from.

Codes: problems carry ICD-10 from the MEDIS list the chart took them from. Medications carry their names only:
no offline drug master (YJ, HOT, レセプト電算) with a licence that allows bundling is available, and a code is
never made up (README, "Codes").
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime

from kogata.render.header import ChartHeader
from kogata.store.identity import Encounter, Patient, Practitioner
from kogata.tasks.karte.chart import Chart
from kogata.tasks.karte.schema import SECTION_NAMES

JP_CORE = "http://jpfhir.jp/fhir/core/StructureDefinition/"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SECTION_CODES = {
    "S": ("61150-9", "Subjective Narrative"),
    "O": ("61149-1", "Objective Narrative"),
    "A": ("51848-0", "Assessment note"),
    "P": ("18776-5", "Plan of care note"),
}
VITAL_CODES = {
    "体温": ("8310-5", "Body temperature"),
    "血圧": ("85354-9", "Blood pressure panel"),
    "脈拍": ("8867-4", "Heart rate"),
    "SpO2": ("59408-5", "Oxygen saturation by Pulse oximetry"),
    "呼吸数": ("9279-1", "Respiratory rate"),
    "HbA1c": ("4548-4", "Hemoglobin A1c"),
    "血糖": ("2339-0", "Glucose [Mass/volume] in Blood"),
    "体重": ("29463-7", "Body weight"),
}
LABORATORY = ("HbA1c", "血糖")  # measured by a laboratory test, not a vital sign
UCUM_CODES = {"℃": "Cel", "mmHg": "mm[Hg]", "/分": "/min", "%": "%", "mg/dL": "mg/dL", "kg": "kg"}
_VERIFICATION = {"suspected": "provisional", "confirmed": "confirmed", "history": "confirmed"}
PATIENT_ID_SYSTEM = "urn:kogata:patient-id"  # the clinic's own id; a clinic with an OID passes its own system
PRACTITIONER_ID_SYSTEM = "urn:kogata:practitioner-id"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# What each resource's own status is, by the chart's: a signed chart's findings are final, its prescriptions active.
_OBSERVATION_STATUS = {"draft": "preliminary", "signed": "final", "amended": "amended"}
_COMPOSITION_STATUS = {"draft": "preliminary", "signed": "final", "amended": "amended"}


def _uid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _note(ids: list[int]) -> list[dict]:
    return [{"text": f"根拠：発言 {', '.join(map(str, ids))}"}]


def _div(lines: list[str]) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines) or "<li>記載なし</li>"
    return f'<div xmlns="http://www.w3.org/1999/xhtml"><ul>{items}</ul></div>'


def _codeable(text: str, system: str | None = None, code: str | None = None, display: str | None = None) -> dict:
    concept: dict = {"text": text}
    if system and code:
        concept["coding"] = [{"system": system, "code": code, **({"display": display} if display else {})}]
    return concept


NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f\s]+")
_ALPHABETIC = re.compile(r"[A-Za-z .'\-\s]+")
_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]")


def _representation(text: str) -> str | None:
    """How a name is written, as JP_HumanName asks (iso21090-EN-representation): IDE when it has kanji (「山田 太郎」,
    「山田 さくら」), SYL when it is kana only (「ヤマダ タロウ」), ABC when Latin letters; None for anything else."""
    if _IDEOGRAPH.search(text):
        return "IDE"
    if _KANA.fullmatch(text):
        return "SYL"
    if _ALPHABETIC.fullmatch(text):
        return "ABC"
    return None


def _name(text: str) -> dict:
    """A HumanName: the text as written, and family/given when a space divides it (「山田 太郎」); with the name's
    representation (JP_HumanName) when its script tells it."""
    parts = text.replace("\u3000", " ").split()
    name: dict = {"use": "official", "text": text}
    if representation := _representation(text):
        name["extension"] = [{"url": NAME_REPRESENTATION, "valueCode": representation}]
    if len(parts) >= 2:
        name.update(family=parts[0], given=parts[1:])
    return name


def _names_meet_jp_core(resource: dict) -> bool:
    return all("extension" in n for n in resource.get("name", []))


def _patient(p: Patient | None, system: str) -> dict:
    resource: dict = {"resourceType": "Patient"}
    if p is None:
        return resource  # JP_Patient requires an identifier: an unnamed draft's Patient claims no profile
    if p.id:
        resource["identifier"] = [{"system": system, "value": p.id}]
    if p.name:
        resource["name"] = [_name(p.name)]
    if p.sex:
        resource["gender"] = p.sex
    if p.birth_date:
        resource["birthDate"] = p.birth_date
    if p.id and _names_meet_jp_core(resource):  # JP_Patient: identifier 1.., name typed JP_HumanName
        resource = {"resourceType": "Patient", "meta": {"profile": [JP_CORE + "JP_Patient"]}, **resource}
    return resource


def _encounter(e: Encounter, patient: str) -> dict:
    resource: dict = {
        "resourceType": "Encounter",
        "meta": {"profile": [JP_CORE + "JP_Encounter"]},
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": {"reference": patient},
    }
    if e.department:
        resource["serviceType"] = {"text": e.department}
    if e.date:
        resource["period"] = {"start": e.date}
    if e.doctor:
        resource["participant"] = [{"individual": {"display": e.doctor}}]
    return resource


def _practitioner(s: Practitioner) -> dict:
    resource: dict = {"resourceType": "Practitioner"}
    if s.id:
        resource["identifier"] = [{"system": PRACTITIONER_ID_SYSTEM, "value": s.id}]
    resource["name"] = [_name(s.name or s.id or "")]
    if _names_meet_jp_core(resource):  # JP_Practitioner: name typed JP_HumanName
        resource = {"resourceType": "Practitioner", "meta": {"profile": [JP_CORE + "JP_Practitioner"]}, **resource}
    return resource


def _vital(v: dict, patient: str, when: str, status: str = "preliminary") -> dict:
    code, display = VITAL_CODES.get(v["name"], ("", ""))
    laboratory = v["name"] in LABORATORY
    obs: dict = {
        "resourceType": "Observation",
        # HbA1c and blood glucose are laboratory results, not vital signs: they claim no JP Core profile
        # (JP_Observation_LabResult is not checked here, so it is not claimed either)
        **({} if laboratory else {"meta": {"profile": [JP_CORE + "JP_Observation_VitalSigns"]}}),
        "status": status,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory" if laboratory else "vital-signs",
                    }
                ]
            }
        ],
        "code": _codeable(v["name"], LOINC if code else None, code or None, display or None),
        "subject": {"reference": patient},
        "effectiveDateTime": when,
        "note": _note(v["evidence"]),
    }
    if v["name"] == "血圧" and "/" in v["value"]:
        systolic, diastolic = v["value"].split("/")
        obs["component"] = [
            {
                "code": _codeable("収縮期血圧", LOINC, "8480-6", "Systolic blood pressure"),
                "valueQuantity": {"value": float(systolic), "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
            },
            {
                "code": _codeable("拡張期血圧", LOINC, "8462-4", "Diastolic blood pressure"),
                "valueQuantity": {"value": float(diastolic), "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
            },
        ]
    else:
        try:
            quantity: dict = {"value": float(v["value"]), "unit": v["unit"]}
        except ValueError:
            obs["valueString"] = f"{v['value']}{v['unit']}"
        else:
            if v["unit"] in UCUM_CODES:
                quantity.update(system=UCUM, code=UCUM_CODES[v["unit"]])
            obs["valueQuantity"] = quantity
    return obs


def _medication(m: dict, patient: str, when: str, signed: bool = False) -> dict:
    name = m["name"] + (f"（{m['brand']}）" if m["brand"] else "")
    dosage = " ".join(x for x in (m["dose"], m["frequency"], m["duration"]) if x)
    common = {
        "medicationCodeableConcept": _codeable(name),
        "subject": {"reference": patient},
        "note": _note(m["evidence"]),
    }
    if m["status"] in ("prescribed", "changed"):
        return {
            "resourceType": "MedicationRequest",
            # no JP_MedicationRequest claim: it requires an Rp number and the order within the Rp
            # (identifier rpNumber 1..1, orderInRp 1..1), a prescription's grouping the conversation does not give
            # a draft proposes; a signed chart records the doctor's order
            "status": "active" if signed else "draft",
            "intent": "order" if signed else "proposal",
            "authoredOn": when,
            **common,
            **({"dosageInstruction": [{"text": dosage}]} if dosage else {}),
        }
    return {
        "resourceType": "MedicationStatement",
        "meta": {"profile": [JP_CORE + "JP_MedicationStatement"]},
        "status": "stopped" if m["status"] == "stopped" else "active",
        "dateAsserted": when,
        **common,
        **({"dosage": [{"text": dosage}]} if dosage else {}),
    }


def _active(kind: str, verification_system: str, verification: str) -> dict:
    """The head of an active Condition or AllergyIntolerance: its type, JP Core profile, clinical status active and
    `verification` in `verification_system` (a code system under terminology.hl7.org)."""
    systems = "http://terminology.hl7.org/CodeSystem/"
    return {
        "resourceType": kind,
        "meta": {"profile": [JP_CORE + "JP_" + kind]},
        "clinicalStatus": _codeable("active", f"{systems}{kind.lower()}-clinical", "active"),
        "verificationStatus": _codeable(verification, systems + verification_system, verification),
    }


def chart_bundle(
    chart: Chart,
    *,
    show_unsupported: bool = False,
    header: ChartHeader | None = None,
    patient_system: str = PATIENT_ID_SYSTEM,
) -> dict:
    """The chart as a FHIR document Bundle (a dict ready for json.dumps). `header` (default: an unsigned draft)
    gives its status, patient, encounter and signature; `patient_system` the patient identifier's system."""
    header = header or ChartHeader()
    signer = header.signed_by if not header.draft else None
    when = (signer and header.signed_at) or datetime.now(UTC).isoformat(timespec="seconds")
    patient = _uid()
    entries: list[tuple[str, dict, str]] = [(patient, _patient(header.patient, patient_system), "")]
    encounter = _uid() if header.encounter is not None else None
    if encounter:
        entries.append((encounter, _encounter(header.encounter, patient), ""))
    practitioner = _uid() if signer is not None else None
    if practitioner:
        entries.append((practitioner, _practitioner(signer), ""))
    for p in chart.problems:
        entries.append(
            (
                _uid(),
                {
                    **_active("Condition", "condition-ver-status", _VERIFICATION[p["status"]]),
                    "code": _codeable(p["name"], "http://hl7.org/fhir/sid/icd-10", p["icd10"], p["name"]),
                    "subject": {"reference": patient},
                    "recordedDate": when,
                    "note": _note(p["evidence"]) + ([{"text": "既往"}] if p["status"] == "history" else []),
                },
                "A",
            )
        )
    for m in chart.medications:
        entries.append(
            (_uid(), _medication(m, patient, when, signed=not header.draft), "S" if m["status"] == "current" else "P")
        )
    for v in chart.vitals:
        entries.append((_uid(), _vital(v, patient, when, _OBSERVATION_STATUS[header.status]), "O"))
    for a in chart.allergies:
        entries.append(
            (
                _uid(),
                {
                    **_active("AllergyIntolerance", "allergyintolerance-verification", "unconfirmed"),
                    "code": _codeable(a["substance"]),
                    "patient": {"reference": patient},
                    "note": _note(a["evidence"]),
                    # a reaction needs a manifestation; an allergy named without one
                    # (「アレルギーはハウスダスト」) has none
                    **({"reaction": [{"manifestation": [_codeable(a["reaction"])]}]} if a["reaction"] else {}),
                },
                "S",
            )
        )
    items = chart.items(show_unsupported=show_unsupported)
    sections = []
    for key, (code, display) in SECTION_CODES.items():
        section = {
            "title": f"{key}（{SECTION_NAMES[key]}）",
            "code": _codeable(display, LOINC, code, display),
            "text": {
                "status": "generated",
                "div": _div([f"{i.text} 〔発言 {', '.join(map(str, i.evidence))}〕" for i in items[key]]),
            },
        }
        refs = [{"reference": url} for url, _, where in entries if where == key]
        if refs:
            section["entry"] = refs
        sections.append(section)
    composition = {
        "resourceType": "Composition",
        "status": _COMPOSITION_STATUS[header.status],
        "type": _codeable("外来診療記録（SOAP）", LOINC, "11506-3", "Progress note"),
        "subject": {"reference": patient},
        **({"encounter": {"reference": encounter}} if encounter else {}),
        "date": when,
        "author": [{"display": f"kogata 自動生成下書き（{chart.model}）"}],
        "title": {
            "draft": "外来診療記録 下書き（SOAP）",
            "signed": "外来診療記録（SOAP）",
            "amended": "外来診療記録（SOAP）署名後修正・未再署名",
        }[header.status],
        "section": sections,
    }
    if practitioner:
        who = {"reference": practitioner, "display": signer.name or signer.id}
        composition["author"] = [who]
        composition["attester"] = [{"mode": "legal", "time": header.signed_at, "party": who}]
    if "meta" not in entries[0][1]:
        # every JP Core profile here types its subject/patient as Reference(JP_Patient): without a JP_Patient
        # (no patient identifier, as in an anonymous draft) none of them can be met, so none is claimed
        for _, resource, _ in entries:
            resource.pop("meta", None)
    composition_url = _uid()
    return {
        "resourceType": "Bundle",
        "type": "document",
        "timestamp": when,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": _uid()},
        "entry": [{"fullUrl": composition_url, "resource": composition}]
        + [{"fullUrl": url, "resource": resource} for url, resource, _ in entries],
    }
