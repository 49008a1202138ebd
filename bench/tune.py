"""`kogata tune` speed and memory on the CPU: load time, seconds per 512-token step, the 200-example estimate.

Each model runs in its own process (so peak RSS is its own). For each:
- load: the GGUF read into transformers and dequantised (once per model; `--cold` times it into a scratch
  folder, leaving the cache alone), and the cached copy `kogata tune` loads afterwards;
- step: forward + backward + optimizer on synthetic chat examples of exactly `--tokens` tokens (Japanese
  consultation text, the answer about a quarter of the tokens, as in chart drafting): the median of
  `--steps` steps after one warm-up step;
- estimate: `--examples` × step time (one epoch), against the goal (issue 5): 200 × 512 tokens ≤ 30 min on
  2 cores with the 0.5B model;
- karte: one step on the longest example of data/tune/karte.jsonl, and the estimate for its 3-epoch recipe;
- `--full`: really trains the `--examples` synthetic examples for one epoch through `kogata.tune.train`
  (registered as bench-… and removed after), and reports the measured time beside the estimate.

    .venv/bin/python bench/tune.py [--model small --model qwen2.5-coder-1.5b] [--threads 2] [--steps 3]
                                   [--examples 200] [--tokens 512] [--cold] [--full] [--label quiet]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from common import machine, median, print_table, write_json  # noqa: E402

KARTE_DATA = ROOT / "data" / "tune" / "karte.jsonl"
KARTE_EPOCHS = 3


def synthetic_examples(tokenizer, count: int, tokens: int) -> list[dict]:
    """`count` chat examples of exactly `tokens` tokens (or one less, where a character spans two): a train
    consultation's words as the question, its reference chart as the answer (a quarter of the tokens)."""
    from kogata.tune.data import Example, tokenize

    visits = []
    for ref in sorted((ROOT / "data" / "consultations").glob("*.json")):
        reference = json.loads(ref.read_text(encoding="utf-8"))
        if reference["split"] == "train":
            words = "\n".join(
                line
                for line in ref.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#")
            )
            chart = "\n".join(line for lines in reference["reference_chart"].values() for line in lines)
            visits.append((words, chart))
    examples = []
    for i in range(count):
        words, chart = visits[i % len(visits)]
        words = (words + "\n") * 4  # enough text to cut from
        answer = chart[: max(8, tokens // 4)]

        def build(n_chars: int, i: int = i, words: str = words, answer: str = answer) -> dict:
            return {
                "messages": [
                    {"role": "user", "content": f"（例{i + 1}）" + words[:n_chars]},
                    {"role": "assistant", "content": answer},
                ]
            }

        low, high = 1, len(words)
        while low < high:  # the longest question that keeps the example within `tokens`
            mid = (low + high + 1) // 2
            if len(tokenize(tokenizer, Example(build(mid)["messages"], i + 1)).input_ids) <= tokens:
                low = mid
            else:
                high = mid - 1
        examples.append(build(low))
    return examples


def worker(
    model: str,
    threads: int,
    steps: int,
    examples: int,
    tokens: int,
    cold: bool,
    full: bool,
    precision: str,
    karte: bool,
    checkpointing: bool,
) -> dict:
    import torch

    from kogata import weights
    from kogata.adapters import registry
    from kogata.engine.gguf import read_metadata
    from kogata.engine.registry import get_spec
    from kogata.machine import peak_rss_mb
    from kogata.tune.base import _convert
    from kogata.tune.data import read_examples, tokenize
    from kogata.tune.train import TuneConfig, _reset_peak_rss, prepare, timed_step, train

    torch.set_num_threads(threads)
    spec = get_spec(model)
    result: dict = {"model": spec.name, "threads": threads, "tokens": tokens, "examples": examples}
    if cold:
        path = weights.ensure(spec, progress=False)
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            _convert(spec, path, Path(scratch) / "base", read_metadata(path).get("general.architecture", ""))
            result["gguf_load_s"] = round(time.perf_counter() - start, 1)
        result["gguf_load_peak_rss_mb"] = round(peak_rss_mb())

    with tempfile.TemporaryDirectory() as scratch:
        # the tokenizer comes with the base: load it once through a throw-away one-line file
        probe = Path(scratch) / "probe.jsonl"
        probe.write_text(
            json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}) + "\n"
        )
        config = TuneConfig(
            base=spec.name,
            epochs=1,
            max_tokens=max(tokens, 2048),
            threads=threads,
            precision=precision,
            checkpointing=checkpointing,
        )
        start = time.perf_counter()
        prepared = prepare(probe, config, progress=False)
        result["cached_load_s"] = round(time.perf_counter() - start, 1)
        result["cache_built_now"] = prepared.base.converted  # then cached_load_s includes reading the GGUF
        result["precision"] = "bf16" if prepared.bf16 else "fp32"
        result["checkpointing"] = checkpointing
        data = Path(scratch) / "synthetic.jsonl"
        rows = synthetic_examples(prepared.base.tokenizer, examples, tokens)
        data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        items = [tokenize(prepared.base.tokenizer, e) for e in read_examples(data)]
        result["example_tokens"] = round(sum(len(t.input_ids) for t in items) / len(items), 1)
        result["learned_share"] = round(sum(t.target_tokens for t in items) / sum(len(t.input_ids) for t in items), 3)

        _reset_peak_rss()
        timed_step(prepared, items[0], repeats=1)  # warm-up
        times = []
        for item in items[1 : steps + 1]:
            wall, cpu = time.perf_counter(), time.process_time()
            timed_step(prepared, item, repeats=1)
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
        result["step_s"] = round(median([t[0] for t in times]), 2)
        result["step_cpu_s"] = round(median([t[1] for t in times]), 2)  # all threads' CPU time: a load-free hint
        result["train_peak_rss_mb"] = round(peak_rss_mb())
        result["estimate_s"] = round(result["step_s"] * examples, 1)

        if karte:
            items = [tokenize(prepared.base.tokenizer, e) for e in read_examples(KARTE_DATA)]
            longest = max(items, key=lambda t: len(t.input_ids))
            karte_step = timed_step(prepared, longest, repeats=2)
            karte_tokens = sum(len(t.input_ids) for t in items)
            result["karte_step_tokens"] = len(longest.input_ids)
            result["karte_step_s"] = round(karte_step, 2)
            result["karte_estimate_s"] = round(karte_step / len(longest.input_ids) * karte_tokens * KARTE_EPOCHS, 1)
            result["karte_peak_rss_mb"] = round(peak_rss_mb())
        del prepared

        if full:
            name = f"bench-{spec.name}-{int(time.time())}"
            start = time.perf_counter()
            trained = train(
                data,
                name,
                TuneConfig(
                    base=spec.name,
                    epochs=1,
                    max_tokens=tokens,
                    threads=threads,
                    precision=precision,
                    checkpointing=checkpointing,
                ),
                progress=True,
            )
            result["full_total_s"] = round(time.perf_counter() - start, 1)
            result["full_train_s"] = round(trained.train_seconds, 1)
            result["full_peak_rss_mb"] = round(trained.peak_rss_mb)
            registry.remove(name)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", help="model name or alias (repeatable; default: small)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model (after one warm-up)")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--cold", action="store_true", help="also time reading the GGUF into transformers")
    parser.add_argument("--full", action="store_true", help="really train the examples for one epoch")
    parser.add_argument(
        "--no-karte",
        dest="karte",
        action="store_false",
        help="skip the step on the longest karte example (~2,000 tokens: 9 GB without "
        "--checkpointing on the 0.5B model, about twice that on the 1.5B)",
    )
    parser.add_argument("--checkpointing", action="store_true", help="recompute activations (less memory)")
    parser.add_argument("--label", default="", help="e.g. 'quiet' or 'under load', recorded with the figures")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "tune.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(
            json.dumps(
                worker(
                    args.worker,
                    args.threads,
                    args.steps,
                    args.examples,
                    args.tokens,
                    args.cold,
                    args.full,
                    args.precision,
                    args.karte,
                    args.checkpointing,
                )
            )
        )
        return

    rows, results = [], []
    for model in args.model or ["small"]:
        command = (
            [
                sys.executable,
                __file__,
                "--worker",
                model,
                "--threads",
                str(args.threads),
                "--steps",
                str(args.steps),
                "--examples",
                str(args.examples),
                "--tokens",
                str(args.tokens),
                "--precision",
                args.precision,
            ]
            + (["--cold"] if args.cold else [])
            + (["--full"] if args.full else [])
            + ([] if args.karte else ["--no-karte"])
            + (["--checkpointing"] if args.checkpointing else [])
        )
        done = subprocess.run(
            command, stdout=subprocess.PIPE, text=True, env=dict(os.environ, TOKENIZERS_PARALLELISM="false")
        )
        if done.returncode != 0:
            sys.exit(f"{model}: the worker failed (exit {done.returncode})")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(r)
        rows.append(
            [
                r["model"],
                r["precision"],
                r["threads"],
                r.get("gguf_load_s", "-"),
                r["cached_load_s"],
                f"{r['step_s']:.2f} ({r['step_cpu_s']:.1f} cpu)",
                round(r["tokens"] / r["step_s"]),
                f"{r['estimate_s'] / 60:.1f} min"
                + (f" (ran {r['full_train_s'] / 60:.1f})" if "full_train_s" in r else ""),
                f"{r['train_peak_rss_mb'] / 1024:.1f} GB",
                f"{r['karte_step_s']:.1f} s / {r['karte_step_tokens']}" if "karte_step_s" in r else "-",
                f"{r['karte_estimate_s'] / 60:.0f} min" if "karte_estimate_s" in r else "-",
            ]
        )
    print(
        f"\n{machine()['cpu']}, {args.threads} threads{', activation checkpointing' if args.checkpointing else ''}"
        f"{', ' + args.label if args.label else ''}"
    )
    print_table(
        [
            "model",
            "precision",
            "threads",
            "GGUF→transformers s",
            "cached load s",
            f"step s ({args.tokens} tok)",
            "tok/s",
            f"{args.examples}×{args.tokens}, 1 epoch",
            "peak RSS",
            "karte step",
            f"karte {KARTE_EPOCHS} epochs",
        ],
        rows,
    )
    write_json(args.out, {"machine": machine(), "label": args.label, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
