"""Train the learned drug status (kogata.tasks.karte.drug_reader) on the train writers of data/corpus:
`make drug-status`.

Each mention of a drug the rules find in a training visit is one example, labelled with the status the visit's
reference gives that drug (`medications`; a drug the reference does not list is left out). One softmax regression
over the nine statuses, fitted as kogata.tune.reader fits the reader (full-batch Adam with L2 from zero: the same
data gives the same weights). The threshold of the safe decision is chosen on the train writers alone, leaving one
writer out at a time: the highest that keeps at least KEEP of the drugs truly taken that the rules list. The
weights go to kogata/tasks/karte/data/drug_status.npz with fixed zip timestamps; drug_status.json beside it records
their sha256, the training data's hash, the settings and the threshold.

    python -m kogata.tune.drug_reader --data data/corpus --split train
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import unicodedata
from pathlib import Path

import numpy as np

from kogata.engine.embed import embed
from kogata.tasks.karte import drug_reader, facts, vocabulary
from kogata.tasks.karte.drug_reader import CURRENT, STATUSES, Mention, Weights
from kogata.transcript import read_transcript
from kogata.tune.reader import Visit, data_hash, npz_bytes, softmax_regression, visits, write_artefact

L2 = 3.0  # chosen on dev among 0.03, 0.3, 3 (dev wrong medications left listed 3, 2, 2; README)
STEPS = 150
LEARNING_RATE = 0.05
KEEP = 0.97  # of the truly taken drugs the rules list that the threshold must keep on the left-out writers


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def reference_status(med: dict, reference: dict) -> str | None:
    """The status the reference gives the rules' drug `med`: of the reference drug it names exactly (name or brand),
    else of one whose name holds its name or is held in it; None where none does."""
    names = {_nfkc(x) for x in (med["name"], med.get("brand")) if x}
    near = None
    for ref in reference.get("medications", []):
        ref_names = [_nfkc(x) for x in (ref.get("name"), ref.get("brand")) if x]
        if names & set(ref_names):
            return ref.get("status")
        if near is None and any(a in b or b in a for a in names for b in ref_names):
            near = ref.get("status")
    return near


def visit_examples(v: Visit) -> tuple[list[Mention], list[str], list[dict]]:
    """The mentions of the drugs the rules list in one visit, with each drug's reference status (None: unlisted),
    and the rules' medications."""
    index = vocabulary.evidence(read_transcript(v.transcript))
    said = list(index.said.values())
    meds = facts.extract(index).medications
    found = drug_reader.mentions(said, meds)
    status = {drug_reader.med_key(m): reference_status(m, v.reference) for m in meds}
    return found, [status[m.key] for m in found], meds


def examples(chosen: list[Visit], cache: dict[str, np.ndarray] | None = None):
    """Features, status indices and (visit, drug key, rules status) of every labelled mention of `chosen`.
    `cache`: vectors already computed, by text (the threshold's cross-validation embeds each text once)."""
    cache = {} if cache is None else cache
    rows, labels, owners = [], [], []
    for n, v in enumerate(chosen):
        found, statuses, meds = visit_examples(v)
        rules = {drug_reader.med_key(m): m["status"] for m in meds}
        keep = [(m, s) for m, s in zip(found, statuses, strict=True) if s in STATUSES]
        todo = [m.text for m, _ in keep if m.text not in cache]
        for k in range(0, len(todo), 256):
            for text, vector in zip(todo[k : k + 256], embed(todo[k : k + 256]), strict=True):
                cache[text] = vector
        for m, s in keep:
            rows.append(drug_reader.features([m], cache[m.text][None, :])[0])
            labels.append(STATUSES.index(s))
            owners.append((n, m.key, rules[m.key]))
    return np.vstack(rows), np.array(labels, dtype=np.int64), owners


def fit(x: np.ndarray, y: np.ndarray) -> Weights:
    x64 = x.astype(np.float64)
    mean, scale = x64.mean(axis=0), x64.std(axis=0) + 1e-6
    w, b = softmax_regression((x64 - mean) / scale, y, len(STATUSES), l2=L2, steps=STEPS, learning_rate=LEARNING_RATE)
    return Weights(w=w, b=b, mean=mean.astype(np.float32), scale=scale.astype(np.float32))


