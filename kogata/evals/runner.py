"""Run a suite: load its items, take a seeded sample, ask the model each one under a JSON schema, score.

A suite (one module per benchmark in kogata/evals/) builds `Item`s from its dataset's own format and knows
how to turn the model's JSON into a prediction, judge it, and summarise the records. The runner does the
rest the same way for every suite: progress bar, per-item error capture (an item that fails is recorded
with its error and scored wrong; the run goes on), sampling, and the result document.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from kogata.errors import InputError

if TYPE_CHECKING:  # the engine (and its binding) loads only when a model is asked something
    from kogata.engine import Model

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Item:
    """One question as the model sees it, with its gold answer."""

    id: str
    group: str  # the row of the table it counts in: exam year, task, subset
    messages: list[dict[str, str]]
    schema: dict
    gold: Any
    max_tokens: int = 48
    info: dict[str, Any] = field(default_factory=dict)  # copied into the record (points, answer form, …)
    shape: str = '{"answer": "記号"}'  # the answer's JSON shape, shown to the model in the format line


@dataclass
class Dataset:
    items: list[Item]
    skipped: dict[str, int] = field(default_factory=dict)  # reason → how many items were left out


@dataclass(frozen=True)
class Suite:
    """What differs between benchmarks; everything else is the runner's."""

    name: str
    data_dir: str  # folder name under ../shared/data
    title: str
    load: Callable[[Path], Dataset]
    predict: Callable[[Any, Item], Any]  # the model's JSON value → the prediction as recorded
    judge: Callable[[Item, Any], dict[str, Any]]  # → at least {"correct": bool}; prediction None = no answer
    summarise: Callable[[list[dict], list[Item]], dict[str, Any]]
    limit_per_group: bool = False  # --limit N samples N per group (JMED-LLM: per task) instead of N in all


def define(module: str, name: str, data_dir: str, title: str, **parts: Any) -> Suite:
    """The Suite of suite module `module` (pass __name__): its own `load`, `predict`, `judge` and `summarise`,
    unless `parts` hands in others (predict=one_letter, judge=same_letter from kogata.evals.choice), and
    `limit_per_group`. Call it at the end of the module, once those functions are defined."""
    own = vars(sys.modules[module])
    found = {part: own[part] for part in ("load", "predict", "judge", "summarise") if part not in parts}
    return Suite(name=name, data_dir=data_dir, title=title, **found, **parts)


