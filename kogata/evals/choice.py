"""Multiple-choice questions: how many letters a question asks for, the schema that lets the model write
only an answer of that form, and the prompt. Shared by every choice suite.

The answer is constrained, not parsed out of free text: the schema's enum lists exactly the admissible
answers (one letter; n distinct letters in order for 「2つ選べ」; any non-empty set for 「すべて選べ」; a
permutation for 「順に並べよ」), so a reply is always a well-formed answer and scoring needs no guessing.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Any

from kogata.evals.runner import Item, chat
from kogata.evals.scoring import guess_chance, normalise_answer

LOWER = "abcdefghijklmnop"
UPPER = LOWER.upper()

# A numeric answer (IgakuQA's calculation questions): digits with an optional decimal part.
NUMBER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "pattern": "^[0-9]{1,6}(\\.[0-9]{1,3})?$"}},
    "required": ["answer"],
    "additionalProperties": False,
}


def picks(question: str, n_choices: int) -> int | str:
    """The answer form a question asks for: a count (「2つ選べ」, also 「2 つ 選べ」), "all-that-apply"
    (「すべて選べ」) or "order" (「順に並べよ」); a plain 「どれか」 asks for one."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", question))
    if re.search(r"(すべて|全て)選べ", text):
        return "all-that-apply"
    if "並べよ" in text or "並べなさい" in text:
        return "order"
    counts = re.findall(r"([1-9])つ(?:を)?選べ", text)
    if counts:
        return min(int(counts[-1]), n_choices)
    return 1


def admissible(letters: str, form: int | str) -> list[Any]:
    """Every answer the schema allows, as JSON values: a letter, or a list of letters."""
    if form == 1:
        return list(letters)
    if form == "all-that-apply":
        return [list(c) for k in range(1, len(letters) + 1) for c in itertools.combinations(letters, k)]
    if form == "order":
        return [list(p) for p in itertools.permutations(letters)]
    return [list(c) for c in itertools.combinations(letters, int(form))]


def answer_schema(letters: str, form: int | str = 1) -> dict:
    return {
        "type": "object",
        "properties": {"answer": {"enum": admissible(letters, form)}},
        "required": ["answer"],
        "additionalProperties": False,
    }


def listing(choices: list[str], letters: str) -> str:
    return "\n".join(f"{letter}. {text}" for letter, text in zip(letters, choices))


def instruction(form: int | str, letters: str) -> str:
    shown = "、".join(letters)
    if form == "all-that-apply":
        return f"正しい選択肢をすべて、記号（{shown}）で答えてください。"
    if form == "order":
        return f"選択肢の記号（{shown}）を正しい順に並べて答えてください。"
    if form == 1:
        return f"正しい選択肢を1つ選び、記号（{shown}）だけを答えてください。"
    return f"正しい選択肢を{form}つ選び、記号（{shown}）で答えてください。"


def answer_letters(value: Any) -> list[str]:
    """The letters of a schema-valid answer, as written (a single letter becomes a one-letter list)."""
    answer = value["answer"]
    return normalise_answer([answer] if isinstance(answer, str) else answer)


def one_letter(value: Any, item: Item) -> str:
    """The prediction of a single-answer question: its one letter."""
    return answer_letters(value)[0]


def same_letter(item: Item, prediction: str | None) -> dict[str, Any]:
    return {"correct": prediction == item.gold}


EXAM_SYSTEM = (
    "あなたは日本の{exam}の問題を解いています。問題文と選択肢を読み、正解の選択肢の記号を答えてください。"
    "説明は不要です。"
)


def exam_item(record: dict, *, group: str, exam: str) -> Item | None:
    """An IgakuQA-style record ({problem_id, problem_text, choices, answer, points}) as an Item, or None when
    the record has no gold answer. Choice questions get letters a, b, …; questions without choices
    (calculations, 「解答：①②」) a number."""
    choices = record.get("choices") or []
    gold = record.get("answer") or []
    if not gold or gold == ["NA"] or gold == "NA":
        return None
    question = record["problem_text"].strip()
    if choices:
        letters = LOWER[: len(choices)]
        form = picks(question, len(choices))
        user = f"{question}\n\n{listing(choices, letters)}\n\n{instruction(form, letters)}"
        schema = answer_schema(letters, form)
        chance = guess_chance(len(choices), form)
        max_tokens = 24 + 6 * len(letters)
    else:
        form = "number"
        user = f"{question}\n\n答えを数値だけで答えてください。"
        schema = NUMBER_SCHEMA
        chance = 0.0
        max_tokens = 48
    info = {"form": form, "choices": len(choices), "chance": chance}
    if "points" in record:
        info["points"] = str(record["points"])
    shape = (
        '{"answer": "数値"}' if form == "number" else '{"answer": "記号"}' if form == 1 else '{"answer": ["記号", …]}'
    )
    return Item(
        id=str(record["problem_id"]),
        group=group,
        messages=chat(EXAM_SYSTEM.format(exam=exam), user),
        schema=schema,
        gold=gold,
        max_tokens=max_tokens,
        info=info,
        shape=shape,
    )


def gold_alternatives(gold: list[str]) -> list[list[str]]:
    """IgakuQA writes questions with two accepted answers as ["a or d"]; every other gold is one answer."""
    if len(gold) == 1 and " or " in gold[0]:
        return [[g.strip()] for g in gold[0].split(" or ")]
    return [gold]


def exam_correct(item: Item, prediction: list[str] | None) -> bool:
    """Exact-set accuracy (IgakuQA's and medLLM_QA_benchmark's criterion); order questions compare in order."""
    if prediction is None:
        return False
    if item.info.get("form") == "order":
        return any(normalise_answer(g) == normalise_answer(prediction) for g in gold_alternatives(item.gold))
    if item.info.get("form") == "number":
        return any(_same_number(g[0], prediction[0]) for g in gold_alternatives(item.gold) if prediction)
    return any(
        sorted(normalise_answer(g)) == sorted(normalise_answer(prediction)) for g in gold_alternatives(item.gold)
    )


def _same_number(gold: str, predicted: str) -> bool:
    try:
        return float(unicodedata.normalize("NFKC", gold)) == float(predicted)
    except ValueError:
        return False


def exam_predict(value: Any, item: Item) -> list[str]:
    if item.info.get("form") == "number":
        return [str(value["answer"])]
    return answer_letters(value)
