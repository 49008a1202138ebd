"""`kogata karte`: a consultation transcript → an evidence-linked SOAP chart (Markdown, JSON or FHIR)."""

from __future__ import annotations

import json

import click

from kogata.cli import options


@click.command()
@click.argument("transcript")
@options.format_option(["md", "json", "fhir"], "md")
@options.model_option
@options.adapter_option("A LoRA adapter for this chart: a registered NAME (kogata adapters list) or a GGUF file.")
@options.out_option()
@click.option("--encoding", default=None, help="Encoding of a transcript that is not UTF-8 (e.g. cp932).")
@click.option("--show-unsupported", is_flag=True, help="Also render lines the verifier could not tie to the words.")
@click.option("--rules-only", is_flag=True, help="No model, no reader: the lines the rules read from the words.")
@options.reader_options
@options.threads_option
def karte(
    transcript: str,
    fmt: str,
    model: str | None,
    adapter: str | None,
    out: str | None,
    encoding: str | None,
    show_unsupported: bool,
    rules_only: bool,
    reader: str | None,
    no_model: bool,
    threads: int | None,
) -> None:
    """Write an evidence-linked SOAP chart from a consultation TRANSCRIPT (text or JSON; - for stdin)."""
    from kogata.tasks.karte import karte as write_chart
    from kogata.transcript import read_transcript

    use_reader, no_model = options.chart_mode(rules_only, reader, no_model)
    visit = read_transcript(transcript, encoding=encoding)  # bad input fails before the model loads
    llm = None if no_model else options.load_model(model, threads=threads, adapter=adapter)
    chart = write_chart(
        visit,
        model=llm,
        adapter=options.adapter_name(adapter) if llm else None,
        rules_only=rules_only,
        reader=use_reader,
        no_model=no_model,
    )
    if fmt == "json":
        text = json.dumps(chart.to_dict(), ensure_ascii=False, indent=2)
    elif fmt == "fhir":
        from kogata.render.fhir import chart_bundle

        text = json.dumps(chart_bundle(chart, show_unsupported=show_unsupported), ensure_ascii=False, indent=2)
    else:
        from kogata.render.markdown import chart_markdown

        text = chart_markdown(chart, show_unsupported=show_unsupported)
    options.write_output(text, out)
