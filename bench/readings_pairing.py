"""Which pairs each spoken number with its lab or vital name better: the rules of kogata.tasks.karte.readings, or a
logistic regression over candidate (name, number) pairs in a sentence (distance, order, particles, cues, unit and
range features), trained on the train writers' labs and vitals with their evidence and measured on the dev writer.

    PYTHONPATH=. python bench/readings_pairing.py data/corpus

Prints, for each method on dev (and train, for the learned one its training fit): reference readings found (a value
of the cited utterance paired with the right name), and the precision of the pairs it makes. Numbers only: no text
of the dev visits is printed. The model is not shipped unless dev says so (README, chart section).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np

from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import sentences
from kogata.tasks.karte import readings as rules
from kogata.tasks.karte.vocabulary import evidence
from kogata.transcript import read_transcript
from kogata.verify import clean


def _number(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).replace(",", "")
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)万", value):
        return f"{float(m[1]) * 10_000:g}"
    return f"{float(value):g}" if re.fullmatch(r"\d+(?:\.\d+)?", value) else value


def _canonical(name: str) -> str | None:
    by_form, _ = rules._names()
    name = clean(unicodedata.normalize("NFKC", name))
    names = {n.name for n in by_form.values()}
    if name in names:
        return name
    return by_form[name].name if name in by_form else None


def _visits(data: Path, writers: str):
    for ref_path in sorted(p for w in writers for p in (data / w).glob("*.json")):
        reference = json.loads(ref_path.read_text(encoding="utf-8"))
        index = evidence(read_transcript(ref_path.with_suffix(".txt")))
        gold = [
            (i, _canonical(x["name"]), _number(x["value"]))
            for x in reference.get("labs", []) + reference.get("vitals", [])
            for i in x["evidence"][:1]
        ]
        yield index, gold


def _candidates(text: str):
    """(name, value, features) for every name before every number of a sentence."""
    by_form, pattern = rules._names()
    for sentence in sentences(rules.corrected(text)):
        drugs = [m.span for m in find_drugs(sentence)]
        names = [m for m in pattern.finditer(sentence) if not any(a <= m.start() < b for a, b in drugs)]
        masked = pattern.sub(lambda m: "＿" * len(m.group(0)), sentence)
        values = list(rules._VALUE.finditer(masked))
        for v in values:
            before = [m for m in names if m.end() <= v.start()]
            for k, m in enumerate(reversed(before)):
                name = by_form[m.group(0)]
                gap = sentence[m.end() : v.start()]
                number = float(v.group(0).split("/")[0])
                unit = rules._SAID_UNIT.match(sentence, v.end())
                features = [
                    1.0,
                    min(len(gap), 40) / 40,
                    k,  # names between
                    sum(m.end() <= w.start() < v.start() for w in values) / 3,  # values between
                    "、" in gap,
                    bool(re.search(r"[がは]", gap)),
                    bool(rules._NEW_SUBJECT.search(gap)),
                    bool(rules._previous(gap)),
                    bool(rules._cue("target").search(gap)),
                    any(m.end() <= a < v.start() for a, _ in drugs),
                    (name.low is None or name.low <= number) and (name.high is None or number <= name.high),
                    bool(rules._NOT_A_READING.match(sentence, v.end())),
                    bool(unit) and not name.unit.startswith(rules._UNIT.get(unit[1], unit[1])),
                    ("/" in v.group(0)) == (name.name == "血圧"),
                    bool(rules._side(gap)),
                ]
                yield name.name, _number(v.group(0)), np.array(features, dtype=float)


def _rows(visits):
    X, y, keys = [], [], []
    for index, gold in visits:
        wanted = {(i, n, v) for i, n, v in gold}
        values_said = {(i, v) for i, _, v in gold}
        for s in index.said.values():
            for name, value, features in _candidates(s.text):
                X.append(features)
                y.append(
                    (s.id, name, value) in wanted or ((s.id, None, value) in wanted and (s.id, value) in values_said)
                )
                keys.append((id(index), s.id, name, value))
    return np.array(X), np.array(y, dtype=float), keys


def _fit(X, y, steps=3000, rate=0.5, l2=1e-3):
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w))
        w -= rate * (X.T @ (p - y) / len(y) + l2 * w)
    return w


def _score(visits, pair):
    """(found, gold, right pairs, pairs made) of a pairing `pair(said) → {(id, name, value)}`."""
    found = total = right = made = 0
    for index, gold in visits:
        pairs = pair(index)
        total += len(gold)
        found += sum(any(p[0] == i and p[2] == v and (n is None or p[1] == n) for p in pairs) for i, n, v in gold)
        made += len(pairs)
        right += sum(any(p[0] == i and p[2] == v and (n is None or p[1] == n) for i, n, v in gold) for p in pairs)
    return found, total, right, made


def _rules_pairs(index):
    return {
        (s.id, r.name, _number(v))
        for s in index.said.values()
        for r in rules.readings(s.text, s.id)
        for _, _, v in r.values
    }


def _learned_pairs(w):
    def pair(index):
        out = set()
        for s in index.said.values():
            best: dict[str, tuple[float, str]] = {}
            for name, value, features in _candidates(s.text):
                p = 1 / (1 + np.exp(-features @ w))
                if p > best.get(value, (0.5, ""))[0]:
                    best[value] = (p, name)
            out |= {(s.id, name, value) for value, (_, name) in best.items()}
        return out

    return pair


def main(data: str = "data/corpus") -> None:
    root = Path(data)
    train = list(_visits(root, "abc"))
    dev = list(_visits(root, "d"))
    X, y, _ = _rows(train)
    w = _fit(X, y)
    for split, visits in (("train", train), ("dev", dev)):
        for method, pair in (("rules", _rules_pairs), ("learned", _learned_pairs(w))):
            found, total, right, made = _score(visits, pair)
            print(
                f"{split:5} {method:7} readings found {found}/{total} = {found / total:.3f}, "
                f"pairs right {right}/{made} = {right / max(made, 1):.3f}"
            )
    print(f"learned: {len(y)} candidate pairs from train, {int(y.sum())} positive; weights {np.round(w, 2).tolist()}")


if __name__ == "__main__":
    main(*sys.argv[1:])
