"""The product's main job: consultation → verified chart → JSON/Markdown/FHIR, as `kogata karte` writes it (rules,
learned reader and drug status; no language model), and with a real language model when one is asked for."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from kogata.engine.schema import validation_errors
from kogata.ja.glyphs import non_japanese_chars
from kogata.render.fhir import chart_bundle
from kogata.render.markdown import chart_markdown
from kogata.tasks.karte import CHART_SCHEMA, karte
from kogata.tasks.karte import chart as chart_module
from kogata.transcript import read_transcript

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "consultations" / "001_naika.txt"
KOGATA = [sys.executable, "-m", "kogata.cli"]


# A visit whose rules and reader leave one utterance for a model to draft (as tests/test_remote.py uses it).
LEFT_OVER = SAMPLE.with_name("021_hifuka.txt")


@pytest.fixture(scope="module")
def chart():
    return karte(SAMPLE)  # the default: no language model


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter whose engine counts the language models it loads (the real loader, counted), and
    says so on the last line of standard error."""
    probe = (
        "import atexit, sys\n"
        "import kogata.engine, kogata.engine.model\n"
        "loads, real_load = [], kogata.engine.model.load\n"
        "def counted(*a, **k):\n"
        "    loads.append(a[:1])\n"
        "    return real_load(*a, **k)\n"
        "kogata.engine.load = kogata.engine.model.load = counted\n"
        "atexit.register(lambda: print('model loads:', len(loads), file=sys.stderr))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe + code, *args], capture_output=True, text=True, timeout=600, check=False
    )


def test_the_default_chart_loads_no_language_model_and_naming_one_has_it_draft():
    code = (
        "import json, sys\n"
        "from kogata.tasks.karte import karte\n"
        "from kogata.tasks.karte.draft import draft\n"
        "asked = []\n"
        "def drafter(llm, said, **kw):  # the real drafting, noting what it was given\n"
        "    asked.append([s.id for s in said])\n"
        "    return draft(llm, said, **kw)\n"
        "chart = karte(sys.argv[1], drafter=drafter)\n"
        "print(json.dumps([chart.model, asked]), flush=True)\n"
        "if len(sys.argv) > 2:\n"
        "    chart = karte(sys.argv[1], model=sys.argv[2], drafter=drafter)\n"
        "    print(json.dumps([chart.model, asked]), flush=True)\n"
    )
    plain = _run(code, str(LEFT_OVER))
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) == ["rules+reader+status", []]  # something was left, and no model drafted it
    assert plain.stderr.strip().splitlines()[-1] == "model loads: 0"
    named = _run(code, str(LEFT_OVER), "small")
    assert named.returncode == 0, named.stderr
    first, second = (json.loads(line) for line in named.stdout.splitlines())
    assert first == ["rules+reader+status", []]
    assert second[0] == "qwen2.5-coder-0.5b+reader+status" and len(second[1]) == 1 and second[1][0]
    assert named.stderr.strip().splitlines()[-1] == "model loads: 1"


