"""What the glossary does on real voices and on the synthetic medical split: hotwords (the prompt) and correction
(the sound-alike rewrite) measured apart, and every correction judged against the reference.

    .venv/bin/python bench/glossary_effect.py                  # decode once (cached), then score the policies
    .venv/bin/python bench/glossary_effect.py --limit 6        # synthetic test-split visits to include (default 6)
    .venv/bin/python bench/glossary_effect.py --rescore        # only score again from bench/out/glossary_raw.json

Each recording is decoded twice with the medical adapter (2 threads): with the glossary's prompt and without it, the
correction pass switched off, and every utterance's raw text and average log-probability are kept
(bench/out/glossary_raw.json). The correction policies are then applied to that raw text, so each is scored on the
same decodes:
- real voices: ../shared/data/real-speech (measuring only; the policies are compared by their overall figure, no
  setting is fitted to an item), CER numbers folded, as bench/asr_real.py;
- synthetic: the first `--limit` test-split consultations spoken by pyopenjtalk-plus (as bench/asr.py), CER as
  written; each recognised utterance is scored against the reference utterances it overlaps in time.
A correction is "better" when applying it alone lowers the utterance's edit count against its reference, "worse"
when it raises it: a worse one on real read prose (no medical terms in it) is a false correction.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, print_table, write_json  # noqa: E402
from kogata.speech import Glossary, load_asr  # noqa: E402
from kogata.speech import stream as stream_module  # noqa: E402
from kogata.speech.decode import is_speech  # noqa: E402
from kogata.speech.glossary import default  # noqa: E402
from kogata.speech.metrics import errors  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "data" / "real-speech"
CONSULTATIONS = ROOT / "data" / "consultations"
RAW = ROOT / "bench" / "out" / "glossary_raw.json"


def decode_raw(asr, samples, prompt: bool) -> list[dict]:
    """Utterances of one recording as the streaming transcriber cuts them: raw text (no correction), confidence."""
    seen: list = []
    real_decode = stream_module.decode

    def recording(asr_, audio, prompt_tokens):  # the same decoder, its result kept
        out = real_decode(asr_, audio, prompt_tokens)
        seen.append(out)
        return out

    glossary = Glossary([], list(default().prompt_terms) if prompt else [])  # the prompt, no correction terms
    stream_module.decode = recording
    try:
        st = stream_module.StreamingTranscriber(asr, glossary, speakers=False, eager=False)
        utterances = st.feed(samples) + st.flush()
    finally:
        stream_module.decode = real_decode
    # Without eager decodes, each decode that passed is_speech became the next utterance, in order.
    out, kept = [], [d for d in seen if is_speech(d)]
    for u, d in zip(utterances, kept, strict=True):
        out.append(
            {"text": d.text, "avg_logprob": round(d.avg_logprob, 3), "no_speech": round(d.no_speech_prob, 3)}
            | {"start": u.start, "end": u.end}
        )
        assert u.text == d.text, (u.text, d.text)
    return out


def gather(limit: int, threads: int) -> dict:
    from kogata.speech.audio import load_audio
    from kogata.speech.synth import synthesize

    asr = load_asr(threads=threads, adapter="medical")
    items = []
    with (REAL / "MANIFEST.tsv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            items.append(("real", row["file"], [row["transcript"]], [], load_audio(REAL / row["file"])))
    scripts = [
        p
        for p in sorted(CONSULTATIONS.glob("[0-9][0-9][0-9]_*.txt"))
        if json.loads(p.with_suffix(".json").read_text(encoding="utf-8")).get("split") == "test"
    ][:limit]
    for p in scripts:
        visit = synthesize(p, seed=int(p.name[:3]))
        refs = visit.script.utterances
        items.append(("synthetic", p.name, [u.text for u in refs], [(u.start, u.end) for u in refs], visit.samples))
    out = {"machine": machine(), "items": []}
    started = time.perf_counter()
    for kind, name, refs, times, samples in items:
        entry = {"kind": kind, "name": name, "refs": refs, "ref_times": times, "seconds": len(samples) / 16000}
        for prompt in (True, False):
            entry["prompt" if prompt else "no_prompt"] = decode_raw(asr, samples, prompt)
        out["items"].append(entry)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    out["decode_seconds"] = round(time.perf_counter() - started, 1)
    return out


def references(item: dict, utterances: list[dict]) -> list[str]:
    """The reference text each recognised utterance is scored against (real: the whole file for the first)."""
    if item["kind"] == "real":
        return [item["refs"][0]] + [""] * (len(utterances) - 1)
    refs = ["" for _ in utterances]
    for text, (a, b) in zip(item["refs"], item["ref_times"]):
        overlaps = [min(b, u["end"]) - max(a, u["start"]) for u in utterances]
        if overlaps and max(overlaps) > 0:
            refs[overlaps.index(max(overlaps))] += text
    return refs


def unmatched(item: dict, utterances: list[dict]) -> int:
    """Reference characters no recognised utterance overlaps: all deletions."""
    if item["kind"] == "real":
        return 0 if utterances else errors(item["refs"][0], "")[1]
    missed = 0
    for text, (a, b) in zip(item["refs"], item["ref_times"]):
        if not any(min(b, u["end"]) > max(a, u["start"]) for u in utterances):
            missed += errors(text, "")[1]
    return missed


def joined_errors(item: dict, ref: str, hyp: str) -> tuple[int, int]:
    """Real: the whole file's text at once (utterances joined by the caller); synthetic: one utterance."""
    return errors(ref, hyp, fold_numbers=item["kind"] == "real")


