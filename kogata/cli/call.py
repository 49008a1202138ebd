"""`kogata call`: an operator–customer call transcript → an evidence-linked after-call record."""

from __future__ import annotations

import json
from datetime import date

import click

from kogata.cli import options
from kogata.errors import InputError


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
@options.format_option(["md", "json"], "md")
@options.model_option
@options.adapter_option("A LoRA adapter for this record: a registered NAME (kogata adapters list) or a GGUF file.")
@click.option(
    "--date",
    "call_date",
    default="today",
    show_default=True,
    help="Day of the call (YYYY-MM-DD): relative deadlines (明日, 3営業日以内) become dates.",
)
@options.out_option()
@click.option("--encoding", default=None, help="Encoding of a transcript that is not UTF-8 (e.g. cp932).")
@click.option(
    "--show-unsupported", is_flag=True, help="Markdown: also show items the verifier could not tie to the words."
)
@options.threads_option
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
    """Write an evidence-linked after-call record from an operator–customer call TRANSCRIPT
    (text or JSON; - for stdin)."""
    from kogata.tasks.call import call as write_record
    from kogata.transcript import read_transcript

    day = _call_date(call_date)
    conversation = read_transcript(transcript, encoding=encoding)  # bad input fails before the model loads
    llm = options.load_model(model, threads=threads, adapter=adapter)
    record = write_record(conversation, model=llm, adapter=options.adapter_name(adapter), call_date=day)
    if fmt == "json":
        text = json.dumps(record.to_dict(), ensure_ascii=False, indent=2)
    else:
        from kogata.render.call_markdown import call_markdown

        text = call_markdown(record, show_unsupported=show_unsupported)
    options.write_output(text, out)
