"""Build data/tune/karte.jsonl: カルテ drafting examples for `kogata tune`, from the TRAIN split only.

    .venv/bin/python data/tune/build_karte.py            # writes data/tune/karte.jsonl, prints what it kept

Each example is the drafting prompt exactly as kogata.tasks.karte builds it (kogata.tasks.karte.draft.messages,
its worked example marked "weight": 0 so it is context, not a target), answered with the reference chart of
that consultation in the draft's JSON shape ({"S": [{"text", "evidence"}], "O": …, "A": …, "P": …}).

The reference chart becomes draft lines the way the pipeline would keep them:
- one line per sentence (the verifier checks each line's content against the utterances it cites);
- sentences naming a prescribed or current medication, and O sentences holding only vital-sign numbers, are
  left out, since the prompt tells the model that those are recorded separately (and chart.py drops them);
- evidence: the utterances of the key facts the sentence carries, when the verifier accepts them; otherwise
  the single utterance, or pair of neighbours, that the verifier accepts; a sentence no utterance supports
  is left out (counted below), so the adapter never learns an unsupported line.

Augmentation: 14 visits are few, so each also gives three windows of whole utterances (first half, second
half, middle half), as a long visit's chunks are drafted (kogata.tasks.karte.draft.chunks), keeping the lines
whose evidence lies inside the window. 14 × 4 = 56 examples.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kogata.ja import find_quantities  # noqa: E402
from kogata.ja.drugs import find_drugs  # noqa: E402
from kogata.tasks.karte.draft import messages  # noqa: E402
from kogata.tasks.karte.schema import SECTIONS  # noqa: E402
from kogata.tasks.karte.vocabulary import evidence  # noqa: E402
from kogata.transcript import read_transcript  # noqa: E402
from kogata.verify import EvidenceIndex, Said, clean  # noqa: E402

DATA = ROOT / "data" / "consultations"
OUT = Path(__file__).resolve().parent / "karte.jsonl"
TRAIN_IDS = ("001", "004", "007", "012", "017", "022", "023", "027", "028", "032", "033", "036", "040", "041")
MAX_LINES = 6  # the draft schema's maxItems per section
MIN_CLOSENESS = 0.5  # below it, the best utterance is a guess: the sentence is left out


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def sentences(line: str) -> list[str]:
    return [s + "。" for s in (p.strip() for p in re.split(r"。", line)) if s]


_CONTENT = re.compile(r"[\u30a0-\u30ff\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")


def _supported(index: EvidenceIndex, text: str, evidence: list[int], section: str) -> bool:
    if index.check(text, evidence, asserts_findings=section != "P"):
        return False
    # chart.py hides an assessment or plan that cites no clinician (「抗生物質はいらないですか」 is no plan)
    return section not in ("A", "P") or any(s.staff for s in index.cited(evidence))


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[、。・：:（）()\s]|あり|なし", " ", text)
    return {text[i : i + 2] for i in range(len(text) - 1) if " " not in text[i : i + 2]}


def _closeness(index: EvidenceIndex, section: str, text: str, evidence: list[int]) -> tuple[float, bool]:
    """How much of the sentence the cited utterances hold (content characters, with their chart words, and
    character pairs, which also catch kana-only words such as けいれん); ties go to the side that says such
    things: the patient's for S, the clinician's for O, A and P."""
    cited = index.cited(evidence)
    chars = set(_CONTENT.findall(clean(text)))
    content = len(chars & set().union(*(s.content for s in cited))) / max(1, len(chars))
    pairs = _bigrams(clean(text))
    said = set().union(*(_bigrams(s.text) for s in cited))
    return content + len(pairs & said) / max(1, len(pairs)), any(s.staff != (section == "S") for s in cited)


def find_evidence(index: EvidenceIndex, reference: dict, section: str, text: str) -> list[int] | None:
    """Utterance ids the verifier accepts for `text`: those of the key facts it carries, else the single
    utterance (or pair of neighbours) closest to it."""
    norm = _nfkc(text)
    from_facts = sorted(
        {
            i
            for f in reference["key_facts"]
            if f["section"] == section and all(_nfkc(m) in norm for m in f["must_contain"])
            for i in f["evidence"]
        }
    )
    if from_facts and _supported(index, text, from_facts, section):
        return from_facts
    ids = list(index.said)
    for candidates in ([[i] for i in ids], [[a, b] for a, b in zip(ids, ids[1:])]):
        scored = [(_closeness(index, section, text, c), c) for c in candidates if _supported(index, text, c, section)]
        scored = [(score, c) for score, c in scored if score[0] >= MIN_CLOSENESS]
        if scored:
            return max(scored, key=lambda sc: sc[0])[1]  # the earliest of equals
    return None


def recorded_elsewhere(reference: dict, section: str, text: str) -> bool:
    """A sentence the pipeline writes from its own rules: a medication, or (in O) vital-sign numbers only."""
    meds = {m["name"] for m in reference["medications"]}
    if {m.value.generic for m in find_drugs(clean(text))} & meds:
        return True
    if section == "O":
        numbers = {q.value for q in find_quantities(clean(text))}
        vitals = {v["value"] for v in reference["vitals"]}
        return bool(numbers) and numbers <= vitals
    return False


def chart_lines(index: EvidenceIndex, reference: dict) -> tuple[dict[str, list[dict]], dict[str, int]]:
    lines: dict[str, list[dict]] = {s: [] for s in SECTIONS}
    counts = {"kept": 0, "recorded_elsewhere": 0, "unsupported": 0}
    for section in SECTIONS:
        for line in reference["reference_chart"][section]:
            for text in sentences(line):
                if recorded_elsewhere(reference, section, text):
                    counts["recorded_elsewhere"] += 1
                    continue
                evidence = find_evidence(index, reference, section, text)
                if evidence is None:
                    counts["unsupported"] += 1
                    continue
                lines[section].append({"text": text, "evidence": evidence})
                counts["kept"] += 1
    return lines, counts


def windows(said: list[Said]) -> list[list[Said]]:
    n = len(said)
    return [said, said[: n // 2], said[n // 2 :], said[n // 4 : n // 4 + n // 2]]


def example(part: list[Said], lines: dict[str, list[dict]]) -> dict:
    ids = {s.id for s in part}
    answer = {s: [line for line in lines[s] if set(line["evidence"]) <= ids][:MAX_LINES] for s in SECTIONS}
    prompt = messages(part)
    prompt[2] = {**prompt[2], "weight": 0}  # the worked example is context, not something to learn
    return {"messages": [*prompt, {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)}]}


def build() -> tuple[list[dict], dict[str, int]]:
    examples, totals = [], {"kept": 0, "recorded_elsewhere": 0, "unsupported": 0}
    for ref_path in sorted(DATA.glob("*.json")):
        reference = json.loads(ref_path.read_text(encoding="utf-8"))
        if reference["split"] != "train":
            continue  # never the test split
        if reference["id"] not in TRAIN_IDS:
            raise SystemExit(f"{ref_path.name} says train but is not among the documented train ids")
        index = evidence(read_transcript(ref_path.with_suffix(".txt")))
        lines, counts = chart_lines(index, reference)
        for key in totals:
            totals[key] += counts[key]
        examples += [example(part, lines) for part in windows(list(index.said.values()))]
    return examples, totals


def main() -> None:
    examples, totals = build()
    tmp = OUT.with_name(f".{OUT.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
    os.replace(tmp, OUT)
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(examples)} examples from {len(TRAIN_IDS)} train consultations; "
        f"reference sentences kept {totals['kept']}, recorded elsewhere {totals['recorded_elsewhere']}, "
        f"no supporting utterance {totals['unsupported']}"
    )


if __name__ == "__main__":
    main()
