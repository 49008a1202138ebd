"""Draft a polite reply letter to a resident's inquiry, grounded in a knowledge pack, with citations.

An inquiry often asks several things (粗大ごみの手数料は？ 冷蔵庫も出せる？), so each question sentence is
retrieved on its own and the passages are pooled. The body is drafted and verified exactly as an answer
(kogata.tasks.ask.answer); the greeting, the closing and the source list are fixed text, not generated.
A draft is for a person to check and send, never sent by kogata.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kogata.engine import Model, load
from kogata.errors import InputError
from kogata.ja.normalize import normalize
from kogata.knowledge.retrieve import Hit, Retriever
from kogata.tasks.ask.answer import MIN_SIMILARITY, NOT_FOUND, READ, RETRIEVE, Sentence, cited_dict, grounded
from kogata.tasks.ask.prompt import reply_messages

MAX_INQUIRY_CHARS = 3000
PASSAGES = 6
_QUESTION = re.compile(r"[^。？?\n]*(?:か|ください|たい|ますか|でしょうか)[。？?]")


@dataclass
class Reply:
    inquiry: str
    sentences: list[Sentence]
    passages: list[Hit]
    unsupported: list[Sentence] = field(default_factory=list)
    sender: str = ""
    model: str = ""
    seconds: float = 0.0

    @property
    def found(self) -> bool:
        return bool(self.sentences)

    def letter(self) -> str:
        cited = sorted({n for s in self.sentences for n in s.cites})
        number = {n: i for i, n in enumerate(cited, 1)}  # the letter numbers its sources 1, 2, … in order
        lines = ["お問い合わせいただき、ありがとうございます。", "ご質問の件について、次のとおりご案内いたします。", ""]
        if self.found:
            lines += [f"{s.text}〔{'・'.join(str(number[n]) for n in s.cites)}〕" for s in self.sentences]
        else:
            lines += [f"お問い合わせの件については、{NOT_FOUND}。担当課で確認のうえ、改めてご連絡いたします。"]
        lines += ["", "ご不明な点がございましたら、お気軽にお問い合わせください。"]
        if self.sender:
            lines += ["", self.sender]
        if cited:
            lines += ["", "根拠："] + [
                f"〔{number[n]}〕{self.passages[n - 1].chunk.citation}"
                f"{'（' + self.passages[n - 1].chunk.caption + '）' if self.passages[n - 1].chunk.caption else ''}"
                for n in cited
            ]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {
            "found": self.found,
            "letter": self.letter(),
            **cited_dict(self.sentences, self.unsupported, self.passages, self.model, self.seconds),
        }


def questions_in(inquiry: str) -> list[str]:
    """The sentences of an inquiry that ask something (the whole text when none looks like a question)."""
    found = [q.strip() for q in _QUESTION.findall(normalize(inquiry)) if len(q.strip()) > 4]
    return found or [inquiry]


def pooled_hits(retriever: Retriever, inquiry: str, limit: int = PASSAGES) -> list[Hit]:
    """The best passages for each question in the inquiry, taken in turn (best of each first), no repeats."""
    per_question = [retriever.search(q, limit) for q in questions_in(inquiry)]
    pooled: list[Hit] = []
    seen: set[int] = set()
    for rank in range(limit):
        for hits in per_question:
            if rank < len(hits) and hits[rank].passage.id not in seen and len(pooled) < limit:
                seen.add(hits[rank].passage.id)
                pooled.append(hits[rank])
    return pooled


def draft_reply(
    pack: str | Retriever,
    inquiry: str,
    *,
    model: Model | str | None = None,
    sender: str = "",
    k: int = PASSAGES,
    adapter: str | None = None,
    min_similarity: float = MIN_SIMILARITY,
    on_stage: Callable[[str], None] | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Reply:
    """A reply letter to `inquiry` from knowledge pack `pack`; `k` passages are pooled over its questions.
    `on_stage` and `on_text` as for `ask`."""
    started = time.perf_counter()
    inquiry = inquiry.strip()
    if not inquiry:
        raise InputError("the inquiry is empty")
    if len(inquiry) > MAX_INQUIRY_CHARS:
        raise InputError(f"the inquiry is {len(inquiry)} characters; at most {MAX_INQUIRY_CHARS} (split it)")
    if on_stage is not None:
        on_stage(RETRIEVE)
    retriever = pack if isinstance(pack, Retriever) else Retriever(pack)
    hits = pooled_hits(retriever, inquiry, k)
    if not hits or max(h.similarity for h in hits) < min_similarity:
        return Reply(inquiry, [], hits, sender=sender, seconds=time.perf_counter() - started)
    if on_stage is not None:
        on_stage(READ)
    llm = model if isinstance(model, Model) else load(model)
    kept, dropped, _ = grounded(
        llm,
        reply_messages(inquiry, hits),
        hits,
        retriever,
        max_sentences=5,
        adapter=adapter,
        on_stage=on_stage,
        on_text=on_text,
    )
    return Reply(inquiry, kept, hits, dropped, sender, llm.spec.name, time.perf_counter() - started)