def test_the_cli_charts_without_a_model_unless_asked_and_refuses_contradictions():
    cli = "import sys\nfrom kogata.cli import main\nsys.argv[0] = 'kogata'\nmain()\n"
    out = _run(cli, "karte", str(LEFT_OVER), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["soap"]["S"] and out.stderr.strip().splitlines()[-1] == "model loads: 0"
    old = _run(cli, "karte", str(LEFT_OVER), "--no-model", "--format", "json")  # kept: the default, said once more
    assert old.returncode == 0 and json.loads(old.stdout) == json.loads(out.stdout)
    asked = _run(cli, "karte", str(LEFT_OVER), "--model", "small", "--format", "json")
    assert asked.returncode == 0 and asked.stderr.strip().splitlines()[-1] == "model loads: 1", asked.stderr
    for flags, says in (
        (["--rules-only", "--model", "small"], "--rules-only"),
        (["--rules-only", "--adapter", "karte"], "--rules-only"),
        (["--no-model", "--model", "small"], "--no-model"),
    ):
        bad = subprocess.run([*KOGATA, "karte", str(LEFT_OVER), *flags], capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and says in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_eval_karte_measures_the_default_path_without_a_model(tmp_path):
    cli = "import sys\nfrom kogata.cli import main\nsys.argv[0] = 'kogata'\nmain()\n"
    out = _run(cli, "eval", "karte", "--limit", "2", "--out", str(tmp_path / "e.json"))
    assert out.returncode == 0 and out.stderr.strip().splitlines()[-1] == "model loads: 0", out.stderr
    result = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert result["model"] == "rules+reader+status" and result["summary"]["errors"] == 0


def test_the_library_refuses_what_contradicts_itself():
    from kogata.errors import InputError

    with pytest.raises(InputError, match="rules_only"):
        karte(SAMPLE, rules_only=True, model="small")
    with pytest.raises(InputError, match="model="):
        karte(SAMPLE, adapter="karte")


def test_chart_follows_the_contract(chart):
    assert validation_errors(chart.to_dict(), CHART_SCHEMA) == []


def test_every_line_cites_real_utterances_and_failures_are_flagged(chart):
    ids = {u.id for u in chart.transcript.utterances}
    items = [i for section in chart.soap.values() for i in section]
    assert len(items) >= 6
    for item in items:
        assert item.evidence and set(item.evidence) <= ids or not item.supported
    assert len(chart.warnings) == sum(not i.supported for i in items)


def test_facts_from_the_words_reach_the_chart(chart):
    o_text = " ".join(i.text for i in chart.soap["O"] if i.supported)
    assert "38.5℃" in o_text and "97%" in o_text
    p_text = " ".join(i.text for i in chart.soap["P"] if i.supported)
    assert "アセトアミノフェン" in p_text and "500mg" in p_text
    s_text = " ".join(i.text for i in chart.soap["S"] if i.supported)
    assert "呼吸困難なし" in s_text and "ペニシリン" in s_text
    assert "呼吸困難あり" not in s_text


def test_no_chinese_glyphs_in_the_chart(chart):
    text = json.dumps(chart.to_dict(), ensure_ascii=False)
    assert non_japanese_chars(text) == []


def test_markdown_hides_unsupported_lines_unless_asked(chart):
    md = chart_markdown(chart)
    for heading in ("## S（主観的情報）", "## O（客観的情報）", "## A（評価）", "## P（計画）"):
        assert heading in md
    for item in (i for section in chart.soap.values() for i in section):
        if item.supported:
            assert f"- {item.text} 〔発言" in md
        else:
            assert f"- {item.text} 〔発言" not in md and f"- ⚠ {item.text}" in chart_markdown(
                chart, show_unsupported=True
            )


def test_fhir_document_bundle_validates(chart):
    bundle = chart_bundle(chart)
    parsed = Bundle.model_validate(bundle)  # FHIR R4B models; the resources used here are unchanged from R4
    assert parsed.type == "document"
    composition = bundle["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert [s["title"][0] for s in composition["section"]] == ["S", "O", "A", "P"]
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Condition", "MedicationRequest", "Observation", "AllergyIntolerance"} <= kinds
    urls = {e["fullUrl"] for e in bundle["entry"]}
    refs = [r["reference"] for s in composition["section"] for r in s.get("entry", [])]
    assert refs and set(refs) <= urls


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        ("医師：こんにちは。\n患者：熱があります。".encode("cp932"), "Shift_JIS"),
        (b"Doctor: hello\nPatient: I have had a fever for three days and a cough.", "Japanese"),
        ("今日は熱があります。".encode(), "医師"),
    ],
)
def test_bad_transcripts_fail_fast_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "visit.txt"
    path.write_bytes(content)
    out = subprocess.run([*KOGATA, "karte", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


def test_cli_reads_shift_jis_with_encoding_and_writes_fhir_atomically(tmp_path):
    visit = tmp_path / "visit_sjis.txt"
    visit.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("cp932"))
    out_path = tmp_path / "charts" / "visit.fhir.json"
    out = subprocess.run(
        [*KOGATA, "karte", str(visit), "--encoding", "cp932", "--format", "fhir", "--out", str(out_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    Bundle.model_validate(json.loads(out_path.read_text(encoding="utf-8")))
    assert [p.name for p in out_path.parent.iterdir()] == ["visit.fhir.json"]  # no temporary file left behind
    assert read_transcript(visit, encoding="cp932").char_count > 500


def test_model_lines_are_added_only_where_they_say_something_new(small_llm, monkeypatch):
    """The model's drafted lines never replace what the rules read; one that repeats a rule line is left out,
    and so is one that names nothing clinical. The model is not asked at all when the rules leave nothing."""
    asked: list[list[int]] = []

    def drafter(model, said, *, adapter=None):
        asked.append([s.id for s in said])
        return {
            "S": [
                {"text": "3日前より発熱あり。", "evidence": [2]},  # the rules' symptom line says this
                {"text": "黄色痰を伴う咳嗽あり。", "evidence": [6]},  # and this, in other words
                {"text": "自宅での最高体温38℃台。", "evidence": [4]},  # 自宅, 最高, 体温 are new
                {"text": "患者の話を伺いました。", "evidence": [4]},
            ],  # names nothing a chart is made of
            "O": [],
            "A": [],
            "P": [],
        }

    rules = karte(SAMPLE)  # the rules and the reader: the default path, and what the model's lines come after
    karte(SAMPLE, model=small_llm, drafter=drafter)
    assert asked == []  # on this visit every clinical utterance is in a rule line
    monkeypatch.setattr(chart_module, "uncovered", lambda said, soap: said)  # give the model the whole visit
    drafted = karte(SAMPLE, model=small_llm, drafter=drafter)
    s_rules = [i.text for i in rules.soap["S"]]
    s_drafted = [i.text for i in drafted.soap["S"]]
    assert s_drafted[: len(s_rules)] == s_rules  # every rule and reader line stays, in its place
    assert s_drafted[len(s_rules) :] == ["自宅での最高体温38℃台。"]


def test_a_draft_lists_the_clinical_utterances_no_line_charts_for_review():
    from kogata.render.header import ChartHeader
    from kogata.tasks.karte import karte
    from kogata.transcript import parse_transcript

    visit = (
        "医師：今日はどうされました？\n"
        "患者：腰が痛くて。\n"
        "医師：足を上げますよ。はい、反対も。足を上げても響かないですね。\n"
        "患者：あ、甲状腺の薬を。チラーヂンを毎朝。\n"
        "患者：はい。\n"
    )
    chart = karte(parse_transcript(visit), rules_only=True)
    cited = {i for items in chart.soap.values() for item in items for i in item.evidence}
    unread = [u.id for u in chart.unread()]
    # neither the straight-leg-raise finding nor the daily thyroid drug has a rule that charts it: the draft says so
    assert unread == [3, 4] and not cited & set(unread)
    markdown = chart_markdown(chart)
    assert "## 要確認：カルテに載っていない発言 2 件" in markdown
    assert "- 〔発言 4〕 患者：あ、甲状腺の薬を。チラーヂンを毎朝。" in markdown
    # a charted symptom, a bare はい and the question are not listed; a signed chart has been read and lists nothing
    assert "〔発言 2〕 患者" not in markdown and "〔発言 5〕" not in markdown
    assert "要確認" not in chart_markdown(chart, header=ChartHeader(status="signed"))
