"""lawqa_jp (デジタル庁 法令QA): four-choice questions on 金融商品取引法, 薬機法 and 借地借家法.

Data: digital-go-jp/lawqa_jp, `data/selection.json` (`{"samples": [...]}` with コンテキスト, 問題文, 選択肢,
output; see the folder's SOURCE.md). PDL 1.0. Each question ships the statute excerpt it is about, and the
authors' instruction refers to it (<following_context>), so the excerpt is given with the question: the
figure measures answering from a supplied regulation, the shape of 自治体 Q&A over 条例. Metric: accuracy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.choice import answer_schema, instruction, listing, one_letter, same_letter
from kogata.evals.runner import Dataset, Item, by_group, chat, count, define
from kogata.evals.scoring import majority_share

SYSTEM = (
    "あなたは日本の法令に詳しいアシスタントです。示された条文に基づいて、問題に対する正しい選択肢を選んでください。"
    "説明は不要です。"
)
CHOICE_LINE = re.compile(r"^\s*([a-d])[\s.．、:：)]\s*(.+)$")


def load(path: Path) -> Dataset:
    file = path / "selection.json" if path.is_dir() else path
    try:
        samples = json.loads(file.read_text(encoding="utf-8"))["samples"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"cannot read lawqa_jp questions from {file}: {e}") from None
    items = []
    for s in samples:
        lines = [m.groups() for m in map(CHOICE_LINE.match, s["選択肢"].splitlines()) if m]
        letters = "".join(letter for letter, _ in lines)
        if letters != "abcd":
            raise InputError(f"{file}: question {s['ファイル名']} has choices {letters!r}, expected a–d")
        shown = listing([text for _, text in lines], letters)
        user = (
            f"条文：\n{s['コンテキスト'].strip()}\n\n問題：{s['問題文'].strip()}\n\n選択肢：\n{shown}\n\n"
            f"{instruction(1, letters)}"
        )
        items.append(
            Item(
                id=s["ファイル名"],
                group=s["ファイル名"].split("_")[0],
                gold=s["output"].strip(),
                schema=answer_schema(letters),
                max_tokens=24,
                messages=chat(SYSTEM, user),
            )
        )
    return Dataset(items)


def summarise(records: list[dict], items: list[Item]) -> dict[str, Any]:
    rows = []
    for group, rs in [*by_group(records).items(), ("all", records)]:
        right, n = count(rs)
        rows.append(
            {
                "law": group,
                "n": n,
                "accuracy": right / n if n else 0.0,
                "random": 0.25,
                "majority": majority_share(r["gold"] for r in rs),
            }
        )
    return {"rows": rows, "notes": {"majority": "always answering the most common gold letter (c in the full set)"}}


SUITE = define(
    __name__, "lawqa", "lawqa-jp", "lawqa_jp (法令QA, statute excerpt given)", predict=one_letter, judge=same_letter
)
