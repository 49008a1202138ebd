"""The OpenAI-compatible API: chat completions (streamed or not, JSON-schema enforced), models, embeddings,
and audio transcriptions. The official `openai` client works unchanged against it (tests/test_serve.py).

Differences from OpenAI, on purpose: `temperature` defaults to 0 (repeatable answers); a JSON schema
constrained decoding cannot fully enforce is refused with 400 instead of being half-applied; embeddings take
an extra `input_type` ("query", the default, or "passage": e5 embeds the two roles differently).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import Send

from kogata.engine.embed import EMBEDDING_DIM, EMBEDDING_MODEL, embed, token_count
from kogata.engine.generate import MAX_SEED, Stats, parse_json_output, stream_generate, to_messages
from kogata.engine.schema import check_schema
from kogata.errors import KogataError
from kogata.serve.deps import ApiError, api_error, error_body, finish, services, settings, submit
from kogata.serve.queue import Cancelled, Job
from kogata.serve.services import speech_module
from kogata.transcript.formats import utterance_dict

router = APIRouter(prefix="/v1")
log = logging.getLogger("kogata.serve")

DEFAULT_MAX_TOKENS = 1024
EMBEDDING_ALIASES = {EMBEDDING_MODEL, "e5", "intfloat/multilingual-e5-small"}
MAX_AUDIO_BYTES = 200 * 1024 * 1024


# ── helpers shared by the routes (and by the live-audio route to come) ──


class CancellingStream(StreamingResponse):
    """A StreamingResponse that calls `on_close` however the stream ends: finished, or the client gone
    (Starlette then cancels the send loop, and the model must stop generating for nobody)."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None], **kwargs: Any):
        super().__init__(content, **kwargs)
        self.on_close = on_close

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            self.on_close()


# ── chat completions ──


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # clients send fields kogata has no use for (top_p, user …)
    model: str
    messages: list[ChatMessage]
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    max_tokens: int | None = Field(None, ge=1, description="1 to the model's context size")
    max_completion_tokens: int | None = Field(None, ge=1, description="1 to the model's context size")
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False)
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description=f"0 to {MAX_SEED}")
    stop: str | list[str] | None = None
    response_format: dict[str, Any] | None = None
    n: int | None = None
    tools: list[Any] | None = None


def _messages(request: ChatRequest) -> list[dict[str, str]]:
    out = []
    for i, m in enumerate(request.messages):
        role = "system" if m.role == "developer" else m.role
        if role not in ("system", "user", "assistant"):
            raise ApiError(
                400,
                f"messages[{i}]: role {m.role!r} is not supported (system, user, assistant)",
                param=f"messages[{i}].role",
            )
        content = m.content or ""
        if isinstance(content, list):
            kinds = {p.get("type") for p in content} - {"text"}
            if kinds:
                raise ApiError(
                    400,
                    f"messages[{i}]: only text content is supported, not {', '.join(map(str, kinds))}",
                    param=f"messages[{i}].content",
                )
            content = "".join(str(p.get("text", "")) for p in content)
        out.append({"role": role, "content": content})
    return to_messages(out)


def _schema(response_format: dict[str, Any] | None) -> dict | None:
    """The JSON schema a response_format asks for (None: free text); 400 for anything not enforceable."""
    if not response_format:
        return None
    kind = response_format.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise ApiError(
                400, "response_format.json_schema.schema is missing", param="response_format", code="invalid_schema"
            )
        check_schema(spec["schema"])  # SchemaError → 400, before the request waits in line
        return spec["schema"]
    raise ApiError(
        400, f"response_format type {kind!r} is not supported (text, json_object, json_schema)", param="response_format"
    )


def _usage(stats: Stats | None) -> dict[str, int]:
    prompt = stats.prompt_tokens if stats else 0
    completion = stats.completion_tokens if stats else 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


