"""How well after-call records recall what the customer asked for.

`kogata eval asdc`: the Accommodation Search Dialog Corpus (Megagon Labs, CC BY 4.0; ../shared/data/asdc).
Each dialogue ends with the operator's bullet recap of the customer's conditions, which is the gold list
`meta.conditions`; the recap turn is dropped and the record's requests are compared with the gold list.

`kogata eval calls`: the synthetic insurance calls in data/calls, with reference records: requests as above,
plus the follow-up deadline (the same calendar day) and actions.

Requests and gold items are paired one to one, most similar first (kogata.tasks.call.similar); a pair counts
when its similarity is at least MATCH_THRESHOLD. Recall = matched gold / gold items, precision = matched
requests / requests shown (verified ones).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tqdm import tqdm

from kogata.engine import Model, load
from kogata.engine.schema import validation_errors
from kogata.errors import InputError
from kogata.evals.runner import default_data
from kogata.ja.glyphs import non_japanese_chars
from kogata.tasks.call.record import CallRecord, assemble, call
from kogata.tasks.call.schema import RECORD_SCHEMA
from kogata.tasks.call.similar import MATCH_THRESHOLD, match
from kogata.tasks.call.vocabulary import evidence
from kogata.transcript import Transcript, Utterance, read_transcript

ASDC_DIR, CALLS_DIR = "asdc", "calls"  # ../shared/data/asdc, data/calls (kogata.evals.runner.resolve_data)
DEFAULT_ASDC = default_data(ASDC_DIR)
DEFAULT_CALLS = default_data(CALLS_DIR)
THRESHOLDS = (0.3, 0.5, 0.7)


def score_requests(predicted: Sequence[str], gold: Sequence[str]) -> dict:
    """Matched counts, recall and precision at MATCH_THRESHOLD, and recall at each of THRESHOLDS."""
    pairs = match(predicted, gold)
    return {
        "gold": len(gold),
        "predicted": len(predicted),
        "matched": len(pairs),
        "recall": len(pairs) / len(gold) if gold else 1.0,
        "precision": len(pairs) / len(predicted) if predicted else (1.0 if not gold else 0.0),
        "matched_at": {str(t): len(match(predicted, gold, t)) for t in THRESHOLDS},
        "pairs": [{"predicted": predicted[i], "gold": gold[j], "similarity": round(s, 3)} for i, j, s in pairs],
        "missed": [g for j, g in enumerate(gold) if j not in {p[1] for p in pairs}],
    }


def _totals(rows: list[dict]) -> dict:
    scored = [r for r in rows if "error" not in r]
    gold = sum(r["gold"] for r in rows)
    predicted = sum(r["predicted"] for r in scored)
    matched = sum(r["matched"] for r in scored)
    return {
        "dialogues": len(rows),
        "errors": len(rows) - len(scored),
        "requirement_recall": matched / gold if gold else 0.0,
        "requirement_precision": matched / predicted if predicted else 0.0,
        "recall_at": {str(t): sum(r["matched_at"][str(t)] for r in scored) / (gold or 1) for t in THRESHOLDS},
        "gold_items": gold,
        "predicted_items": predicted,
        "matched_items": matched,
        "unsupported_rate": sum(r["unsupported"] for r in scored) / (sum(r["items"] for r in scored) or 1),
        "valid_contract": sum(not r["contract_errors"] for r in scored) / (len(rows) or 1),
        "non_japanese_glyphs": sum(len(r["non_japanese"]) for r in scored),
        "seconds_per_call": sum(r["seconds"] for r in rows) / (len(rows) or 1),
    }


def _save_partial(path: Path | None, result: dict) -> None:
    """Write the results so far (atomically): a long run that is stopped keeps what it measured."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _record_row(record: CallRecord, gold: Sequence[str]) -> dict:
    shown = [i.text for i in record.requests if i.supported]
    items = record.items()
    text = json.dumps(record.to_dict(), ensure_ascii=False)
    return {
        **score_requests(shown, gold),
        "items": len(items),
        "unsupported": sum(not i.supported for i in items),
        "contract_errors": validation_errors(record.to_dict(), RECORD_SCHEMA),
        "non_japanese": non_japanese_chars(text),
        "seconds": record.seconds,
        "record": record.to_dict(),
        "draft": record.drafted,
    }


def _error_row(case_id: str, gold: Sequence[str], e: Exception, start: float) -> dict:
    return {
        "id": case_id,
        "error": f"{type(e).__name__}: {e}",
        "gold": len(gold),
        "predicted": 0,
        "matched": 0,
        "seconds": time.perf_counter() - start,
    }


# ---------------------------------------------------------------------------------------------------------------
# ASDC.


@dataclass
class Dialogue:
    id: str
    transcript: Transcript  # without the operator's closing recap
    conditions: list[str]  # the recap: the gold requirement list


_SPEAKERS = {"operator": "オペレーター", "customer": "顧客"}