def per_drug(weights: Weights, x: np.ndarray, y: np.ndarray, owners: list) -> list[tuple[float, bool, str]]:
    """(learned probability of current, reference says current, rules status) per drug: mentions averaged."""
    current = weights.probabilities(x)[:, [STATUSES.index(s) for s in CURRENT]].sum(axis=1)
    drugs: dict[tuple, list] = {}
    for (visit, key, rules), p, label in zip(owners, current, y, strict=True):
        drugs.setdefault((visit, key), [[], STATUSES[label] in CURRENT, rules])[0].append(float(p))
    return [(float(np.mean(ps)), truly, rules) for ps, truly, rules in drugs.values()]


def outcome(drugs: list[tuple[float, bool, str]], threshold: float) -> dict[str, int]:
    """Of the drugs the rules list as taken: wrong ones left listed, right ones taken off (the safe rule's cost)."""
    listed = [(p, truly) for p, truly, rules in drugs if rules in CURRENT]
    return {
        "rules_listed": len(listed),
        "rules_wrong": sum(not t for _, t in listed),
        "wrong_kept": sum(not t and p >= threshold for p, t in listed),
        "right_unconfirmed": sum(t and p < threshold for p, t in listed),
    }


def choose_threshold(drugs: list[tuple[float, bool, str]]) -> float:
    """The highest threshold (0.05 steps) that keeps at least KEEP of the truly taken drugs the rules list."""
    right = [p for p, truly, rules in drugs if rules in CURRENT and truly]
    for threshold in np.arange(0.95, 0.0, -0.05):
        if sum(p >= threshold for p in right) >= KEEP * len(right):
            return round(float(threshold), 2)
    return 0.05


def train(data: Path, out_dir: Path, *, split: str = "train", dev_split: str | None = "dev") -> dict:
    start = time.perf_counter()
    chosen = visits(data, split)
    if not chosen:
        raise SystemExit(f"no visits of split {split!r} under {data}")
    cache: dict[str, np.ndarray] = {}
    x, y, owners = examples(chosen, cache)
    writers = sorted({v.reference["writer"] for v in chosen})
    left_out = []  # per drug, as read by weights fitted without its writer
    for writer in writers:
        held = [n for n, v in enumerate(chosen) if v.reference["writer"] == writer]
        rows = np.array([o[0] in held for o in owners])
        weights = fit(x[~rows], y[~rows])
        left_out += per_drug(weights, x[rows], y[rows], [o for o, r in zip(owners, rows, strict=True) if r])
    threshold = choose_threshold(left_out)
    weights = fit(x, y)
    blob = npz_bytes(weights)
    record = {
        "sha256": hashlib.sha256(blob).hexdigest(),
        "training_data_sha256": data_hash(chosen),
        "training_data": f"{data} split={split}: {len(chosen)} visits, {len(x)} drug mentions",
        "settings": {"l2": L2, "steps": STEPS, "learning_rate": LEARNING_RATE, "keep": KEEP},
        "threshold": threshold,
        "left_out_writer": outcome(left_out, threshold),
        "train_accuracy": float((weights.probabilities(x).argmax(axis=1) == y).mean()),
    }
    if dev_split and (dev := visits(data, dev_split)):
        dx, dy, downers = examples(dev, cache)
        record["dev_accuracy"] = float((weights.probabilities(dx).argmax(axis=1) == dy).mean())
        record["dev"] = outcome(per_drug(weights, dx, dy, downers), threshold)
    record["seconds"] = round(time.perf_counter() - start, 1)
    write_artefact(out_dir, drug_reader.WEIGHTS, blob, drug_reader.RECORD, record)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/corpus")
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", default=str(Path(__file__).parents[1] / "tasks" / "karte" / "data"))
    args = parser.parse_args()
    print(json.dumps(train(Path(args.data), Path(args.out), split=args.split), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
