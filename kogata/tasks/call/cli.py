"""`kogata call` and `kogata eval asdc` / `kogata eval calls`: thin wrappers over kogata.tasks.call."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from kogata.errors import InputError

# kogata.cli imports this module to register its commands, so its shared options cannot be imported here.
model_option = click.option("--model", "-m", default=None, help="Model name or alias (see `kogata models`).")
threads_option = click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")


def _call_date(value: str | None) -> date | None:
    if value is None:
        return None
    if value == "today":
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--date must be YYYY-MM-DD or 'today', not {value!r}") from None


@click.command(name="call")
@click.argument("transcript")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@model_option
@click.option(
    "--adapter",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="A LoRA adapter (GGUF file) to apply for this record.",
)
@click.option(
    "--date",
    "call_date",
    default="today",
    show_default=True,
    help="Day of the call (YYYY-MM-DD): relative deadlines (明日, 3営業日以内) become dates.",
)
@click.option("--out", default=None, help="Write to this file (atomically) instead of standard output.")
@click.option("--encoding", default=None, help="Encoding of a transcript that is not UTF-8 (e.g. cp932).")
@click.option(
    "--show-unsupported", is_flag=True, help="Markdown: also show items the verifier could not tie to the words."
)
@threads_option
def call(
    transcript: str,
    fmt: str,
    model: str | None,
    adapter: str | None,
    call_date: str,
    out: str | None,
    encoding: str | None,
    show_unsupported: bool,
    threads: int | None,
) -> None:
    """Write an evidence-linked after-call record from an operator–customer call TRANSCRIPT (text or JSON; - for stdin)."""
    from kogata.cli import write_output
    from kogata.engine import load
    from kogata.tasks.call import call as write_record
    from kogata.transcript import read_transcript

    day = _call_date(call_date)
    conversation = read_transcript(transcript, encoding=encoding)  # bad input fails before the model loads
    llm = load(model, threads=threads, adapters={"cli": adapter} if adapter else None)
    record = write_record(conversation, model=llm, adapter="cli" if adapter else None, call_date=day)
    if fmt == "json":
        text = json.dumps(record.to_dict(), ensure_ascii=False, indent=2)
    else:
        from kogata.render.call_markdown import call_markdown

        text = call_markdown(record, show_unsupported=show_unsupported)
    write_output(text, out)


def _table(result: dict) -> None:
    click.echo(f"{'id':<14}{'gold':>5}{'pred':>5}{'match':>6}{'recall':>8}{'prec':>7}{'unsup':>6}{'sec':>7}")
    for r in result["dialogues"]:
        if "error" in r:
            click.echo(f"{r['id']:<14}ERROR {r['error']}")
            continue
        click.echo(
            f"{r['id']:<14}{r['gold']:>5}{r['predicted']:>5}{r['matched']:>6}{r['recall']:>8.2f}"
            f"{r['precision']:>7.2f}{r['unsupported']:>6}{r['seconds']:>7.1f}"
        )
    s = result["summary"]
    extra = ""
    if "deadline_accuracy" in s:
        extra = f", action recall {s['action_recall']:.3f}, follow-up deadline correct {s['deadline_accuracy']:.0%}"
    click.echo(
        f"\n{s['dialogues']} dialogues ({result['model']}): requirement recall {s['requirement_recall']:.3f}, "
        f"precision {s['requirement_precision']:.3f} (match ≥ {result['match_threshold']}), "
        f"unsupported items {s['unsupported_rate']:.3f}{extra}, valid contract {s['valid_contract']:.0%}, "
        f"{s['seconds_per_call']:.1f} s/call, errors {s['errors']}"
    )


@click.command(name="asdc")
@click.option(
    "--data",
    type=click.Path(file_okay=False),
    default=None,
    help="ASDC folder with dialog_json/ (default: ../shared/data/asdc).",
)
@click.option("--split", type=click.Choice(["dev", "train"]), default="dev", show_default=True)
@click.option("--limit", type=int, default=None, help="Only N dialogues (a seeded sample with --seed).")
@click.option("--seed", type=int, default=None, help="Draw the --limit dialogues at random with this seed.")
@model_option
@click.option("--adapter", default=None, type=click.Path(dir_okay=False, exists=True))
@click.option("--rules-only", is_flag=True, help="No model: requests read from the words alone (the baseline).")
@click.option("--out", default=None, help="Write the full results (every record) as JSON here, updated after each one.")
@threads_option
def eval_asdc(
    data: str | None,
    split: str,
    limit: int | None,
    seed: int | None,
    model: str | None,
    adapter: str | None,
    rules_only: bool,
    out: str | None,
    threads: int | None,
) -> None:
    """Requirement recall/precision of after-call records on ASDC (the operator's recap is the gold list)."""
    from kogata.cli import write_output
    from kogata.engine import load
    from kogata.tasks.call.evaluate import DEFAULT_ASDC, asdc_dialogues, evaluate_asdc

    folder = Path(data) if data else DEFAULT_ASDC
    asdc_dialogues(folder, split)  # a wrong path fails before the model loads
    llm = None if rules_only else load(model, threads=threads, adapters={"cli": adapter} if adapter else None)
    result = evaluate_asdc(
        folder,
        split=split,
        model=llm,
        adapter="cli" if adapter else None,
        limit=limit,
        seed=seed,
        partial=Path(out) if out else None,
        rules_only=rules_only,
    )
    _table(result)
    if out:
        write_output(json.dumps(result, ensure_ascii=False, indent=2), out)


@click.command(name="calls")
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of calls with reference records (default: data/calls).",
)
@click.option("--limit", type=int, default=None, help="Only the first N calls.")
@model_option
@click.option("--adapter", default=None, type=click.Path(dir_okay=False, exists=True))
@click.option("--out", default=None, help="Write the full results (every record) as JSON here, updated after each one.")
@threads_option
def eval_calls(
    data: str | None, limit: int | None, model: str | None, adapter: str | None, out: str | None, threads: int | None
) -> None:
    """Request recall/precision, action recall and follow-up deadlines on the synthetic insurance calls."""
    from kogata.cli import write_output
    from kogata.engine import load
    from kogata.tasks.call.evaluate import DEFAULT_CALLS, evaluate_calls

    llm = load(model, threads=threads, adapters={"cli": adapter} if adapter else None)
    result = evaluate_calls(
        Path(data) if data else DEFAULT_CALLS,
        model=llm,
        adapter="cli" if adapter else None,
        limit=limit,
        partial=Path(out) if out else None,
    )
    _table(result)
    if out:
        write_output(json.dumps(result, ensure_ascii=False, indent=2), out)
