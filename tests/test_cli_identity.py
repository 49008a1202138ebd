"""`kogata karte --patient-id … --department …`: who the chart is for reaches every format; bad values are one
line naming the option and exit 2 (rules only: no model)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "consultations" / "001_naika.txt"
KOGATA = [sys.executable, "-m", "kogata.cli", "karte", str(SAMPLE), "--rules-only"]
IDENTITY = ["--patient-id", "P-000123", "--patient-name", "山田 太郎", "--birth-date", "1960-04-01", "--sex", "male"]
VISIT = ["--department", "内科", "--doctor", "dr.sato"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*KOGATA, *args], capture_output=True, text=True, timeout=120)


def test_identity_options_reach_fhir_json_and_markdown():
    out = run("--format", "fhir", *IDENTITY, *VISIT)
    assert out.returncode == 0, out.stderr
    bundle = json.loads(out.stdout)
    Bundle.model_validate(bundle)
    kinds = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    assert kinds["Composition"]["status"] == "preliminary"  # the CLI never signs
    assert kinds["Patient"]["identifier"][0]["value"] == "P-000123" and kinds["Patient"]["birthDate"] == "1960-04-01"
    assert kinds["Encounter"]["serviceType"]["text"] == "内科"
    record = json.loads(run("--format", "json", *IDENTITY).stdout)
    assert record["status"] == "draft" and record["patient"]["name"] == "山田 太郎" and "soap" in record
    markdown = run(*IDENTITY, *VISIT).stdout
    assert "下書き" in markdown and "患者：山田 太郎／ID P-000123" in markdown and "内科" in markdown
    assert run("--format", "text").stdout.startswith("【カルテ下書き（SOAP）】")


@pytest.mark.parametrize(
    "args, option",
    [
        (["--birth-date", "1960/04/01"], "--birth-date"),
        (["--birth-date", "2999-01-01"], "--birth-date"),
        (["--sex", "M"], "--sex"),
        (["--patient-name", "山" * 101], "--patient-name"),
        (["--department", "内" * 61], "--department"),
    ],
)
def test_bad_identity_is_one_line_naming_the_option(args, option):
    out = run(*args)
    assert out.returncode == 2 and option in out.stderr and "Traceback" not in out.stderr
