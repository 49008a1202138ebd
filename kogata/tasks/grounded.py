"""The drafting skeleton every evidence-linked task shares: the model writes items that cite utterance ids, under a
JSON schema, from a fixed instruction and one worked example; each item is then tidied and verified against the
words it cites (kogata.verify).

A task is a `DraftSpec` (its system line, instruction, worked example, the parts it drafts and how many items each
may hold) plus its own assembly of the verified items:

    spec = DraftSpec(system=…, instruction=…, example=…, answer=…, limits={"issue": 1, "requests": 14})
    drafted = draft(spec, model, said)                  # {"issue": [{"text", "evidence"}], "requests": […]}
    items = [verified(index, i, asserts_findings=False) for i in tidy(drafted["requests"])]

Long conversations are drafted in chunks of whole utterances that fit the context; the chunks' lists are joined
in order. The instruction and the example come first and never change, so the engine's prompt cache serves them
from the second document on.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files

from kogata.engine import Model, generate_json
from kogata.ja.sentences import is_question
from kogata.verify import EvidenceIndex, Said, recite

CHUNK_CHARS = 2400  # about 1,900 prompt tokens with the instruction: leaves room for the answer in 4,096

_IDS = {"type": "array", "items": {"type": "integer", "minimum": 1}}
_TEXT = {"type": "string"}

# The verified, evidence-linked item of every task's JSON contract.
ITEM = {
    "type": "object",
    "properties": {"text": _TEXT, "evidence": _IDS, "supported": {"type": "boolean"}},
    "required": ["text", "evidence", "supported"],
    "additionalProperties": False,
}
# What a contract says of the items the words do not support.
WARNINGS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"message": _TEXT, "item": _TEXT},
        "required": ["message", "item"],
        "additionalProperties": False,
    },
}


@dataclass
class Item:
    """One line of a result: its text, the utterance ids it cites, and why the cited words do not support it."""

    text: str
    evidence: list[int]
    supported: bool = True
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"text": self.text, "evidence": self.evidence, "supported": self.supported}


@dataclass(frozen=True)
class DraftSpec:
    """What the model is told for one task: a system line, the instruction (ending where the numbered transcript
    starts), a worked example (a transcript and the answer to it), and the parts it drafts with the most items
    each may hold, in the order the model writes them."""

    system: str
    instruction: str
    example: str
    answer: dict[str, list[dict]]
    limits: dict[str, int]
    max_tokens: int

    @classmethod
    def read(cls, package: str, *, limits: dict[str, int], max_tokens: int) -> DraftSpec:
        """The spec whose texts are the package's prompt.toml (system, instruction, example, [answer])."""
        text = tomllib.loads(files(package).joinpath("prompt.toml").read_text(encoding="utf-8"))
        return cls(text["system"], text["instruction"], text["example"], text["answer"], limits, max_tokens)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.limits)

    @property
    def example_lines(self) -> frozenset[str]:
        """The worked example's own lines: never a real document's."""
        return frozenset(item["text"] for items in self.answer.values() for item in items)


def chunks(said: Sequence[Said], limit: int = CHUNK_CHARS) -> Iterator[list[Said]]:
    """Runs of whole utterances of about `limit` characters (at least one utterance each)."""
    chunk: list[Said] = []
    size = 0
    for s in said:
        if chunk and size + len(s.text) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(s)
        size += len(s.text) + len(s.utterance.speaker) + 6
    if chunk:
        yield chunk


def transcript_block(said: Sequence[Said]) -> str:
    return "\n".join(f"[{s.id}] {s.utterance.speaker}：{s.text}" for s in said)


def messages(spec: DraftSpec, said: Sequence[Said]) -> list[dict[str, str]]:
    """The chat the model gets: the system line, the worked example as a turn of its own, then these utterances."""
    return [
        {"role": "system", "content": spec.system},
        {"role": "user", "content": spec.instruction + spec.example},
        {"role": "assistant", "content": json.dumps(spec.answer, ensure_ascii=False)},
        {"role": "user", "content": spec.instruction + transcript_block(said)},
    ]


def draft_schema(spec: DraftSpec, first_id: int, last_id: int) -> dict:
    """What the model writes for one stretch: items per part, each citing utterance ids that exist.

    A part of at most one item (an issue, a follow-up) is a list too, not an object or null: small models fill a
    list more reliably than they choose between an object and null.
    """
    line = {
        "type": "object",
        "properties": {
            # no maxLength: llama.cpp expands {m,n} repetition into nested rules that make sampling crawl
            "text": _TEXT,
            "evidence": {
                "type": "array",
                "items": {"type": "integer", "minimum": first_id, "maximum": last_id},
                "minItems": 1,
                "maxItems": 4,
            },
        },
        "required": ["text", "evidence"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {part: {"type": "array", "items": line, "maxItems": n} for part, n in spec.limits.items()},
        "required": list(spec.parts),
        "additionalProperties": False,
    }


def draft(spec: DraftSpec, model: Model, said: Sequence[Said], *, adapter: str | None = None) -> dict[str, list[dict]]:
    """Items written by the model, {part: [{"text", "evidence"}]}; a long document in chunks, joined in order."""
    drafted: dict[str, list[dict]] = {part: [] for part in spec.parts}
    for part in chunks(said):
        value = generate_json(
            model,
            messages(spec, part),
            draft_schema(spec, part[0].id, part[-1].id),
            max_tokens=spec.max_tokens,
            adapter=adapter,
        )
        for key in spec.parts:
            drafted[key] += value[key]
    return drafted


_FILLERS = re.compile(r"^(?:えっと|えーと|えー|あー|あの|あのー|うーん|まあ|はい)[、,]?\s*")


def tidy(lines: Sequence[dict], *, drop: Callable[[str], bool] | None = None, unique: bool = False) -> list[Item]:
    """Drafted lines as items: without leading fillers, and without lines too short, questions the model copied,
    lines `drop` refuses, and (with `unique`) repeats."""
    items, seen = [], set()
    for line in lines:
        text = line["text"].strip()
        while (stripped := _FILLERS.sub("", text)) != text:
            text = stripped
        if len(text) < 2 or is_question(text) or (drop is not None and drop(text)) or (unique and text in seen):
            continue
        seen.add(text)
        items.append(Item(text, sorted(set(line["evidence"]))))
    return items


def verified(index: EvidenceIndex, item: Item, *, asserts_findings: bool) -> Item:
    """The item under the utterances that support it (kogata.verify.recite), with its problems if none do."""
    evidence, problems = recite(index, item.text, item.evidence, asserts_findings=asserts_findings)
    return Item(item.text, evidence, supported=not problems, problems=problems)
