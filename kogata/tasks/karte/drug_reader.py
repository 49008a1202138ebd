"""The learned drug status: for each drug the rules found, how likely it is taken or prescribed now (current,
prescribed, changed) rather than stopped, refused, avoided, deferred, an allergy or only discussed.

Why: the rules list a drug unless a negative cue follows it, so wording no cue foresees lists it as current, the
unsafe way round. Here each mention of a drug is read through the bundled e5 embedding of its clause with the
drug's name masked (〇〇; the status is in the words around a name, not in the name), the next turn when the patient
side answers, and the cue signs of data/statuses.tsv; one softmax regression over the nine statuses, the mentions'
probabilities averaged per drug. The weights are `data/drug_status.npz` (numpy only at run time), trained on the
train writers of data/corpus by `make drug-status` (kogata.tune.drug_reader); `data/drug_status.json` records its
sha256, the training data's hash and the threshold.

The safe decision (`judge`): a drug stays in the current list only where the rules and the learned status agree
that it is current, prescribed or changed with probability at least the recorded threshold; otherwise it keeps
its details and is written in the plan as 「服用状況未確認」 (status "unconfirmed"), never silently dropped.

    meds = judge(said, facts.medications)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kogata.engine.embed import EMBEDDING_DIM, embed
from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import is_question, sentences
from kogata.tasks.karte import artefact, facts
from kogata.tasks.karte.artefact import softmax
from kogata.verify import Said

WEIGHTS = "drug_status.npz"
RECORD = "drug_status.json"
STATUSES = ("current", "prescribed", "changed", "stopped", "refused", "avoided", "deferred", "allergy", "discussed")
CURRENT = ("current", "prescribed", "changed")
UNCONFIRMED = "unconfirmed"  # the rules say taken, the learned status does not agree: the plan says so
MASK = "〇〇"
_CUED = ("stopped", "avoided", "refused", "deferred", "discussed", "changed", "prescribed", "current")
CUE_FEATURES = 2 * len(_CUED) + len(STATUSES) + 6  # see _cues()
_FORM = re.compile(r"(?:テープ|パップ|ゲル|軟膏|クリーム|ローション|点眼|点鼻|坐剤|シロップ|吸入|注)$")


@dataclass(frozen=True)
class Mention:
    """One drug named in one utterance: the drug's key in the rules' list, the masked clause, its cue signs."""

    key: str
    id: int
    text: str
    cues: tuple[float, ...]


def drug_key(surface: str, generic: str) -> str:
    """The key facts.medications gives a drug: its generic name, and the form where the product says one."""
    form = _FORM.search(surface)
    return generic + (form.group(0) if form else "")


def med_key(med: dict) -> str:
    return drug_key(med.get("brand") or med["name"], med["name"])


def _clause(text: str, key: str) -> tuple[str, str, str] | None:
    """(the sentences that name the drug with those after them that name no drug, the words before its first name in
    its sentence, the words after it up to another drug) in `text`; None where `text` does not name it."""
    parts = sentences(text) or [text]
    keep, before, own = [], "", ""
    for k, sentence in enumerate(parts):
        mentions = find_drugs(sentence)
        mine = [m for m in mentions if drug_key(m.surface, m.value.generic) == key]
        if mine:
            keep.append(k)
            if not own:
                others = [m for m in mentions if m.span[0] > mine[0].span[1] and m.value != mine[0].value]
                before = sentence[: mine[0].span[0]]
                own = sentence[mine[0].span[1] : others[0].span[0] if others else len(sentence)]
        elif keep and keep[-1] == k - 1 and not mentions:
            keep.append(k)
    if not keep:
        return None
    return "".join(parts[k] for k in keep), before, own


def _mask(text: str, key: str) -> str:
    for m in sorted(find_drugs(text), key=lambda m: -m.span[0]):
        if drug_key(m.surface, m.value.generic) == key:
            text = text[: m.span[0]] + MASK + text[m.span[1] :]
    return text


def _cues(clause: str, before: str, own: str, rules_status: str, s: Said, answered: bool) -> tuple[float, ...]:
    """Signs the embedding reads poorly: which statuses.tsv cues follow the name (in its own words, in the clause),
    the rules' status, the staff side spoke, a question, a patient answer follows, a dose or supply, a condition
    before the name (「必要なときは〇〇に」)."""
    own_status = [float(facts.drug_status(own) == status) for status in _CUED]
    any_cue = [float(facts.has_status_cue(clause, status)) for status in _CUED]
    return tuple(
        own_status
        + any_cue
        + [float(rules_status == status) for status in STATUSES]
        + [
            float(s.staff),
            float(is_question(clause)),
            float(answered),
            float(facts.gives_dose(own)),
            float(facts.said_when_later(before)),
            float(facts.is_allergy_sentence(clause)),
        ]
    )


def mentions(said: Sequence[Said], meds: Sequence[dict]) -> list[Mention]:
    """Every mention of each drug in `meds` (the rules' list) in the utterances it cites, in order."""
    said = list(said)
    position = {s.id: k for k, s in enumerate(said)}
    out = []
    for med in meds:
        key = med_key(med)
        for uid in med["evidence"]:
            k = position.get(uid)
            if k is None or (found := _clause(said[k].text, key)) is None:
                continue
            clause, before, own = found
            text = _mask(clause, key)
            answer = said[k + 1] if k + 1 < len(said) else None
            answered = bool(said[k].staff and answer is not None and not answer.staff and not find_drugs(answer.text))
            if answered:  # 「〇〇を始めましょうか」「できれば飲みたくないです」: the answer decides
                text += "／" + answer.text
            out.append(Mention(key, uid, text, _cues(clause, before, own, med["status"], said[k], answered)))
    return out


def features(
    found: Sequence[Mention],
    vectors: np.ndarray | None = None,
    embed_texts: Callable[[list[str]], np.ndarray] = embed,
) -> np.ndarray:
    """One row per mention: the e5 vector of its masked clause (`embed_texts`: embed() or an EmbeddingCache) and
    its cue signs."""
    if not found:
        return np.empty((0, EMBEDDING_DIM + CUE_FEATURES), dtype=np.float32)
    vectors = embed_texts([m.text for m in found]) if vectors is None else vectors
    return np.hstack([vectors, np.array([m.cues for m in found], dtype=np.float32)]).astype(np.float32)


@dataclass(frozen=True)
class Weights:
    """A softmax regression over STATUSES: W (features × statuses), b, and the standardisation learned in training."""

    w: np.ndarray
    b: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return softmax(((x - self.mean) / self.scale) @ self.w + self.b)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"w": self.w, "b": self.b, "mean": self.mean, "scale": self.scale}

    @classmethod
    def from_arrays(cls, arrays) -> Weights:
        return cls(w=arrays["w"], b=arrays["b"], mean=arrays["mean"], scale=arrays["scale"])


