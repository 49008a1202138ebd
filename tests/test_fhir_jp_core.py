"""The FHIR Bundle against the JP Core profiles it claims. No JP Core validator runs offline, so the profiles'
constraints an instance must meet (min 1, fixed values, required bindings, required slices, profile-typed
references) are data, tests/data/jp_core_constraints.tsv, each row with its FSH line in jami-fhir-jp-wg/jp-core-v1x,
checked here with a small evaluator of dot paths. Bundles come from kogata's own pipeline (rules only, no model)."""

import csv
import re
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from kogata.render.fhir import JP_CORE, chart_bundle
from kogata.render.header import ChartHeader
from kogata.store import Encounter, Patient, Practitioner
from kogata.tasks.karte import karte

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "tests" / "data" / "jp_core_constraints.tsv"
# bronchitis with vitals, prescriptions and an allergy; diabetes with a current drug, blood pressure and HbA1c;
# diabetes again; orthopaedics with four prescriptions and a drug allergy
CONSULTATIONS = ["001_naika", "004_naika", "027_tonyobyo", "012_seikei"]
SIGNED = ChartHeader(
    "signed",
    Patient(id="P-000123", name="山田 太郎", birth_date="1960-04-01", sex="male"),
    Encounter(date="2026-12-07", department="内科", doctor="dr.sato"),
    Practitioner(id="dr.sato", name="佐藤 花子"),
    "2026-12-07T01:23:45.678+00:00",
    2,
)
DRAFT = ChartHeader("draft", Patient(id="P-000123", name="山田 太郎"))
_SEGMENT = re.compile(r"([A-Za-z]+)(\[\*\]|\(([A-Za-z]+)=([^)]*)\))?")


def load_constraints() -> list[dict]:
    with CONSTRAINTS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _segments(path: str) -> list[tuple[str, str | None, str | None]]:
    """`name[*].extension(url=http://…).valueCode` → [(name, None, None), (extension, url, http://…), …]; dots
    inside a filter's value are part of the value."""
    out, pos = [], 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        assert m, f"bad path {path!r} at {pos}"
        out.append((m.group(1), m.group(3), m.group(4)))
        pos = m.end() + (1 if m.end() < len(path) and path[m.end()] == "." else 0)
    return out


def _step(nodes: list, name: str, key: str | None, value: str | None) -> list:
    """One path step: the element `name` of each node, lists flattened, filtered to items with item[key] == value."""
    found = []
    for node in nodes:
        child = node.get(name) if isinstance(node, dict) else None
        for item in child if isinstance(child, list) else [] if child is None else [child]:
            if key is None or (isinstance(item, dict) and item.get(key) == value):
                found.append(item)
    return found


def violations(resource: dict, row: dict, resolve: dict[str, dict]) -> list[str]:
    """What in `resource` breaks the row: min1 (every parent has the last element), absent, fixed=V, in=A|B (every
    value found), ref=PROFILE (every reference resolves in the Bundle to a resource claiming PROFILE)."""
    segments = _segments(row["path"])
    parents = [resource]
    for seg in segments[:-1]:
        parents = _step(parents, *seg)
    rule = row["rule"]
    values = _step(parents, *segments[-1])
    bad = []
    if rule == "min1":
        bad = [f"missing in {parent}" for parent in parents if not _step([parent], *segments[-1])]
    elif rule == "absent":
        bad = [f"present: {v!r}" for v in values]
    elif rule.startswith("fixed="):
        bad = [f"{v!r} is not {rule[6:]!r}" for v in values if v != rule[6:]]
    elif rule.startswith("in="):
        bad = [f"{v!r} not in {rule[3:]}" for v in values if v not in rule[3:].split("|")]
    elif rule.startswith("ref="):
        want = JP_CORE + rule[4:]
        bad = [f"{v!r} does not claim {rule[4:]}" for v in values if want not in _profiles(resolve.get(v, {}))]
    else:
        raise AssertionError(f"unknown rule {rule!r} in {CONSTRAINTS.name}")
    return bad


def _profiles(resource: dict) -> list[str]:
    return resource.get("meta", {}).get("profile", [])


def check_bundle(bundle: dict, constraints: list[dict]) -> tuple[list[str], int]:
    """Every resource claiming a JP Core profile against every row for that profile: the failures (resource,
    profile, path, source line) and how many (resource, row) pairs were checked."""
    Bundle.model_validate(bundle)  # base FHIR first
    resolve = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    failures, checked = [], 0
    for i, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        for profile in _profiles(resource):
            assert profile.startswith(JP_CORE), profile
            rows = [r for r in constraints if JP_CORE + r["profile"] == profile]
            assert rows, f"{resource['resourceType']} claims {profile}, which {CONSTRAINTS.name} does not cover"
            for row in rows:
                checked += 1
                for why in violations(resource, row, resolve):
                    failures.append(
                        f"entry {i} {resource['resourceType']} claims {row['profile']}: {row['path']} {row['rule']}"
                        f" — {why} (jp-core-v1x {row['source']}: {row['note']})"
                    )
    return failures, checked


