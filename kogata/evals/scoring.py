"""Scoring functions shared by the suites: plain functions of gold and predicted values, no model involved.

Each follows the dataset authors' metric (named in the suite's module) and is unit-tested on hand-made
cases in tests/test_evals.py.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass


def normalise_answer(answer: str | Iterable[str]) -> list[str]:
    """Letters (or a numeric answer) as a list of NFKC, lower-case, stripped strings.

    "a,b" / "a、b" / ["b", "a"] all become ["a", "b"]-like lists (order kept; compare with `exact_set`).
    """
    parts = [answer] if isinstance(answer, str) else list(answer)
    out: list[str] = []
    for part in parts:
        text = unicodedata.normalize("NFKC", str(part)).lower()
        for sep in ("、", "，"):
            text = text.replace(sep, ",")
        out.extend(p.strip() for p in text.split(",") if p.strip())
    return out


def exact_set(gold: str | Iterable[str], predicted: str | Iterable[str]) -> bool:
    """IgakuQA's exact-set criterion: the same letters, in any order (sorted lists are equal)."""
    return sorted(normalise_answer(gold)) == sorted(normalise_answer(predicted))


def accuracy(correct: Sequence[bool]) -> float:
    return sum(correct) / len(correct) if correct else 0.0


def cohen_kappa(
    gold: Sequence[Hashable],
    predicted: Sequence[Hashable],
    *,
    weights: str | None = None,
    labels: Sequence[Hashable] | None = None,
) -> float:
    """Cohen's kappa between two raters (as sklearn.metrics.cohen_kappa_score).

    weights: None (unweighted) or "linear" (disagreement |i - j| on the ordered `labels`, for ordinal scales
    such as JMED-LLM's CRADE and JCSTS). `labels` defaults to the sorted union of both sequences; a
    prediction outside them (e.g. no answer) is a label of its own, always in disagreement.
    Returns 0.0 when chance agreement is total (kappa undefined), as a rater with one label agrees by chance only.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} labels but predicted has {len(predicted)}")
    if not gold:
        return 0.0
    order = list(labels) if labels is not None else sorted(set(gold) | set(predicted), key=str)
    order += sorted({x for x in (*gold, *predicted) if x not in order}, key=str)
    index = {label: i for i, label in enumerate(order)}
    k = len(order)
    observed = [[0.0] * k for _ in range(k)]
    for g, p in zip(gold, predicted):
        observed[index[g]][index[p]] += 1
    n = len(gold)
    row = [sum(r) for r in observed]
    col = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    if weights is None:
        weight = [[0.0 if i == j else 1.0 for j in range(k)] for i in range(k)]
    elif weights == "linear":
        weight = [[abs(i - j) for j in range(k)] for i in range(k)]
    else:
        raise ValueError(f"weights must be None or 'linear', not {weights!r}")
    seen = sum(weight[i][j] * observed[i][j] for i in range(k) for j in range(k)) / n
    chance = sum(weight[i][j] * row[i] * col[j] for i in range(k) for j in range(k)) / (n * n)
    return 1.0 - seen / chance if chance else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _overlaps(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a in b or b in a)


def list_f1(gold: Iterable[str], predicted: Iterable[str], *, partial: bool = False) -> float:
    """F1 of one item's extracted strings (JMED-LLM's NER metric, before averaging over items).

    exact: a string counts when the other side has the identical string.
    partial: a gold string counts as found when some predicted string contains it or lies inside it, and a
    predicted string counts as right when it contains or lies inside some gold string. (The authors' code
    tests set membership here, which makes "partial" equal to "exact"; this is the substring match their
    description means.) Both sides empty: 1.0 (nothing to find, nothing claimed).
    """
    gold_set = {g for g in gold if g}
    pred_set = {p for p in predicted if p}
    if not gold_set and not pred_set:
        return 1.0
    if not gold_set or not pred_set:
        return 0.0
    match = _overlaps if partial else str.__eq__
    found = sum(any(match(g, p) for p in pred_set) for g in gold_set)
    right = sum(any(match(p, g) for g in gold_set) for p in pred_set)
    return _f1(right / len(pred_set), found / len(gold_set))


@dataclass(frozen=True)
class Span:
    """A labelled character span [start, end) of one text."""

    start: int
    end: int
    label: str


@dataclass
class SpanCounts:
    """Micro-averaged span matching over a corpus: add each text's spans, then read precision/recall/F1."""

    predicted: int = 0
    gold: int = 0
    right: int = 0  # predicted spans that match a gold span
    found: int = 0  # gold spans matched by a predicted span

    def add(
        self, gold: Iterable[Span], predicted: Iterable[Span], *, partial: bool = False, labelled: bool = True
    ) -> None:
        gold, predicted = list(gold), list(predicted)
        self.gold += len(gold)
        self.predicted += len(predicted)
        self.right += sum(any(span_match(g, p, partial=partial, labelled=labelled) for g in gold) for p in predicted)
        self.found += sum(any(span_match(g, p, partial=partial, labelled=labelled) for p in predicted) for g in gold)

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)


def span_match(gold: Span, predicted: Span, *, partial: bool = False, labelled: bool = True) -> bool:
    """Exact: same start and end. Partial: the character ranges overlap. Labelled: the labels agree too."""
    if labelled and gold.label != predicted.label:
        return False
    if partial:
        return predicted.start < gold.end and gold.start < predicted.end
    return (gold.start, gold.end) == (predicted.start, predicted.end)


def igakuqa_points(records: Iterable[dict]) -> tuple[float, float]:
    """(points scored, points available) over scored IgakuQA records: each item's `points` ("1" general,
    "3" 必修 clinical, "0" excluded by the examiners) counts when the item is correct."""
    scored = available = 0.0
    for r in records:
        points = float(r.get("points") or 0)
        available += points
        if r.get("correct"):
            scored += points
    return scored, available


def guess_chance(choices: int, picks: int | str) -> float:
    """Chance that a uniform random answer of the required form is exactly right.

    picks: how many letters the question asks for (1, 2, …), "all-that-apply" (any non-empty subset) or
    "order" (a permutation of every choice).
    """
    if choices <= 0:
        return 0.0
    if picks == "all-that-apply":
        return 1.0 / (2**choices - 1)
    if picks == "order":
        return 1.0 / math.factorial(choices)
    return 1.0 / math.comb(choices, int(picks))


def majority_share(labels: Iterable[Hashable]) -> float:
    """Accuracy of always answering the most common gold label (a second, data-aware baseline)."""
    counts = Counter(labels)
    total = sum(counts.values())
    return max(counts.values()) / total if total else 0.0
