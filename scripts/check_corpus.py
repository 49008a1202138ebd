"""Check the synthetic consultation corpus (data/corpus/<writer>/): every file pair is well formed.

Usage: python scripts/check_corpus.py [FOLDER ...]   (default: every writer folder under data/corpus)
Prints one line per problem and exits 1 if there is any; prints a summary otherwise.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

SECTIONS = {"S", "O", "A", "P"}
KINDS = {
    "symptom",
    "negative",
    "finding",
    "vital",
    "lab",
    "problem",
    "history",
    "family_history",
    "allergy",
    "drug",
    "dose",
    "test",
    "procedure",
    "plan",
    "social",
}
DRUG_STATUSES = {
    "current",
    "prescribed",
    "changed",
    "stopped",
    "refused",
    "avoided",
    "deferred",
    "allergy",
    "discussed",
}
ASSERTIONS = {"affirmed", "denied", "uncertain", "past", "family", "-"}
ABOUT = {"patient", "family", "other", "-"}
SPLITS = {"train", "dev", "test", "fresh", "fresh3"}
LINE = re.compile(r"^([^:：]{1,12})[:：](.+)$")
LABEL = re.compile(r"^(\d+)\|([SOAP-])\|([a-z-]+)\|([a-z-]+)$")


def utterances(text: str) -> list[tuple[str, str]]:
    said = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        said.append((m.group(1), m.group(2)) if m else ("", line))
    return said


def check_pair(txt: Path, ref_path: Path) -> list[str]:
    where = ref_path.name
    problems: list[str] = []
    text = txt.read_text(encoding="utf-8")
    if not text.startswith("#") or "synthetic" not in text.splitlines()[0]:
        problems.append(f"{txt.name}: the first line must be a # comment that says the visit is synthetic")
    said = utterances(text)
    n = len(said)
    for i, (speaker, _) in enumerate(said, 1):
        if not speaker:
            problems.append(f"{txt.name}: utterance {i} has no 話者： label")
    try:
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        return [f"{where}: not valid JSON ({e})"]

    def ids_ok(ids, what):
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and 1 <= i <= n for i in ids):
            problems.append(f"{where}: {what}: evidence {ids!r} must be a non-empty list of ids 1..{n}")

    for key in (
        "id",
        "writer",
        "split",
        "synthetic",
        "department",
        "setting",
        "dialect",
        "key_facts",
        "reference_chart",
        "medications",
        "allergies",
        "vitals",
        "labs",
        "problems",
        "negatives",
        "must_not_appear",
        "utterance_labels",
    ):
        if key not in ref:
            problems.append(f"{where}: missing key {key!r}")
    if problems:
        return problems
    if ref["synthetic"] is not True:
        problems.append(f"{where}: synthetic must be true")
    if ref["split"] not in SPLITS:
        problems.append(f"{where}: split {ref['split']!r} not in {sorted(SPLITS)}")
    if not txt.stem.startswith(ref["id"]):
        problems.append(f"{where}: file name must start with the id {ref['id']!r}")
    for f in ref["key_facts"]:
        if f.get("section") not in SECTIONS or f.get("kind") not in KINDS:
            problems.append(f"{where}: key fact {f.get('fact')!r}: bad section or kind")
        if not f.get("must_contain") or not all(isinstance(m, str) and m for m in f["must_contain"]):
            problems.append(f"{where}: key fact {f.get('fact')!r}: must_contain must list strings")
        ids_ok(f.get("evidence"), f"key fact {f.get('fact')!r}")
    if set(ref["reference_chart"]) != SECTIONS:
        problems.append(f"{where}: reference_chart needs exactly S, O, A, P")
    for m in ref["medications"]:
        if m.get("status") not in DRUG_STATUSES:
            problems.append(
                f"{where}: medication {m.get('name')!r}: status {m.get('status')!r} not in {sorted(DRUG_STATUSES)}"
            )
        ids_ok(m.get("evidence"), f"medication {m.get('name')!r}")
    for key, name in (
        ("allergies", "substance"),
        ("vitals", "name"),
        ("labs", "name"),
        ("problems", "name"),
        ("negatives", "finding"),
    ):
        for item in ref[key]:
            if not item.get(name):
                problems.append(f"{where}: {key}: an item without {name!r}")
            ids_ok(item.get("evidence"), f"{key} {item.get(name)!r}")
    labels = ref["utterance_labels"]
    seen = []
    for label in labels:
        m = LABEL.match(label) if isinstance(label, str) else None
        if not m or m.group(3) not in ASSERTIONS or m.group(4) not in ABOUT:
            problems.append(f"{where}: utterance label {label!r} is not 'id|S/O/A/P/-|assertion|about'")
            continue
        seen.append(int(m.group(1)))
    if seen != list(range(1, n + 1)):
        problems.append(f"{where}: utterance_labels must label ids 1..{n} in order (has {len(seen)})")
    return problems


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1] / "data" / "corpus"
    folders = [Path(a) for a in argv] or sorted(p for p in root.iterdir() if p.is_dir())
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        print(f"error: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    problems, visits, splits, depts = [], 0, Counter(), Counter()
    for folder in folders:
        for ref_path in sorted(folder.glob("*.json")):
            txt = ref_path.with_suffix(".txt")
            if not txt.exists():
                problems.append(f"{ref_path}: no transcript beside it")
                continue
            problems += check_pair(txt, ref_path)
            ref = json.loads(ref_path.read_text(encoding="utf-8"))
            visits += 1
            splits[ref.get("split")] += 1
            depts[ref.get("department")] += 1
    for p in problems:
        print(p)
    print(f"{visits} visits, {len(depts)} departments, splits {dict(splits)}, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
