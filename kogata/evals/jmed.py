"""JMED-LLM: eight Japanese medical tasks (NAIST sociocom), the 100-item evaluation sets.

Data: sociocom/JMED-LLM, `datasets/*.csv` (see the folder's SOURCE.md; NRNER and JCSTS are CC BY-NC-SA 4.0).
Metrics as the authors' evaluator: choice tasks → accuracy and Cohen's kappa (linear-weighted for the ordinal
CRADE and JCSTS); NER tasks → exact and partial F1 per item, averaged over items. Partial matching is a
substring match in either direction (the authors' code tests set membership instead, which makes it equal to
exact; see kogata.evals.scoring.list_f1). The overall figure averages kappa (choice) and partial F1 (NER)
over the tasks, as the authors' leaderboard does.

`--limit N` samples N items from each task.
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.choice import UPPER, answer_schema, listing
from kogata.evals.runner import Dataset, Item, by_group, chat, define
from kogata.evals.scoring import accuracy, cohen_kappa, list_f1

CHOICE_TASKS = {"jmmlu_med": None, "crade": "linear", "rrtnm": None, "smdis": None, "jcsts": "linear"}
NER_TASKS = ("mrner_disease", "mrner_medicine", "nrner")
# google/gemma-2-2b-it on the JMED-LLM leaderboard (README): kappa for choice tasks, partial F1 for NER.
PUBLISHED_GEMMA_2_2B = {
    "jmmlu_med": 0.17,
    "mrner_disease": 0.66,
    "mrner_medicine": 0.46,
    "nrner": 0.46,
    "crade": 0.00,
    "rrtnm": 0.24,
    "smdis": 0.14,
    "jcsts": 0.12,
    "average": 0.28,
}

CHOICE_SYSTEM = (
    "与えられた医学に関する質問と選択肢から、最も適切な回答を選択してください。"
    "回答は選択肢のアルファベットだけにしてください。"
)
NER_SYSTEM = (
    "与えられた医学に関する質問に答えてください。回答は本文中の表現をそのまま抜き出した文字列のリストにしてください。"
    "該当する表現がなければ空のリストにしてください。"
)
NER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "array", "maxItems": 20, "items": {"type": "string", "minLength": 1, "maxLength": 60}}
    },
    "required": ["answer"],
    "additionalProperties": False,
}


def _rows(file: Path) -> list[dict[str, str]]:
    try:
        with file.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read {file}: {e}") from None


def load(path: Path) -> Dataset:
    items: list[Item] = []
    for task in (*CHOICE_TASKS, *NER_TASKS):
        file = path / f"{task}.csv"
        if not file.is_file():
            raise InputError(f"no JMED-LLM task file {file}")
        for n, row in enumerate(_rows(file), 1):
            question = row["question"].strip()
            if task in CHOICE_TASKS:
                options = [row[f"option{c}"] for c in UPPER[:6] if (row.get(f"option{c}") or "").strip()]
                letters = UPPER[: len(options)]
                user = f"質問: {question}\n選択肢:\n{listing(options, letters)}"
                items.append(
                    Item(
                        id=f"{task}:{n}",
                        group=task,
                        gold=row["answer"].strip(),
                        schema=answer_schema(letters),
                        max_tokens=16,
                        info={"labels": letters},
                        messages=chat(CHOICE_SYSTEM, user),
                    )
                )
            else:
                try:
                    gold = [str(g) for g in ast.literal_eval(row["answer"])]
                except (ValueError, SyntaxError):
                    raise InputError(f"{file}, row {n}: the answer is not a list: {row['answer'][:60]}") from None
                items.append(
                    Item(
                        id=f"{task}:{n}",
                        group=task,
                        gold=gold,
                        schema=NER_SCHEMA,
                        max_tokens=400,
                        shape='{"answer": ["表現", …]}',
                        messages=chat(NER_SYSTEM, question),
                    )
                )
    return Dataset(items)


def predict(value: Any, item: Item) -> Any:
    answer = value["answer"]
    return [a.strip() for a in answer] if item.group in NER_TASKS else answer


def judge(item: Item, prediction: Any) -> dict[str, Any]:
    if item.group in NER_TASKS:
        predicted = prediction or []
        return {
            "correct": set(predicted) == set(item.gold),
            "exact_f1": list_f1(item.gold, predicted),
            "partial_f1": list_f1(item.gold, predicted, partial=True),
        }
    return {"correct": prediction == item.gold}


def summarise(records: list[dict], items: list[Item]) -> dict[str, Any]:
    rows, mains = [], []
    for task, rs in by_group(records).items():
        row: dict[str, Any] = {"task": task, "n": len(rs)}
        if task in CHOICE_TASKS:
            # RRTNM's T, N and M questions have 5, 4 and 2 options: the scale is their union, chance per item
            labels = sorted({letter for r in rs for letter in r["labels"]})
            gold = [r["gold"] for r in rs]
            predicted = [r["prediction"] or "none" for r in rs]
            kappa = cohen_kappa(gold, predicted, weights=CHOICE_TASKS[task], labels=labels)
            row.update(
                {
                    "accuracy": accuracy([r["correct"] for r in rs]),
                    "kappa": kappa,
                    "exact F1": None,
                    "partial F1": None,
                    "random acc": sum(1 / len(r["labels"]) for r in rs) / len(rs),
                }
            )
            mains.append(kappa)
        else:
            partial = sum(r["partial_f1"] for r in rs) / len(rs)
            row.update(
                {
                    "accuracy": None,
                    "kappa": None,
                    "exact F1": sum(r["exact_f1"] for r in rs) / len(rs),
                    "partial F1": partial,
                    "random acc": None,
                }
            )
            mains.append(partial)
        row["gemma-2-2b-it"] = PUBLISHED_GEMMA_2_2B[task]
        rows.append(row)
    rows.append(
        {
            "task": "average (kappa / partial F1)",
            "n": len(records),
            "accuracy": None,
            "kappa": sum(mains) / len(mains) if mains else 0.0,
            "exact F1": None,
            "partial F1": None,
            "random acc": None,
            "gemma-2-2b-it": PUBLISHED_GEMMA_2_2B["average"],
        }
    )
    notes = {
        "kappa": "linear-weighted for crade and jcsts; a random guess has expected kappa 0",
        "gemma-2-2b-it": "published JMED-LLM leaderboard figure (kappa or partial F1) on the full 100-item sets",
    }
    return {"rows": rows, "notes": notes}


SUITE = define(__name__, "jmed", "jmed-llm", "JMED-LLM (8 tasks)", limit_per_group=True)
