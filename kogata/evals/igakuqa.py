"""IgakuQA: the Japanese National Medical Licensing Examination, 112th–116th (2018–2022).

Data: jungokasai/IgakuQA (`data/<year>/<exam>-<block>.jsonl`; see the folder's SOURCE.md). Kasai et al. 2023,
arXiv:2303.18027. Metric as the authors' evaluate_main.py: exact-set accuracy, and exam points (1 per general
question, 3 per 必修 clinical question, 0 for questions the examiners excluded), per year. Their two special
cases are kept: 116A71 counts as correct for every answer, 112B30 accepts a or d.

Questions that refer to a figure (`text_only: false`, 529 of 2,000) are skipped: the figures are not in the data.
The published systems' predictions (`baseline_results/`) are scored with the same functions on the same
items, so the table compares like with like.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.choice import exam_correct, exam_item, exam_predict, gold_alternatives
from kogata.evals.runner import Dataset, Item, by_group, count, define
from kogata.evals.scoring import accuracy, igakuqa_points, normalise_answer

ALWAYS_CORRECT = {"116A71"}  # the examiners accepted every answer
PUBLISHED = {"gpt4": "GPT-4", "chatgpt": "ChatGPT", "gpt3": "GPT-3"}


def question_files(path: Path) -> list[Path]:
    """The question files (`116-A.jsonl`), not the `_metadata` / `_translate` companions."""
    root = path / "data" if (path / "data").is_dir() else path
    files = sorted(p for p in root.glob("*/*.jsonl") if "_" not in p.stem)
    if not files:
        raise InputError(f"no IgakuQA question files (<year>/<exam>-<block>.jsonl) under {root}")
    return files


def read_jsonl(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}") from None


def load(path: Path) -> Dataset:
    items: list[Item] = []
    figures = 0
    for file in question_files(path):
        year = file.parent.name
        for record in read_jsonl(file):
            if not record.get("text_only", True):
                figures += 1
                continue
            item = exam_item(record, group=year, exam="医師国家試験")
            if item is not None:
                item.info["published"] = {}
                items.append(item)
    _attach_published(path, items)
    return Dataset(items, skipped={"questions that need a figure": figures})


def _attach_published(path: Path, items: list[Item]) -> None:
    """Each item's predictions by the published systems, where `baseline_results/` is present."""
    root = path / "baseline_results"
    if not root.is_dir():
        return
    by_id = {i.id: i for i in items}
    for system in PUBLISHED:
        for file in sorted(root.glob(f"*/*_{system}.jsonl")):
            for row in read_jsonl(file):
                item = by_id.get(str(row.get("problem_id")))
                if item is not None:
                    item.info["published"][system] = normalise_answer(str(row.get("prediction", "")))


def judge(item: Item, prediction: list[str] | None) -> dict[str, Any]:
    return {"correct": item.id in ALWAYS_CORRECT or exam_correct(item, prediction)}


def published_correct(item: Item, system: str) -> bool | None:
    prediction = item.info.get("published", {}).get(system)
    if prediction is None:
        return None
    return item.id in ALWAYS_CORRECT or exam_correct(item, prediction)


def summarise(records: list[dict], items: list[Item]) -> dict[str, Any]:
    """Per year and overall: accuracy, points, and the published systems and random guessing on the same items."""
    item_of = {i.id: i for i in items}
    rows = []
    for group, rs in [*by_group(records).items(), ("all", records)]:
        right, n = count(rs)
        scored, available = igakuqa_points(rs)
        row: dict[str, Any] = {
            "year": group,
            "n": n,
            "accuracy": accuracy([r["correct"] for r in rs]),
            "points": f"{scored:g}/{available:g}",
        }
        for system, name in PUBLISHED.items():
            marks = [published_correct(item_of[r["id"]], system) for r in rs]
            row[name] = accuracy([bool(m) for m in marks]) if marks and None not in marks else None
        row["random"] = sum(r["chance"] for r in rs) / n if n else 0.0
        rows.append(row)
    multi = [r for r in records if r["form"] not in (1, "number")]
    notes = {
        "multi-answer": f"{count(multi)[0]}/{len(multi)} correct (exact set)",
        "random": "expected accuracy of a uniform guess of the required form (1/5 single, 1/10 for 2 of 5, …)",
    }
    return {"rows": rows, "notes": notes}


SUITE = define(__name__, "igakuqa", "igakuqa", "IgakuQA (医師国家試験 2018–2022, text-only)", predict=exam_predict)


def published_accuracy(path: Path) -> dict[str, dict[str, float]]:
    """Recompute the published systems' exact-set accuracy over all 2,000 questions and the text-only ones,
    from the shipped `baseline_results/` (Kasai et al. report GPT-4 0.767, ChatGPT 0.540, GPT-3 0.404).

    "all" / "text_only" read each prediction as kogata does ("a, b" is a and b); "all_as_published" splits on
    "," without stripping, as the authors' script does, which scores "a, b" wrong.
    """
    items: list[Item] = []
    text_only: dict[str, bool] = {}
    for file in question_files(path):
        for record in read_jsonl(file):
            item = exam_item(record, group=file.parent.name, exam="医師国家試験")
            if item is not None:
                item.info["published"] = {}
                text_only[item.id] = bool(record.get("text_only", True))
                items.append(item)
    _attach_published(path, items)
    raw: dict[tuple[str, str], str] = {}
    for system in PUBLISHED:
        for file in sorted((path / "baseline_results").glob(f"*/*_{system}.jsonl")):
            raw.update({(system, str(r["problem_id"])): str(r.get("prediction", "")) for r in read_jsonl(file)})
    out: dict[str, dict[str, float]] = {}
    for system, name in PUBLISHED.items():
        marks = [(text_only[i.id], bool(published_correct(i, system))) for i in items]
        as_published = [
            i.id in ALWAYS_CORRECT
            or any(sorted(raw.get((system, i.id), "").split(",")) == sorted(g) for g in gold_alternatives(i.gold))
            for i in items
        ]
        out[name] = {
            "all": accuracy([m for _, m in marks]),
            "text_only": accuracy([m for t, m in marks if t]),
            "all_as_published": accuracy(as_published),
            "n_all": len(marks),
            "n_text_only": sum(1 for t, _ in marks if t),
        }
    return out
