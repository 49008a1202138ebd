"""The `kogata` command: a thin layer that parses arguments and calls the library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kogata.errors import InputError, KogataError, SchemaError

if __name__ == "__main__":  # `python -m kogata.cli`: run the importable module, where every command registers
    from kogata.cli import main

    sys.exit(main())


def _read_schema(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read schema file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"schema file {path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise SchemaError(f"schema file {path} is nested too deeply to read") from None
    except json.JSONDecodeError as e:
        raise SchemaError(
            f"schema file {path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None


def _prompt_text(prompt: str) -> str:
    return sys.stdin.read() if prompt == "-" else prompt


model_option = click.option("--model", "-m", default=None, help="Model name or alias (see `kogata models`).")
threads_option = click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")
guard_option = click.option(
    "--glyph-guard/--no-glyph-guard",
    default=True,
    show_default=True,
    help="Ban Han characters that Japanese does not use.",
)


@click.group()
@click.version_option(package_name="kogata")
def cli() -> None:
    """kogata (小型): a small, Japanese-first language model system that runs offline on a CPU."""


@cli.command()
@click.argument("prompt")
@model_option
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--temperature", type=float, default=0.0, show_default=True)
@click.option("--seed", type=int, default=None, help="Sampling seed (for temperature > 0).")
@click.option(
    "--json-schema",
    "schema_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Constrain the answer to this JSON schema file; prints validated JSON or fails.",
)
@click.option("--system", default=None, help="System message (default: answer in Japanese).")
@threads_option
@guard_option
def generate(
    prompt: str,
    model: str | None,
    max_tokens: int,
    temperature: float,
    seed: int | None,
    schema_file: str | None,
    system: str | None,
    threads: int | None,
    glyph_guard: bool,
) -> None:
    """Answer PROMPT (use - to read it from standard input), streaming to stdout."""
    from kogata.engine import generate_json, load, stream_generate
    from kogata.engine.generate import to_messages

    messages = to_messages(_prompt_text(prompt), system)  # refuse an empty prompt before loading anything
    schema = _read_schema(schema_file) if schema_file else None
    if schema is not None:
        from kogata.engine.schema import check_schema

        check_schema(schema)  # before the model loads: a bad schema costs nothing
    llm = load(model, threads=threads, glyph_guard=glyph_guard)
    if schema is not None:
        value = generate_json(llm, messages, schema, max_tokens=max_tokens, temperature=temperature, seed=seed)
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
        return
    for piece in stream_generate(llm, messages, max_tokens=max_tokens, temperature=temperature, seed=seed):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


@cli.command()
@model_option
@click.option("--max-tokens", type=int, default=512, show_default=True)
@click.option("--temperature", type=float, default=0.0, show_default=True)
@click.option("--system", default=None, help="System message (default: answer in Japanese).")
@threads_option
@guard_option
def chat(
    model: str | None, max_tokens: int, temperature: float, system: str | None, threads: int | None, glyph_guard: bool
) -> None:
    """Interactive multi-turn chat. /reset forgets the history, /exit (or Ctrl-D) leaves."""
    from kogata.engine import load, stream_generate
    from kogata.engine.generate import to_messages

    llm = load(model, threads=threads, glyph_guard=glyph_guard)
    history: list[dict[str, str]] = []
    click.echo(f"{llm.spec.name} — /reset で履歴を消去、/exit で終了", err=True)
    while True:
        try:
            line = input(">>> ")
        except EOFError:
            break
        if line.strip() in ("/exit", "/quit"):
            break
        if line.strip() == "/reset":
            history.clear()
            continue
        if not line.strip():
            continue
        history.append({"role": "user", "content": line})
        pieces = []
        for piece in stream_generate(llm, to_messages(history, system), max_tokens=max_tokens, temperature=temperature):
            pieces.append(piece)
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
        history.append({"role": "assistant", "content": "".join(pieces)})


def write_output(text: str, out: str | None) -> None:
    """Print, or write to `out` atomically (a temporary file renamed into place: never a half-written file)."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    import os
    import tempfile

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {target}", err=True)


