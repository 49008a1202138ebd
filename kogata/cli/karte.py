"""`kogata karte`: a consultation transcript → an evidence-linked SOAP chart (Markdown, text, JSON or FHIR)."""

from __future__ import annotations

import json
from datetime import date

import click

from kogata.cli import options

SEXES = ("male", "female", "other", "unknown")  # kogata.store.identity.SEXES (not imported: --help stays light)
_OPTION = {  # a field the store's checks name → the option that gave it
    "patient.id": "--patient-id",
    "patient.name": "--patient-name",
    "patient.birth_date": "--birth-date",
    "encounter.department": "--department",
    "encounter.doctor": "--doctor",
}


@click.command()
@click.argument("transcript")
@options.format_option(["md", "text", "json", "fhir"], "md")
@options.drafting_model_option
@options.adapter_option(
    "A LoRA adapter for the model's drafting: a registered NAME (kogata adapters list) or a GGUF file (with no"
    " --model: the default model)."
)
@options.out_option()
@click.option("--encoding", default=None, help="Encoding of a transcript that is not UTF-8 (e.g. cp932).")
@click.option("--show-unsupported", is_flag=True, help="Also render lines the verifier could not tie to the words.")
@click.option("--rules-only", is_flag=True, help="No model, no reader: the lines the rules read from the words.")
@options.reader_options
@options.threads_option
@click.option("--patient-id", default=None, help="The patient's id in the clinic's system (FHIR Patient.identifier).")
@click.option(
    "--patient-name", default=None, help="The patient's name, e.g. 「山田 太郎」 (family and given by a space)."
)
@click.option("--birth-date", default=None, metavar="YYYY-MM-DD", help="The patient's birth date.")
@click.option("--sex", type=click.Choice(SEXES), default=None, help="The patient's sex (FHIR gender).")
@click.option("--department", default=None, help="The department of this visit, e.g. 内科 (its date: today).")
@click.option("--doctor", default=None, help="The doctor of this visit.")
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
    patient_id: str | None,
    patient_name: str | None,
    birth_date: str | None,
    sex: str | None,
    department: str | None,
    doctor: str | None,
) -> None:
    """Write an evidence-linked SOAP chart from a consultation TRANSCRIPT (text or JSON; - for stdin).

    Rules, the learned reader and the learned drug status write it; a language model drafts what they leave only
    when --model (or --adapter) asks for it.
    The chart is a draft (下書き) in every format; --patient-* and the visit's options put who it is for into it.
    """
    from kogata.render.header import ChartHeader
    from kogata.store import FieldError
    from kogata.store.identity import check_encounter, check_patient
    from kogata.tasks.karte import karte as write_chart
    from kogata.transcript import read_transcript

    try:  # bad identity fails before anything is read or loaded, naming the option
        patient = check_patient({"id": patient_id, "name": patient_name, "birth_date": birth_date, "sex": sex})
        encounter = None
        if department or doctor:
            encounter = check_encounter({"date": date.today().isoformat(), "department": department, "doctor": doctor})
    except FieldError as e:
        option = _OPTION.get(e.param or "", e.param)
        raise click.BadParameter(str(e).replace(e.param or "", option or ""), param_hint=option) from None
    header = ChartHeader(patient=patient, encounter=encounter)

    # no language model unless --model or --adapter asks for its drafting (it added nothing measurable: README)
    use_reader, drafts = options.chart_mode(rules_only, reader, no_model, model, adapter)
    visit = read_transcript(transcript, encoding=encoding)  # bad input fails before the model loads
    llm = options.load_model(model, threads=threads, adapter=adapter) if drafts else None
    chart = write_chart(
        visit,
        model=llm,
        adapter=options.adapter_name(adapter) if llm else None,
        rules_only=rules_only,
        reader=use_reader,
    )
    if fmt == "json":
        # the chart contract's keys, and beside them what this chart is: a draft, for whom
        record = {**chart.to_dict(), "status": header.status}
        record.update({k: v.to_dict() for k, v in (("patient", patient), ("encounter", encounter)) if v})
        text = json.dumps(record, ensure_ascii=False, indent=2)
    elif fmt == "fhir":
        from kogata.render.fhir import chart_bundle

        bundle = chart_bundle(chart, show_unsupported=show_unsupported, header=header)
        text = json.dumps(bundle, ensure_ascii=False, indent=2)
    else:
        from kogata.render.markdown import chart_markdown, chart_text

        write = chart_markdown if fmt == "md" else chart_text
        text = write(chart, show_unsupported=show_unsupported, header=header)
    options.write_output(text, out)
