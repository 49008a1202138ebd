"""Generate text from a loaded model: `stream_generate` yields text as it is written, `generate` returns it
whole with timings, `generate_json` returns a value that validates against a JSON schema (or raises).

Public arguments, shared by the three functions (keyword-only after the prompt; `Options` and `JsonOptions`):
    prompt: the user's message (str), or a whole conversation as a list of {"role", "content"} messages.
    system: the system message (default: answer in Japanese, concisely); ignored when `prompt` is a list
        that already starts with a system message.
    max_tokens: the most tokens to generate (default 512; generate_json: 1024).
    temperature: 0 (the default) is greedy and repeatable; higher is more varied.
    seed: sampling seed, for repeatable sampling at temperature > 0.
    json_schema: constrain the output to this JSON schema (checked first; see kogata.engine.schema).
    adapter: name of a LoRA adapter loaded with the model, applied to this request only.
    stop: strings that end generation.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from kogata.engine.model import Model
from kogata.engine.schema import check_schema, validation_errors
from kogata.errors import GenerationError, InputError
from kogata.ja.glyphs import to_japanese

MAX_SEED = 2**32 - 1  # the engine keeps a 32-bit seed: a larger one would be cut, silently
DEFAULT_SYSTEM = "あなたは日本語で答えるアシスタントです。自然な日本語で、簡潔かつ正確に答えてください。"

Messages = list[dict[str, str]]


@dataclass
class Stats:
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens reused from the previous request's KV cache
    completion_tokens: int = 0
    prompt_tps: float = 0.0
    generation_tps: float = 0.0
    first_token_s: float = 0.0
    total_s: float = 0.0
    finish_reason: str = ""
    # Han characters Japanese does not use that slipped past the token ban (spelled out of byte tokens)
    # and were rewritten in their Japanese form; see _japanese().
    rewritten_glyphs: int = 0


@dataclass
class Response:
    text: str
    stats: Stats


def to_messages(prompt: str | Sequence[dict[str, str]], system: str | None = None) -> Messages:
    """The conversation to send: a bare prompt gets the system message; an empty prompt is refused."""
    if isinstance(prompt, str):
        if not prompt.strip():
            raise InputError("the prompt is empty: give the text to answer")
        return [{"role": "system", "content": system or DEFAULT_SYSTEM}, {"role": "user", "content": prompt}]
    messages = [dict(m) for m in prompt]
    if not messages or not any(m.get("content", "").strip() for m in messages if m.get("role") == "user"):
        raise InputError("the conversation has no user message with text")
    if messages[0].get("role") != "system":
        messages.insert(0, {"role": "system", "content": system or DEFAULT_SYSTEM})
    return messages


class JsonOptions(TypedDict, total=False):
    """The keyword arguments `generate_json` takes (see the module docstring)."""

    system: str | None
    max_tokens: int
    temperature: float
    seed: int | None
    adapter: str | None


class Options(JsonOptions, total=False):
    """The keyword arguments `stream_generate` and `generate` take: those of `generate_json`, a schema and stops."""

    json_schema: dict | None
    stop: Sequence[str] | None


def _request(
    model: Model,
    prompt: str | Sequence[dict[str, str]],
    *,
    stream: bool,
    system: str | None = None,
    max_tokens: int = 512,
    temperature: float = 0.0,
    seed: int | None = None,
    json_schema: dict | None = None,
    adapter: str | None = None,
    stop: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The binding's request body; the defaults here are the public ones."""
    messages = to_messages(prompt, system)
    if max_tokens < 1:
        raise InputError(f"max_tokens must be at least 1, got {max_tokens}")
    body: dict[str, Any] = {
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "stream": stream,
        "cache_prompt": True,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    if seed is not None:
        if not 0 <= seed <= MAX_SEED:
            raise InputError(f"seed must be 0 to {MAX_SEED}, got {seed}")
        body["seed"] = seed
    if stop:
        body["stop"] = list(stop)
    if json_schema is not None:
        check_schema(json_schema)
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": json_schema}}
    if model.banned_ids:
        body["logit_bias"] = [[i, False] for i in model.banned_ids]
    body.update(model.adapter_fields(adapter))
    return body


def _japanese(model: Model, text: str) -> tuple[str, int]:
    """The glyph guard's second layer. Banning tokens cannot stop a character the model spells out of
    single-byte tokens (药 as E8 8D AF), so whole characters are rewritten on their way out (药 → 薬)."""
    if not model.glyph_guard:
        return text, 0
    japanese = to_japanese(text)
    return japanese, sum(a != b for a, b in zip(text, japanese))


def _stats(timings: dict[str, Any], first_token_s: float, total_s: float, finish_reason: str) -> Stats:
    return Stats(
        prompt_tokens=int(timings.get("prompt_n", 0)) + int(timings.get("cache_n", 0)),
        cached_tokens=int(timings.get("cache_n", 0)),
        completion_tokens=int(timings.get("predicted_n", 0)),
        prompt_tps=float(timings.get("prompt_per_second", 0.0)),
        generation_tps=float(timings.get("predicted_per_second", 0.0)),
        first_token_s=first_token_s,
        total_s=total_s,
        finish_reason=finish_reason or "",
    )


class TextStream:
    """Iterator over the text pieces of one streamed generation; `.stats` is filled once it is exhausted.

    Leaving the loop early (break, an exception, closing the iterator) stops generation in the model.
    Pieces are whole characters: the binding holds back a token's partial UTF-8 bytes until the character
    completes, and each piece is checked here so a split character can never reach the caller.
    """

    def __init__(self, model: Model, body: dict[str, Any]):
        self.stats: Stats | None = None
        self._model = model
        self._queue: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._start = time.perf_counter()
        self._first: float | None = None
        self._timings: dict[str, Any] = {}
        self._finish = ""
        self._rewritten = 0
        self._thread = threading.Thread(target=self._run, args=(model, body), daemon=True)
        self._thread.start()

    def _run(self, model: Model, body: dict[str, Any]) -> None:
        def on_chunk(chunk: dict) -> bool:
            self._queue.put(chunk)
            return self._cancel.is_set()

        try:
            model.request(body, on_chunk)
        except Exception as e:  # handed to the consumer's thread
            self._queue.put(e)
        self._queue.put(None)

    def __iter__(self) -> Iterator[str]:
        try:
            while (item := self._queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                if "error" in item:
                    raise self._model.error_from(item["error"])
                if item.get("timings"):
                    self._timings = item["timings"]
                for choice in item.get("choices", []):
                    self._finish = choice.get("finish_reason") or self._finish
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        if "\ufffd" in text:
                            raise GenerationError("the binding streamed a broken UTF-8 character")
                        if self._first is None:
                            self._first = time.perf_counter() - self._start
                        text, rewritten = _japanese(self._model, text)
                        self._rewritten += rewritten
                        yield text
        finally:
            self._cancel.set()
            self._thread.join()
            total = time.perf_counter() - self._start
            self.stats = _stats(self._timings, self._first or total, total, self._finish)
            self.stats.rewritten_glyphs = self._rewritten


def stream_generate(model: Model, prompt: str | Sequence[dict[str, str]], **options: Unpack[Options]) -> TextStream:
    """Stream the answer to `prompt` as text pieces (see the module docstring for the arguments)."""
    return TextStream(model, _request(model, prompt, stream=True, **options))


def generate(model: Model, prompt: str | Sequence[dict[str, str]], **options: Unpack[Options]) -> Response:
    """The whole answer to `prompt`, with timings (see the module docstring for the arguments)."""
    body = _request(model, prompt, stream=False, **options)
    start = time.perf_counter()
    result = model.request(body)
    total = time.perf_counter() - start
    assert result is not None
    choice = result["choices"][0]
    timings = result.get("timings", {})
    prompt_s = float(timings.get("prompt_ms", 0.0)) / 1000
    text, rewritten = _japanese(model, choice["message"].get("content") or "")
    stats = _stats(timings, prompt_s, total, choice.get("finish_reason"))
    stats.rewritten_glyphs = rewritten
    return Response(text, stats)


def generate_json(
    model: Model, prompt: str | Sequence[dict[str, str]], schema: dict, **options: Unpack[JsonOptions]
) -> Any:
    """A JSON value that validates against `schema`, or an error saying why there is none (max_tokens: 1024).

    The schema is checked before generation (SchemaError for an invalid or unenforceable one); the output
    is parsed and validated after it (GenerationError when it was cut short or does not validate).
    """
    max_tokens = options.pop("max_tokens", 1024)
    attempts = max(1, model.json_attempts)  # a remote backend's reply is asked for once more before it is refused
    for attempt in range(attempts):
        response = generate(model, prompt, json_schema=schema, max_tokens=max_tokens, **options)
        try:
            return parse_json_output(
                response.text, schema, finish_reason=response.stats.finish_reason, max_tokens=max_tokens
            )
        except GenerationError as e:
            if attempt + 1 == attempts:
                if attempts == 1:
                    raise
                where = getattr(model, "where", "the backend")
                raise GenerationError(f"{where}: reply refused after {attempts} tries: {e}") from None
    raise AssertionError("unreachable")


def parse_json_output(text: str, schema: dict, *, finish_reason: str = "", max_tokens: int = 0) -> Any:
    """Parse and validate model output against `schema`; raise GenerationError naming what is wrong."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        if finish_reason == "length":
            raise GenerationError(
                f"the JSON was cut off at max_tokens={max_tokens} before it closed; raise max_tokens"
            ) from None
        raise GenerationError(f"the model's output is not valid JSON ({e.msg} at char {e.pos})") from None
    errors = validation_errors(value, schema)
    if errors:
        raise GenerationError("the model's JSON does not match the schema: " + "; ".join(errors[:5]))
    return value
