"""Nursing-record symptom NER with negation: the patients' own words, symptoms tagged present or absent.

Data: sociocom/PseudoNursingRecords, `ChiefComplaint.xml` (589 `<chief-comp>` sentences with inline tags;
see the folder's SOURCE.md). CC BY-NC-SA 4.0. The gold spans are the `cc_p` (symptom present, 「痛い」) and
`cc_n` (symptom absent, 「痛く」ない) tags. The model lists each symptom expression as written with whether it
is present; each is located in the sentence and scored by span F1, micro-averaged over the sentences:
exact (same characters and label), partial (overlapping characters, same label), and exact without the label.

For comparison, kogata's own rule-based finder (kogata.ja.findings, no model) is scored on the same sentences.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from kogata.errors import InputError
from kogata.evals.runner import Dataset, Item, chat, define
from kogata.evals.scoring import Span, SpanCounts

LABELS = {"cc_p": "present", "cc_n": "absent"}
SENTENCE = re.compile(r"<chief-comp>(.*?)</chief-comp>", re.S)
TAG = re.compile(r"<(/?)([A-Za-z_-]+)[^>]*>")

SYSTEM = "あなたは看護記録を読み、患者の訴えから症状を抜き出すアシスタントです。"
PROMPT = (
    "次の患者の言葉から、症状や不調を表す表現を本文のまま（活用形もそのまま）短く抜き出してください。"
    "それぞれについて、その症状がある（present: true）か、ないと否定されている（present: false）かを答えてください。"
    "症状がなければ空のリストにしてください。\n\n患者の言葉：{text}"
)
SCHEMA = {
    "type": "object",
    "required": ["symptoms"],
    "additionalProperties": False,
    "properties": {
        "symptoms": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "required": ["text", "present"],
                "additionalProperties": False,
                "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": 30},
                    "present": {"type": "boolean"},
                },
            },
        }
    },
}


def parse_sentence(tagged: str) -> tuple[str, list[Span]]:
    """The plain text of one tagged sentence and its symptom spans (cc_p → present, cc_n → absent)."""
    text: list[str] = []
    open_tags: list[tuple[str, int]] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for m in TAG.finditer(tagged):
        chunk = tagged[pos : m.start()]
        text.append(chunk)
        length += len(chunk)
        pos = m.end()
        closing, name = m.group(1) == "/", m.group(2)
        if not closing:
            open_tags.append((name, length))
        else:
            for k in range(len(open_tags) - 1, -1, -1):
                if open_tags[k][0] == name:
                    _, start = open_tags.pop(k)
                    if name in LABELS and length > start:
                        spans.append(Span(start, length, LABELS[name]))
                    break
    text.append(tagged[pos:])
    return "".join(text), sorted(spans, key=lambda s: (s.start, s.end))


def load(path: Path) -> Dataset:
    file = path / "ChiefComplaint.xml" if path.is_dir() else path
    try:
        raw = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the nursing-record sentences from {file}: {e}") from None
    items = []
    for n, tagged in enumerate(SENTENCE.findall(raw), 1):
        text, spans = parse_sentence(tagged.strip())
        gold = [{"start": s.start, "end": s.end, "label": s.label, "text": text[s.start : s.end]} for s in spans]
        items.append(
            Item(
                id=f"cc{n:04d}",
                group="ChiefComplaint",
                gold=gold,
                schema=SCHEMA,
                max_tokens=200,
                shape='{"symptoms": [{"text": "表現", "present": true}]}',
                info={"text": text},
                messages=chat(SYSTEM, PROMPT.format(text=text)),
            )
        )
    if not items:
        raise InputError(f"{file} holds no <chief-comp> sentences")
    return Dataset(items)


def locate(text: str, mentions: list[tuple[str, str]]) -> list[Span]:
    """Character spans of (surface, label) mentions in `text`, left to right; a repeated surface takes its
    next occurrence. A surface not in the text (the model rewrote it) gets the empty span (-1, -1): it is a
    prediction that can match nothing."""
    folded = unicodedata.normalize("NFKC", text)
    comparable = len(folded) == len(text)  # NFKC kept positions (full-width letters and digits do)
    spans: list[Span] = []
    taken: dict[str, int] = {}
    for surface, label in mentions:
        start = text.find(surface, taken.get(surface, 0))
        if start < 0 and comparable:
            start = folded.find(unicodedata.normalize("NFKC", surface), taken.get(surface, 0))
        if start < 0:
            spans.append(Span(-1, -1, label))
            continue
        taken[surface] = start + len(surface)
        spans.append(Span(start, start + len(surface), label))
    return spans


def predict(value: Any, item: Item) -> list[dict[str, Any]]:
    return [{"text": s["text"].strip(), "present": bool(s["present"])} for s in value["symptoms"] if s["text"].strip()]


def _gold_spans(item_gold: list[dict]) -> list[Span]:
    return [Span(g["start"], g["end"], g["label"]) for g in item_gold]


def _predicted_spans(text: str, prediction: list[dict] | None) -> list[Span]:
    mentions = [(p["text"], "present" if p["present"] else "absent") for p in prediction or []]
    return locate(text, mentions)


def judge(item: Item, prediction: list[dict] | None) -> dict[str, Any]:
    predicted = _predicted_spans(item.info["text"], prediction)
    gold = _gold_spans(item.gold)
    return {
        "correct": set(predicted) == set(gold),
        "predicted_spans": [{"start": s.start, "end": s.end, "label": s.label} for s in predicted],
    }


def rule_spans(text: str) -> list[Span]:
    """kogata.ja.findings on one sentence, as spans (the words that matched, present or denied)."""
    from kogata.ja.findings import find_findings

    return [Span(f.span[0], f.span[1], "absent" if f.negated else "present") for f in find_findings(text)]


def _scores(pairs: list[tuple[list[Span], list[Span]]], label: str | None = None) -> dict[str, Any]:
    exact, partial, unlabelled = SpanCounts(), SpanCounts(), SpanCounts()
    for gold, predicted in pairs:
        if label is not None:
            gold = [s for s in gold if s.label == label]
            predicted = [s for s in predicted if s.label == label]
        exact.add(gold, predicted)
        partial.add(gold, predicted, partial=True)
        unlabelled.add(gold, predicted, labelled=False)
    return {
        "gold spans": exact.gold,
        "predicted": exact.predicted,
        "precision": exact.precision,
        "recall": exact.recall,
        "exact F1": exact.f1,
        "partial F1": partial.f1,
        "exact F1 (no label)": unlabelled.f1,
    }


def summarise(records: list[dict], items: list[Item]) -> dict[str, Any]:
    text_of = {i.id: i.info["text"] for i in items}
    model_pairs = [
        (_gold_spans(r["gold"]), [Span(s["start"], s["end"], s["label"]) for s in r["predicted_spans"]])
        for r in records
    ]
    rule_pairs = [(_gold_spans(r["gold"]), rule_spans(text_of[r["id"]])) for r in records]
    rows = [
        {"system": "model", "spans": "all", **_scores(model_pairs)},
        {"system": "model", "spans": "present", **_scores(model_pairs, "present")},
        {"system": "model", "spans": "absent", **_scores(model_pairs, "absent")},
        {"system": "kogata.ja rules (no model)", "spans": "all", **_scores(rule_pairs)},
    ]
    unplaced = sum(1 for r in records for s in r["predicted_spans"] if s["start"] < 0)
    notes = {
        "sentences": f"{len(records)}; model spans not found in the sentence (rewritten): {unplaced}",
        "random": "n/a (extraction, not a choice task)",
    }
    return {"rows": rows, "notes": notes}


SUITE = define(
    __name__, "nursing-ner", "pseudo-nursing-records", "Nursing-record symptoms with negation (ChiefComplaint, span F1)"
)