def weights_path():
    return artefact.path(WEIGHTS)


def sha256_of_weights() -> str:
    return artefact.sha256(WEIGHTS)


@functools.cache
def record() -> dict:
    """drug_status.json (read once: judge() takes its threshold on every chart)."""
    return artefact.read_record(RECORD, what="the drug-status reader", make="drug-status")


@functools.cache
def load_weights() -> Weights:
    """The shipped weights, refused if their sha256 is not the one recorded beside them."""
    return Weights.from_arrays(
        artefact.load_verified(WEIGHTS, RECORD, what="the drug-status reader", make="drug-status")
    )


def current_probability(
    said: Sequence[Said],
    meds: Sequence[dict],
    weights: Weights | None = None,
    embed_texts: Callable[[list[str]], np.ndarray] = embed,
) -> dict[str, float]:
    """For each drug of `meds` (by med_key) the learned probability that it is current, prescribed or changed: the
    mean over its mentions."""
    found = mentions(said, meds)
    if not found:
        return {}
    p = (weights or load_weights()).probabilities(features(found, embed_texts=embed_texts))
    current = p[:, [STATUSES.index(s) for s in CURRENT]].sum(axis=1)
    by_drug: dict[str, list[float]] = {}
    for m, pc in zip(found, current, strict=True):
        by_drug.setdefault(m.key, []).append(float(pc))
    return {key: float(np.mean(values)) for key, values in by_drug.items()}


def judge(
    said: Sequence[Said],
    meds: list[dict],
    weights: Weights | None = None,
    threshold: float | None = None,
    embed_texts: Callable[[list[str]], np.ndarray] = embed,
) -> list[dict]:
    """The rules' medications with each drug the rules call current, prescribed or changed kept so only where the
    learned status agrees (probability ≥ `threshold`, the recorded one unless given); the others become
    UNCONFIRMED, details kept. A drug the rules call not taken stays so: the learned status only ever takes a drug
    off the current list."""
    threshold = record()["threshold"] if threshold is None else threshold
    listed = [m for m in meds if m["status"] in CURRENT]
    p = current_probability(said, listed, weights, embed_texts)
    return [
        {**m, "status": UNCONFIRMED} if m["status"] in CURRENT and p.get(med_key(m), 1.0) < threshold else m
        for m in meds
    ]
