"""The learned reader: for each utterance of a visit, whether it carries anything for the chart and in which SOAP
section, whether it is affirmed, denied, uncertain, past or family history, and whom it is about.

No word list decides it: each utterance is read through its bundled e5 embedding (kogata.engine.embed) plus a few
signs of form (who spoke, a question, an answer to one, length), by one softmax regression per judgement. (The
neighbours' embeddings were tried and chosen against on dev: section accuracy 0.714-0.721 with the previous
utterance's, 0.674-0.701 with both neighbours', 0.744 without; README, chart section.) The weights are
`data/reader.npz` (numpy only at run time), trained on the train writers of data/corpus by `make reader`
(kogata.tune.reader); `data/reader.json` beside it records its sha256 and the training data's hash.

    readings = read(said)            # one Reading per utterance, in order
    readings[3].section, readings[3].assertion, readings[3].clinical
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kogata.engine.embed import EMBEDDING_DIM, embed
from kogata.ja.sentences import is_question, sentences
from kogata.tasks.karte import artefact
from kogata.tasks.karte.artefact import softmax
from kogata.verify import Said

WEIGHTS = "reader.npz"
RECORD = "reader.json"

# The judgements and their classes, in the order the weights' rows are; "-" is "nothing for the chart".
HEADS: dict[str, tuple[str, ...]] = {
    "section": ("-", "S", "O", "A", "P"),
    "assertion": ("-", "affirmed", "denied", "uncertain", "past", "family"),
    "about": ("-", "patient", "family", "other"),
}
FORM_FEATURES = 6  # see _form()


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one utterance; `clinical` is the probability that it carries something."""

    id: int
    section: str
    assertion: str
    about: str
    clinical: float


@dataclass(frozen=True)
class Weights:
    """One softmax regression per head over the same features: W (features × classes) and b (classes)."""

    heads: dict[str, tuple[np.ndarray, np.ndarray]]
    mean: np.ndarray  # feature standardisation learned on the training data
    scale: np.ndarray

    def probabilities(self, features: np.ndarray, head: str) -> np.ndarray:
        w, b = self.heads[head]
        return softmax(((features - self.mean) / self.scale) @ w + b)

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"mean": self.mean, "scale": self.scale}
        for head, (w, b) in self.heads.items():
            arrays[f"{head}_w"], arrays[f"{head}_b"] = w, b
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> Weights:
        heads = {head: (arrays[f"{head}_w"], arrays[f"{head}_b"]) for head in HEADS}
        return cls(heads=heads, mean=arrays["mean"], scale=arrays["scale"])


_FILLER = re.compile(r"^(?:えっと|えーと|えー|あのー|あの|あー|うーん|まあ|はい|ええ|うん)")


def _form(said: Sequence[Said], k: int) -> list[float]:
    """Signs of form the embedding does not show: the staff side spoke, it asks, it answers a staff question,
    its length, where in the visit it is, it opens with a filler."""
    s = said[k]
    asked = k > 0 and said[k - 1].staff and is_question(said[k - 1].text)
    parts = sentences(s.text) or [s.text]
    return [
        float(s.staff),
        float(all(is_question(p) for p in parts)),
        float(asked and not s.staff),
        min(len(s.text), 200) / 100,
        k / max(len(said) - 1, 1),
        float(bool(_FILLER.match(s.text))),
    ]


def features(
    said: Sequence[Said],
    vectors: np.ndarray | None = None,
    rows: Sequence[int] | None = None,
    embed_texts: Callable[[list[str]], np.ndarray] = embed,
) -> np.ndarray:
    """One row per utterance (or per index in `rows`): its e5 vector and _form(). `vectors` are those rows'
    embeddings when already computed (training embeds each visit once); `embed_texts` embeds the others (e.g. an
    EmbeddingCache that a live visit fills as it goes)."""
    rows = range(len(said)) if rows is None else rows
    if not rows:
        return np.empty((0, EMBEDDING_DIM + FORM_FEATURES), dtype=np.float32)
    vectors = embed_texts([said[k].text for k in rows]) if vectors is None else vectors
    form = np.array([_form(said, k) for k in rows], dtype=np.float32)
    return np.hstack([vectors, form]).astype(np.float32)


def weights_path():
    return artefact.path(WEIGHTS)


def sha256_of_weights() -> str:
    return artefact.sha256(WEIGHTS)


@functools.cache
def load_weights() -> Weights:
    """The shipped weights, refused if their sha256 is not the one recorded beside them."""
    return Weights.from_arrays(artefact.load_verified(WEIGHTS, RECORD, what="the chart reader", make="reader"))


def read(
    said: Sequence[Said],
    weights: Weights | None = None,
    *,
    only: set[int] | None = None,
    embed_texts: Callable[[list[str]], np.ndarray] = embed,
) -> list[Reading]:
    """The reader's judgement of every utterance, or of those whose id is in `only` (only they are embedded, which
    is most of the reader's time), with the shipped weights unless `weights` is given."""
    said = list(said)
    rows = [k for k, s in enumerate(said) if only is None or s.id in only]
    if not rows:
        return []
    weights = weights or load_weights()
    x = features(said, rows=rows, embed_texts=embed_texts)
    p = {head: weights.probabilities(x, head) for head in HEADS}
    return [
        Reading(
            id=s.id,
            section=HEADS["section"][int(p["section"][k].argmax())],
            assertion=HEADS["assertion"][int(p["assertion"][k].argmax())],
            about=HEADS["about"][int(p["about"][k].argmax())],
            clinical=float(1.0 - p["section"][k][0]),
        )
        for k, s in enumerate(said[row] for row in rows)
    ]