POLICIES = {  # name: (decode with prompt, which corrections, log-probability gate or None)
    "hotwords + correction (before)": (True, "all", None),
    "hotwords only": (True, "none", None),
    "correction only": (False, "all", None),
    "neither": (False, "none", None),
    "hotwords + listed sound-alikes only": (True, "listed", None),
    "hotwords + correction if avg logprob < -0.3": (True, "all", -0.3),
    "hotwords + correction if avg logprob < -0.5": (True, "all", -0.5),
    "hotwords + correction if avg logprob < -0.8": (True, "all", -0.8),
}


def corrected(text: str, which: str) -> tuple[str, list]:
    from kogata.speech.glossary import _replace_by_reading, _replace_listed

    if which == "none" or not text:
        return text, []
    index = default()._index()
    text, listed = _replace_listed(text, index.listed)
    if which == "listed":
        return text, listed
    text, by_sound = _replace_by_reading(text, index)
    return text, listed + by_sound


def score(raw: dict) -> dict:
    results = {}
    for policy, (prompt, which, gate) in POLICIES.items():
        tallies = {"real": [0, 0], "synthetic": [0, 0]}
        for item in raw["items"]:
            utts = item["prompt" if prompt else "no_prompt"]
            texts = []
            for u in utts:
                apply = gate is None or u["avg_logprob"] < gate
                texts.append(corrected(u["text"], which)[0] if apply else u["text"])
            t = tallies[item["kind"]]
            if item["kind"] == "real":
                e, n = errors(item["refs"][0], " ".join(texts), fold_numbers=True)
                t[0] += e
                t[1] += n
            else:
                for ref, hyp in zip(references(item, utts), texts):
                    e, _ = errors(ref, hyp)
                    t[0] += e
                missed = unmatched(item, utts)
                t[0] += missed
                t[1] += sum(errors(r, "")[1] for r in item["refs"])
        results[policy] = {k: round(e / max(n, 1), 4) for k, (e, n) in tallies.items()}
    return results


def judge(raw: dict) -> dict:
    """Every correction the default glossary makes (on the decodes with and without hotwords), applied alone:
    better, worse or neither."""
    from kogata.speech.glossary import _replace_by_reading, _replace_listed

    index = default()._index()
    out = {"real": [], "synthetic": []}
    for item, decoded in [(i, d) for i in raw["items"] for d in ("prompt", "no_prompt")]:
        utts = item[decoded]
        refs = references(item, utts) if item["kind"] == "synthetic" else None
        for k, u in enumerate(utts):
            if item["kind"] == "real":  # the file's other utterances stay as they were
                ref = item["refs"][0]

                def errs(i: int, text: str, _u=utts, _ref=ref) -> int:
                    return errors(
                        _ref, " ".join(text if j == i else x["text"] for j, x in enumerate(_u)), fold_numbers=True
                    )[0]
            else:
                ref = refs[k]

                def errs(i: int, text: str, _ref=ref) -> int:
                    return errors(_ref, text)[0]

            raw_text = u["text"]
            after_listed, listed = _replace_listed(raw_text, index.listed)
            _, by_sound = _replace_by_reading(after_listed, index)
            base = errs(k, raw_text)
            for c in listed:
                a, b = c.span
                delta = errs(k, raw_text[:a] + c.after + raw_text[b:]) - base
                out[item["kind"]].append(_row(item, c, delta, u) | {"decode": decoded})
            base_l = errs(k, after_listed)
            for c in by_sound:
                a, b = c.span
                delta = errs(k, after_listed[:a] + c.after + after_listed[b:]) - base_l
                out[item["kind"]].append(_row(item, c, delta, u) | {"decode": decoded})
    return out


def _row(item: dict, c, delta: int, u: dict) -> dict:
    verdict = "better" if delta < 0 else "worse" if delta > 0 else "neither"
    return {
        "file": item["name"],
        "before": c.before,
        "after": c.after,
        "how": c.how,
        "delta_edits": delta,
        "verdict": verdict,
        "avg_logprob": u["avg_logprob"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=6, help="synthetic test-split consultations (bench/asr.py's first N)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rescore", action="store_true", help="score again from the cached raw decodes")
    ap.add_argument("--label", default="", help='e.g. "under load", stored with the figures')
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "glossary_effect.json")
    args = ap.parse_args()
    if args.rescore:
        raw = json.loads(RAW.read_text(encoding="utf-8"))
    else:
        raw = gather(args.limit, args.threads)
        write_json(RAW, raw)
    policies = score(raw)
    verdicts = judge(raw)
    print_table(
        ["policy", "CER real (22 files)", "CER synthetic"],
        [[p, f"{r['real']:.2%}", f"{r['synthetic']:.2%}"] for p, r in policies.items()],
    )
    counts = {
        f"{kind}, {decoded}": {
            v: sum(r["verdict"] == v and r["decode"] == decoded for r in rows) for v in ("better", "worse", "neither")
        }
        for kind, rows in verdicts.items()
        for decoded in ("prompt", "no_prompt")
    }
    print(json.dumps(counts, ensure_ascii=False))
    for kind, rows in verdicts.items():
        for r in rows:
            if r["verdict"] != "neither" or kind == "real":
                print(
                    kind,
                    r["decode"],
                    r["verdict"],
                    r["before"],
                    "→",
                    r["after"],
                    r["how"],
                    r["delta_edits"],
                    r["avg_logprob"],
                )
    write_json(
        args.out,
        {
            "machine": raw["machine"] | {"label": args.label},
            "decode_seconds": raw.get("decode_seconds"),
            "policies": policies,
            "corrections": counts,
            "each": verdicts,
        },
    )


if __name__ == "__main__":
    main()
