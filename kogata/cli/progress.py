"""What a waiting user sees on a terminal: the stage of the work, then the model's words as it writes them.

Everything goes to standard error, and only when standard error is a terminal: a pipe or a file gets nothing from
here, so `kogata ask … > answer.txt` and `kogata ask … | …` read exactly what they read without it. The streamed
words are the model's draft, before the verifier has read it; the display is erased when the work is done and the
command prints the verified answer (with its citations) on standard output.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from typing import TextIO

STAGES = {"retrieve": "検索中…", "read": "根拠を読んでいます…", "write": "回答を書いています…"}

# the "text" fields of the answer's JSON as written so far (the last one may still be open)
_TEXT_FIELD = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)', re.DOTALL)
_OPEN_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{0,3})?$")


def drafted_text(raw: str) -> str:
    """The words of the sentences in a partly written answer JSON ({"sentences": [{"text": …}, …]}), joined."""
    words = []
    for m in _TEXT_FIELD.finditer(raw):
        body = _OPEN_ESCAPE.sub("", m.group(1))
        try:
            words.append(json.loads(f'"{body}"'))
        except json.JSONDecodeError:  # a control character the model should not have written: show the rest
            words.append(body)
    return "".join(words).replace("\n", " ")


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class Progress:
    """`stage(name)` shows a stage of STAGES, `text(piece)` adds the model's raw JSON as it comes, `close()` erases
    the display. Silent unless `stream` (default: standard error) is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._label = ""
        self._raw = ""
        self._shown = ""

    def stage(self, name: str) -> None:
        label = STAGES.get(name, name)
        if not self.enabled or label == self._label:
            return
        self._erase()
        self._label, self._raw, self._shown = label, "", ""
        self._write(label)

    def text(self, piece: str) -> None:
        if not self.enabled:
            return
        self._raw += piece
        words = drafted_text(self._raw)
        if not words.startswith(self._shown):
            self._erase()
            self._write(self._label)
            self._shown = ""
        if len(words) > len(self._shown):
            self._write((" " if not self._shown else "") + words[len(self._shown) :])
            self._shown = words

    def close(self) -> None:
        if self.enabled:
            self._erase()
            self._label = self._raw = self._shown = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _width(self) -> int:
        """The terminal's columns, of this stream's terminal (standard output may be a pipe meanwhile)."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        if columns <= 0:  # a terminal that does not say its size (a fresh pty says 0)
            columns = int(os.environ.get("COLUMNS", "") or 80) if os.environ.get("COLUMNS", "").isdigit() else 80
        return columns

    def _erase(self) -> None:
        """Back to the start of the first row the display took (a long draft wraps over several) and clear below."""
        shown = self._label + (" " + self._shown if self._shown else "")
        if not shown:
            return
        width = max(self._width(), 1)
        rows = max(1, -(-_columns(shown) // width))
        self._write("\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J")
