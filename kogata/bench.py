"""Speed and footprint of each installed model on this machine (the `kogata bench` command is kogata/cli/bench.py).

Per model, in a process of its own (so peak memory is that model's): load time; prompt and generation
tokens/s and first-token latency on a consultation prompt (the first token of the system message changes
every run, so the prompt is processed in full rather than served from the cache); seconds per カルテ on a few
consultations of different lengths (kogata.tasks.karte, as `kogata karte` runs it); peak resident memory.
Figures are medians over --runs. With --plot, a PNG of seconds per chart against transcript length.

    kogata bench [--models a,b] [--runs 3] [--threads N] [--out bench/out/bench.json] [--plot bench/out/bench.png]

`run_models` measures each model in a worker process of its own, `python -m kogata.bench --worker NAME …`
(`main` below), which prints `measure`'s figures as one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kogata.errors import InputError, KogataError
from kogata.machine import peak_rss_mb

SYSTEM = "あなたは日本語で答えるアシスタントです。自然な日本語で、簡潔かつ正確に答えてください。"
INSTRUCTION = (
    "次の診察の会話を読み、主観的情報・客観的情報・評価・計画に分けて、"
    "カルテの下書きを日本語で簡潔に書いてください。\n\n"
)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def consultations(count: int = 3, data: Path | None = None) -> list[Path]:
    """`count` synthetic consultations spread over the range of lengths (shortest, …, longest)."""
    from kogata.evals.karte import DEFAULT_DATA

    data = data or DEFAULT_DATA
    files = sorted(data.glob("*.txt"), key=lambda p: len(p.read_text(encoding="utf-8")))
    if not files:
        raise InputError(f"no consultations (*.txt) in {data}")
    if count >= len(files):
        return files
    step = (len(files) - 1) / max(count - 1, 1)
    return [files[round(i * step)] for i in range(count)]


def measure(
    model_name: str, *, runs: int, threads: int, max_tokens: int, charts: int, data: Path | None = None
) -> dict[str, Any]:
    """Every figure for one model, in this process (run it in a fresh one: peak RSS is the process's)."""
    from kogata.engine import load, stream_generate
    from kogata.tasks.karte import karte
    from kogata.transcript import read_transcript

    t0 = time.perf_counter()
    llm = load(model_name, threads=threads, progress=False)
    load_s = time.perf_counter() - t0
    prompt = INSTRUCTION + consultations(1)[0].read_text(encoding="utf-8")
    generation = []
    for run in range(runs):
        messages = [{"role": "system", "content": f"[{run}] {SYSTEM}"}, {"role": "user", "content": prompt}]
        stream = stream_generate(llm, messages, max_tokens=max_tokens, temperature=0.0)
        for _ in stream:
            pass
        s = stream.stats
        generation.append(
            {
                "prompt_tokens": s.prompt_tokens,
                "prompt_tps": s.prompt_tps,
                "generation_tps": s.generation_tps,
                "first_token_s": s.first_token_s,
                "completion_tokens": s.completion_tokens,
            }
        )
    charts_out = []
    for path in consultations(charts, data):
        transcript = read_transcript(path)
        chars = sum(len(u.text) for u in transcript.utterances)
        times, error = [], None
        for _ in range(runs):
            try:
                _another_visit(llm)
                t = time.perf_counter()
                karte(transcript, model=llm)
                times.append(time.perf_counter() - t)
            except Exception as e:  # a model that cannot write a chart (a base model) is reported, not fatal
                error = f"{type(e).__name__}: {e}"
                break
        charts_out.append(
            {
                "file": path.name,
                "chars": chars,
                "utterances": len(transcript.utterances),
                "seconds": times,
                "median_s": median(times) if times else None,
                "error": error,
            }
        )
    return {
        "model": llm.spec.name,
        "threads": llm.threads,
        "load_s": load_s,
        "runs": generation,
        "prompt_tokens": median([g["prompt_tokens"] for g in generation]),
        "prompt_tps": median([g["prompt_tps"] for g in generation]),
        "generation_tps": median([g["generation_tps"] for g in generation]),
        "first_token_s": median([g["first_token_s"] for g in generation]),
        "charts": charts_out,
        "peak_rss_mb": peak_rss_mb(),
    }


def _another_visit(llm) -> None:
    """Chart-prompt a different (one-line) visit, so that the next chart reads its transcript as a new visit
    does: the instruction stays in the prompt cache, the transcript is not (a repeat would be served from it)."""
    from kogata.engine import generate
    from kogata.tasks.karte.draft import messages
    from kogata.tasks.karte.vocabulary import evidence
    from kogata.transcript import parse_transcript

    said = list(evidence(parse_transcript("医師：こんにちは。今日はどうされましたか。")).said.values())
    generate(llm, messages(said), max_tokens=1)


def installed_models() -> list[str]:
    from kogata.engine.store import states

    return [s.spec.name for s in states() if s.state == "ready"]


def plot(results: list[dict[str, Any]], path: Path, title: str) -> None:
    """Seconds per chart against transcript length, one line per model (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    drawn = 0
    for r in results:
        points = [(c["chars"], c["median_s"]) for c in r["charts"] if c["median_s"] is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=r["model"])
            drawn += 1
    ax.set_xlabel("transcript length (characters of speech)")
    ax.set_ylabel("seconds per chart (median)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no model wrote a chart", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def worker_command(
    name: str, *, runs: int, threads: int, charts: int, max_tokens: int, data: Path | None = None
) -> list[str]:
    """The command line of the worker process that measures model `name` (see `main`)."""
    cmd = [sys.executable, "-m", "kogata.bench", "--worker", name, "--runs", str(runs), "--threads", str(threads)]
    cmd += ["--charts", str(charts), "--max-tokens", str(max_tokens)]
    return cmd + (["--data", str(data)] if data else [])


def run_models(
    names: list[str], *, runs: int, threads: int, charts: int, max_tokens: int, data: Path | None = None
) -> list[dict[str, Any]]:
    """`measure` for each model, each in a fresh process; a model whose worker fails is {"model", "error"}."""
    results = []
    for name in names:
        print(f"{name}: {runs} runs, {charts} charts …", file=sys.stderr, flush=True)
        cmd = worker_command(name, runs=runs, threads=threads, charts=charts, max_tokens=max_tokens, data=data)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{name}: failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}", file=sys.stderr)
            results.append({"model": name, "error": done.stderr.strip()[-2000:]})
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def main(argv: list[str] | None = None) -> None:
    """The worker: `python -m kogata.bench --worker NAME [--runs N] …` prints one model's figures as JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kogata.bench", description=main.__doc__)
    parser.add_argument("--worker", required=True, metavar="NAME", help="The model to measure.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--charts", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        figures = measure(
            args.worker,
            runs=args.runs,
            threads=args.threads or os.cpu_count() or 1,
            max_tokens=args.max_tokens,
            charts=args.charts,
            data=args.data,
        )
    except KogataError as e:  # the parent shows the last line of standard error
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
