"""Voice activity on short answers and real recordings: which settings keep 「はい」「いいえ」 and lose nothing else.

    .venv/bin/python bench/vad.py                       # every setting below, 2 threads
    .venv/bin/python bench/vad.py --settings default    # one of them

Short answers: the twelve yes/no questions of data/speech/short_answers.tsv, the doctor's question and the patient's
one-word answer (はい, いいえ, ええ, うん, いや) spoken by pyopenjtalk-plus with 1.0–1.5 s between turns, in four
conditions: clean; the answers 12 dB softer than the questions (a patient mumbling); a fan at −40 dBFS under all
of it; a corridor at −35 dBFS (kogata.speech.synth.room_noise). An answer is kept when a recognised utterance
overlaps it in time and its kana reading holds the answer's (ハイ, イイエ, …). Utterances that overlap no turn
are counted as invented.
Synthetic consultations: CER (as written) on the first `--synthetic` test-split visits, default adapter and glossary,
so that no setting buys short answers with the medical split.
Real recordings: CER (numbers folded) on ../shared/data/real-speech with the default adapter and glossary, to see
that a setting that keeps short answers loses nothing on real voices (measuring only: settings are compared by
the overall figure, never fitted to an item). And ten seconds each of fan, corridor and keyboard noise at −30 dBFS
(a loud room) must give no utterance.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine, print_table, write_json  # noqa: E402
from kogata.speech import StreamingTranscriber, load_asr  # noqa: E402
from kogata.speech.audio import SAMPLE_RATE, load_audio  # noqa: E402
from kogata.speech.metrics import errors, reading  # noqa: E402
from kogata.speech.stream import VadSettings  # noqa: E402
from kogata.speech.synth import NOISES, room_noise, synthesize  # noqa: E402
from kogata.transcript import parse_transcript  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real-speech"
ANSWERS = ROOT / "data" / "speech" / "short_answers.tsv"

SETTINGS = {  # name: (voice activity, utterances shorter than this many seconds get the whole 30 s window)
    "before": (VadSettings(min_voiced=0.25), 0.0),
    "min voiced 0.1 s": (VadSettings(min_voiced=0.1), 0.0),
    "min voiced 0.1 s + 30 s window under 2 s": (VadSettings(min_voiced=0.1), 2.0),
}


def short_answers() -> list[tuple[str, str, str]]:
    with ANSWERS.open(encoding="utf-8", newline="") as f:
        rows = [line for line in f if not line.startswith("#")]
    return [(r["question"], r["answer"], r["reading"]) for r in csv.DictReader(rows, delimiter="\t")]


def answer_visits(seed: int = 7) -> dict[str, tuple[np.ndarray, list]]:
    """The questions and answers as one recording, in each condition: (samples, the script's timed utterances)."""
    lines = "\n".join(f"医師：{q}\n患者：{a}" for q, a, _ in short_answers())
    visit = synthesize(parse_transcript(lines), seed=seed)
    clean, turns = visit.samples, visit.script.utterances
    soft = clean.copy()
    for u in turns:
        if u.speaker == "患者":
            a, b = int(u.start * SAMPLE_RATE), int(u.end * SAMPLE_RATE)
            soft[a:b] *= 10 ** (-12 / 20)
    seconds = len(clean) / SAMPLE_RATE
    fan = room_noise("fan", seconds, level_db=-40, seed=1)[: len(clean)]
    corridor = room_noise("corridor", seconds, level_db=-35, seed=2)[: len(clean)]
    return {
        "clean": (clean, turns),
        "answers 12 dB softer": (soft, turns),
        "fan −40 dBFS": (np.clip(clean + fan, -1, 1), turns),
        "corridor −35 dBFS": (np.clip(clean + corridor, -1, 1), turns),
    }


def run(asr, samples: np.ndarray, vad: VadSettings) -> list:
    stream = StreamingTranscriber(asr, vad=vad, speakers=False, eager=False)
    step = 10 * SAMPLE_RATE
    out = []
    for at in range(0, len(samples), step):
        out += stream.feed(samples[at : at + step])
    return out + stream.flush()


def test_split() -> list[Path]:
    scripts = sorted((ROOT / "data" / "consultations").glob("[0-9][0-9][0-9]_*.txt"))
    return [p for p in scripts if json.loads(p.with_suffix(".json").read_text(encoding="utf-8")).get("split") == "test"]


def overlaps(u, t) -> bool:
    return min(u.end, t.end) > max(u.start, t.start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated subset of: " + ", ".join(SETTINGS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--synthetic", type=int, default=3, help="test-split consultations to check CER on (as bench/asr.py)"
    )
    ap.add_argument("--label", default="", help='e.g. "under load", stored with the figures')
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "vad.json")
    args = ap.parse_args()
    loaded = load_asr(threads=args.threads)
    visits = answer_visits()
    readings = {a: r for _, a, r in short_answers()}
    with (REAL / "MANIFEST.tsv").open(encoding="utf-8", newline="") as f:
        real = [(row["transcript"], load_audio(REAL / row["file"])) for row in csv.DictReader(f, delimiter="\t")]
    consultations = []
    for path in test_split()[: args.synthetic]:
        visit = synthesize(path, seed=int(path.name[:3]))
        consultations.append(("".join(u.text for u in visit.script.utterances), visit.samples))
    noise = {kind: room_noise(kind, 10.0, level_db=-30, seed=3) for kind in NOISES}
    results: dict = {"machine": machine(), "label": args.label, "settings": {}}
    for name in [s.strip() for s in args.settings.split(",") if s.strip()]:
        vad, window = SETTINGS[name]
        asr = dataclasses.replace(loaded, full_window_below=window)
        started = time.perf_counter()
        kept, total, invented, missed = 0, 0, 0, []
        for condition, (samples, turns) in visits.items():
            utterances = run(asr, samples, vad)
            for t in turns:
                if t.speaker != "患者":
                    continue
                total += 1
                heard = "".join(u.text for u in utterances if overlaps(u, t))
                if readings[t.text] in reading(heard):
                    kept += 1
                else:
                    missed.append(f"{condition}: {t.text} → {heard or '(nothing)'}")
            invented += sum(not any(overlaps(u, t) for t in turns) for u in utterances)
        err = n = 0
        for ref, samples in real:
            e, k = errors(ref, " ".join(u.text for u in run(asr, samples, vad)), fold_numbers=True)
            err, n = err + e, n + k
        synthetic = [0, 0]
        for script, samples in consultations:
            e, k = errors(script, "".join(u.text for u in run(asr, samples, vad)))
            synthetic = [synthetic[0] + e, synthetic[1] + k]
        on_noise = {kind: " ".join(u.text for u in run(asr, x, vad)) for kind, x in noise.items()}
        results["settings"][name] = {
            "vad": vars(vad) | {"full_window_below": window},
            "answers_kept": kept,
            "answers": total,
            "missed": missed,
            "invented_utterances": invented,
            "real_cer": round(err / n, 4),
            "synthetic_cer": round(synthetic[0] / max(synthetic[1], 1), 4),
            "text_on_noise": on_noise,
            "seconds": round(time.perf_counter() - started, 1),
        }
        row = results["settings"][name]
        print(
            f"{name}: answers {kept}/{total}, CER real {row['real_cer']}, synthetic {row['synthetic_cer']}", flush=True
        )
        print("  missed:", "; ".join(missed), flush=True)
    print_table(
        ["setting", "short answers kept", "invented", "CER real (22 files)", "CER synthetic", "text on 10 s noise"],
        [
            [
                k,
                f"{r['answers_kept']}/{r['answers']}",
                r["invented_utterances"],
                f"{r['real_cer']:.2%}",
                f"{r['synthetic_cer']:.2%}",
                sum(map(bool, r["text_on_noise"].values())),
            ]
            for k, r in results["settings"].items()
        ],
    )
    write_json(args.out, results)


if __name__ == "__main__":
    main()
