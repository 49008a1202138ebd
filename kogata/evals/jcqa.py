"""JCommonsenseQA (JGLUE v1.3, test split): five-choice commonsense questions, a general-Japanese figure.

Data: yahoojapan/JGLUE, `datasets/jcommonsenseqa-v1.3/test-v1.3.json` (JSON Lines: question, choice0–4,
label; see the folder's SOURCE.md). CC BY-SA 4.0. Metric: accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.choice import LOWER, answer_schema, instruction, listing, one_letter, same_letter
from kogata.evals.runner import Dataset, Item, chat, count, define
from kogata.evals.scoring import majority_share

SYSTEM = "次の質問に、常識に照らして最も適切な選択肢を選んで答えてください。説明は不要です。"
SPLIT = "jcommonsenseqa-v1.3/test-v1.3.json"


def load(path: Path) -> Dataset:
    file = path / SPLIT if (path / SPLIT).is_file() else path
    if not file.is_file():
        raise InputError(f"no JCommonsenseQA test file at {path / SPLIT}")
    items = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            choices = [row[f"choice{i}"] for i in range(5)]
            gold = LOWER[int(row["label"])]
        except (json.JSONDecodeError, KeyError, ValueError) as e:
            raise InputError(f"{file}, line {n}: not a JCommonsenseQA item ({e})") from None
        letters = LOWER[:5]
        user = f"質問：{row['question']}\n\n{listing(choices, letters)}\n\n{instruction(1, letters)}"
        items.append(
            Item(
                id=str(row["q_id"]), group="test", gold=gold, schema=answer_schema(letters), messages=chat(SYSTEM, user)
            )
        )
    return Dataset(items)


def summarise(records: list[dict], items: list[Item]) -> dict[str, Any]:
    right, n = count(records)
    return {
        "rows": [
            {
                "split": "test",
                "n": n,
                "accuracy": right / n if n else 0.0,
                "random": 0.2,
                "majority": majority_share(r["gold"] for r in records),
            }
        ],
        "notes": {
            "published": "fine-tuned encoders 0.782 (Tohoku BERT base) – 0.901 (Waseda RoBERTa large); "
            "human 0.986 (JGLUE README)"
        },
    }


SUITE = define(__name__, "jcqa", "jglue", "JCommonsenseQA v1.3 (test)", predict=one_letter, judge=same_letter)
