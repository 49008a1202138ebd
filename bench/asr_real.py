"""Speech recognition on real human voices: CER per source on ../shared/data/real-speech, adapter × glossary.

    .venv/bin/python bench/asr_real.py                                 # every file, four ways, 2 threads
    .venv/bin/python bench/asr_real.py --data PATH --out bench/out/asr_real.json --label quiet
    .venv/bin/python bench/asr_real.py --adapters none,medical,new.npz   # each adapter with and without glossary

The folder holds real recordings (Common Voice, FLEURS, LibriVox, a Julius sample) with references in MANIFEST.tsv
(see its SOURCE.md). It is for measuring only: nothing here trains or tunes on it. Each file is transcribed by
Whisper base with the bundled medical speech adapter or without it, each with the bundled glossary or without; CER
is character-weighted over each source and overall (kogata.speech.metrics: NFKC, punctuation and spaces removed,
numbers folded, as the folder's own norm_ja does). A file that yields no speech counts as all deletions.

It also checks the promise "no text on silence or noise": ten seconds of digital silence, and of a fan, a corridor
and a keyboard at −30 dBFS (kogata.speech.synth.room_noise), must each give no utterance.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import machine, print_table, write_json  # noqa: E402
from bench.plots import plot_file  # noqa: E402
from kogata.speech import Glossary, load_asr, transcribe  # noqa: E402
from kogata.speech.adapter import DEFAULT as DEFAULT_ADAPTER  # noqa: E402
from kogata.speech.audio import SAMPLE_RATE, AudioError  # noqa: E402
from kogata.speech.metrics import errors  # noqa: E402
from kogata.speech.synth import NOISES, room_noise  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "real-speech"
WAYS = {  # label: (speech adapter, glossary)
    "adapter+glossary (default)": (DEFAULT_ADAPTER, None),
    "adapter": (DEFAULT_ADAPTER, "empty"),
    "base+glossary": (None, None),
    "base": (None, "empty"),
}


def manifest(folder: Path) -> list[dict]:
    path = folder / "MANIFEST.tsv"
    if not path.exists():
        raise SystemExit(f"no MANIFEST.tsv in {folder}: pass --data PATH to the real-speech folder")
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def adapter_ways(adapters: str) -> dict[str, tuple[str | None, str | None]]:
    """ "none,medical,x.npz" → each adapter with the glossary and without (label: the adapter's name or file stem)."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for spec in (a.strip() for a in adapters.split(",") if a.strip()):
        label = Path(spec).stem if spec.endswith(".npz") else spec
        adapter = None if spec == "none" else spec
        out[f"{label}+glossary"] = (adapter, None)
        out[label] = (adapter, "empty")
    return out


def source_of(file_name: str) -> str:
    return file_name.split("_", 1)[0]


def noises(seconds: float = 10.0) -> dict[str, np.ndarray]:
    """Ten seconds of digital silence, and of a fan, a corridor and a keyboard at −30 dBFS (a loud room;
    kogata.speech.synth.room_noise)."""
    return {"silence": np.zeros(int(seconds * SAMPLE_RATE), np.float32)} | {
        kind: room_noise(kind, seconds, level_db=-30, seed=3) for kind in NOISES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the real-speech folder (with MANIFEST.tsv)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ways", default=",".join(WAYS), help="comma-separated subset of: " + ", ".join(WAYS))
    parser.add_argument(
        "--adapters",
        default="",
        help="instead of --ways: comma-separated speech adapters (none, medical, or .npz files), each measured "
        "with and without the glossary",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "asr_real.json"))
    parser.add_argument("--label", default="", help="e.g. quiet / under load, recorded in the JSON")
    args = parser.parse_args()

    rows = manifest(args.data)
    ways = adapter_ways(args.adapters) if args.adapters else {w.strip(): WAYS[w.strip()] for w in args.ways.split(",")}
    results: dict = {"machine": machine(), "label": args.label, "data": str(args.data), "files": len(rows), "ways": {}}
    for way, (adapter, glossary_kind) in ways.items():
        asr = load_asr(threads=args.threads, adapter=adapter)
        glossary = Glossary.empty() if glossary_kind == "empty" else None
        per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        files, compute, audio_seconds = [], 0.0, 0.0
        for row in rows:
            started = time.perf_counter()
            try:
                hyp = " ".join(
                    u.text for u in transcribe(args.data / row["file"], asr=asr, glossary=glossary).utterances
                )
            except AudioError:
                hyp = ""
            compute += time.perf_counter() - started
            audio_seconds += float(row["seconds"])
            err, n = errors(row["transcript"], hyp, fold_numbers=True)
            per_source[source_of(row["file"])][0] += err
            per_source[source_of(row["file"])][1] += n
            files.append({"file": row["file"], "cer": round(err / max(n, 1), 3), "hypothesis": hyp})
        total_err = sum(e for e, _ in per_source.values())
        total_n = sum(n for _, n in per_source.values())
        silent = {}
        for name, samples in noises().items():
            try:
                silent[name] = " ".join(u.text for u in transcribe(samples, asr=asr, glossary=glossary).utterances)
            except AudioError:
                silent[name] = ""
        results["ways"][way] = {
            "cer": round(total_err / max(total_n, 1), 3),
            "per_source": {s: round(e / max(n, 1), 3) for s, (e, n) in sorted(per_source.items())},
            "rtf": round(compute / audio_seconds, 3),
            "text_on_noise": silent,
            "files": files,
        }
        print(f"{way}: CER {results['ways'][way]['cer']:.3f}, RTF {results['ways'][way]['rtf']:.2f}", flush=True)
    sources = sorted({s for w in results["ways"].values() for s in w["per_source"]})
    print_table(
        ["way", "CER", *sources, "RTF", "text on noise"],
        [
            [
                w,
                r["cer"],
                *(r["per_source"].get(s, "") for s in sources),
                r["rtf"],
                sum(bool(t) for t in r["text_on_noise"].values()),
            ]
            for w, r in results["ways"].items()
        ],
    )
    write_json(args.out, results)
    print(f"wrote {plot_file(Path(args.out))}")  # CER per source, one marker per way (bench/plots.py)


if __name__ == "__main__":
    main()
