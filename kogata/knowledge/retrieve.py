"""Hybrid retrieval over a knowledge pack: e5 embeddings for meaning, BM25 over Sudachi terms for exact words.

The two rankings are fused by reciprocal rank fusion (score = Σ 1/(60 + rank)), which needs no score
calibration between them: a passage that either ranks high, or both rank moderately, comes first. Before
searching, the question is expanded with the pack glossary: a synonym or sound-alike (こども手当) brings in
the standard term (児童手当) and its other forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kogata.engine.embed import embed
from kogata.errors import InputError
from kogata.knowledge.chunk import Chunk
from kogata.knowledge.store import Pack, Passage, load
from kogata.knowledge.terms import query_terms, terms

Mode = Literal["hybrid", "embedding", "bm25"]
MODES = ("hybrid", "embedding", "bm25")
_HIRAGANA = re.compile(r"[\u3041-\u309fー]+")
RRF_K = 60  # the constant of Cormack et al. (2009); it damps the lead of a single first place
DEPTH = 50  # passages taken from each ranking into the fusion


@dataclass
class Hit:
    passage: Passage
    score: float  # the fused score (or the single ranking's score in a single mode)
    similarity: float  # cosine between question and passage embeddings
    bm25: float
    rank_embedding: int | None = None  # 1-based
    rank_bm25: int | None = None

    @property
    def chunk(self) -> Chunk:
        return self.passage.chunk

    def to_dict(self) -> dict:
        return {
            **self.chunk.to_dict(),
            "citation": self.chunk.citation,
            "score": round(self.score, 5),
            "similarity": round(self.similarity, 4),
            "bm25": round(self.bm25, 3),
            "rank_embedding": self.rank_embedding,
            "rank_bm25": self.rank_bm25,
        }


@dataclass
class Query:
    text: str  # as embedded
    terms: list[str]  # as matched by BM25
    expansions: list[str]  # glossary terms added


@dataclass
class Scores:
    query: Query
    similarity: np.ndarray  # cosine, one per passage
    bm25: np.ndarray


class Retriever:
    def __init__(self, pack: Pack | str):
        self.pack = load(pack) if isinstance(pack, str) else pack
        self._bm25 = None

    def _index(self):
        if self._bm25 is None:
            import bm25s

            self._bm25 = bm25s.BM25()
            # bm25s needs at least one term per document; an empty passage gets a term that no query has
            self._bm25.index([p.terms or ["\0"] for p in self.pack.passages], show_progress=False)
        return self._bm25

    def expand(self, question: str) -> Query:
        """The question as embedded and as matched, with the glossary's forms of the terms it names."""
        found = self.pack.glossary.find(question) if len(self.pack.glossary) else []
        added: list[str] = []
        for m in found:
            # all-hiragana forms are sound-alikes for speech recognition; as words they only add noise here
            added += [
                form
                for form in m.value.forms
                if form != m.surface and form not in added and not _HIRAGANA.fullmatch(form)
            ]
        standard = [m.value.term for m in found if m.surface != m.value.term]
        text = question + (f"（{'、'.join(dict.fromkeys(standard))}）" if standard else "")
        base = query_terms(question)
        extra = dict.fromkeys(t for form in added for t in terms(form) if t not in base)  # each new word once
        return Query(text, base + list(extra), added)

    def scores(self, question: str) -> Scores:
        """Both rankings' scores of every passage for `question` (the expensive part of a search)."""
        if not question or not question.strip():
            raise InputError("the question is empty")
        query = self.expand(question)
        n = len(self.pack.passages)
        if n == 0:
            return Scores(query, np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32))
        similarity = self.pack.vectors @ embed([query.text], role="query")[0]
        vocabulary = self._index().vocab_dict
        known = [t for t in query.terms if t in vocabulary]
        bm25 = self._index().get_scores(known) if known else np.zeros(n, dtype=np.float32)
        return Scores(query, similarity, np.asarray(bm25, dtype=np.float32))

    def search(self, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
        if mode not in MODES:
            raise InputError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        return self.rank(self.scores(question), k, mode=mode)

    def rank(self, scores: Scores, k: int = 5, *, mode: Mode = "hybrid", rrf_k: int = RRF_K) -> list[Hit]:
        similarity, bm25 = scores.similarity, scores.bm25
        by_embedding = np.argsort(-similarity, kind="stable")
        by_bm25 = [i for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
        rank_e = {int(i): r for r, i in enumerate(by_embedding[:DEPTH], 1)}
        rank_b = {int(i): r for r, i in enumerate(by_bm25[:DEPTH], 1)}
        if mode == "embedding":
            order = [(int(i), float(similarity[i])) for i in by_embedding[:k]]
        elif mode == "bm25":
            order = [(int(i), float(bm25[i])) for i in by_bm25[:k]]
        else:
            fused: dict[int, float] = {}
            for ranks in (rank_e, rank_b):
                for i, r in ranks.items():
                    fused[i] = fused.get(i, 0.0) + 1.0 / (rrf_k + r)
            order = sorted(fused.items(), key=lambda kv: (-kv[1], -similarity[kv[0]]))[:k]
        return [
            Hit(self.pack.passages[i], score, float(similarity[i]), float(bm25[i]), rank_e.get(i), rank_b.get(i))
            for i, score in order
        ]


def search(pack: str | Pack, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
    return Retriever(pack).search(question, k, mode=mode)
