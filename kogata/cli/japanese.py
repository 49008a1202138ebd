"""`kogata --help` in Japanese: the texts of help_ja.tsv laid over each command as it is looked up.

Only loaded when the user's locale is Japanese (kogata.cli.japanese_wanted), so an English `kogata --help` reads no
file and imports nothing more. A command is never changed in place: `localize` returns a copy whose help, options'
help and (for a group) subcommands are Japanese, with a context whose formatter writes click's own words (Usage,
Options, default) in Japanese too. Error messages stay as click writes them.
"""

from __future__ import annotations

import copy
import functools
import unicodedata
from importlib import resources

import click

TSV = "help_ja.tsv"


@functools.cache
def texts() -> dict[str, str]:
    """Every key of help_ja.tsv and its Japanese text."""
    rows: dict[str, str] = {}
    for n, line in enumerate(resources.files("kogata.cli").joinpath(TSV).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"{TSV}:{n}: expected KEY<TAB>TEXT")
        if key in rows:
            raise ValueError(f"{TSV}:{n}: {key!r} given twice")
        rows[key] = text.strip()
    return rows


def command_text(path: str) -> str | None:
    """The Japanese help of the command at `path` ("ask", "knowledge add"; "kogata" for the top)."""
    return texts().get(path)


def option_text(path: str, option: click.Option) -> str | None:
    """The Japanese help of `option` of the command at `path`: its own, or the one every command shares."""
    name = option_key(option)
    return texts().get(f"{path} {name}") or texts().get(name)


def option_key(option: click.Option) -> str:
    """The name an option is known by in help_ja.tsv: its longest flag (--show-unsupported, -k)."""
    return max(option.opts, key=len)


def short_help(path: str) -> str | None:
    """The line `--help` lists the command with: "short:PATH", else its text up to the first 「。」."""
    if (short := texts().get(f"short:{path}")) is not None:
        return short
    text = command_text(path)
    if text is None:
        return None
    head, sep, _ = text.partition("。")
    return head + sep


def width(text: str) -> int:
    """Columns `text` takes on a terminal: a full-width character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """`text` in lines of at most `columns` terminal columns. Japanese breaks between any two characters, but a
    line never starts with 、。） and the like nor ends with （「 (the character before moves down with it); a run
    of ASCII (a flag, a path) is kept whole where it fits."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        for piece in _pieces(paragraph):
            if line and width("".join(line) + piece) > columns:
                carried = [piece.lstrip()]
                while len(line) > 1 and (carried[0][:1] in _NO_BREAK_BEFORE or line[-1].endswith(_NO_BREAK_AFTER)):
                    carried.insert(0, line.pop())
                lines.append("".join(line).rstrip())
                line = [carried[0].lstrip(), *carried[1:]]
            else:
                line.append(piece)
        lines.append("".join(line).rstrip())
    return lines


_NO_BREAK_BEFORE = "、。，．）」』】〕：；！？ー…"
_NO_BREAK_AFTER = tuple("[(（「『【〔")


def _pieces(text: str) -> list[str]:
    """Breakable pieces: each full-width character alone, each ASCII word with the spaces before it."""
    pieces: list[str] = []
    for c in text:
        wide = unicodedata.east_asian_width(c) in "WF"
        if pieces and not wide and c != " " and pieces[-1][-1:] not in ("", " ") and not _is_wide(pieces[-1][-1]):
            pieces[-1] += c  # continue an ASCII word
        elif pieces and c == " " and not wide:
            pieces.append(c)
        elif pieces and pieces[-1].isspace() and not wide:
            pieces[-1] += c
        else:
            pieces.append(c)
    return pieces


def _is_wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in "WF"


class JapaneseFormatter(click.HelpFormatter):
    """click's formatter with its own words (Usage, Options, Commands, default, required) in Japanese, wrapping
    by terminal columns (a Japanese sentence has no spaces to break at)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else texts()["click:Usage:"] + " ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(texts().get(f"click:{heading}", heading))

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for line in wrap(" ".join(text.split("\n\n")), max(self.width - self.current_indent, 20)):
            self.write(f"{indent}{line}\n" if line else "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(term, _japanese_click(text)) for term, text in rows]
        if not rows:
            return
        first_col = min(max(width(term) for term, _ in rows), col_max) + col_spacing
        indent = " " * self.current_indent
        for term, text in rows:
            self.write(f"{indent}{term}")
            if not text:
                self.write("\n")
                continue
            if width(term) <= first_col - col_spacing:
                self.write(" " * (first_col - width(term)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(text, max(self.width - first_col - self.current_indent, 20))
            self.write("\n".join(lines[:1] + [" " * (first_col + self.current_indent) + line for line in lines[1:]]))
            self.write("\n")


def _japanese_click(text: str) -> str:
    """One of click's own option texts in Japanese, and its [default: …] and [required] marks."""
    said = texts()
    default, required = said["click:default"], said["click:required"]
    text = said.get(f"click:{text}", text)
    for english, japanese in (("[default: ", f"[{default}: "), ("; default: ", f"; {default}: ")):
        text = text.replace(english, japanese)
    return text.replace("[required]", f"[{required}]")


class JapaneseContext(click.Context):
    formatter_class = JapaneseFormatter


def localize(command: click.Command, path: str) -> click.Command:
    """A copy of `command` (at `path`, e.g. "knowledge add") with its help in Japanese where help_ja.tsv has it."""
    local = copy.copy(command)
    local.context_class = JapaneseContext
    if (text := command_text(path)) is not None:
        local.help = text
        local.short_help = short_help(path)
    local.params = []
    for param in command.params:
        if isinstance(param, click.Option) and (text := option_text(path, param)) is not None:
            param = copy.copy(param)
            param.help = text
        local.params.append(param)
    if isinstance(command, click.Group):
        local.commands = {name: localize(sub, f"{path} {name}") for name, sub in command.commands.items()}
    return local
