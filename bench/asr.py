"""Speech recognition on synthesised consultations: character error rate, real-time factor, streaming latency.

    .venv/bin/python bench/asr.py                       # test split, 2 threads: adapter × glossary
    .venv/bin/python bench/asr.py --limit 6 --stream-limit 2 --label quiet
    .venv/bin/python bench/asr.py --limit 6 --voice kokoro   # a voice the speech adapter never heard

The audio is synthesised offline from the synthetic consultations' scripts (data/consultations, test split) with
pyopenjtalk-plus (one voice, the doctor five semitones lower) or Kokoro (`--voice kokoro`: a male doctor and a
female patient), with pauses of 1.0–1.5 s between turns. Each visit is transcribed four ways: Whisper base with the
bundled default speech adapter (clinic; trained on other lines: data/speech/train_utterances.txt and the train split) or
without it, each with and without the glossary.
- CER: edit distance over the whole visit's text ÷ reference characters (kogata.speech.metrics: as written,
  numbers folded so that 七・八パーセント and 7.8% agree, and on kana readings so that 喉/のど is no error).
- RTF: transcription seconds ÷ audio seconds (audio decoding and model loading excluded).
- Speakers: share of utterances whose turn-based label is right (a reference 母親/父親/家族 counts as 患者, 看護師 is
  not counted), matched to the recognised utterance that overlaps it most in time.
- Latency: the streaming transcriber is fed 0.1 s chunks on a simulated clock that waits for the audio to arrive and
  adds the compute time of each call; latency is when an utterance is returned minus the end of its speech.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine, median, print_table, write_json  # noqa: E402
from kogata.speech import Glossary, StreamingTranscriber, load_asr, transcribe  # noqa: E402
from kogata.speech.adapter import DEFAULT as DEFAULT_ADAPTER  # noqa: E402
from kogata.speech.audio import SAMPLE_RATE  # noqa: E402
from kogata.speech.metrics import errors  # noqa: E402
from kogata.speech.stream import TURN_GAP  # noqa: E402
from kogata.speech.synth import VOICES, synthesize  # noqa: E402
from kogata.transcript.parse import Transcript  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "consultations"


def speaker_hits(ref: Transcript, hyp: Transcript) -> tuple[int, int]:
    hits = total = 0
    for r in ref.utterances:
        if r.speaker == "看護師":
            continue
        want = "医師" if r.speaker == "医師" else "患者"
        best = max(hyp.utterances, key=lambda h: min(h.end, r.end) - max(h.start, r.start), default=None)
        total += 1
        hits += best is not None and min(best.end, r.end) > max(best.start, r.start) and best.speaker == want
    return hits, total


def stream_latencies(asr, samples: np.ndarray, chunk: float = 0.1) -> list[float]:
    stream = StreamingTranscriber(asr)
    clock, out = 0.0, []
    step = int(chunk * SAMPLE_RATE)
    for at in range(0, len(samples), step):
        clock = max(clock, (at + step) / SAMPLE_RATE)  # the chunk cannot be fed before it was spoken
        t = time.perf_counter()
        done = stream.feed(samples[at : at + step])
        clock += time.perf_counter() - t
        out += [clock - u.end for u in done]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--split", choices=["test", "train", "all"], default="test")
    ap.add_argument("--limit", type=int, default=None, help="only the first N consultations")
    ap.add_argument("--stream-limit", type=int, default=3, help="consultations used for the streaming latency")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--voice", choices=VOICES, default="openjtalk", help="the synthetic voice the visits are spoken in")
    ap.add_argument("--adapter", default=DEFAULT_ADAPTER, help="speech adapter to compare with plain Whisper base")
    ap.add_argument("--no-plain", action="store_true", help="only the adapter's two rows (skip plain Whisper base)")
    ap.add_argument("--label", default="", help='e.g. "under load" or "quiet", stored with the figures')
    ap.add_argument("--out", type=Path, default=None, help="default bench/out/asr.json (asr_kokoro.json for Kokoro)")
    args = ap.parse_args()
    args.out = args.out or ROOT / "bench" / "out" / (
        "asr.json" if args.voice == "openjtalk" else f"asr_{args.voice}.json"
    )

    scripts = sorted(args.data.glob("[0-9][0-9][0-9]_*.txt"))
    if args.split != "all":  # the split is the reference's (data/consultations/README.md), as Makefile reads it
        scripts = [
            p
            for p in scripts
            if json.loads(p.with_suffix(".json").read_text(encoding="utf-8")).get("split") == args.split
        ]
    scripts = scripts[: args.limit] if args.limit else scripts
    adapted = load_asr(threads=args.threads, adapter=args.adapter)
    configs = {
        f"{args.adapter} adapter, glossary": (adapted, None),
        f"{args.adapter} adapter, no glossary": (adapted, Glossary.empty()),
    }
    if not args.no_plain:
        plain = load_asr(threads=args.threads, adapter=None)
        configs |= {"Whisper base, glossary": (plain, None), "Whisper base, no glossary": (plain, Glossary.empty())}
    first = next(iter(configs))
    totals = {
        name: {
            "err": 0,
            "err_num": 0,
            "err_kana": 0,
            "ref": 0,
            "ref_num": 0,
            "ref_kana": 0,
            "sec": 0.0,
            "audio": 0.0,
            "spk": 0,
            "spk_n": 0,
        }
        for name in configs
    }
    cases, latencies = [], []
    for n, path in enumerate(scripts):
        visit = synthesize(path, seed=int(path.name[:3]), engine=args.voice)
        ref_text = "".join(u.text for u in visit.script.utterances)
        case = {"id": path.name[:3], "audio_s": round(visit.seconds, 1), "utterances": len(visit.script.utterances)}
        for name, (asr, glossary) in configs.items():
            t = time.perf_counter()
            hyp = transcribe(visit.samples, asr=asr, glossary=glossary)
            seconds = time.perf_counter() - t
            hyp_text = "".join(u.text for u in hyp.utterances)
            err, ref = errors(ref_text, hyp_text)
            err_num, ref_num = errors(ref_text, hyp_text, fold_numbers=True)
            err_kana, ref_kana = errors(ref_text, hyp_text, fold_numbers=True, kana=True)
            hits, total = speaker_hits(visit.script, hyp)
            tot = totals[name]
            for key, value in (
                ("err", err),
                ("ref", ref),
                ("err_num", err_num),
                ("ref_num", ref_num),
                ("err_kana", err_kana),
                ("ref_kana", ref_kana),
                ("sec", seconds),
                ("audio", visit.seconds),
                ("spk", hits),
                ("spk_n", total),
            ):
                tot[key] += value
            case[name] = {
                "cer": round(err / ref, 4),
                "cer_numbers_folded": round(err_num / ref_num, 4),
                "cer_kana": round(err_kana / ref_kana, 4),
                "rtf": round(seconds / visit.seconds, 3),
                "speaker_accuracy": round(hits / total, 3),
                "utterances": len(hyp.utterances),
                "text": hyp_text,
            }
        if n < args.stream_limit:
            case["latency_s"] = [round(x, 2) for x in stream_latencies(adapted, visit.samples)]
            latencies += case["latency_s"]
        cases.append(case)
        g = case[first]
        print(
            f"{case['id']} {case['audio_s']:6.1f}s  CER "
            + "  ".join(f"{case[n]['cer']:.3f}" for n in configs)
            + f"  RTF {g['rtf']:.2f}  speakers {g['speaker_accuracy']:.2f}",
            file=sys.stderr,
        )

    summary = {}
    rows = []
    for name, tot in totals.items():
        s = {
            "cer": tot["err"] / tot["ref"],
            "cer_numbers_folded": tot["err_num"] / tot["ref_num"],
            "cer_kana": tot["err_kana"] / tot["ref_kana"],
            "rtf": tot["sec"] / tot["audio"],
            "speaker_accuracy": tot["spk"] / max(tot["spk_n"], 1),
        }
        summary[name] = {k: round(v, 4) for k, v in s.items()}
        rows.append(
            [
                name,
                f"{s['cer']:.1%}",
                f"{s['cer_numbers_folded']:.1%}",
                f"{s['cer_kana']:.1%}",
                f"{s['rtf']:.2f}",
                f"{s['speaker_accuracy']:.0%}",
            ]
        )
    lat = sorted(latencies)
    summary["latency"] = {
        "utterances": len(lat),
        "median_s": round(median(lat), 2),
        "p90_s": round(lat[int(0.9 * (len(lat) - 1))], 2) if lat else None,
        "max_s": round(lat[-1], 2) if lat else None,
        "turn_gap_s": TURN_GAP,
    }
    audio_min = sum(c["audio_s"] for c in cases) / 60
    print(
        f"\n{len(cases)} synthesised consultations ({args.split} split, {audio_min:.1f} min of audio), "
        f"voice {args.voice}, Whisper base int8, {args.threads} threads{', ' + args.label if args.label else ''}"
    )
    print_table(["", "CER", "CER, numbers folded", "kana CER", "RTF", "speaker labels"], rows)
    if lat:
        print(
            f"\nstreaming: final text {summary['latency']['median_s']:.2f} s after the speaker stops (median of "
            f"{len(lat)} utterances; p90 {summary['latency']['p90_s']:.2f} s, max {summary['latency']['max_s']:.2f} s;"
            f" {TURN_GAP} s of it is the silence that ends a turn)"
        )
    write_json(
        args.out,
        {
            "machine": machine(),
            "label": args.label,
            "threads": args.threads,
            "split": args.split,
            "voice": args.voice,
            "adapter": args.adapter,
            "consultations": len(cases),
            "audio_minutes": round(audio_min, 1),
            "summary": summary,
            "cases": cases,
        },
    )


if __name__ == "__main__":
    main()
