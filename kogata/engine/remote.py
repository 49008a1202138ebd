"""Generation on another machine: any OpenAI-compatible server (llama.cpp's server, vLLM, SGLang, another kogata).

`connect(url)` returns a `RemoteModel`, a `Model` whose requests go over HTTP, so `generate`, `stream_generate`,
`generate_json` and every task take it where they take a local model. Only generation leaves this process:
normalisation, extraction, verification and storage stay in kogata, and what comes back is checked here as
strictly as local output is:

- structured output is asked for with `response_format: {"type": "json_schema", …}` and always validated on
  return (`generate_json` retries an invalid reply once, then refuses it with an error naming the backend);
- the glyph guard bans the backend's tokens that write Han characters Japanese does not use, as `logit_bias`,
  when the backend can say which tokens those are (llama.cpp's `/tokenize` with pieces); otherwise nothing is
  banned up front. A reply that still holds such characters is asked for again once, with the tokens that wrote
  them banned, and whatever is left is rewritten in its Japanese form as local output is (kogata.ja.glyphs);
- an adapter is a model name on the backend (`--backend-model karte=qwen-karte`), not a LoRA file;
- connection errors, HTTP 5xx and 429 are retried with exponential backoff; a backend that stays down is one
  error naming its URL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from kogata.engine.model import Model
from kogata.errors import GenerationError, InputError, ModelError
from kogata.ja.glyphs import SIMPLIFIED_IN_JIS, is_non_japanese_han, japanese_forms
from kogata.weights import ModelSpec

CONNECT_TIMEOUT_S = 5.0
TIMEOUT_S = 600.0  # a whole chart drafted on a busy CPU backend can take minutes
RETRIES = 3  # tries after the first, for connection errors, 5xx and 429
BACKOFF_S = 0.5  # doubled after each try
PROBE_TIMEOUT_S = 2.0  # a health check waits this long for the backend, once
_RETRY_STATUS = {429, 500, 502, 503, 504}


class BackendError(ModelError):
    """The generation backend cannot be reached, or answered with something that is not a reply."""


def parse_backend_models(values: Iterable[str]) -> tuple[str | None, dict[str, str]]:
    """`--backend-model` values → (the base model's name on the backend, {adapter: backend model name}).

    NAME names the base model; ADAPTER=NAME names the model an adapter stands for (`karte=qwen-karte`).
    """
    base: str | None = None
    adapters: dict[str, str] = {}
    for value in values:
        key, sep, name = value.partition("=")
        key, name = key.strip(), name.strip()
        if not sep:
            if not key:
                raise InputError("--backend-model takes NAME or ADAPTER=NAME, not an empty value")
            base = key
        elif not key or not name:
            raise InputError(f"--backend-model takes NAME or ADAPTER=NAME, not {value!r}")
        else:
            adapters[key] = name
    return base, adapters


def _root(url: str) -> str:
    """The server's root URL: `http://host:8080/v1/` and `http://host:8080` both → `http://host:8080`."""
    text = url.strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise InputError(f"--backend takes an http:// or https:// URL, not {url!r}")
    return text.removesuffix("/v1")


def _spec(name: str, url: str) -> ModelSpec:
    """A registry-shaped description of a model that lives on a backend (no weights here)."""
    return ModelSpec(
        name=name,
        filename="",
        upstream=url,
        parts=(),
        size=0,
        sha256="",
        licence="",
        licence_file="",
        chat_template="the backend's",
        instruct=True,
        good_for=f"served by {url}",
        extra="",
    )


def _glyph_text() -> str:
    """Every Han character Japanese does not use that kogata knows by name, one a line (each its own token)."""
    return "\n".join(dict.fromkeys([*japanese_forms(), *SIMPLIFIED_IN_JIS]))


@dataclass
class RemoteModel(Model):
    """A model served by an OpenAI-compatible server. Create it with `connect()`."""

    url: str = ""
    adapter_models: dict[str, str] = field(default_factory=dict)  # adapter name → model name on the backend
    api_key: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT_S
    retries: int = RETRIES
    backoff: float = BACKOFF_S
    json_attempts: ClassVar[int] = 2  # an invalid reply is asked for once more, then refused
    _client: httpx.Client | None = field(default=None, repr=False)
    _bias: list[list] | None = field(default=None, repr=False)  # logit_bias from the backend's tokenizer
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def where(self) -> str:
        return f"the generation backend at {self.url}"

    # ── HTTP ──

    def _http(self) -> httpx.Client:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(
                base_url=self.url, headers=headers, timeout=httpx.Timeout(self.timeout, connect=CONNECT_TIMEOUT_S)
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _send(self, method: str, path: str, body: dict | None = None, *, stream: bool = False) -> httpx.Response:
        """One HTTP exchange, retried with exponential backoff on connection errors, 5xx and 429. A streamed
        response comes back open (the caller closes it); an error status comes back as the response."""
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                request = self._http().build_request(method, path, json=body)
                response = self._http().send(request, stream=stream)
            except httpx.TimeoutException:
                raise BackendError(f"{self.where} did not answer within {self.timeout:g} s ({path})") from None
            except httpx.TransportError as e:
                last = str(e) or type(e).__name__
                continue
            if response.status_code in _RETRY_STATUS:
                last = f"HTTP {response.status_code}"
                response.close()
                continue
            return response
        raise BackendError(f"{self.where} is not reachable ({last}, {self.retries + 1} tries)")

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BackendError(
                f"{self.where} answered {response.request.url.path} with something that is not JSON "
                f"(HTTP {response.status_code})"
            ) from None

    def _error(self, response: httpx.Response) -> Exception:
        """The kogata error for an HTTP error status (the backend's own error object when it sent one)."""
        try:
            err = json.loads(response.read().decode("utf-8", errors="replace")).get("error")
        except (json.JSONDecodeError, AttributeError):
            err = None
        if isinstance(err, dict):
            if err.get("type") == "exceed_context_size_error":
                return self.error_from(err)
            message = err.get("message", err)
        else:
            message = err or response.reason_phrase
        if response.status_code == 404 and "model" in str(message).lower():
            return InputError(f"{self.where} does not serve that model: {message}")
        if response.status_code == 401:
            return BackendError(f"{self.where} refused the request (HTTP 401): give its API key")
        return GenerationError(f"{self.where} refused the request (HTTP {response.status_code}): {message}")

    # ── the glyph guard ──

    def _tokens(self, text: str) -> list[tuple[int, str]]:
        """(id, piece) of each token of `text`, from llama.cpp's /tokenize; [] when the backend cannot say."""
        response = self._send("POST", "/tokenize", {"content": text, "with_pieces": True})
        if response.status_code != 200:
            return []
        try:
            tokens = self._json(response).get("tokens", [])
        except (BackendError, AttributeError):
            return []
        return [
            (t["id"], t["piece"]) for t in tokens if isinstance(t, dict) and isinstance(t.get("piece"), str)
        ]  # a piece given as a byte list is part of a character: no Han character on its own

    def _banned(self, text: str) -> list[list]:
        ids = (i for i, piece in self._tokens(text) if any(is_non_japanese_han(ch) for ch in piece))
        return [[i, False] for i in dict.fromkeys(ids)]

    def logit_bias(self) -> list[list]:
        """The bans sent with every request (fetched from the backend once)."""
        with self._lock:
            if self._bias is None:
                self._bias = self._banned(_glyph_text()) if self.glyph_guard else []
            return self._bias

    # ── requests ──

    def adapter_fields(self, adapter: str | None) -> dict[str, Any]:
        """The request's `model`: the backend's name for the base model, or for `adapter`'s model."""
        if adapter is None:
            return {"model": self.spec.name}
        if adapter not in self.adapter_models:
            known = ", ".join(self.adapter_models) or "none"
            raise InputError(
                f"adapter {adapter!r} has no model on {self.where} (mapped: {known}); "
                f"map it with --backend-model {adapter}=NAME"
            )
        return {"model": self.adapter_models[adapter]}

    def _body(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if k != "lora"}
        body.setdefault("model", self.spec.name)
        bias = self.logit_bias()
        if bias:
            body["logit_bias"] = bias
        return body

    def request(self, body: dict[str, Any], on_chunk: Callable[[dict], bool | None] | None = None) -> dict | None:
        body = self._body(body)
        if on_chunk is not None:
            self._stream(body, on_chunk)
            return None
        result = self._complete(body)
        text = _content(result)
        if self.glyph_guard and any(is_non_japanese_han(ch) for ch in text):
            # ask once more with the tokens that wrote them banned; what is left, generate() rewrites
            extra = [b for b in self._banned(text) if b not in body.get("logit_bias", [])]
            if extra:
                result = self._complete({**body, "logit_bias": [*body.get("logit_bias", []), *extra]})
        return result

    def _complete(self, body: dict[str, Any]) -> dict:
        response = self._send("POST", "/v1/chat/completions", body)
        if response.status_code != 200:
            raise self._error(response)
        result = self._json(response)
        if not isinstance(result, dict):
            raise BackendError(f"{self.where} sent a reply that is not a chat completion")
        if "error" in result:
            raise self.error_from(result["error"])
        if not isinstance(result.get("choices"), list) or not result["choices"]:
            raise BackendError(f"{self.where} sent a chat completion without choices")
        _usage_as_timings(result)
        return result

    def _stream(self, body: dict[str, Any], on_chunk: Callable[[dict], bool | None]) -> None:
        """Server-sent events → on_chunk, one chat.completion.chunk at a time. Bytes are split into lines
        before they are decoded, so a character split across network reads arrives whole."""
        response = self._send("POST", "/v1/chat/completions", body, stream=True)
        try:
            if response.status_code != 200:
                raise self._error(response)
            buffer = b""
            for data in response.iter_bytes():
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if self._event(line, on_chunk):
                        return
            if buffer.strip():
                self._event(buffer, on_chunk)
        except httpx.TransportError as e:
            raise BackendError(f"{self.where} broke off the reply: {e or type(e).__name__}") from None
        finally:
            response.close()

    def _event(self, line: bytes, on_chunk: Callable[[dict], bool | None]) -> bool:
        """Hand one SSE line to on_chunk; True when the stream is over (or the caller stopped it)."""
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise GenerationError(f"{self.where} streamed text that is not UTF-8") from None
        if not text.startswith("data:"):
            return False  # comments, event names, keep-alives
        payload = text[5:].strip()
        if payload == "[DONE]":
            return True
        try:
            chunk = json.loads(payload)
        except json.JSONDecodeError:
            raise BackendError(f"{self.where} streamed an event that is not JSON") from None
        if isinstance(chunk, dict):
            _usage_as_timings(chunk)
            return bool(on_chunk(chunk))
        return False

    def probe(self, timeout: float = PROBE_TIMEOUT_S) -> str | None:
        """None when the backend answers /v1/models now and lists this model; else what is wrong, in a line.
        One quick try, no retries: this is for health checks, which must answer fast."""
        try:
            response = self._http().get("/v1/models", timeout=timeout)
        except httpx.TimeoutException:
            return f"{self.where} did not answer within {timeout:g} s"
        except httpx.TransportError as e:
            return f"{self.where} is not reachable ({e or type(e).__name__})"
        if response.status_code != 200:
            return f"{self.where} answered /v1/models with HTTP {response.status_code}"
        try:
            listed = {m.get("id") for m in response.json().get("data") or [] if isinstance(m, dict)}
        except (ValueError, AttributeError):
            return f"{self.where} answered /v1/models with something that is not a model list"
        missing = [m for m in (self.spec.name, *self.adapter_models.values()) if m not in listed]
        return f"{self.where} does not list {', '.join(missing)}" if missing else None

    def model_ids(self) -> list[str]:
        """The model names the backend lists at /v1/models."""
        response = self._send("GET", "/v1/models")
        if response.status_code != 200:
            raise self._error(response)
        data = self._json(response)
        return [m["id"] for m in (data.get("data") or []) if isinstance(m, dict) and "id" in m]


def _content(result: dict) -> str:
    message = (result.get("choices") or [{}])[0].get("message") or {}
    return message.get("content") or ""


def _usage_as_timings(result: dict) -> None:
    """Backends other than llama.cpp report token counts as `usage` only: give Stats what it reads."""
    usage = result.get("usage")
    if "timings" not in result and isinstance(usage, dict):
        result["timings"] = {
            "prompt_n": usage.get("prompt_tokens", 0),
            "predicted_n": usage.get("completion_tokens", 0),
        }


def connect(
    url: str,
    *,
    model: str | None = None,
    adapters: Mapping[str, str] | None = None,
    glyph_guard: bool = True,
    api_key: str | None = None,
    timeout: float = TIMEOUT_S,
    retries: int = RETRIES,
) -> RemoteModel:
    """A model on the OpenAI-compatible server at `url` (e.g. http://gpu-box:8080, with or without /v1).

    Args:
        model: the model's name on the backend; None: the first one its /v1/models lists (asked now).
        adapters: adapter name → the backend's model name for it (a LoRA the backend serves as a model).
        glyph_guard: ban and rewrite Han characters Japanese does not use (on by default).
        api_key: sent as `Authorization: Bearer KEY`.
        timeout: seconds a reply may take; retries: tries after the first on connection errors, 5xx and 429.

    Nothing is sent when `model` is given: a backend that is down fails the first request, naming its URL.
    """
    root = _root(url)
    remote = RemoteModel(
        spec=_spec(model or "", root),
        path=Path(),
        n_ctx=0,
        threads=0,
        glyph_guard=glyph_guard,
        adapters={name: i for i, name in enumerate(adapters or {})},
        url=root,
        adapter_models=dict(adapters or {}),
        api_key=api_key,
        timeout=timeout,
        retries=retries,
    )
    if not model:
        ids = remote.model_ids()
        if not ids:
            raise BackendError(f"{remote.where} lists no model at /v1/models: name one with --backend-model NAME")
        remote.spec = _spec(ids[0], root)
    return remote