def read_asdc(path: Path) -> Dialogue:
    """One ASDC dialogue; the final operator turn (the recap) is dropped, its bullets are `conditions`."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    turns = doc["utterances"]
    if not turns or not turns[-1]["name"].startswith("operator"):
        raise InputError(f"{path}: the last turn is not the operator's recap")
    utterances = []
    for n, turn in enumerate(turns[:-1], start=1):
        role = turn["name"].split("_")[0]
        utterances.append(Utterance(n, _SPEAKERS.get(role, role), turn["text"].strip()))
    return Dialogue(doc["meta"]["id"]["id"], Transcript(utterances, source=str(path)), list(doc["meta"]["conditions"]))


def asdc_dialogues(data: Path = DEFAULT_ASDC, split: str = "dev") -> list[Path]:
    folder = Path(data) / "dialog_json"
    if not folder.is_dir():
        raise InputError(f"no ASDC dialogues at {folder} (expected dialog_json/*.json; see SOURCE.md)")
    paths = [
        p
        for p in sorted(folder.glob("*.json"))
        if json.loads(p.read_text(encoding="utf-8"))["meta"]["purpose"] == split
    ]
    if not paths:
        raise InputError(f"no ASDC dialogues of split {split!r} in {folder}")
    return paths


def evaluate_asdc(
    data: Path = DEFAULT_ASDC,
    *,
    split: str = "dev",
    model: Model | str | None = None,
    adapter: str | None = None,
    limit: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    partial: Path | None = None,
    rules_only: bool = False,
) -> dict:
    """Records for the dialogues of `split` (a seeded sample of `limit` when both are given, else the first
    `limit`), scored against the recap; an error in one dialogue is recorded, not raised. With `partial`, the
    results so far are written there after every dialogue. `rules_only`: records from the words alone
    (kogata.tasks.call.rules, no model), the baseline the model has to add to."""
    paths = asdc_dialogues(data, split)
    if limit is not None and seed is not None:
        paths = sorted(random.Random(seed).sample(paths, min(limit, len(paths))))
    else:
        paths = paths[:limit]
    llm = None if rules_only else model if isinstance(model, Model) else load(model, progress=progress)
    rows = []
    for path in tqdm(paths, desc="asdc eval", disable=not progress, unit="dialogue"):
        start = time.perf_counter()
        gold: list[str] = []
        try:
            dialogue = read_asdc(path)
            gold = dialogue.conditions
            if llm is None:
                empty: dict[str, list[dict]] = {"issue": [], "requests": [], "actions": [], "follow_up": []}
                record = assemble(
                    evidence(dialogue.transcript), empty, seconds=time.perf_counter() - start, model="rules"
                )
            else:
                record = call(dialogue.transcript, model=llm, adapter=adapter)
            row = {"id": dialogue.id, **_record_row(record, gold)}
        except Exception as e:  # one bad dialogue must not end the run
            row = _error_row(path.stem, gold, e, start)
        rows.append(row)
        result = {
            "data": str(data),
            "split": split,
            "seed": seed,
            "limit": limit,
            "model": llm.spec.name if llm else "rules only",
            "adapter": adapter,
            "match_threshold": MATCH_THRESHOLD,
            "complete": len(rows) == len(paths),
            "summary": _totals(rows),
            "dialogues": rows,
        }
        _save_partial(partial, result)
    return result


# ---------------------------------------------------------------------------------------------------------------
# Synthetic insurance calls (data/calls/*.txt with a reference *.json beside each).


def evaluate_calls(
    data: Path = DEFAULT_CALLS,
    *,
    model: Model | str | None = None,
    adapter: str | None = None,
    limit: int | None = None,
    progress: bool = True,
    partial: Path | None = None,
) -> dict:
    """Records for the synthetic calls, scored against their reference records: request recall/precision,
    follow-up deadline (same day), action recall."""
    refs = sorted(Path(data).glob("*.json"))[:limit]
    if not refs:
        raise InputError(f"no reference records (*.json) in {data}")
    llm = model if isinstance(model, Model) else load(model, progress=progress)
    rows = []
    for ref_path in tqdm(refs, desc="calls eval", disable=not progress, unit="call"):
        start = time.perf_counter()
        reference = json.loads(ref_path.read_text(encoding="utf-8"))
        gold = reference["requests"]
        try:
            call_date = date.fromisoformat(reference["call_date"])
            record = call(
                read_transcript(ref_path.with_suffix(".txt")), model=llm, adapter=adapter, call_date=call_date
            )
            row = {"id": reference["id"], **_record_row(record, gold)}
            shown_actions = [i.text for i in record.actions if i.supported]
            row["actions"] = score_requests(shown_actions, reference["actions"])
            want = (reference.get("follow_up") or {}).get("deadline")
            got = record.follow_up.to_dict()["deadline"] if record.follow_up and record.follow_up.supported else None
            row["deadline"] = {"reference": want, "predicted": got, "correct": want == got}
        except Exception as e:  # one bad call must not end the run
            row = _error_row(reference.get("id", ref_path.stem), gold, e, start)
        rows.append(row)
        summary = _totals(rows)
        scored = [r for r in rows if "error" not in r]
        action_gold = sum(r["actions"]["gold"] for r in scored)
        summary["action_recall"] = sum(r["actions"]["matched"] for r in scored) / (action_gold or 1)
        summary["deadline_accuracy"] = sum(r["deadline"]["correct"] for r in scored) / (len(rows) or 1)
        result = {
            "data": str(data),
            "model": llm.spec.name,
            "adapter": adapter,
            "match_threshold": MATCH_THRESHOLD,
            "complete": len(rows) == len(refs),
            "summary": summary,
            "dialogues": rows,
        }
        _save_partial(partial, result)
    return result
