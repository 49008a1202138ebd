"""What one chart costs: CPU seconds (rules, and rules + model), tokens the model reads and writes, model calls.

The figures docs/deploy.md sizes a hospital group from. Each visit is charted twice in this process: rules only,
then with the model (the model drafts only what the rules leave). Tokens come from the engine's own per-request
statistics (llama.cpp's timings: prompt tokens including cached ones, generated tokens). CPU seconds are this
process's (the model runs in-process on the CPU, so they include it); a GPU model pool moves the model's share
there and leaves the rules' share here.

    .venv/bin/python bench/chart_cost.py [--data data/holdout] [--model NAME] [--threads 2] [--out F.json]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, print_table, write_json  # noqa: E402

import kogata  # noqa: E402
from kogata.tasks.karte import karte  # noqa: E402
from kogata.transcript import read_transcript  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "holdout"))
    parser.add_argument("--model", default=None, help="default: the default model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="bench/out/chart_cost.json")
    args = parser.parse_args()

    # every request's statistics, as the engine computes them (a measuring tap, not a change to what it does)
    calls: list = []
    engine_generate = importlib.import_module("kogata.engine.generate")  # the module (kogata.engine exports a function)
    compute = engine_generate._stats

    def tap(*a, **k):
        stats = compute(*a, **k)
        calls.append(stats)
        return stats

    engine_generate._stats = tap
    model = kogata.load(args.model, threads=args.threads, progress=False)
    rows, per_visit = [], []
    paths = sorted(Path(args.data).glob("*.txt"))
    karte(read_transcript(paths[0]), rules_only=True)  # lexicons and dictionaries load once, not in the first visit
    for path in paths:
        transcript = read_transcript(path)
        cpu = time.process_time()
        karte(transcript, rules_only=True)
        rules_cpu = time.process_time() - cpu
        calls.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        karte(transcript, model=model)
        model_cpu, model_wall = time.process_time() - cpu, time.perf_counter() - wall
        prompt = sum(s.prompt_tokens for s in calls)
        generated = sum(s.completion_tokens for s in calls)
        chars = sum(len(u.text) for u in transcript.utterances)
        visit = {
            "visit": path.stem,
            "utterances": len(transcript.utterances),
            "characters": chars,
            "rules_cpu_s": round(rules_cpu, 3),
            "chart_cpu_s": round(model_cpu, 2),
            "chart_wall_s": round(model_wall, 2),
            "model_calls": len(calls),
            "prompt_tokens": prompt,
            "generated_tokens": generated,
        }
        per_visit.append(visit)
        rows.append([path.stem, len(transcript.utterances), chars, rules_cpu, model_cpu, model_wall, len(calls)])
        rows[-1] += [prompt, generated]
        print(visit, flush=True)
        save(args, model.spec.name, per_visit)  # after every visit: a run cut short keeps what it measured
    print_table(
        ["visit", "utt.", "chars", "rules CPU s", "chart CPU s", "chart wall s", "calls", "prompt tok", "gen tok"],
        rows,
    )
    print("mean", summary(per_visit))


def summary(per_visit: list[dict]) -> dict:
    """Means over the visits, and over the visits the model drafted for (the rules leave nothing on some)."""
    drafted = [v for v in per_visit if v["model_calls"]]
    keys = [k for k in per_visit[0] if k != "visit"]
    return {
        "visits": len(per_visit),
        "visits_the_model_drafted_for": len(drafted),
        "all": {k: round(statistics.fmean(v[k] for v in per_visit), 3) for k in keys},
        "drafted": {k: round(statistics.fmean(v[k] for v in drafted), 3) for k in keys} if drafted else None,
    }


def save(args: argparse.Namespace, model: str, per_visit: list[dict]) -> None:
    write_json(
        args.out,
        {
            "command": "bench/chart_cost.py " + " ".join(sys.argv[1:]),
            "machine": machine(),
            "date": time.strftime("%Y-%m-%d"),
            "model": model,
            "threads": args.threads,
            "summary": summary(per_visit),
            "visits": per_visit,
        },
    )


if __name__ == "__main__":
    main()
