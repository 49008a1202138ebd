"""`kogata generate`, `kogata chat` and `kogata models`: the language model itself."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from kogata.cli import options
from kogata.errors import InputError, SchemaError


class Temperature(click.ParamType):
    """A finite number from 0 to 2 (click's FloatRange lets nan through: nan compares false with both ends)."""

    name = "FLOAT 0..2"

    def convert(self, value, param, ctx) -> float:
        t = value if isinstance(value, float) else click.FLOAT.convert(value, param, ctx)
        if not (math.isfinite(t) and 0 <= t <= 2):
            self.fail(f"{value!r} is not a temperature from 0 to 2", param, ctx)
        return t


TEMPERATURE = Temperature()
SEED = click.IntRange(0, 2**32 - 1)  # kogata.engine.generate.MAX_SEED, without loading the engine for --help
MAX_TOKENS = click.IntRange(1, 1 << 20)  # at most the model's context: checked once it is loaded


def _fits(max_tokens: int, llm) -> None:
    if llm.n_ctx and max_tokens > llm.n_ctx:  # 0: a remote backend, whose context size it checks itself
        raise InputError(f"--max-tokens {max_tokens} is more than the context size ({llm.n_ctx} tokens)")


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


@click.command()
@click.argument("prompt")
@options.model_option
@click.option("--max-tokens", type=MAX_TOKENS, default=512, show_default=True)
@click.option("--temperature", type=TEMPERATURE, default=0.0, show_default=True)
@click.option("--seed", type=SEED, default=None, help="Sampling seed (for temperature > 0).")
@options.file_option(
    "--json-schema",
    "schema_file",
    help="Constrain the answer to this JSON schema file; prints validated JSON or fails.",
)
@click.option("--system", default=None, help="System message (default: answer in Japanese).")
@options.threads_option
@options.guard_option
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
    from kogata.engine import generate_json, stream_generate
    from kogata.engine.generate import to_messages

    messages = to_messages(_prompt_text(prompt), system)  # refuse an empty prompt before loading anything
    schema = _read_schema(schema_file) if schema_file else None
    if schema is not None:
        from kogata.engine.schema import check_schema

        check_schema(schema)  # before the model loads: a bad schema costs nothing
    llm = options.load_model(model, threads=threads, glyph_guard=glyph_guard)
    _fits(max_tokens, llm)
    if schema is not None:
        value = generate_json(llm, messages, schema, max_tokens=max_tokens, temperature=temperature, seed=seed)
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
        return
    for piece in stream_generate(llm, messages, max_tokens=max_tokens, temperature=temperature, seed=seed):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


@click.command()
@options.model_option
@click.option("--max-tokens", type=MAX_TOKENS, default=512, show_default=True)
@click.option("--temperature", type=TEMPERATURE, default=0.0, show_default=True)
@click.option("--system", default=None, help="System message (default: answer in Japanese).")
@options.threads_option
@options.guard_option
def chat(
    model: str | None, max_tokens: int, temperature: float, system: str | None, threads: int | None, glyph_guard: bool
) -> None:
    """Interactive multi-turn chat. /reset forgets the history, /exit (or Ctrl-D) leaves."""
    from kogata.engine import stream_generate
    from kogata.engine.generate import to_messages

    llm = options.load_model(model, threads=threads, glyph_guard=glyph_guard)
    _fits(max_tokens, llm)
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


@click.command()
@options.json_option()
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
        f"{speech_adapter['size'] / 1e6:>6.1f} MB  clinic (kogata's own: many voices and rooms), "
        "used by default by transcribe/serve"
    )
    click.echo("(* default)")
