"""Training examples: chat-format JSONL in, token ids with assistant-only labels out.

One example per line, the shape OpenAI's fine-tuning uses:

    {"messages": [{"role": "system", "content": "…"}, {"role": "user", "content": "…"},
                  {"role": "assistant", "content": "…"}]}

The loss covers the assistant messages only (their text and the end-of-turn token), never the prompt.
An assistant message with `"weight": 0` is context, not a target (e.g. a worked example inside the prompt).
A conversation without a system message gets the engine's default one, as `kogata.generate` would send it,
so the adapter is trained on exactly the prompt it will see.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kogata.errors import InputError

ROLES = ("system", "user", "assistant")
IGNORE = -100  # the label torch's cross-entropy skips
_MAX_LISTED = 8  # problems named in one error message


@dataclass(frozen=True)
class Example:
    messages: list[dict[str, Any]]
    line: int  # 1-based line in the JSONL file, for messages about this example


@dataclass(frozen=True)
class Tokenized:
    input_ids: list[int]
    labels: list[int]  # IGNORE where the token is prompt, else the token id
    line: int

    @property
    def target_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _problems(value: Any) -> list[str]:
    """What is wrong with one parsed line (empty when it is a valid example)."""
    if not isinstance(value, dict) or not isinstance(value.get("messages"), list):
        return ['expected an object {"messages": [...]}']
    messages = value["messages"]
    if not messages:
        return ["'messages' is empty"]
    problems = []
    for i, m in enumerate(messages, 1):
        if not isinstance(m, dict):
            problems.append(f"message {i} is not an object")
            continue
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            problems.append(f"message {i} has role {role!r}; expected one of {', '.join(ROLES)}")
        if not isinstance(content, str) or not content.strip():
            problems.append(f"message {i} ({role}) has no text in 'content'")
        if "weight" in m and m["weight"] not in (0, 1):
            problems.append(f"message {i} has weight {m['weight']!r}; expected 0 or 1")
    if problems:
        return problems
    roles = [m["role"] for m in messages]
    if "user" not in roles:
        problems.append("no user message")
    if not any(m["role"] == "assistant" and m.get("weight", 1) == 1 for m in messages):
        problems.append("no assistant message to learn (every assistant message has weight 0, or there is none)")
    if "system" in roles[1:]:
        problems.append("a system message may only come first")
    return problems


def read_examples(path: str | Path) -> list[Example]:
    """Read and check every line of a chat-format JSONL file; one error lists every bad line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"training data {path}: no such file") from None
    except OSError as e:
        raise InputError(f"training data {path}: cannot read it ({e.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"training data {path} is not UTF-8 (first bad byte at offset {e.start}); save it as UTF-8"
        ) from None
    examples: list[Example] = []
    bad: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            bad.append(f"line {number}: not JSON ({e.msg} at column {e.colno})")
            continue
        problems = _problems(value)
        if problems:
            bad.append(f"line {number}: " + "; ".join(problems))
            continue
        examples.append(Example(value["messages"], number))
    if bad:
        more = f"\n  … and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
        raise InputError(
            f"training data {path}: {len(bad)} bad line(s):\n  "
            + "\n  ".join(bad[:_MAX_LISTED])
            + more
            + '\n  each line must be {"messages": [{"role": "system|user|assistant", "content": "…"}, …]}'
        )
    if not examples:
        raise InputError(f"training data {path} holds no examples (it is empty)")
    return examples


def with_system(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as the engine sends it: the default system message first when there is none."""
    from kogata.engine.generate import DEFAULT_SYSTEM

    messages = [dict(m) for m in messages]
    if messages[0]["role"] != "system":
        messages.insert(0, {"role": "system", "content": DEFAULT_SYSTEM})
    return messages


def _render(tokenizer: Any, messages: Sequence[dict[str, Any]], *, generation_prompt: bool) -> str:
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    return tokenizer.apply_chat_template(plain, tokenize=False, add_generation_prompt=generation_prompt)


def tokenize(tokenizer: Any, example: Example) -> Tokenized:
    """Token ids of the whole conversation, labels set on the learned assistant messages only.

    Each assistant message's span is found in characters, by rendering the conversation up to it with and
    without it, then mapped onto tokens with the tokenizer's offsets; the span includes the end-of-turn
    token, so the adapter learns where to stop.
    """
    messages = with_system(example.messages)
    full = _render(tokenizer, messages, generation_prompt=False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant" or m.get("weight", 1) == 0:
            continue
        before = _render(tokenizer, messages[:i], generation_prompt=True)
        through = _render(tokenizer, messages[: i + 1], generation_prompt=False)
        if not (full.startswith(before) and full.startswith(through)):
            raise InputError(
                f"line {example.line}: the model's chat template renders this conversation "
                f"differently in parts and whole; cannot tell the assistant's tokens apart"
            )
        spans.append((len(before), len(through.rstrip())))
    encoded = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    labels = [
        tok if any(start <= begin < end for start, end in spans) else IGNORE
        for tok, (begin, _) in zip(ids, encoded["offset_mapping"])
    ]
    return Tokenized(ids, labels, example.line)


@dataclass(frozen=True)
class DataSummary:
    examples: int
    tokens: int
    target_tokens: int
    longest: int
    too_long: list[tuple[int, int]]  # (line, tokens) of examples over the limit

    def describe(self) -> str:
        return (
            f"{self.examples} examples, {self.tokens:,} tokens ({self.target_tokens:,} learned), longest {self.longest}"
        )


def summarize(items: Sequence[Tokenized], max_tokens: int) -> DataSummary:
    lengths = [len(t.input_ids) for t in items]
    return DataSummary(
        len(items),
        sum(lengths),
        sum(t.target_tokens for t in items),
        max(lengths, default=0),
        [(t.line, len(t.input_ids)) for t in items if len(t.input_ids) > max_tokens],
    )


def check_lengths(summary: DataSummary, max_tokens: int, path: str | Path) -> None:
    """Refuse examples longer than max_tokens: cutting one would train on a conversation without its answer."""
    if not summary.too_long:
        return
    listed = ", ".join(f"line {line} ({n} tokens)" for line, n in summary.too_long[:_MAX_LISTED])
    more = f" and {len(summary.too_long) - _MAX_LISTED} more" if len(summary.too_long) > _MAX_LISTED else ""
    raise InputError(
        f"training data {path}: {len(summary.too_long)} example(s) longer than --max-tokens "
        f"{max_tokens}: {listed}{more}; raise --max-tokens to at least {summary.longest} "
        f"(time and memory grow with it) or shorten them"
    )
