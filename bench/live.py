"""Chart-ready time after a ~10-minute visit ends: drafted at the end from nothing, or incrementally during it.

    .venv/bin/python bench/live.py [--model NAME] [--adapter NAME] [--minutes 10] [--window 300] [--threads 2] \
        [--sides …]

The visit is the longest synthetic consultations in data/consultations joined end to end (renumbered) until
their estimated speaking time (5 characters a second plus a 1-second pause per turn) reaches --minutes.
Utterances arrive one by one; after each, the incremental side does the background work the live WebSocket
does while the model is idle (kogata.tasks.karte.incremental: draft a finished window, else prefill the tail).
The figure that matters is the time from "visit ended" to "chart ready":
- end-only: karte() on the whole transcript at the end (its prompt not in the cache: another prompt ran last);
- windows: the incremental chart without prefilling the tail;
- windows+prefill: the incremental chart as the server runs it.
The background work's total is printed too: it must fit in the visit's own duration for the figure to hold.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import machine, print_table, write_json

from kogata.adapters import resolve
from kogata.engine import generate, load
from kogata.tasks.karte import karte
from kogata.tasks.karte.incremental import WINDOW_CHARS, IncrementalChart
from kogata.transcript import Transcript, Utterance, read_transcript

ROOT = Path(__file__).resolve().parent.parent
CHARS_PER_SECOND = 5.0
TURN_PAUSE_S = 1.0


def long_visit(data: Path, minutes: float) -> tuple[Transcript, float]:
    """Consultations, longest first, joined until their estimated speaking time reaches `minutes`."""
    files = sorted(data.glob("*.txt"), key=lambda p: p.stat().st_size, reverse=True)
    utterances: list[Utterance] = []
    seconds = 0.0
    for path in files:
        for u in read_transcript(path).utterances:
            utterances.append(Utterance(len(utterances) + 1, u.speaker, u.text, None, None))
            seconds += len(u.text) / CHARS_PER_SECOND + TURN_PAUSE_S
        if seconds >= minutes * 60:
            break
    return Transcript(utterances, source="bench:long-visit"), seconds


class Meter:
    """Counts what the model did (prompt tokens evaluated, taken from the cache, generated) from the binding's
    own timings, so the end phase can be told apart from the background work whatever the machine's load."""

    def __init__(self, model):
        self.model, self.request = model, model.request
        self.reset()
        model.request = self._request  # instrumentation of the real call, nothing replaced

    def reset(self) -> None:
        self.prompt = self.cached = self.generated = self.requests = 0

    def _request(self, body, on_chunk=None):
        result = self.request(body, on_chunk)
        timings = (result or {}).get("timings", {})
        self.prompt += int(timings.get("prompt_n", 0))
        self.cached += int(timings.get("cache_n", 0))
        self.generated += int(timings.get("predicted_n", 0))
        self.requests += 1
        return result

    def counts(self) -> dict:
        return {
            "requests": self.requests,
            "prompt_tokens_evaluated": self.prompt,
            "prompt_tokens_cached": self.cached,
            "tokens_generated": self.generated,
        }


def flush_cache(model) -> None:
    """Put another prompt in the cache, so the end-only side starts as a visit after other work would."""
    generate(model, "血圧の正常値を一言で。", max_tokens=1)


def incremental(
    model, meter: Meter, transcript: Transcript, *, window: int, prefill: bool, adapter: str | None = None
) -> dict:
    live = IncrementalChart(model, adapter=adapter, window_chars=window, prefill=prefill)
    background, steps = 0.0, {"draft": 0, "prefill": 0}
    last = transcript.utterances[-1]
    for u in transcript.utterances:
        live.add(u)
        while u is not last and live.pending():  # "end" is pressed right after the last utterance
            step = live.step()
            background += step.seconds
            steps[step.action] = steps.get(step.action, 0) + 1
    meter.reset()
    start = time.perf_counter()
    chart = live.finish(transcript)
    ready = time.perf_counter() - start
    return {
        "ready_s": ready,
        "background_s": background,
        "windows": steps["draft"],
        "prefills": steps["prefill"],
        "lines": sum(len(v) for v in chart.to_dict()["soap"].values()),
        "end": meter.counts(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "consultations")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument(
        "--adapter", default=None, help="a registered LoRA adapter for the model (kogata adapters list)"
    )
    parser.add_argument("--window", type=int, default=WINDOW_CHARS, help="characters of residual a window drafts")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--sides",
        default="end-only,windows,windows+prefill",
        help="comma-separated: end-only, windows, windows+prefill",
    )
    parser.add_argument("--label", default="", help="e.g. 'quiet' or 'under load', stored with the figures")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "live.json")
    args = parser.parse_args()

    adapters = {"bench": resolve(args.adapter, args.model)} if args.adapter else None
    adapter = "bench" if args.adapter else None
    model = load(args.model, threads=args.threads, progress=False, adapters=adapters)
    transcript, seconds = long_visit(args.data, args.minutes)
    chars = sum(len(u.text) for u in transcript.utterances)
    print(
        f"visit: {len(transcript.utterances)} utterances, {chars} characters, ~{seconds / 60:.1f} min spoken; "
        f"model {model.spec.name}, {args.threads} threads, window {args.window} chars"
    )

    meter = Meter(model)
    rows, results = [], {}
    sides = [s.strip() for s in args.sides.split(",")]
    unknown = set(sides) - {"end-only", "windows", "windows+prefill"}
    if unknown:
        parser.error(f"unknown side(s): {', '.join(sorted(unknown))}")
    for name in sides:
        flush_cache(model)
        if name == "end-only":
            meter.reset()
            start = time.perf_counter()
            chart = karte(transcript, model=model, adapter=adapter)
            results[name] = {
                "ready_s": time.perf_counter() - start,
                "background_s": 0.0,
                "windows": 0,
                "prefills": 0,
                "lines": sum(len(v) for v in chart.to_dict()["soap"].values()),
                "end": meter.counts(),
            }
        else:
            results[name] = incremental(
                model, meter, transcript, window=args.window, prefill=name.endswith("prefill"), adapter=adapter
            )
        r = results[name]
        rows.append(
            [
                name,
                round(r["ready_s"], 2),
                r["end"]["prompt_tokens_evaluated"],
                r["end"]["prompt_tokens_cached"],
                r["end"]["tokens_generated"],
                round(r["background_s"], 1),
                r["windows"],
                r["prefills"],
                r["lines"],
            ]
        )
        print(f"{name}: chart ready {r['ready_s']:.2f} s after the end", flush=True)
    print_table(
        [
            "side",
            "chart ready after end (s)",
            "end: prompt tokens evaluated",
            "end: from cache",
            "end: generated",
            "background during visit (s)",
            "windows",
            "prefills",
            "SOAP lines",
        ],
        rows,
    )
    write_json(
        args.out,
        {
            "machine": machine(),
            "label": args.label,
            "date": time.strftime("%Y-%m-%d"),
            "model": model.spec.name,
            "adapter": args.adapter,
            "threads": args.threads,
            "window_chars": args.window,
            "utterances": len(transcript.utterances),
            "chars": chars,
            "spoken_minutes": round(seconds / 60, 2),
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