@cli.command()
@click.argument("transcript")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "fhir"]), default="md", show_default=True)
@model_option
@click.option(
    "--adapter",
    default=None,
    help="A LoRA adapter for this chart: a registered NAME (kogata adapters list) or a GGUF file.",
)
@click.option("--out", default=None, help="Write to this file (atomically) instead of standard output.")
@click.option("--encoding", default=None, help="Encoding of a transcript that is not UTF-8 (e.g. cp932).")
@click.option("--show-unsupported", is_flag=True, help="Also render lines the verifier could not tie to the words.")
@click.option("--rules-only", is_flag=True, help="No model: the lines the rules read from the words (instant).")
@threads_option
def karte(
    transcript: str,
    fmt: str,
    model: str | None,
    adapter: str | None,
    out: str | None,
    encoding: str | None,
    show_unsupported: bool,
    rules_only: bool,
    threads: int | None,
) -> None:
    """Write an evidence-linked SOAP chart from a consultation TRANSCRIPT (text or JSON; - for stdin)."""
    from kogata.engine import load
    from kogata.tasks.karte import karte as write_chart
    from kogata.transcript import read_transcript

    from kogata.adapters import resolve as resolve_adapter

    visit = read_transcript(transcript, encoding=encoding)  # bad input fails before the model loads
    llm = (
        None
        if rules_only
        else load(model, threads=threads, adapters={"cli": resolve_adapter(adapter, model)} if adapter else None)
    )
    chart = write_chart(visit, model=llm, adapter="cli" if adapter and llm else None, rules_only=rules_only)
    if fmt == "json":
        text = json.dumps(chart.to_dict(), ensure_ascii=False, indent=2)
    elif fmt == "fhir":
        from kogata.render.fhir import chart_bundle

        text = json.dumps(chart_bundle(chart, show_unsupported=show_unsupported), ensure_ascii=False, indent=2)
    else:
        from kogata.render.markdown import chart_markdown

        text = chart_markdown(chart, show_unsupported=show_unsupported)
    write_output(text, out)


@cli.group(name="eval")
def eval_group() -> None:
    """Measure quality on evaluation data (prints a table, writes per-item JSON)."""


