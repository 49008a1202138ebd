"""What the model adds to the rules' chart when it reads the whole transcript or only what the rules leave.

    .venv/bin/python bench/karte_reads.py [--model NAME] [--data data/holdout] [--split all] [--reads uncovered,all]

`uncovered` is kogata's pipeline (kogata.tasks.karte.chart.uncovered: the clinical utterances no rule line cites,
each after its question); `all` gives the model the whole transcript instead, as kogata did before 2026-11-29.
Everything else (rules, gates on drafted lines, verifier, scoring) is the same, so the difference in recall is
what reading everything buys, and the difference in seconds what it costs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import machine, print_table, write_json

from kogata.engine import load
from kogata.evals.karte import evaluate
from kogata.tasks.karte import chart

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "holdout")
    parser.add_argument("--split", default="all", choices=["test", "train", "all"])
    parser.add_argument("--reads", default="uncovered,all")
    parser.add_argument("--label", default="", help="e.g. 'quiet' or 'under load', stored with the figures")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "karte_reads.json")
    args = parser.parse_args()
    llm = load(args.model)
    residual = chart.uncovered
    rows = []
    for reads in args.reads.split(","):
        chart.uncovered = residual if reads == "uncovered" else (lambda said, soap: said)
        summary = evaluate(args.data, split=None if args.split == "all" else args.split, model=llm)["summary"]
        rows.append(
            {
                "reads": reads,
                "recall": round(summary["key_fact_recall"], 3),
                "unsupported": round(summary["unsupported_rate"], 3),
                "small talk": summary["must_not_appear_shown"],
                "s/chart": round(summary["seconds_per_chart"], 1),
            }
        )
    chart.uncovered = residual
    print_table(list(rows[0]), [list(r.values()) for r in rows])
    write_json(
        args.out,
        {
            "model": llm.spec.name,
            "data": str(args.data),
            "split": args.split,
            "label": args.label,
            "date": time.strftime("%Y-%m-%d"),
            "machine": machine(),
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
