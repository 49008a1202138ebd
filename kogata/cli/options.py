"""The options several commands share, defined once with one meaning each, and `write_output`.

--model/-m    a model name or alias (see `kogata models`); `serve` repeats it to serve several models.
--backend     URL of an OpenAI-compatible server that generates instead of the embedded model (or set
              KOGATA_BACKEND); comes with every --model. With it, --model is the model's name on the backend.
--backend-model  NAME: the base model's name on the backend; ADAPTER=NAME: the backend model --adapter ADAPTER
              stands for (an adapter with no mapping is sent as its own name). Repeatable.
--threads     CPU threads (default: all cores).
--glyph-guard ban Han characters that Japanese does not use.
--adapter     a LoRA adapter: a registered NAME (`kogata adapters list`) or a GGUF file, checked against the base
              model (kogata.adapters.resolve) before anything loads. `serve --adapter NAME[=FILE]` registers a
              per-request adapter under NAME instead (requests pick it as `model:NAME`), repeatable.
--format      what the result is rendered as; each command lists its own choices.
--out         write the result to this file (atomically) instead of standard output.
--json        print JSON instead of a table or text.
--speech-adapter  the speech decoder's adapter (transcribe, serve), a name of its own: not an LLM adapter.
--data        the folder of a data set (evaluations, bench); each command names its default.
--reader      on|off: the chart's learned reader (its lines, kogata.tasks.karte.reader; the drug status, .drug_reader);
              default: the package's choice per part.
--no-model    accepted and does nothing: charts use no language model unless --model or --adapter asks for one
              (kept so that older commands still run); --rules-only is neither model nor reader.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the engine loads only when a command asks for a model
    from kogata.engine import Model

ADAPTER_NAME = "cli"  # the name a command's --adapter is loaded under, for the length of one command

BACKEND_ENV = "KOGATA_BACKEND"
_BACKEND = "kogata.backend"  # where --backend and --backend-model wait in click's context until a model loads


def _remember(ctx: click.Context, param: click.Parameter, value):
    ctx.meta[f"{_BACKEND}.{param.name}"] = value
    return value


backend_option = click.option(
    "--backend",
    metavar="URL",
    envvar=BACKEND_ENV,
    default=None,
    expose_value=False,
    callback=_remember,
    help="Generate on this OpenAI-compatible server (llama.cpp, vLLM, SGLang, kogata serve) instead of the "
    f"embedded model; or set {BACKEND_ENV}. Rules, verification and storage stay here.",
)
backend_model_option = click.option(
    "--backend-model",
    "backend_models",
    multiple=True,
    metavar="[ADAPTER=]NAME",
    expose_value=False,
    callback=_remember,
    help="With --backend: NAME of the base model there, or ADAPTER=NAME for the model --adapter ADAPTER stands "
    "for. Repeatable.",
)
_model = click.option("--model", "-m", default=None, help="Model name or alias (see `kogata models`).")


def model_option(f):
    """--model, with --backend and --backend-model beside it: every command that takes a model can send its
    generation to a server (read back by `load_model`)."""
    return _model(backend_option(backend_model_option(f)))


_drafting_model = click.option(
    "--model",
    "-m",
    default=None,
    metavar="NAME",
    help="Have this language model (a name or alias, e.g. default; see `kogata models`) draft what the rules and the"
    " reader leave. Default: no language model.",
)


def drafting_model_option(f):
    """--model for the chart commands, where the model is asked for, never loaded by default (see `chart_mode`)."""
    return _drafting_model(backend_option(backend_model_option(f)))


def backend() -> tuple[str | None, tuple[str, ...]]:
    """The running command's --backend URL (None: the embedded model) and --backend-model values."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    return meta.get(f"{_BACKEND}.backend"), tuple(meta.get(f"{_BACKEND}.backend_models") or ())


threads_option = click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")
guard_option = click.option(
    "--glyph-guard/--no-glyph-guard",
    default=True,
    show_default=True,
    help="Ban Han characters that Japanese does not use.",
)


def adapter_option(help: str = "A LoRA adapter: a registered NAME (kogata adapters list) or a GGUF file."):
    return click.option("--adapter", default=None, metavar="NAME|FILE", help=help)


def format_option(choices: Sequence[str], default: str, help: str | None = None):
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True, help=help
    )


def out_option(help: str = "Write to this file (atomically) instead of standard output."):
    return click.option("--out", default=None, help=help)


def json_option(help: str | None = "Print JSON instead of a table."):
    return click.option("--json", "as_json", is_flag=True, help=help)


