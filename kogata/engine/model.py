"""Load a model into an in-process llama.cpp context (the `xllamacpp` binding) and send it requests.

The binding exposes llama-server's request handling without a separate process: OpenAI-shaped requests in,
OpenAI-shaped responses out, with JSON-schema grammars, per-request LoRA, logit bias and prompt-cache
reuse. This module is the only one that touches the binding.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import xllamacpp

from kogata import weights
from kogata.engine import gguf
from kogata.engine.registry import get_spec
from kogata.errors import ContextOverflowError, GenerationError, InputError, ModelError
from kogata.ja.glyphs import is_non_japanese_han
from kogata.weights import ModelSpec


def _gpt2_byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's byte→printable-character table, used by byte-level BPE vocabularies (Qwen)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, codes)}


def token_texts(meta: Mapping[str, Any]) -> list[str]:
    """Each token of a GGUF vocabulary as the text it writes (complete characters only; partial UTF-8
    bytes at a token's edges are dropped, since they are not characters by themselves)."""
    tokens: list[str] = meta.get("tokenizer.ggml.tokens", [])
    kind = meta.get("tokenizer.ggml.model", "")
    if kind == "gpt2":
        decoder = _gpt2_byte_decoder()
        return [bytes(decoder.get(ch, 0) for ch in tok).decode("utf-8", errors="ignore") for tok in tokens]
    return [tok.replace("\u2581", " ") for tok in tokens]  # SentencePiece: ▁ is a space; <0xNN> stays ASCII


@lru_cache(maxsize=8)
def banned_token_ids(path: str) -> tuple[int, ...]:
    """Ids of tokens that write a Han character Japanese does not use (see kogata.ja.glyphs)."""
    texts = token_texts(gguf.read_metadata(path))
    return tuple(i for i, text in enumerate(texts) if any(is_non_japanese_han(ch) for ch in text))


@dataclass
class Model:
    """A loaded model. Create it with `kogata.load()`; one request runs at a time."""

    spec: ModelSpec
    path: Path
    n_ctx: int
    threads: int
    glyph_guard: bool
    adapters: dict[str, int] = field(default_factory=dict)  # adapter name → index in the binding
    banned_ids: tuple[int, ...] = ()
    _server: Any = field(default=None, repr=False)
    json_attempts: ClassVar[int] = 1  # replies generate_json reads before it refuses (constrained here: one)

    def request(self, body: dict[str, Any], on_chunk: Callable[[dict], bool | None] | None = None) -> dict | None:
        """Send one OpenAI-shaped chat request. With `on_chunk`, stream: it gets each chunk and returns True
        to stop generation. Binding errors come back as kogata errors."""
        try:
            if on_chunk is None:
                result = self._server.handle_chat_completions(body)
            else:
                result = self._server.handle_chat_completions(body, on_chunk)
        except ValueError as e:  # the binding rejects what it cannot parse, e.g. a schema it cannot compile
            raise InputError(f"the model rejected the request: {e}") from e
        if isinstance(result, dict) and "error" in result:
            raise self.error_from(result["error"])
        return result

    def error_from(self, err: dict) -> Exception:
        """The kogata error for an error object the binding returned."""
        if err.get("type") == "exceed_context_size_error":
            n, ctx = err.get("n_prompt_tokens", 0), err.get("n_ctx", self.n_ctx)
            return ContextOverflowError(
                f"the prompt is {n} tokens but the context holds {ctx}: shorten it by at least {n - ctx} tokens "
                f"(about {round((n - ctx) * 1.3)} Japanese characters) or load the model with a larger n_ctx"
            )
        return GenerationError(f"generation failed: {err.get('message', err)}")

    def adapter_fields(self, adapter: str | None) -> dict[str, Any]:
        """What a request body says to apply `adapter` (None: the base model alone)."""
        if self.adapters:
            return {"lora": self.lora_field(adapter)}
        if adapter is not None:
            self.lora_field(adapter)  # raises: no adapters loaded
        return {}

    def lora_field(self, adapter: str | None) -> list[dict[str, float]]:
        """The per-request `lora` list: every loaded adapter off, except `adapter` at full scale."""
        if adapter is not None and adapter not in self.adapters:
            known = ", ".join(self.adapters) or "none loaded"
            raise InputError(f"adapter {adapter!r} is not loaded with this model (loaded: {known})")
        return [{"id": i, "scale": 1.0 if name == adapter else 0.0} for name, i in self.adapters.items()]


def load(
    model: str | None = None,
    *,
    n_ctx: int = 4096,
    threads: int | None = None,
    glyph_guard: bool = True,
    adapters: Mapping[str, str | Path] | None = None,
    progress: bool = True,
) -> Model:
    """Load a model by registry name (None: the default), joining and verifying its weights on first use.

    Args:
        model: a name or alias from `kogata models`.
        n_ctx: context window in tokens (prompt + answer).
        threads: CPU threads for prompt processing and generation (default: all cores).
        glyph_guard: ban tokens that write Han characters Japanese does not use (on by default).
        adapters: LoRA adapters (name → GGUF path) to load beside the base model; each request picks one.
        progress: show a progress bar while joining or checking the weights.
    """
    spec = get_spec(model)
    path = weights.ensure(spec, progress=progress)
    threads = threads or os.cpu_count() or 1
    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.warmup = False
    params.verbosity = -1
    # The binding also opens llama-server's HTTP listener on a random loopback port; a key nobody is
    # told keeps other local processes (and patients' transcripts) away from it. In-process calls skip it.
    params.api_keys = [secrets.token_hex(16)]
    names: dict[str, int] = {}
    if adapters:
        infos = []
        for i, (name, adapter_path) in enumerate(adapters.items()):
            if not Path(adapter_path).is_file():
                raise ModelError(f"adapter {name!r}: no file at {adapter_path}")
            info = xllamacpp.CommonAdapterLoraInfo(str(adapter_path), 0.0)
            infos.append(info)
            names[name] = i
        params.lora_adapters = infos
        params.lora_init_without_apply = True  # adapters stay off until a request asks for one
    try:
        server = xllamacpp.Server(params)
    except Exception as e:  # the binding raises plain RuntimeErrors for unreadable files
        raise ModelError(f"could not load {spec.name} from {path}: {e}") from e
    banned = banned_token_ids(str(path)) if glyph_guard else ()
    return Model(
        spec=spec,
        path=path,
        n_ctx=n_ctx,
        threads=threads,
        glyph_guard=glyph_guard,
        adapters=names,
        banned_ids=banned,
        _server=server,
    )
