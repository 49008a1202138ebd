"""`kogata eval SUITE …` for each public benchmark, and `kogata eval compare A.json B.json`.

Registered on the `eval` group of kogata/cli.py (next to `eval karte`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from kogata.cli import model_option, threads_option, write_output
from kogata.errors import InputError
from kogata.evals import SUITES
from kogata.evals.runner import Suite, report, resolve_data, run


def suite_command(suite: Suite) -> click.Command:
    scope = "per task " if suite.limit_per_group else ""

    @click.command(name=suite.name, help=f"{suite.title}: prints a table, writes per-item JSON with --out.")
    @click.option(
        "--data",
        default=None,
        type=click.Path(exists=True),
        help=f"The dataset folder (default: ../shared/data/{suite.data_dir} next to the repository).",
    )
    @model_option
    @click.option(
        "--adapter",
        default=None,
        type=click.Path(dir_okay=False, exists=True),
        help="A LoRA adapter (GGUF file) to apply to every question.",
    )
    @click.option(
        "--limit", type=int, default=None, help=f"Ask a seeded random sample of N items {scope}(default: all)."
    )
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit sample.")
    @click.option("--out", default=None, help="Write the result (summary and every item) as JSON here, atomically.")
    @threads_option
    def command(
        data: str | None,
        model: str | None,
        adapter: str | None,
        limit: int | None,
        seed: int,
        out: str | None,
        threads: int | None,
    ) -> None:
        from kogata.engine import load

        if limit is not None and limit < 1:
            raise InputError(f"--limit must be at least 1, got {limit}")
        path = resolve_data(suite, data)
        dataset = suite.load(path)  # bad data fails before the model loads
        llm = load(model, threads=threads, adapters={"cli": adapter} if adapter else None)
        result = run(
            suite,
            llm,
            data=path,
            dataset=dataset,
            limit=limit,
            seed=seed,
            adapter="cli" if adapter else None,
            adapter_file=adapter,
        )
        click.echo(report(result))
        if out:
            write_output(json.dumps(result, ensure_ascii=False, indent=1), out)

    return command


@click.command(name="compare")
@click.argument("a", type=click.Path(dir_okay=False, exists=True))
@click.argument("b", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_command(a: str, b: str, as_json: bool) -> None:
    """Compare two results of one suite item by item: accuracy of each, items that flipped right↔wrong."""
    from kogata.evals.compare import compare, compare_report, read_result

    diff = compare(read_result(a), read_result(b))
    if as_json:
        click.echo(json.dumps(diff, ensure_ascii=False, indent=2))
    else:
        click.echo(compare_report(diff, (Path(a).name, Path(b).name)))


def eval_commands() -> list[click.Command]:
    return [suite_command(s) for s in SUITES.values()] + [compare_command]