def reader_options(f):
    """--reader on|off and --no-model for the chart commands; read back with `chart_mode`."""
    f = click.option(
        "--no-model",
        is_flag=True,
        help="The default (no language model unless --model or --adapter asks for one); kept for older commands.",
    )(f)
    return click.option(
        "--reader",
        type=click.Choice(["on", "off"]),
        default=None,
        help=(
            "The learned reader: its lines for clinical words no rule reads, and the learned drug status that keeps a"
            " doubtful drug off the current list (default: the package's choice per part: both on)."
        ),
    )(f)


def chart_mode(
    rules_only: bool, reader: str | None, no_model: bool, model: str | None, adapter: str | None
) -> tuple[bool | None, bool]:
    """(reader, whether the language model drafts) for kogata.tasks.karte.karte. The model drafts only when --model
    or --adapter asks for it; --rules-only is the baseline (no model, no reader), so each of those contradicts it."""
    asked = model is not None or adapter is not None
    if rules_only and reader == "on":
        raise click.UsageError("--rules-only means no model and no learned reader; for rules + reader, leave it out")
    if rules_only and asked:
        raise click.UsageError("--rules-only means no language model; leave out --model/--adapter, or --rules-only")
    if no_model and asked:
        raise click.UsageError("--no-model and --model/--adapter contradict each other; give one")
    return (None if reader is None else reader == "on"), asked


def speech_adapter_option(help: str):
    """--speech-adapter: Whisper's decoder adapter: medical or clinic (bundled), none, or a tune-speech .npz."""
    return click.option("--speech-adapter", "speech_adapter", default="clinic", show_default=True, help=help)


def data_option(help: str, *, exists: bool = True, file_okay: bool = False):
    return click.option("--data", type=click.Path(exists=exists, file_okay=file_okay), default=None, help=help)


def file_option(*names: str, help: str):
    """An optional input file the command reads itself (and names in its own errors)."""
    return click.option(*names, type=click.Path(dir_okay=False), default=None, help=help)


def load_model(
    model: str | None, *, threads: int | None, adapter: str | None = None, glyph_guard: bool = True
) -> Model:
    """Load `model` with `adapter` (a registered NAME or a GGUF file, refused when made for another base) under
    ADAPTER_NAME; pass `adapter_name(adapter)` to the library call that should use it. With --backend, the model
    is the one on that server, and `adapter` the backend model it maps to (--backend-model ADAPTER=NAME)."""
    url, backend_models = backend()
    if url:
        return _connect(url, backend_models, model, adapter=adapter, glyph_guard=glyph_guard)
    from kogata.adapters import resolve
    from kogata.engine import load

    return load(
        model,
        threads=threads,
        glyph_guard=glyph_guard,
        adapters={ADAPTER_NAME: resolve(adapter, model)} if adapter else None,
    )


def _connect(url: str, values: tuple[str, ...], model: str | None, *, adapter: str | None, glyph_guard: bool) -> Model:
    from kogata.adapters.registry import looks_like_path
    from kogata.engine.remote import connect, parse_backend_models
    from kogata.errors import InputError

    base, mapped = parse_backend_models(values)
    adapters = None
    if adapter:
        if adapter not in mapped and looks_like_path(adapter):
            raise InputError(
                f"--adapter {adapter} is a file, which cannot travel to the backend {url}: serve it there and "
                "name its model with --backend-model ADAPTER=NAME"
            )
        adapters = {ADAPTER_NAME: mapped.get(adapter, adapter)}
    return connect(url, model=base or model, adapters=adapters, glyph_guard=glyph_guard)


def model_or_name(model: str | None) -> Model | str | None:
    """For commands that load their model only when needed: the backend's model with --backend (no weights load
    here), else the name as given."""
    url, backend_models = backend()
    return _connect(url, backend_models, model, adapter=None, glyph_guard=True) if url else model


def adapter_name(adapter: str | None) -> str | None:
    """The name `load_model` loaded `adapter` under, or None without one."""
    return ADAPTER_NAME if adapter else None


def write_output(text: str, out: str | None) -> None:
    """Print, or write to `out` atomically: a temporary file (mode 0600: results hold patients' words) in the same
    folder, renamed into place, so no reader ever sees half a file. A symbolic link at `out` is refused, never
    written through; a folder, or a path that cannot be written, is an InputError (one line, no traceback)."""
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    import os
    import tempfile

    from kogata.errors import InputError

    target = Path(out)
    if target.is_symlink():  # os.replace would replace the link, but say so rather than surprise anyone
        raise InputError(f"--out {out} is a symbolic link; refusing to write through it (remove it or pick a file)")
    if target.is_dir():
        raise InputError(f"--out {out} is a folder; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # mode 0600
    except OSError as e:
        raise InputError(f"cannot write --out {out}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        # renames over the path itself: a link planted since the check is replaced, not followed
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise InputError(f"cannot write --out {out}: {e.strerror or e}") from None
        raise
    click.echo(f"wrote {target}", err=True)
