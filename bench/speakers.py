"""Speaker labels from turns and words (kogata.speech.speakers) against alternation, on the reference turns.

Each utterance of a reference consultation is taken as one turn, as the recogniser cuts them at pauses (the
synthesised audio of bench/asr.py pauses ≥ 0.9 s between turns), and labelled in order; the reference speaker
decides right or wrong (医師 vs everyone else on the patient side; 看護師 turns are labelled but not scored, as
in bench/asr.py). Words only: no audio, so it runs in a second. The cues were set on the train split; the test
split is the measurement.

    .venv/bin/python bench/speakers.py [--data data/consultations] [--out bench/out/speakers.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, print_table, write_json  # noqa: E402

from kogata.speech.speakers import DOCTOR, PATIENT, next_speaker  # noqa: E402
from kogata.transcript import read_transcript  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "consultations"


def score_split(data: Path, split: str) -> dict:
    right = alternating = total = visits = 0
    for ref_path in sorted(data.glob("*.json")):
        if json.loads(ref_path.read_text(encoding="utf-8")).get("split") != split:
            continue
        visits += 1
        previous = None
        for k, u in enumerate(read_transcript(ref_path.with_suffix(".txt")).utterances):
            label = previous = next_speaker(u.text, previous)
            if u.speaker == "看護師":
                continue
            want = DOCTOR if u.speaker == DOCTOR else PATIENT
            total += 1
            right += label == want
            alternating += (DOCTOR, PATIENT)[k % 2] == want
    return {
        "split": split,
        "visits": visits,
        "turns": total,
        "turns_and_words": right / total,
        "alternation": alternating / total,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", default="bench/out/speakers.json")
    args = ap.parse_args()
    results = [score_split(args.data, split) for split in ("train", "test")]
    print_table(
        ["split", "visits", "turns scored", "alternation", "turns and words"],
        [
            [r["split"], r["visits"], r["turns"], f"{r['alternation']:.1%}", f"{r['turns_and_words']:.1%}"]
            for r in results
        ],
    )
    write_json(args.out, {"machine": machine(), "results": results})


if __name__ == "__main__":
    main()
