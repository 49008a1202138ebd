"""The `kogata` command: a table of commands, each imported only when it runs.

COMMANDS maps a command's name to the "module:function" that defines it and the short help `kogata --help`
shows, so listing the commands imports none of them (click's lazy-loading group pattern). A command module
parses its arguments, calls one library function and writes the result (kogata.cli.options.write_output).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from kogata.errors import KogataError

COMMANDS: dict[str, tuple[str, str]] = {
    "adapters": (
        "kogata.cli.adapters:adapters",
        "LoRA adapters trained with `kogata tune` (apply one with --adapter NAME).",
    ),
    "ask": (
        "kogata.cli.ask:ask",
        "Answer QUESTION from knowledge pack PACK; every sentence cites the passage that supports it.",
    ),
    "bench": (
        "kogata.cli.bench:bench",
        "Speed and memory of each installed model on this machine: tokens/s, first token, seconds per カルテ.",
    ),
    "call": (
        "kogata.cli.call:call",
        "Write an evidence-linked after-call record from an operator–customer call TRANSCRIPT "
        "(text or JSON; - for stdin).",
    ),
    "chat": (
        "kogata.cli.engine:chat",
        "Interactive multi-turn chat. /reset forgets the history, /exit (or Ctrl-D) leaves.",
    ),
    "eval": (
        "kogata.cli.eval:eval_group",
        "Measure quality on evaluation data (prints a table, writes per-item JSON).",
    ),
    "generate": (
        "kogata.cli.engine:generate",
        "Answer PROMPT (use - to read it from standard input), streaming to stdout.",
    ),
    "karte": (
        "kogata.cli.karte:karte",
        "Write an evidence-linked SOAP chart from a consultation TRANSCRIPT (text or JSON; - for stdin).",
    ),
    "knowledge": (
        "kogata.cli.knowledge:knowledge",
        "Knowledge packs: an office's documents and glossary, searchable with citations.",
    ),
    "models": (
        "kogata.cli.engine:models",
        "List the known models (language models, then the speech model) and their state on disk.",
    ),
    "serve": (
        "kogata.cli.serve:serve",
        "Serve the OpenAI-compatible API, visits and charts on HOST:PORT (logs are masked).",
    ),
    "transcribe": (
        "kogata.cli.transcribe:transcribe",
        "Transcribe Japanese speech in AUDIO (wav, mp3, m4a, flac; '-' for standard input), offline.",
    ),
    "tune": (
        "kogata.cli.tune:tune",
        'Fine-tune a LoRA adapter from chat-format DATA (JSONL: {"messages": [{"role", "content"}, …]} per line).',
    ),
    "tune-speech": (
        "kogata.cli.transcribe:tune_speech",
        "Teach the speech model your clinic's words from TRANSCRIPTS (txt or json, as `kogata karte` reads).",
    ),
}


def japanese_wanted(environ: os._Environ | dict[str, str] = os.environ) -> bool:
    """Whether help should be Japanese: the locale that names the language of messages starts with "ja"
    (LC_ALL, then LC_MESSAGES, then LANG: the first one set decides, as for any POSIX program)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := environ.get(name):
            return value.lower().startswith("ja")
    return False


class LazyGroup(click.Group):
    """A click group whose commands are imported from `lazy` ({name: ("module:function", short help)}) on use.

    With a Japanese locale its help, and each command it hands out, are in Japanese (kogata/cli/help_ja.tsv via
    kogata.cli.japanese, imported only then)."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, _, attribute = self.lazy[name][0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name][0]} is not a click command")
        if japanese_wanted():
            from kogata.cli import japanese

            return japanese.localize(command, name)
        return command

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        if japanese_wanted():
            from kogata.cli import japanese

            self.context_class = japanese.JapaneseContext
        else:
            self.context_class = click.Context
        return super().make_context(info_name, args, parent, **extra)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if japanese_wanted():
            from kogata.cli import japanese

            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(japanese.command_text("kogata") or self.help or "")
            return
        super().format_help_text(ctx, formatter)

    def short_help_of(self, name: str) -> str:
        """A command's line in `kogata --help`, from the table (or help_ja.tsv): no command module is imported."""
        if japanese_wanted():
            from kogata.cli import japanese

            if (text := japanese.short_help(name)) is not None:
                return text
        return self.lazy[name][1]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help, its short help taken from the table: no command module is imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        # a Japanese line is short by choice (help_ja.tsv) and wrapped, not cut, by the Japanese formatter
        limit = 10_000 if japanese_wanted() else formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.lazy:
                rows.append((name, click.Command(name, help=self.short_help_of(name)).get_short_help_str(limit)))
            else:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="kogata")
def cli() -> None:
    """kogata (小型): a small, Japanese-first language model system that runs offline on a CPU."""


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
