"""Answer a question from a knowledge pack: retrieve, draft under a JSON schema, keep only verified sentences.

1. Retrieve the pack's best passages (hybrid: e5 + BM25). If none is even loosely related
   (cosine < MIN_SIMILARITY), answer NOT_FOUND without asking the model.
2. The model writes {"found", "sentences": [{"text", "cites": [passage numbers]}]} under a JSON schema.
3. Each sentence is checked against the passages it cites (kogata.verify.passages): numbers, names,
   article numbers and content must be there. A sentence that fails but is supported by another single
   passage is re-cited; one that no passage supports is dropped (kept in `unsupported` for display).
4. No sentence left, or the model said the passages do not answer it, or the sentences left share no
   content word with the question (supported, but about something else): NOT_FOUND, never a guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kogata.engine import Model, generate_json, load
from kogata.ja.glossary import Glossary
from kogata.ja.normalize import normalize
from kogata.knowledge.retrieve import Hit, Retriever
from kogata.tasks.ask.prompt import answer_messages
from kogata.tasks.ask.vocabulary import VOCABULARY
from kogata.verify.passages import PassageIndex, nouns
from kogata.verify.recite import recite

NOT_FOUND = "該当する規定が見つかりませんでした"
# Below this cosine the best passage is about something else. e5 scores unrelated Japanese text around
# 0.75–0.80 and related text 0.83–0.95; on data/packs/sakura-city the lowest answerable question scores 0.83.
MIN_SIMILARITY = 0.82
DEFAULT_K = 4
MAX_TOKENS = 600

# The stages a caller's `on_stage` hears, in order: searching the pack, the model reading the passages (loading and
# taking in the prompt), then writing (its text goes to `on_text` as it comes).
RETRIEVE, READ, WRITE = "retrieve", "read", "write"


def answer_schema(k: int, *, max_sentences: int = 3) -> dict:
    return {
        "type": "object",
        "properties": {
            "found": {"type": "boolean"},
            "sentences": {
                "type": "array",
                "maxItems": max_sentences,
                "items": {
                    "type": "object",
                    "properties": {
                        # no maxLength: llama.cpp spells {2,200} out as nested rules and sampling slows by a third
                        "text": {"type": "string", "minLength": 2},
                        "cites": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 3,
                            "items": {"type": "integer", "minimum": 1, "maximum": k},
                        },
                    },
                    "required": ["text", "cites"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["found", "sentences"],
        "additionalProperties": False,
    }


@dataclass
class Sentence:
    text: str
    cites: list[int]  # 1-based numbers of the passages shown to the model
    problems: list[str] = field(default_factory=list)
    recited: bool = False  # the model cited another passage; the verifier found the one that supports it

    def to_dict(self) -> dict:
        return {"text": self.text, "cites": self.cites, "problems": self.problems, "recited": self.recited}


@dataclass
class Answer:
    question: str
    sentences: list[Sentence]  # verified
    passages: list[Hit]
    unsupported: list[Sentence] = field(default_factory=list)
    reason: str = ""  # why there is no answer, when there is none
    model: str = ""
    seconds: float = 0.0

    @property
    def found(self) -> bool:
        return bool(self.sentences)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sentences) if self.found else NOT_FOUND

    def cited(self) -> list[int]:
        return sorted({n for s in self.sentences for n in s.cites})

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.text,
            "reason": self.reason,
            **cited_dict(self.sentences, self.unsupported, self.passages, self.model, self.seconds),
        }


def _asks(text: str, question: str) -> bool:
    """A question, or the user's question said back: it passes the passage check yet answers nothing."""
    plain = normalize(text).rstrip("。．.")
    return plain.endswith(("か", "?", "？")) or (bool(question) and plain == normalize(question).rstrip("。．.?？"))


def cited_dict(
    sentences: list[Sentence], unsupported: list[Sentence], passages: list[Hit], model: str, seconds: float
) -> dict:
    """The JSON an answer and a reply share: the sentences with their citations, the ones dropped, the passages."""
    return {
        "sentences": [
            s.to_dict() | {"citations": [passages[n - 1].chunk.citation for n in s.cites]} for s in sentences
        ],
        "unsupported": [s.to_dict() for s in unsupported],
        "passages": [dict(h.to_dict(), n=n) for n, h in enumerate(passages, 1)],
        "model": model,
        "seconds": round(seconds, 2),
    }


