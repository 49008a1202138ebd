"""Yes heard as no, and no as yes: the twelve one-word answers of data/speech/short_answers.tsv (はい, ええ, うん,
いいえ, いや after a doctor's question and a pause), spoken by each bundled synthesiser with two seeds, transcribed
with each speech adapter. A swapped answer is the recogniser's most dangerous error on a chart ("アレルギーは？"
"いいえ"), so it is counted on its own, beside answers heard right and answers heard as something else.

    .venv/bin/python bench/yes_no.py [--adapters none,medical,clinic] [--seeds 7,11] [--out bench/out/yes_no.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kogata.speech import load_asr, transcribe  # noqa: E402
from kogata.speech.metrics import reading  # noqa: E402
from kogata.speech.synth import VOICES, synthesize  # noqa: E402
from kogata.transcript import parse_transcript  # noqa: E402

ANSWERS = ROOT / "data" / "speech" / "short_answers.tsv"
YES = {"ハイ", "エエ", "ウン"}
NO = {"イイエ", "イヤ"}


def answers() -> list[tuple[str, str, str]]:
    lines = [line for line in ANSWERS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [tuple(line.split("\t")) for line in lines[1:]]


def judge(expected: str, heard: str) -> str:
    """right, swapped (a yes heard as a no or the reverse) or other, on katakana readings."""
    if expected in heard:
        return "right"
    opposite = NO if expected in YES else YES
    return "swapped" if any(word in heard for word in opposite) else "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--adapters", default="none,medical,clinic")
    ap.add_argument("--seeds", default="7,11")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--label", default="", help='e.g. "under load"')
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "yes_no.json"))
    args = ap.parse_args()
    rows = answers()
    script = parse_transcript("\n".join(f"医師：{q}\n患者：{a}" for q, a, _ in rows))
    adapters = [a.strip() for a in args.adapters.split(",") if a.strip()]
    counts = {a: {"right": 0, "swapped": 0, "other": 0} for a in adapters}
    swaps = []
    start = time.perf_counter()
    asrs = {a: load_asr(threads=args.threads, adapter=a) for a in adapters}
    for voice in VOICES:
        for seed in (int(s) for s in args.seeds.split(",")):
            visit = synthesize(script, seed=seed, engine=voice)
            for name, asr in asrs.items():
                heard_all = transcribe(visit.samples, asr=asr, speakers=False).utterances
                for ref, (_, answer, expected) in zip(visit.script.utterances[1::2], rows):
                    heard = "".join(u.text for u in heard_all if min(u.end, ref.end) > max(u.start, ref.start))
                    verdict = judge(expected, reading(heard))
                    counts[name][verdict] += 1
                    if verdict == "swapped":
                        swaps.append({"voice": voice, "seed": seed, "adapter": name, "said": answer, "heard": heard})
    total = len(rows) * len(VOICES) * len(args.seeds.split(","))
    print(f"{len(rows)} answers × {len(VOICES)} voices × {len(args.seeds.split(','))} seeds = {total} per adapter")
    print("| adapter | right | swapped (yes↔no) | other |")
    print("|---|---|---|---|")
    for name, c in counts.items():
        print(f"| {name} | {c['right']} | {c['swapped']} | {c['other']} |")
    for s in swaps:
        print(f"  swapped: {s['voice']} seed {s['seed']} {s['adapter']}: {s['said']} → {s['heard']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "label": args.label,
                "seconds": round(time.perf_counter() - start, 1),
                "per_adapter": total,
                "counts": counts,
                "swaps": swaps,
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
