"""`kogata bench`: speed and footprint of each installed model on this machine.

Per model, in a process of its own (so peak memory is that model's): load time; prompt and generation
tokens/s and first-token latency on a consultation prompt (the first token of the system message changes
every run, so the prompt is processed in full rather than served from the cache); seconds per カルテ on a few
consultations of different lengths (kogata.tasks.karte, as `kogata karte` runs it); peak resident memory.
Figures are medians over --runs. With --plot, a PNG of seconds per chart against transcript length.

    kogata bench [--models a,b] [--runs 3] [--threads N] [--out bench/out/bench.json] [--plot bench/out/bench.png]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

REPO_ROOT = Path(__file__).resolve().parents[1]
SYSTEM = "あなたは日本語で答えるアシスタントです。自然な日本語で、簡潔かつ正確に答えてください。"
INSTRUCTION = "次の診察の会話を読み、主観的情報・客観的情報・評価・計画に分けて、カルテの下書きを日本語で簡潔に書いてください。\n\n"


def machine() -> dict[str, Any]:
    """CPU model, core count, Python, date and commit: what a speed figure needs beside it."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "commit": commit,
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # not Linux: ru_maxrss (kilobytes on most systems)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def consultations(count: int = 3, data: Path | None = None) -> list[Path]:
    """`count` synthetic consultations spread over the range of lengths (shortest, …, longest)."""
    from kogata.tasks.karte.evaluate import DEFAULT_DATA

    data = data or DEFAULT_DATA
    files = sorted(data.glob("*.txt"), key=lambda p: len(p.read_text(encoding="utf-8")))
    if not files:
        raise click.ClickException(f"no consultations (*.txt) in {data}")
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
    from kogata.transcript import parse_transcript
    from kogata.verify import EvidenceIndex

    said = list(EvidenceIndex(parse_transcript("医師：こんにちは。今日はどうされましたか。")).said.values())
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
            ax.plot(*zip(*points), marker="o", label=r["model"])
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


@click.command(name="bench")
@click.option("--models", default=None, help="Comma-separated model names (default: every installed model).")
@click.option("--runs", type=int, default=3, show_default=True, help="Runs per figure; the median is reported.")
@click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")
@click.option("--charts", type=int, default=3, show_default=True, help="Consultations of different lengths to chart.")
@click.option("--max-tokens", type=int, default=128, show_default=True, help="Tokens generated per speed run.")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of consultations to chart (default: data/consultations).",
)
@click.option("--out", default=None, help="Write every figure as JSON here (atomically).")
@click.option("--plot", "plot_path", default=None, help="Write a PNG of seconds per chart against transcript length.")
@click.option("--worker", default=None, hidden=True)
def bench(
    models: str | None,
    runs: int,
    threads: int | None,
    charts: int,
    max_tokens: int,
    data: Path | None,
    out: str | None,
    plot_path: str | None,
    worker: str | None,
) -> None:
    """Speed and memory of each installed model on this machine: tokens/s, first token, seconds per カルテ."""
    from kogata.errors import InputError

    threads = threads or os.cpu_count() or 1
    if runs < 1 or charts < 1:
        raise InputError("--runs and --charts must be at least 1")
    if worker:
        click.echo(
            json.dumps(
                measure(worker, runs=runs, threads=threads, max_tokens=max_tokens, charts=charts, data=data),
                ensure_ascii=False,
            )
        )
        return
    from kogata.engine.registry import get_spec

    names = [get_spec(m.strip()).name for m in models.split(",") if m.strip()] if models else installed_models()
    if not names:
        raise InputError("no model is installed: see `kogata models`")
    results = []
    for name in names:
        click.echo(f"{name}: {runs} runs, {charts} charts …", err=True)
        # `-m kogata.cli` would import the CLI twice (as __main__ and as kogata.cli); -c imports it once
        cmd = [
            sys.executable,
            "-c",
            "from kogata.cli import main; main()",
            "bench",
            "--worker",
            name,
            "--runs",
            str(runs),
            "--threads",
            str(threads),
            "--charts",
            str(charts),
            "--max-tokens",
            str(max_tokens),
        ]
        cmd += ["--data", str(data)] if data else []
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            click.echo(f"{name}: failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}", err=True)
            results.append({"model": name, "error": done.stderr.strip()[-2000:]})
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    from kogata.evals.runner import markdown_table

    info = machine()
    ok = [r for r in results if "error" not in r]
    rows = []
    for r in ok:
        chart_cells = ", ".join(
            f"{c['median_s']:.1f} s ({c['chars']} chars)"
            if c["median_s"] is not None
            else f"error ({c['chars']} chars)"
            for c in r["charts"]
        )
        rows.append(
            [
                r["model"],
                f"{r['load_s']:.1f}",
                int(r["prompt_tokens"]),
                f"{r['prompt_tps']:.1f}",
                f"{r['generation_tps']:.1f}",
                f"{r['first_token_s']:.2f}",
                chart_cells,
                f"{r['peak_rss_mb']:,.0f}",
            ]
        )
    click.echo(
        markdown_table(
            [
                "model",
                "load s",
                "prompt tokens",
                "prompt tok/s",
                "gen tok/s",
                "first token s",
                "seconds per chart",
                "peak RSS MB",
            ],
            rows,
        )
    )
    click.echo(f"{info['cpu']}, {info['cores']} cores, {threads} threads; medians of {runs} runs; {info['date']}")
    for r in results:
        if "error" in r:
            click.echo(f"{r['model']}: failed (see --out for the error)")
    document = {"machine": info, "threads": threads, "runs": runs, "max_tokens": max_tokens, "models": results}
    if out:
        from kogata.cli import write_output

        write_output(json.dumps(document, ensure_ascii=False, indent=2), out)
    if plot_path:
        plot(ok, Path(plot_path), f"kogata karte on {info['cpu']} ({threads} threads), {info['date']}")
        click.echo(f"wrote {plot_path}", err=True)