def on_topic(question: str, sentences: list[Sentence], glossary: Glossary) -> bool:
    """Whether the answer shares a content word with the question (or a glossary form of one). Supported
    sentences about something else (市営住宅 answered with the FAQ on 保育所) are not an answer."""
    wanted = {normal for _, normal in nouns(question)}
    for m in glossary.find(question) if len(glossary) else ():
        wanted |= {normal for form in m.value.forms for _, normal in nouns(form)}
    said = {normal for s in sentences for _, normal in nouns(s.text)}
    return not wanted or bool(wanted & said)


def verify(
    sentences: list[dict], hits: list[Hit], index: PassageIndex, question: str = ""
) -> tuple[list[Sentence], list[Sentence]]:
    """Sentences the cited passages support (re-cited where another passage does), and the rest."""
    kept: list[Sentence] = []
    dropped: list[Sentence] = []
    seen: set[str] = set()
    for raw in sentences:
        text = raw["text"].strip()
        cites = sorted({n for n in raw["cites"] if 1 <= n <= len(hits)})
        if not text or text in seen:  # a small model sometimes writes the same sentence twice
            continue
        seen.add(text)
        if _asks(text, question):
            dropped.append(Sentence(text, cites, ["答えではなく問いです"]))
            continue
        evidence, problems = recite(index, text, cites, neighbours=False)
        if problems:
            dropped.append(Sentence(text, cites, problems))
        else:
            kept.append(Sentence(text, evidence, recited=evidence != cites))
    return kept, dropped


def passage_index(hits: list[Hit], retriever: Retriever) -> PassageIndex:
    return PassageIndex({n: h.chunk.context for n, h in enumerate(hits, 1)}, retriever.pack.glossary, VOCABULARY)


def grounded(
    llm: Model,
    messages: list[dict],
    hits: list[Hit],
    retriever: Retriever,
    *,
    max_sentences: int,
    question: str = "",
    adapter: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_text: Callable[[str], None] | None = None,
) -> tuple[list[Sentence], list[Sentence], bool]:
    """The model's sentences over `hits`, verified: (kept, dropped, the model said it found an answer).
    `on_stage` hears WRITE at the first piece of text, `on_text` every piece (raw JSON, unverified)."""
    writing = False

    def heard(piece: str) -> None:
        nonlocal writing
        if not writing and on_stage is not None:
            on_stage(WRITE)
        writing = True
        if on_text is not None:
            on_text(piece)

    value = generate_json(
        llm,
        messages,
        answer_schema(len(hits), max_sentences=max_sentences),
        max_tokens=MAX_TOKENS,
        adapter=adapter,
        on_text=heard if on_stage is not None or on_text is not None else None,
    )
    if not value["found"] and not value["sentences"]:
        return [], [], False
    kept, dropped = verify(value["sentences"], hits, passage_index(hits, retriever), question)
    return kept, dropped, bool(value["found"])


def ask(
    pack: str | Retriever,
    question: str,
    *,
    model: Model | str | None = None,
    k: int = DEFAULT_K,
    adapter: str | None = None,
    min_similarity: float = MIN_SIMILARITY,
    on_stage: Callable[[str], None] | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """Answer `question` from knowledge pack `pack` (a name or an open Retriever), citing passages.
    `on_stage` hears RETRIEVE, READ and WRITE as the work gets there; `on_text` the model's raw JSON as it is
    written (unverified: for showing progress, never as the answer)."""
    started = time.perf_counter()
    if on_stage is not None:
        on_stage(RETRIEVE)
    retriever = pack if isinstance(pack, Retriever) else Retriever(pack)
    hits = retriever.search(question, k)  # an empty question or unknown pack fails before the model loads
    if not hits or max(h.similarity for h in hits) < min_similarity:
        return Answer(
            question,
            [],
            hits,
            reason="関連する資料が見つかりません（検索の類似度が基準未満）",
            seconds=time.perf_counter() - started,
        )
    if on_stage is not None:
        on_stage(READ)
    llm = model if isinstance(model, Model) else load(model)
    kept, dropped, found = grounded(
        llm,
        answer_messages(question, hits),
        hits,
        retriever,
        max_sentences=3,
        question=question,
        adapter=adapter,
        on_stage=on_stage,
        on_text=on_text,
    )
    reason = ""
    if kept and not on_topic(question, kept, retriever.pack.glossary):
        dropped += [Sentence(s.text, s.cites, ["質問の語を含まない回答です"]) for s in kept]
        kept = []
        reason = "資料で裏付けられる文が質問に答えていません"
    elif not kept:
        reason = (
            "資料に答えがないとモデルが判断しました"
            if not found and not dropped
            else "資料で裏付けられる文がありません"
        )
    return Answer(question, kept, hits, dropped, reason, llm.spec.name, time.perf_counter() - started)