@router.post("/chat/completions")
async def chat_completions(body: ChatRequest, request: Request) -> Response:
    svc = services(request)
    target = svc.resolve(body.model)
    messages = _messages(body)
    schema = _schema(body.response_format)
    if (body.n or 1) != 1:
        raise ApiError(400, "n must be 1 (one answer per request)", param="n")
    if body.tools:
        raise ApiError(400, "tools are not supported", param="tools")
    max_tokens, max_param = next(
        (
            (v, name)
            for name, v in (("max_completion_tokens", body.max_completion_tokens), ("max_tokens", body.max_tokens))
            if v is not None
        ),
        (DEFAULT_MAX_TOKENS, None),
    )
    n_ctx = settings(request).n_ctx
    if max_param and not 1 <= max_tokens <= n_ctx:  # a huge count would wrap to a small or negative C int
        raise ApiError(400, f"{max_param} must be 1 to {n_ctx} (the context size), not {max_tokens}", param=max_param)
    max_tokens = min(max_tokens, n_ctx)
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    options = dict(
        max_tokens=max_tokens,
        temperature=body.temperature if body.temperature is not None else 0.0,
        seed=body.seed,
        json_schema=schema,
        adapter=target.adapter,
        stop=stop,
    )

    def work(job: Job) -> tuple[str, Stats | None]:
        stream = stream_generate(svc.model(target.base), messages, **options)
        pieces = []
        iterator = iter(stream)
        try:
            for piece in iterator:
                if job.cancelled.is_set():
                    break
                pieces.append(piece)
                if body.stream:
                    job.emit(piece)
        finally:
            iterator.close()  # stops the model now, not when the iterator is collected
        return "".join(pieces), stream.stats

    job = submit(request, work)  # QueueFull → 503 before any byte is sent
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def checked(text: str, stats: Stats | None) -> str:
        finish_reason = stats.finish_reason if stats else ""
        if schema is not None and finish_reason != "length":  # a cut-off answer says so in finish_reason
            parse_json_output(text, schema, finish_reason=finish_reason, max_tokens=max_tokens)
        return finish_reason or "stop"

    if not body.stream:
        text, stats = await finish(job, request)
        finish_reason = checked(text, stats)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": target.id,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason,
                        "logprobs": None,
                    }
                ],
                "usage": _usage(stats),
            }
        )

    def chunk(delta: dict, finish_reason: str | None = None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": target.id,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    async def events() -> AsyncIterator[str]:
        yield chunk({"role": "assistant", "content": ""})
        try:
            async for piece in job.pieces():
                yield chunk({"content": piece})
            text, stats = await job.result()
            finish_reason = checked(text, stats)
        except Exception as e:  # headers are sent: the error travels as an event
            if not isinstance(e, (KogataError, Cancelled)):
                log.error("stream failed", exc_info=e)  # masked by kogata.privacy's log filter
            err = api_error(e)
            yield f"data: {json.dumps(error_body(str(err), err.type, err.code, err.param), ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"
            return
        yield chunk({}, finish_reason)
        if (body.stream_options or {}).get("include_usage"):
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": target.id,
                "choices": [],
                "usage": _usage(stats),
            }
            yield f"data: {json.dumps(payload)}\n\n"
        yield "data: [DONE]\n\n"

    return CancellingStream(
        events(),
        on_close=job.cancel,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ── models ──


@router.get("/models")
async def list_models(request: Request) -> dict:
    ids = services(request).model_ids() + [EMBEDDING_MODEL]
    return {"object": "list", "data": [{"id": i, "object": "model", "created": 0, "owned_by": "kogata"} for i in ids]}


@router.get("/models/{model_id:path}")
async def get_model(model_id: str, request: Request) -> dict:
    if model_id not in EMBEDDING_ALIASES:
        model_id = services(request).resolve(model_id).id
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "kogata"}


# ── embeddings ──


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None
    input_type: Literal["query", "passage"] = "query"


@router.post("/embeddings")
async def embeddings(body: EmbeddingRequest) -> dict:
    if body.model not in EMBEDDING_ALIASES:
        raise ApiError(
            404,
            f"embedding model {body.model!r} is not served here; use {EMBEDDING_MODEL!r}",
            param="model",
            code="model_not_found",
        )
    if body.dimensions not in (None, EMBEDDING_DIM):
        raise ApiError(
            400, f"{EMBEDDING_MODEL} gives {EMBEDDING_DIM} dimensions, not {body.dimensions}", param="dimensions"
        )
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ApiError(400, "input must be a text or a list of texts (token ids are not accepted)", param="input")

    def run() -> tuple[np.ndarray, int]:
        vectors = embed(texts, role=body.input_type)
        return vectors, sum(token_count(t) for t in texts)

    vectors, tokens = await run_in_threadpool(run)
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode()
            if body.encoding_format == "base64"
            else v.tolist(),
        }
        for i, v in enumerate(vectors)
    ]
    return {
        "object": "list",
        "data": data,
        "model": EMBEDDING_MODEL,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# ── audio transcriptions ──


@router.post("/audio/transcriptions")
async def audio_transcriptions(
    request: Request,
    file: UploadFile = File(...),
    model: str = Form("whisper-base"),
    response_format: str = Form("json"),
    language: str | None = Form(None),
    prompt: str | None = Form(None),
) -> Response:
    if response_format not in ("json", "text", "srt", "verbose_json"):
        raise ApiError(
            400,
            f"response_format {response_format!r} is not supported (json, text, srt, verbose_json)",
            param="response_format",
        )
    if language not in (None, "", "ja"):
        raise ApiError(400, f"only Japanese (ja) is recognised, not {language!r}", param="language")
    audio = await file.read(MAX_AUDIO_BYTES + 1)
    if len(audio) > MAX_AUDIO_BYTES:
        raise ApiError(413, f"the audio file is over {MAX_AUDIO_BYTES // 2**20} MB", param="file")
    if not audio:
        raise ApiError(400, "the audio file is empty", param="file")
    svc = services(request)
    # OpenAI's `prompt` steers the recogniser's vocabulary: here its terms (、 or , separated) join the medical
    # glossary, for the initial prompt and the sound-alike correction.
    terms = [w.strip() for w in (prompt or "").replace("、", ",").split(",") if w.strip()]

    def work(job: Job) -> Any:
        speech = speech_module()
        glossary = speech.Glossary.from_terms(terms).merged(speech.glossary.default()) if terms else None
        return speech.transcribe(audio, asr=svc.asr(), glossary=glossary)

    start = time.perf_counter()
    transcript = await finish(submit(request, work), request)
    text = "\n".join(u.text for u in transcript.utterances)
    if response_format == "text":
        return PlainTextResponse(text)
    if response_format == "srt":
        from kogata.transcript.formats import to_srt

        return PlainTextResponse(to_srt(transcript.utterances))
    if response_format == "json":
        return JSONResponse({"text": text})
    duration = max((u.end or 0.0 for u in transcript.utterances), default=0.0)
    return JSONResponse(
        {
            "task": "transcribe",
            "language": "japanese",
            "duration": duration,
            "text": text,
            # OpenAI's id, start, end and text; beside them kogata's speaker label and, where the recogniser guessed
            # it, speaker_confidence (0–1) and speaker_sure (false: shown as 患者?)
            "segments": [utterance_dict(u) for u in transcript.utterances],
            "processing_seconds": round(time.perf_counter() - start, 3),
        }
    )