def chat(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def default_data(data_dir: str) -> Path:
    """The folder of data set `data_dir`: `data/<set>` in the repository for the sets kogata ships (consultations,
    calls), else `../shared/data/<set>` next to the repository (or the working directory, for an installed copy)."""
    own = REPO_ROOT / "data" / data_dir
    if own.is_dir():
        return own
    candidates = [REPO_ROOT.parent / "shared" / "data" / data_dir, Path.cwd().parent / "shared" / "data" / data_dir]
    return next((p for p in candidates if p.exists()), candidates[0])


def resolve_data(suite: Suite | str, data: str | Path | None) -> Path:
    """`data`, or the default folder of `suite` (a Suite, or a data set's folder name such as "consultations");
    an InputError that says how to pass it when the folder is not there."""
    data_dir, title = (suite, suite) if isinstance(suite, str) else (suite.data_dir, suite.title)
    path = Path(data) if data else default_data(data_dir)
    if not path.exists():
        raise InputError(
            f"no {title} data at {path}: pass --data PATH to the dataset's folder "
            f"(see its SOURCE.md for where it comes from)"
        )
    return path


def sample(items: list[Item], limit: int | None, seed: int, *, per_group: bool = False) -> list[Item]:
    """A seeded random sample of `limit` items (per group if asked), kept in dataset order. Deterministic:
    the same items, seed and limit always give the same sample."""
    if limit is None or limit < 0:
        return list(items)
    if per_group:
        groups: dict[str, list[Item]] = {}
        for item in items:
            groups.setdefault(item.group, []).append(item)
        chosen = {id(i) for g in groups.values() for i in random.Random(seed).sample(g, min(limit, len(g)))}
    else:
        chosen = {id(i) for i in random.Random(seed).sample(items, min(limit, len(items)))}
    return [i for i in items if id(i) in chosen]


# Said with every question. The schema alone does not stop this llama.cpp build from letting the model open a
# ```json fence and pad it with whitespace first (about 30 extra tokens, 5x the time of the answer itself).
FORMAT_LINE = "回答は {shape} の形のJSONだけを、コードブロックなしで書いてください。"


def ask(model: Model, item: Item, *, adapter: str | None = None) -> Any:
    """The model's JSON answer to one item (greedy, schema-constrained)."""
    from kogata.engine import generate_json

    messages = [dict(m) for m in item.messages]
    messages[-1]["content"] += "\n" + FORMAT_LINE.format(shape=item.shape)
    return generate_json(model, messages, item.schema, max_tokens=item.max_tokens, temperature=0.0, adapter=adapter)


def run(
    suite: Suite,
    model: Model,
    *,
    data: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    adapter: str | None = None,
    adapter_file: str | None = None,
    progress: bool = True,
    dataset: Dataset | None = None,
) -> dict[str, Any]:
    """Evaluate `model` on `suite` and return the result document (summary plus every item's record).

    data: the dataset folder (default ../shared/data/<set>); dataset: the items already loaded from it.
    adapter: the name of a LoRA adapter loaded with the model; adapter_file: its file, for the record.
    """
    path = resolve_data(suite, data)
    dataset = dataset if dataset is not None else suite.load(path)
    if not dataset.items:
        raise InputError(f"{path} holds no {suite.title} items the suite can ask")
    items = sample(dataset.items, limit, seed, per_group=suite.limit_per_group)
    records: list[dict[str, Any]] = []
    start = time.perf_counter()
    for item in tqdm(items, desc=suite.name, unit="q", disable=not progress, dynamic_ncols=True):
        record: dict[str, Any] = {"id": item.id, "group": item.group, "gold": item.gold, **item.info}
        t0 = time.perf_counter()
        try:
            record["prediction"] = suite.predict(ask(model, item, adapter=adapter), item)
            record.update(suite.judge(item, record["prediction"]))
        except Exception as e:  # one bad item is counted and reported, never the end of the run
            record.update({"prediction": None, **suite.judge(item, None), "error": f"{type(e).__name__}: {e}"})
        record["seconds"] = round(time.perf_counter() - t0, 3)
        records.append(record)
    seconds = time.perf_counter() - start
    if limit is None or limit < 0:
        how = f"all {len(items)} items"
    else:
        scope = " per group" if suite.limit_per_group else ""
        how = f"seeded random sample: {limit}{scope} (seed {seed}), {len(items)} of {len(dataset.items)} items"
    return {
        "suite": suite.name,
        "title": suite.title,
        "model": model.spec.name,
        "adapter": adapter_file,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "data": str(path),
        "limit": limit,
        "seed": seed,
        "sample": how,
        "items_available": len(dataset.items),
        "skipped": dataset.skipped,
        "errors": sum(1 for r in records if r.get("error")),
        "seconds": round(seconds, 1),
        "threads": model.threads,
        "summary": suite.summarise(records, items),
        "items": records,
    }


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table with aligned columns; floats to 3 decimals, None as an empty cell."""

    def cell(c: Any) -> str:
        if c is None:
            return ""
        return f"{c:.3f}" if isinstance(c, float) else str(c)

    cells = [[str(h) for h in headers]] + [[cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(result: dict[str, Any]) -> str:
    """The printed form of a result: the summary table, the baselines and what was sampled or skipped."""
    summary = result["summary"]
    rows: list[dict[str, Any]] = summary["rows"]
    headers = list(dict.fromkeys(k for r in rows for k in r))
    lines = [
        f"{result['title']} — {result['model']}" + (f" + adapter {result['adapter']}" if result["adapter"] else ""),
        markdown_table(headers, [[r.get(h) for h in headers] for r in rows]),
    ]
    for name, text in summary.get("notes", {}).items():
        lines.append(f"{name}: {text}")
    skipped = ", ".join(f"{n} {why}" for why, n in result["skipped"].items() if n)
    lines.append(f"items: {result['sample']}; skipped before sampling: {skipped or 'none'}")
    lines.append(
        f"errors: {result['errors']} (scored wrong); {result['seconds']:.0f} s with "
        f"{result['threads']} threads; {result['date']}"
    )
    return "\n".join(lines)


def count(records: list[dict], key: str = "correct") -> tuple[int, int]:
    """(how many records have `key` true, how many records)."""
    return sum(1 for r in records if r.get(key)), len(records)


def by_group(records: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["group"], []).append(r)
    return dict(sorted(groups.items()))
