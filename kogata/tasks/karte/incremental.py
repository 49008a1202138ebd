"""A chart drafted while the visit goes on, so that when it ends only the last few utterances remain.

    live = IncrementalChart(model)
    live.add(utterance)            # as each utterance becomes final
    live.step()                    # when the model is idle: draft a finished window, or prefill the tail
    chart = live.finish(transcript)  # at the end: the tail is drafted (its prompt already cached), then rules + verify

The model drafts what karte() gives it: the clinical utterances no rule line cites (chart.uncovered), read here
from the visit so far. Two kinds of work happen between utterances, each one short queue job:
- once `window_chars` of that residual have not been drafted yet, the model drafts them as karte's draft() would
  draft a chunk (same prompt, same schema); the lines are kept, keyed by the exact utterances they came from;
- otherwise the undrafted tail is *prefilled*: a 1-token request with the draft prompt the tail has so far, so the
  engine's prompt cache (cache_prompt, llama.cpp's longest common prefix) already holds it when the visit ends.
At the end karte() runs as usual with a drafter that reuses every kept window whose utterances are unchanged (a
corrected speaker label, or a later utterance that a rule line now reads together with one of them, changes the
key, and that window is drafted again) and drafts only the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from kogata.engine import Model, generate
from kogata.tasks.karte.chart import Chart, karte, uncovered_of
from kogata.tasks.karte.draft import draft, messages
from kogata.tasks.karte.schema import SECTIONS
from kogata.transcript import Transcript, Utterance
from kogata.verify import clean

WINDOW_CHARS = 300  # of residual: a window's draft is a few seconds of generation on 2 cores


@dataclass(frozen=True)
class _Line:
    """An utterance as the draft prompt shows it (what kogata.verify.Said holds, for the prompt's needs)."""

    utterance: Utterance
    text: str

    @property
    def id(self) -> int:
        return self.utterance.id


Key = tuple[tuple[int, str, str], ...]


def key(lines: Sequence) -> Key:
    """What a drafted window depends on: each utterance's id, speaker and cleaned text."""
    return tuple((s.id, s.utterance.speaker, s.text) for s in lines)


@dataclass
class Step:
    """What one step did: "draft" (a window), "prefill" (the tail's prompt), or "idle" (nothing new)."""

    action: str
    utterances: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    seconds: float = 0.0


@dataclass
class IncrementalChart:
    model: Model
    adapter: str | None = None
    window_chars: int = WINDOW_CHARS
    prefill: bool = True
    lines: list[_Line] = field(default_factory=list)
    drafted: list[tuple[Key, dict[str, list[dict]]]] = field(default_factory=list)
    _done: int = 0  # utterance id up to which kept windows have drafted the residual
    _prefilled: tuple = ()  # the tail the cached prompt holds
    _residual: tuple[int, list] = (0, [])  # (lines it was read from, the residual then)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, utterance: Utterance) -> None:
        """A final utterance (ids must follow the visit's order; they are the ids chart lines cite). One whose id
        is not past the last one is ignored (already added)."""
        with self._lock:
            if self.lines and utterance.id <= self.lines[-1].id:
                return
            self.lines.append(_Line(utterance, clean(utterance.text)))

    def residual(self) -> list:
        """What karte() would give the model of the visit so far (chart.uncovered), read again only when an
        utterance has been added (the rules over the whole visit: step() does it, in the model's queue)."""
        with self._lock:
            utterances = [s.utterance for s in self.lines]
        if self._residual[0] != len(utterances):
            self._residual = (len(utterances), uncovered_of(Transcript(utterances)) if utterances else [])
        return self._residual[1]

    def _tail(self) -> list:
        return [s for s in self.residual() if s.id > self._done]

    def pending(self) -> bool:
        """Whether step() has anything to do. Cheap (the server asks on its event loop): new utterances are
        work for step(), which reads them; otherwise the residual read last time decides."""
        with self._lock:
            if len(self.lines) != self._residual[0]:
                return True
        tail = [s for s in self._residual[1] if s.id > self._done]
        return bool(tail) and (
            self._tail_chars(tail) >= self.window_chars or (self.prefill and self._prefilled != key(tail))
        )

    @staticmethod
    def _tail_chars(tail: Sequence) -> int:
        return sum(len(s.text) for s in tail)

    def step(self) -> Step:
        """One unit of background work (call it from the model's queue, one at a time)."""
        import time

        start = time.perf_counter()
        tail = self._tail()
        if not tail:
            return Step("idle")
        if self._tail_chars(tail) >= self.window_chars:
            window, size = [], 0
            for s in tail:  # whole utterances up to the window size (at least one)
                if window and size + len(s.text) > self.window_chars:
                    break
                window.append(s)
                size += len(s.text)
            value = draft(self.model, window, adapter=self.adapter)
            with self._lock:
                self.drafted.append((key(window), value))
                self._done = window[-1].id
            return Step("draft", len(window), seconds=time.perf_counter() - start)
        if not self.prefill or self._prefilled == key(tail):
            return Step("idle")
        response = generate(self.model, messages(tail), max_tokens=1, adapter=self.adapter)
        self._prefilled = key(tail)
        return Step(
            "prefill",
            len(tail),
            response.stats.prompt_tokens,
            response.stats.cached_tokens,
            time.perf_counter() - start,
        )

    def drafter(self, model: Model, said: Sequence, *, adapter: str | None = None) -> dict[str, list[dict]]:
        """karte's draft(), reusing every kept window that matches the transcript as it now stands."""
        lines: dict[str, list[dict]] = {s: [] for s in SECTIONS}
        at = 0
        with self._lock:
            kept = list(self.drafted)
        for window_key, value in kept:
            if key(said[at : at + len(window_key)]) != window_key:
                break  # a correction changed this window: it and the rest are drafted again
            for section, items in value.items():
                lines.setdefault(section, []).extend(items)
            at += len(window_key)
        if at < len(said):
            for section, items in draft(model, said[at:], adapter=adapter).items():
                lines.setdefault(section, []).extend(items)
        return lines

    def finish(self, transcript: Transcript) -> Chart:
        """The chart for the whole visit (the transcript as stored, corrections applied)."""
        return karte(transcript, model=self.model, adapter=self.adapter, drafter=self.drafter)
