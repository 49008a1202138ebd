"""`kogata eval …`: quality on evaluation data, each a table on the terminal and per-item JSON with --out.

`eval karte` (the synthetic consultations), `eval asdc` and `eval calls` (after-call records), one command per
public benchmark in kogata.evals.SUITES, and `eval compare A.json B.json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from kogata.cli import options
from kogata.errors import InputError
from kogata.evals import SUITES
from kogata.evals.runner import Suite, report, resolve_data, run

KARTE_HEADER = (
    f"{'id':<5}{'dept':<10}{'chars':>6}{'recall':>8}{'items':>6}{'unsup':>6}{'invent':>7}{'denied':>7}{'sec':>7}"
)
CALL_HEADER = f"{'id':<14}{'gold':>5}{'pred':>5}{'match':>6}{'recall':>8}{'prec':>7}{'unsup':>6}{'sec':>7}"


def _table(header: str, records: list[dict], id_width: int, row: Callable[[dict], str]) -> None:
    """The header, then one line per record; a record that failed shows its error instead."""
    click.echo(header)
    for r in records:
        click.echo(f"{r['id']:<{id_width}}ERROR {r['error']}" if "error" in r else row(r))


def _karte_row(r: dict) -> str:
    return (
        f"{r['id']:<5}{r['department'][:8]:<10}{r['chars']:>6}{r['recall']:>8.2f}{r['items']:>6}"
        f"{r['unsupported']:>6}{len(r['invented_drugs']) + len(r['invented_doses']):>7}"
        f"{len(r['denied_as_present']):>7}{r['seconds']:>7.1f}"
    )


@click.group(name="eval")
def eval_group() -> None:
    """Measure quality on evaluation data (prints a table, writes per-item JSON)."""


@eval_group.command(name="karte")
@options.data_option("Folder of consultations with reference charts (default: data/consultations).")
@click.option(
    "--split",
    type=click.Choice(["test", "train", "dev", "fresh3", "all"]),
    default="test",
    show_default=True,
    help="Which visits (data/corpus: by writer; see its README).",
)
@options.drafting_model_option
@options.adapter_option("A registered adapter NAME or a LoRA GGUF file (with no --model: the default model).")
@click.option("--limit", type=int, default=None, help="Only the first N consultations.")
@options.out_option("Write the full results (every chart) as JSON here.")
@click.option("--rules-only", is_flag=True, help="Chart without the model or the reader: what the rules alone recall.")
@options.reader_options
@options.threads_option
def eval_karte(
    data: str | None,
    split: str,
    model: str | None,
    adapter: str | None,
    limit: int | None,
    out: str | None,
    rules_only: bool,
    reader: str | None,
    no_model: bool,
    threads: int | None,
) -> None:
    """Chart quality on the synthetic consultations: recall, unsupported lines, inventions, speed.

    Charts as `kogata karte` writes them: no language model unless --model (or --adapter) asks for its drafting.
    """
    from kogata.evals.karte import DATA_DIR, evaluate

    use_reader, drafts = options.chart_mode(rules_only, reader, no_model, model, adapter)
    llm = options.load_model(model, threads=threads, adapter=adapter) if drafts else None
    result = evaluate(
        resolve_data(DATA_DIR, data),
        split=None if split == "all" else split,
        model=llm,
        adapter=options.adapter_name(adapter) if llm else None,
        limit=limit,
        rules_only=rules_only,
        reader=use_reader,
    )
    _table(KARTE_HEADER, result["cases"], 5, _karte_row)
    s = result["summary"]
    click.echo(
        f"\n{s['consultations']} consultations ({result['model']}): key-fact recall {s['key_fact_recall']:.3f}, "
        f"unsupported {s['unsupported_rate']:.3f}, invented drugs/doses {s['invented_drugs_or_doses']}, "
        f"denied shown as present {s['denied_shown_as_present']}, non-Japanese glyphs {s['non_japanese_glyphs']}, "
        f"valid contract {s['valid_contract']:.0%}, {s['seconds_per_chart']:.1f} s/chart, errors {s['errors']}"
    )
    if any(r.get("negatives") for r in result["cases"]):
        click.echo(
            f"negatives kept {s['negatives_kept']:.3f}, wrong medications {s['wrong_medications']}; recall by kind: "
            + ", ".join(f"{kind} {value:.2f}" for kind, value in s["recall_by_kind"].items())
        )
    from kogata.adapters.registry import looks_like_path, record_eval

    # a registered adapter that charted the whole split
    if adapter and drafts and limit is None and not data and not looks_like_path(adapter):
        from datetime import date

        figures = {
            "date": date.today().isoformat(),
            "model": result["model"],
            **{k: s[k] for k in ("consultations", "key_fact_recall", "unsupported_rate", "seconds_per_chart")},
        }
        recorded = record_eval(adapter, f"karte/{split}", figures)
        if not recorded.bundled:  # a shipped adapter keeps the figures it shipped with
            click.echo(f"recorded in adapter {adapter!r} (kogata adapters show {adapter})")
    if out:
        options.write_output(json.dumps(result, ensure_ascii=False, indent=2), out)


def _call_row(r: dict) -> str:
    return (
        f"{r['id']:<14}{r['gold']:>5}{r['predicted']:>5}{r['matched']:>6}{r['recall']:>8.2f}"
        f"{r['precision']:>7.2f}{r['unsupported']:>6}{r['seconds']:>7.1f}"
    )


def _calls_table(result: dict) -> None:
    _table(CALL_HEADER, result["dialogues"], 14, _call_row)
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


@eval_group.command(name="asdc")
@options.data_option("ASDC folder with dialog_json/ (default: ../shared/data/asdc).", exists=False)
@click.option("--split", type=click.Choice(["dev", "train"]), default="dev", show_default=True)
@click.option("--limit", type=int, default=None, help="Only N dialogues (a seeded sample with --seed).")
@click.option("--seed", type=int, default=None, help="Draw the --limit dialogues at random with this seed.")
@options.model_option
@options.adapter_option()
@click.option("--rules-only", is_flag=True, help="No model: requests read from the words alone (the baseline).")
@options.out_option("Write the full results (every record) as JSON here, updated after each one.")
@options.threads_option
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
    from kogata.evals.calls import ASDC_DIR, asdc_dialogues, evaluate_asdc

    folder = resolve_data(ASDC_DIR, data)
    asdc_dialogues(folder, split)  # a wrong path fails before the model loads
    llm = None if rules_only else options.load_model(model, threads=threads, adapter=adapter)
    result = evaluate_asdc(
        folder,
        split=split,
        model=llm,
        adapter=options.adapter_name(adapter),
        limit=limit,
        seed=seed,
        partial=Path(out) if out else None,
        rules_only=rules_only,
    )
    _calls_table(result)
    if out:
        options.write_output(json.dumps(result, ensure_ascii=False, indent=2), out)


@eval_group.command(name="calls")
@options.data_option("Folder of calls with reference records (default: data/calls).")
@click.option("--limit", type=int, default=None, help="Only the first N calls.")
@options.model_option
@options.adapter_option()
@options.out_option("Write the full results (every record) as JSON here, updated after each one.")
@options.threads_option
def eval_calls(
    data: str | None, limit: int | None, model: str | None, adapter: str | None, out: str | None, threads: int | None
) -> None:
    """Request recall/precision, action recall and follow-up deadlines on the synthetic insurance calls."""
    from kogata.evals.calls import CALLS_DIR, evaluate_calls

    llm = options.load_model(model, threads=threads, adapter=adapter)
    result = evaluate_calls(
        resolve_data(CALLS_DIR, data),
        model=llm,
        adapter=options.adapter_name(adapter),
        limit=limit,
        partial=Path(out) if out else None,
    )
    _calls_table(result)
    if out:
        options.write_output(json.dumps(result, ensure_ascii=False, indent=2), out)


def suite_command(suite: Suite) -> click.Command:
    scope = "per task " if suite.limit_per_group else ""

    @click.command(name=suite.name, help=f"{suite.title}: prints a table, writes per-item JSON with --out.")
    @options.data_option(
        f"The dataset folder (default: ../shared/data/{suite.data_dir} next to the repository).", file_okay=True
    )
    @options.model_option
    @options.adapter_option("A LoRA adapter to apply to every question: a registered NAME or a GGUF file.")
    @click.option(
        "--limit", type=int, default=None, help=f"Ask a seeded random sample of N items {scope}(default: all)."
    )
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit sample.")
    @options.out_option("Write the result (summary and every item) as JSON here, atomically.")
    @options.threads_option
    def command(
        data: str | None,
        model: str | None,
        adapter: str | None,
        limit: int | None,
        seed: int,
        out: str | None,
        threads: int | None,
    ) -> None:

        if limit is not None and limit < 1:
            raise InputError(f"--limit must be at least 1, got {limit}")
        path = resolve_data(suite, data)
        dataset = suite.load(path)  # bad data fails before the model loads
        llm = options.load_model(model, threads=threads, adapter=adapter)
        result = run(
            suite,
            llm,
            data=path,
            dataset=dataset,
            limit=limit,
            seed=seed,
            adapter=options.adapter_name(adapter),
            adapter_file=adapter,
        )
        click.echo(report(result))
        if out:
            options.write_output(json.dumps(result, ensure_ascii=False, indent=1), out)

    return command


@eval_group.command(name="compare")
@click.argument("a", type=click.Path(dir_okay=False, exists=True))
@click.argument("b", type=click.Path(dir_okay=False, exists=True))
@options.json_option("Print the comparison as JSON.")
def compare_command(a: str, b: str, as_json: bool) -> None:
    """Compare two results of one suite item by item: accuracy of each, items that flipped right↔wrong."""
    from kogata.evals.compare import compare, compare_report, read_result

    diff = compare(read_result(a), read_result(b))
    if as_json:
        click.echo(json.dumps(diff, ensure_ascii=False, indent=2))
    else:
        click.echo(compare_report(diff, (Path(a).name, Path(b).name)))


for _suite in SUITES.values():
    eval_group.add_command(suite_command(_suite))