@eval_group.command(name="karte")
@click.option(
    "--data",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of consultations with reference charts (default: data/consultations).",
)
@click.option("--split", type=click.Choice(["test", "train", "all"]), default="test", show_default=True)
@model_option
@click.option("--adapter", default=None, help="A registered adapter NAME or a LoRA GGUF file.")
@click.option("--limit", type=int, default=None, help="Only the first N consultations.")
@click.option("--out", default=None, help="Write the full results (every chart) as JSON here.")
@click.option("--rules-only", is_flag=True, help="Chart without the model: what the rules alone recall.")
@threads_option
def eval_karte(
    data: str | None,
    split: str,
    model: str | None,
    adapter: str | None,
    limit: int | None,
    out: str | None,
    rules_only: bool,
    threads: int | None,
) -> None:
    """Chart quality on the synthetic consultations: recall, unsupported lines, inventions, speed."""
    from kogata.engine import load
    from kogata.adapters import resolve as resolve_adapter
    from kogata.tasks.karte.evaluate import DEFAULT_DATA, evaluate

    llm = (
        None
        if rules_only
        else load(model, threads=threads, adapters={"cli": resolve_adapter(adapter, model)} if adapter else None)
    )
    result = evaluate(
        Path(data) if data else DEFAULT_DATA,
        split=None if split == "all" else split,
        model=llm,
        adapter="cli" if adapter else None,
        limit=limit,
        rules_only=rules_only,
    )
    click.echo(
        f"{'id':<5}{'dept':<10}{'chars':>6}{'recall':>8}{'items':>6}{'unsup':>6}{'invent':>7}{'denied':>7}{'sec':>7}"
    )
    for r in result["cases"]:
        if "error" in r:
            click.echo(f"{r['id']:<5}ERROR {r['error']}")
            continue
        click.echo(
            f"{r['id']:<5}{r['department'][:8]:<10}{r['chars']:>6}{r['recall']:>8.2f}{r['items']:>6}"
            f"{r['unsupported']:>6}{len(r['invented_drugs']) + len(r['invented_doses']):>7}"
            f"{len(r['denied_as_present']):>7}{r['seconds']:>7.1f}"
        )
    s = result["summary"]
    click.echo(
        f"\n{s['consultations']} consultations ({result['model']}): key-fact recall {s['key_fact_recall']:.3f}, "
        f"unsupported {s['unsupported_rate']:.3f}, invented drugs/doses {s['invented_drugs_or_doses']}, "
        f"denied shown as present {s['denied_shown_as_present']}, non-Japanese glyphs {s['non_japanese_glyphs']}, "
        f"valid contract {s['valid_contract']:.0%}, {s['seconds_per_chart']:.1f} s/chart, errors {s['errors']}"
    )
    from kogata.adapters.registry import looks_like_path, record_eval

    # a registered adapter that charted the whole split (with --rules-only it charted nothing)
    if adapter and not rules_only and limit is None and not data and not looks_like_path(adapter):
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
        write_output(json.dumps(result, ensure_ascii=False, indent=2), out)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(as_json: bool) -> None:
    """List the known models (language models, then the speech model) and their state on disk."""
    from kogata.engine import DEFAULT_MODEL
    from kogata.engine.store import states
    from kogata.speech import weights
    from kogata.speech.adapter import state as adapter_state

    rows = [*states(), weights.state()]
    speech_adapter = adapter_state()
    if as_json:
        click.echo(
            json.dumps(
                [
                    dict(
                        r.to_dict(),
                        default=r.spec.name == DEFAULT_MODEL,
                        **({"speech_adapter": speech_adapter} if r.spec is weights.WHISPER_BASE else {}),
                    )
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for r in rows:
        mark = "*" if r.spec.name == DEFAULT_MODEL else " "
        click.echo(
            f"{mark} {r.spec.name:<20} {r.state:<14} {r.spec.size / 1e6:>6.0f} MB  {r.spec.licence:<18} "
            f"{r.spec.good_for}"
        )
        if r.detail:
            click.echo(f"  {'':<20} {r.detail}")
    click.echo(
        f"  {'+ speech adapter':<20} {'merged' if speech_adapter['merged'] else 'merged on first use':<14} "
        f"{speech_adapter['size'] / 1e6:>6.1f} MB  medical (kogata's own), used by default by transcribe/serve"
    )
    click.echo("(* default)")


# Commands that live next to their pipeline stage register here.
# ── registered commands ──
from kogata.adapters.cli import adapters  # noqa: E402
from kogata.tune.cli import tune  # noqa: E402

cli.add_command(adapters)
cli.add_command(tune)
from kogata.knowledge.cli import knowledge  # noqa: E402
from kogata.tasks.ask.cli import ask  # noqa: E402

cli.add_command(knowledge)
cli.add_command(ask)
from kogata.tasks.call.cli import call, eval_asdc, eval_calls  # noqa: E402

cli.add_command(call)
eval_group.add_command(eval_asdc)
eval_group.add_command(eval_calls)
from kogata.speech.cli import transcribe, tune_speech  # noqa: E402

cli.add_command(transcribe)
cli.add_command(tune_speech)
from kogata.serve.cli import serve  # noqa: E402

cli.add_command(serve)
from kogata.evals.cli import eval_commands  # noqa: E402

for _command in eval_commands():
    eval_group.add_command(_command)
from kogata.bench import bench  # noqa: E402

cli.add_command(bench)


def main() -> None:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KogataError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