@pytest.fixture(scope="module")
def constraints() -> list[dict]:
    return load_constraints()


@pytest.fixture(scope="module")
def charts() -> dict:
    return {name: karte(ROOT / "data" / "consultations" / f"{name}.txt", rules_only=True) for name in CONSULTATIONS}


def test_the_constraint_table_is_well_formed(constraints):
    profiles = {r["profile"] for r in constraints}
    assert profiles >= {"JP_Patient", "JP_Practitioner", "JP_Encounter", "JP_Observation_VitalSigns"}
    for row in constraints:
        assert re.fullmatch(r"input/fsh/profiles/JP_\w+\.fsh:\d+@[0-9a-f]{7}", row["source"]), row
        assert row["rule"] in ("min1", "absent") or row["rule"].split("=")[0] in ("fixed", "in", "ref"), row
        _segments(row["path"])


@pytest.mark.parametrize("name", CONSULTATIONS)
@pytest.mark.parametrize("header", [DRAFT, SIGNED], ids=["draft", "signed"])
def test_every_claimed_profile_is_met(charts, constraints, name, header):
    failures, checked = check_bundle(chart_bundle(charts[name], header=header), constraints)
    assert not failures, "\n".join(failures)
    assert checked >= 10  # the rows did run: every chart here has vitals, a Condition or a medication that claims one


@pytest.mark.parametrize("name", CONSULTATIONS)
def test_an_anonymous_draft_claims_no_profile(charts, name):
    """JP_Patient requires an identifier, and every other profile here types its subject as JP_Patient."""
    bundle = chart_bundle(charts[name])
    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"] if _profiles(e["resource"])] == []


def test_a_signed_chart_claims_the_identity_profiles_and_meets_them(charts, constraints):
    bundle = chart_bundle(charts["001_naika"], header=SIGNED)
    claimed = {p.removeprefix(JP_CORE) for e in bundle["entry"] for p in _profiles(e["resource"])}
    assert {"JP_Patient", "JP_Encounter", "JP_Practitioner", "JP_Condition", "JP_AllergyIntolerance"} <= claimed
    assert "JP_Observation_VitalSigns" in claimed
    assert check_bundle(bundle, constraints)[0] == []
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["name"][0]["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "IDE"}
    ]


def test_the_evaluator_names_resource_profile_path_and_source_line(charts, constraints):
    """A Patient stripped of its identifier, still claiming JP_Patient, fails with the FSH line that requires it."""
    bundle = chart_bundle(charts["001_naika"], header=SIGNED)
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    del patient["identifier"]
    failures, _ = check_bundle(bundle, constraints)
    assert any("Patient claims JP_Patient: identifier min1" in f and "JP_Patient.fsh:34" in f for f in failures)


def test_claims_kogata_cannot_meet_are_not_made(charts, constraints):
    """A MedicationRequest lacks the Rp number and order in Rp JP_MedicationRequest requires, so it claims none;
    HbA1c and glucose are lab results, not vital signs; an anonymous draft's Patient has no identifier."""
    anonymous = chart_bundle(charts["004_naika"])
    for bundle in (chart_bundle(charts["004_naika"], header=DRAFT), chart_bundle(charts["004_naika"], header=SIGNED)):
        requests = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
        assert requests and all(_profiles(r) == [] for r in requests)
        rows = [r for r in constraints if r["profile"] == "JP_MedicationRequest"]
        resolve = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
        assert all(violations(r, rows[0], resolve) for r in requests)  # why the claim is gone: no Rp number
        assert rows[0]["path"].startswith("identifier(system=urn:oid:1.2.392.100495.20.3.81)")
        labs = {
            e["resource"]["code"]["text"]: _profiles(e["resource"])
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"
        }
        assert labs["HbA1c"] == [] and labs["血糖"] == [] and labs["血圧"] == [JP_CORE + "JP_Observation_VitalSigns"]
    assert (
        _profiles(next(e["resource"] for e in anonymous["entry"] if e["resource"]["resourceType"] == "Patient")) == []
    )


@pytest.mark.parametrize(
    ("name", "code"), [("山田 太郎", "IDE"), ("ヤマダ タロウ", "SYL"), ("Taro Yamada", "ABC"), ("山田 さくら", "IDE")]
)
def test_a_practitioner_name_says_how_it_is_written(charts, constraints, name, code):
    header = ChartHeader(
        "signed", SIGNED.patient, None, Practitioner(id="dr.x", name=name), "2026-12-07T01:23:45.678+00:00", 2
    )
    bundle = chart_bundle(charts["001_naika"], header=header)
    practitioner = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Practitioner")
    assert practitioner["name"][0]["extension"][0]["valueCode"] == code
    assert _profiles(practitioner) == [JP_CORE + "JP_Practitioner"]
    assert check_bundle(bundle, constraints)[0] == []
