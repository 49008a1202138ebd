"""`kogata eval karte`: chart quality on synthetic consultations (data/consultations, data/holdout, data/corpus).

Per consultation and overall: key-fact recall (a fact counts when one shown line holds all its
`must_contain` strings), recall per kind of fact, unsupported-item rate, invented drugs and doses (named in shown
lines or the medication list but said nowhere in the visit), denied findings shown as present, non-Japanese glyphs,
charts valid against the JSON contract, and seconds per chart. Where the reference lists them (data/corpus):
negatives kept (a denied finding written in a shown line with a negation after it: なし, ない, 否定, 認めず …) and
wrong medications (a drug in the chart's medication list that the reference gives only a non-current status:
refused, avoided, deferred, stopped, allergy, discussed).

A folder of writer folders (data/corpus) is read one level down; `split` picks train, dev or test by writer.
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from kogata.engine import Model, load
from kogata.engine.schema import validation_errors
from kogata.errors import InputError
from kogata.evals.runner import default_data
from kogata.ja import find_findings, find_quantities
from kogata.ja.drugs import find_drugs
from kogata.ja.glyphs import non_japanese_chars
from kogata.tasks.karte import chart as chart_module
from kogata.tasks.karte.chart import Chart, karte
from kogata.tasks.karte.schema import CHART_SCHEMA, SECTIONS
from kogata.tasks.karte.vocabulary import evidence
from kogata.transcript import read_transcript
from kogata.verify import clean
from kogata.verify.text import same_quantity

DATA_DIR = "consultations"  # data/consultations in the repository (kogata.evals.runner.resolve_data)
DEFAULT_DATA = default_data(DATA_DIR)
_DOSE_UNITS = {"mg", "g", "mL", "μg", "単位", "錠", "カプセル", "包"}


@dataclass
class Case:
    id: str
    transcript: Path
    reference: dict


CURRENT_STATUSES = {"current", "prescribed", "changed"}
_NEGATION_AFTER = ("なし", "ない", "無し", "否定", "認めず", "認めない", "(-)", "陰性", "せず", "なく")


def cases(data: Path = DEFAULT_DATA, split: str | None = "test") -> list[Case]:
    found = []
    for ref_path in sorted([*Path(data).glob("*.json"), *Path(data).glob("*/*.json")]):
        reference = json.loads(ref_path.read_text(encoding="utf-8"))
        if split and reference.get("split") != split:
            continue
        found.append(Case(reference["id"], ref_path.with_suffix(".txt"), reference))
    return found


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def score(chart: Chart, reference: dict) -> dict:
    """Scores for one chart against its reference (see the module docstring)."""
    index = evidence(chart.transcript)
    shown = [i for s in SECTIONS for i in chart.soap[s] if i.supported]
    lines = [_nfkc(i.text) for i in shown]
    recalled = [
        f for f in reference["key_facts"] if any(all(_nfkc(m) in line for m in f["must_contain"]) for line in lines)
    ]

    said_drugs = set().union(*(s.drugs for s in index.said.values()))
    said_quantities = set().union(*(s.quantities for s in index.said.values()))
    named = {m.value.generic for i in shown for m in find_drugs(clean(i.text))} | {m["name"] for m in chart.medications}
    invented_drugs = sorted(named - said_drugs)
    invented_doses = sorted(
        {
            f"{q.value}{q.unit}"
            for i in shown
            for q in find_quantities(clean(i.text))
            if q.unit in _DOSE_UNITS and not any(same_quantity((q.value, q.unit), said) for said in said_quantities)
        }
    )
    denied_present = sorted(
        {
            f.term
            for s in ("S", "O", "A")
            for i in chart.soap[s]
            if i.supported
            for f in find_findings(clean(i.text))
            if not f.negated and f.term in index.denied
        }
    )
    all_text = " ".join(i.text for s in SECTIONS for i in chart.soap[s])
    listed = [_nfkc(" ".join(filter(None, (m.get("name"), m.get("brand"))))) for m in chart.medications]
    forbidden = [  # a drug name is checked against the medication list: a chart may say it was refused
        w
        for w in reference.get("must_not_appear", [])
        if (_nfkc(w) in " ".join(listed) if find_drugs(_nfkc(w)) else _nfkc(w) in _nfkc(" ".join(lines)))
    ]
    items = sum(len(chart.soap[s]) for s in SECTIONS)
    return {
        "id": reference["id"],
        "department": reference.get("department", ""),
        "chars": chart.transcript.char_count,
        "key_facts": len(reference["key_facts"]),
        "recalled": len(recalled),
        "recall": len(recalled) / len(reference["key_facts"]) if reference["key_facts"] else 1.0,
        "missed": [f["fact"] for f in reference["key_facts"] if f not in recalled],
        "items": items,
        "unsupported": items - len(shown),
        "invented_drugs": invented_drugs,
        "invented_doses": invented_doses,
        "denied_as_present": denied_present,
        "non_japanese": non_japanese_chars(all_text),
        "must_not_appear_shown": forbidden,
        "contract_errors": validation_errors(chart.to_dict(), CHART_SCHEMA),
        "seconds": chart.seconds,
        "kinds": {
            kind: [sum(f in recalled for f in facts), len(facts)]
            for kind in sorted({f["kind"] for f in reference["key_facts"]})
            for facts in [[f for f in reference["key_facts"] if f["kind"] == kind]]
        },
        "negatives": len(reference.get("negatives", [])),
        "negatives_kept": len([n for n in reference.get("negatives", []) if _kept_negative(n["finding"], lines)]),
        "wrong_medications": _wrong_medications(chart.medications, reference),
    }


def _kept_negative(finding: str, lines: list[str]) -> bool:
    """Whether a shown line writes the denied `finding` with a negation after it."""
    term = _nfkc(finding)
    return any(term in line and any(neg in line[line.index(term) :] for neg in _NEGATION_AFTER) for line in lines)


def _wrong_medications(listed: list[dict], reference: dict) -> list[str]:
    """Drugs in the chart's medication list that the reference never gives a current status. A listed drug is
    matched to the reference drugs it names exactly (name or brand) where there are any, else to those whose name
    holds its name or is held in it: ロサルタン, changed today, is not the stopped ロサルタン/ヒドロクロロチアジド
    named beside it."""
    wrong = []
    for med in listed:
        names = {_nfkc(x) for x in (med.get("name"), med.get("brand")) if x}
        text = _nfkc(" ".join(filter(None, (med.get("name"), med.get("brand"), med.get("text")))))
        if not text:
            continue
        refs = [[_nfkc(x) for x in (r.get("name"), r.get("brand")) if x] for r in reference.get("medications", [])]
        exact = [r for r, ns in zip(reference.get("medications", []), refs, strict=True) if names & set(ns)]
        near = [
            r
            for r, ns in zip(reference.get("medications", []), refs, strict=True)
            if any(n in text or text in n for n in ns)
        ]
        statuses = {r.get("status", "") for r in exact or near}
        if statuses and not statuses & CURRENT_STATUSES:
            wrong.append(med.get("name", text))
    return wrong


def summarise(rows: list[dict]) -> dict:
    n = len(rows) or 1
    items = sum(r["items"] for r in rows) or 1
    return {
        "consultations": len(rows),
        "key_fact_recall": sum(r["recalled"] for r in rows) / (sum(r["key_facts"] for r in rows) or 1),
        "unsupported_rate": sum(r["unsupported"] for r in rows) / items,
        "invented_drugs_or_doses": sum(len(r["invented_drugs"]) + len(r["invented_doses"]) for r in rows),
        "denied_shown_as_present": sum(len(r["denied_as_present"]) for r in rows),
        "non_japanese_glyphs": sum(len(r["non_japanese"]) for r in rows),
        "must_not_appear_shown": sum(len(r["must_not_appear_shown"]) for r in rows),
        "valid_contract": sum(not r["contract_errors"] for r in rows) / n,
        "negatives_kept": sum(r.get("negatives_kept", 0) for r in rows)
        / (sum(r.get("negatives", 0) for r in rows) or 1),
        "wrong_medications": sum(len(r.get("wrong_medications", [])) for r in rows),
        "recall_by_kind": {
            kind: round(
                sum(r["kinds"][kind][0] for r in rows if kind in r.get("kinds", {}))
                / sum(r["kinds"][kind][1] for r in rows if kind in r.get("kinds", {})),
                3,
            )
            for kind in sorted({k for r in rows for k in r.get("kinds", {})})
        },
        "seconds_per_chart": sum(r["seconds"] for r in rows) / n,
        "errors": sum(1 for r in rows if "error" in r),
    }


def evaluate(
    data: Path = DEFAULT_DATA,
    *,
    split: str | None = "test",
    model: Model | str | None = None,
    adapter: str | None = None,
    limit: int | None = None,
    progress: bool = True,
    rules_only: bool = False,
    reader: bool | None = None,
) -> dict:
    """Chart every consultation of `split` and score it; an error in one case is recorded, not raised.
    As kogata.tasks.karte.karte: no language model unless `model` names one (a Model, or a name: "default" is the
    default model), `rules_only` charts without the model or the reader, `reader` turns the learned reader on or off
    (None: the default)."""
    if adapter and model is None:  # as karte() refuses it, but once rather than on every case
        raise InputError("an adapter is loaded with a language model: give model= too (e.g. model='default')")
    llm = None if model is None else model if isinstance(model, Model) else load(model, progress=progress)
    selected = cases(data, split)[:limit]
    rows = []
    for case in tqdm(selected, desc="karte eval", disable=not progress, unit="visit"):
        start = time.perf_counter()
        try:
            chart = karte(
                read_transcript(case.transcript),
                model=llm,
                adapter=adapter,
                rules_only=rules_only,
                reader=reader,
            )
            row = score(chart, case.reference)
            row["chart"] = chart.to_dict()
        except Exception as e:  # one bad case must not end the run
            row = {
                "id": case.id,
                "error": f"{type(e).__name__}: {e}",
                "key_facts": len(case.reference["key_facts"]),
                "recalled": 0,
                "items": 0,
                "unsupported": 0,
                "invented_drugs": [],
                "invented_doses": [],
                "denied_as_present": [],
                "non_japanese": [],
                "must_not_appear_shown": [],
                "contract_errors": ["no chart"],
                "seconds": time.perf_counter() - start,
            }
        rows.append(row)
    reading, status = chart_module.use_parts(reader, rules_only)
    return {
        "model": (llm.spec.name if llm else "rules") + ("+reader" if reading else "") + ("+status" if status else ""),
        "adapter": adapter,
        "split": split,
        "data": str(data),
        "summary": summarise(rows),
        "cases": rows,
    }
