"""`kogata bench`: speed and footprint of each installed model on this machine (kogata.bench measures)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from kogata.cli import options


@click.command(name="bench")
@click.option("--models", default=None, help="Comma-separated model names (default: every installed model).")
@click.option("--runs", type=int, default=3, show_default=True, help="Runs per figure; the median is reported.")
@options.threads_option
@click.option("--charts", type=int, default=3, show_default=True, help="Consultations of different lengths to chart.")
@click.option("--max-tokens", type=int, default=128, show_default=True, help="Tokens generated per speed run.")
@options.data_option("Folder of consultations to chart (default: data/consultations).")
@options.out_option("Write every figure as JSON here (atomically).")
@click.option("--plot", "plot_path", default=None, help="Write a PNG of seconds per chart against transcript length.")
def bench(
    models: str | None,
    runs: int,
    threads: int | None,
    charts: int,
    max_tokens: int,
    data: str | None,
    out: str | None,
    plot_path: str | None,
) -> None:
    """Speed and memory of each installed model on this machine: tokens/s, first token, seconds per カルテ."""
    from kogata.bench import installed_models, plot, run_models
    from kogata.errors import InputError

    threads = threads or os.cpu_count() or 1
    if runs < 1 or charts < 1:
        raise InputError("--runs and --charts must be at least 1")
    from kogata.engine.registry import get_spec

    names = [get_spec(m.strip()).name for m in models.split(",") if m.strip()] if models else installed_models()
    if not names:
        raise InputError("no model is installed: see `kogata models`")
    results = run_models(
        names, runs=runs, threads=threads, charts=charts, max_tokens=max_tokens, data=Path(data) if data else None
    )
    from kogata.evals.runner import markdown_table
    from kogata.machine import machine

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
        options.write_output(json.dumps(document, ensure_ascii=False, indent=2), out)
    if plot_path:
        plot(ok, Path(plot_path), f"kogata karte on {info['cpu']} ({threads} threads), {info['date']}")
        click.echo(f"wrote {plot_path}", err=True)
