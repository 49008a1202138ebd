"""Compare two result files of the same suite item by item: accuracy of each, and the items that flipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.runner import markdown_table


def read_result(path: str | Path) -> dict[str, Any]:
    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path} is not a kogata eval result (JSON): {e}") from None
    if not isinstance(result, dict) or "items" not in result or "suite" not in result:
        raise InputError(
            f"{path} is not a kogata eval result (no 'suite' and 'items'): write one with `kogata eval SUITE --out`"
        )
    return result


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Accuracy of A and B on the items both answered, and which items went wrong→right and right→wrong."""
    if a["suite"] != b["suite"]:
        raise InputError(f"the results are from different suites ({a['suite']} and {b['suite']})")
    items_a = {r["id"]: r for r in a["items"]}
    items_b = {r["id"]: r for r in b["items"]}
    shared = [i for i in items_a if i in items_b]
    if not shared:
        raise InputError("the two results share no items (different --limit or --seed?)")

    def flip(i: str) -> dict[str, Any]:
        return {"id": i, "gold": items_a[i]["gold"], "a": items_a[i]["prediction"], "b": items_b[i]["prediction"]}

    fixed = [flip(i) for i in shared if not items_a[i]["correct"] and items_b[i]["correct"]]
    broken = [flip(i) for i in shared if items_a[i]["correct"] and not items_b[i]["correct"]]
    changed = sum(1 for i in shared if items_a[i]["prediction"] != items_b[i]["prediction"])
    return {
        "suite": a["suite"],
        "shared": len(shared),
        "only_a": len(items_a) - len(shared),
        "only_b": len(items_b) - len(shared),
        "a": {
            "model": a.get("model"),
            "adapter": a.get("adapter"),
            "accuracy": sum(bool(items_a[i]["correct"]) for i in shared) / len(shared),
        },
        "b": {
            "model": b.get("model"),
            "adapter": b.get("adapter"),
            "accuracy": sum(bool(items_b[i]["correct"]) for i in shared) / len(shared),
        },
        "answers_changed": changed,
        "wrong_to_right": fixed,
        "right_to_wrong": broken,
    }


def _label(side: dict[str, Any]) -> str:
    return side["model"] + (f" + {Path(side['adapter']).name}" if side.get("adapter") else "")


def compare_report(diff: dict[str, Any], names: tuple[str, str] = ("A", "B")) -> str:
    lines = [
        markdown_table(
            ["", "file", "model", "accuracy"],
            [
                ["A", names[0], _label(diff["a"]), diff["a"]["accuracy"]],
                ["B", names[1], _label(diff["b"]), diff["b"]["accuracy"]],
            ],
        ),
        f"{diff['suite']}: {diff['shared']} shared items (only in A: {diff['only_a']}, only in B: {diff['only_b']}); "
        f"answers changed: {diff['answers_changed']}",
    ]
    for title, rows in (("wrong → right", diff["wrong_to_right"]), ("right → wrong", diff["right_to_wrong"])):
        lines.append(f"{title}: {len(rows)}")
        lines += [f"  {r['id']}: gold {r['gold']}  A {r['a']}  B {r['b']}" for r in rows]
    return "\n".join(lines)
