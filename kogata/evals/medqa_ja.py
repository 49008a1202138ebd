"""DenQA (歯科医師国家試験 2023–2024) and JJSIMQA (日本内科学会雑誌 self-assessment questions).

Data: aistairc/medLLM_QA_benchmark, `data/ja/{DenQA/denqa,JJSIMQA/jjsimqa}.jsonl` (IgakuQA-style JSONL; see the
folder's SOURCE.md). JJSIMQA is CC BY-NC-SA 4.0 (non-commercial). Metric as the authors' evaluate_main.py:
exact-set accuracy. Questions that refer to a figure and questions without a gold answer are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.choice import exam_correct, exam_item, exam_predict
from kogata.evals.igakuqa import read_jsonl
from kogata.evals.runner import Dataset, Item, by_group, count, define
from kogata.evals.scoring import accuracy

SETS = {"DenQA": ("denqa.jsonl", "歯科医師国家試験"), "JJSIMQA": ("jjsimqa.jsonl", "日本内科学会の専門医試験対策問題")}


def load(path: Path) -> Dataset:
    items: list[Item] = []
    figures = no_gold = 0
    for group, (name, exam) in SETS.items():
        file = path / name
        if not file.is_file():
            raise InputError(f"no {group} file at {file}")
        for record in read_jsonl(file):
            if not record.get("text_only", True):
                figures += 1
                continue
            item = exam_item(record, group=group, exam=exam)
            if item is None:
                no_gold += 1
                continue
            item.id = f"{group}:{item.id}"  # DenQA reuses IgakuQA-like ids; keep them apart
            items.append(item)
    return Dataset(items, skipped={"questions that need a figure": figures, "without a gold answer": no_gold})


def judge(item: Item, prediction: list[str] | None) -> dict[str, Any]:
    return {"correct": exam_correct(item, prediction)}


def summarise(records: list[dict], items: list[Item]) -> dict[str, Any]:
    rows = []
    for group, rs in [*by_group(records).items(), ("all", records)]:
        single = [r for r in rs if r["form"] == 1]
        multi = [r for r in rs if r["form"] != 1]
        rows.append(
            {
                "set": group,
                "n": len(rs),
                "accuracy": accuracy([r["correct"] for r in rs]),
                "single-answer": f"{count(single)[0]}/{len(single)}",
                "multi-answer": f"{count(multi)[0]}/{len(multi)}",
                "random": sum(r["chance"] for r in rs) / len(rs) if rs else 0.0,
            }
        )
    return {"rows": rows, "notes": {"random": "expected accuracy of a uniform guess of the required form"}}


SUITE = define(
    __name__, "medqa-ja", "medllm-qa-ja", "DenQA + JJSIMQA (歯科医師国試・内科学会, text-only)", predict=exam_predict
)
