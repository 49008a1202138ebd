"""`kogata tune DATA.jsonl --name NAME`: train a LoRA adapter on the CPU and register it."""

from __future__ import annotations

import json

import click

from kogata.cli import options
from kogata.tune.train import TARGETS, TuneConfig


@click.command()
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="Name to register the adapter under (see `kogata adapters list`).")
@click.option("--base", default="qwen2.5-coder-0.5b", show_default=True, help="Base model name or alias.")
@click.option(
    "--epochs",
    type=int,
    default=1,
    show_default=True,
    help="Passes over the data (one suits a few hundred examples; a few dozen want 3).",
)
@click.option("--rank", type=int, default=8, show_default=True, help="LoRA rank.")
@click.option("--alpha", type=float, default=None, help="LoRA alpha (default: twice the rank).")
@click.option("--lr", type=float, default=2e-4, show_default=True, help="Peak learning rate.")
@click.option(
    "--max-tokens",
    type=int,
    default=512,
    show_default=True,
    help="Longest example in tokens; a longer one is refused, named by its line.",
)
@click.option("--targets", default=",".join(TARGETS), show_default=True, help="Linear layers to adapt.")
@click.option(
    "--precision",
    type=click.Choice(["auto", "bf16", "fp32"]),
    default="auto",
    show_default=True,
    help="auto: bf16 where the CPU computes it natively (AVX512-BF16/AMX), else fp32.",
)
@click.option(
    "--checkpointing",
    is_flag=True,
    help="Recompute activations in the backward pass: about a third slower, a fraction of the memory "
    "(long examples, the 1.5B model).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@options.threads_option
@click.option("--dry-run", is_flag=True, help="Check the data, time one step, print the estimate; train nothing.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run of NAME from its checkpoint.")
@options.json_option("With --dry-run: print the estimate as JSON.")
def tune(
    data: str,
    name: str,
    base: str,
    epochs: int,
    rank: int,
    alpha: float | None,
    lr: float,
    max_tokens: int,
    targets: str,
    precision: str,
    checkpointing: bool,
    seed: int,
    threads: int | None,
    dry_run: bool,
    resume: bool,
    as_json: bool,
) -> None:
    """Fine-tune a LoRA adapter from chat-format DATA (JSONL: {"messages": [{"role", "content"}, …]} per line).

    Prints a dry-run estimate (a timed step) first, then trains with a progress bar and registers the
    adapter as NAME; use it with `--adapter NAME`.
    """
    from kogata.adapters.registry import check_name
    from kogata.tune.train import estimate, train

    check_name(name)
    config = TuneConfig(
        base=base,
        epochs=epochs,
        rank=rank,
        alpha=alpha if alpha is not None else 2.0 * rank,
        lr=lr,
        max_tokens=max_tokens,
        targets=tuple(t.strip() for t in targets.split(",") if t.strip()),
        seed=seed,
        threads=threads,
        precision=precision,
        checkpointing=checkpointing,
    )
    if dry_run:
        found = estimate(data, config)
        click.echo(json.dumps(found.to_dict(), indent=2) if as_json else found.describe())
        return
    result = train(data, name, config, resume=resume)
    click.echo(result.describe())
