"""What the routers depend on: the shared services (models, queue, visit store, recogniser, settings), errors in
OpenAI's shape, and running work in the model queue while watching the client.

Every error body is `{"error": {"message", "type", "param", "code"}}`, as OpenAI clients expect; `api_error`
maps kogata's exceptions to their HTTP status. A router imports from here, never from `kogata.serve.app`,
which imports the routers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from kogata.errors import GenerationError, InputError, KogataError, ModelError, SchemaError
from kogata.serve.queue import Cancelled, Job, QueueFull
from kogata.serve.services import ModelNotFound, ServerConfig, Services
from kogata.store import ConflictError, NotFoundError, StoreUnavailable, VisitStore

log = logging.getLogger("kogata.serve")

DISCONNECT_POLL_S = 0.2


class ApiError(Exception):
    """An error with its HTTP status and OpenAI error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.type, self.code, self.param, self.headers = status, type, code, param, headers or {}


def error_body(message: str, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def api_error(exc: BaseException) -> ApiError:
    """The HTTP error for an exception raised by kogata (or the queue)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, QueueFull):
        return ApiError(
            503, str(exc), type="server_error", code="queue_full", headers={"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, (ModelNotFound, NotFoundError)):
        code = "model_not_found" if isinstance(exc, ModelNotFound) else "not_found"
        return ApiError(404, str(exc), code=code, param="model" if isinstance(exc, ModelNotFound) else None)
    if isinstance(exc, StoreUnavailable):  # PostgreSQL restarting or failing over: a retry may well succeed
        return ApiError(503, str(exc), type="server_error", code="store_unavailable", headers={"Retry-After": "2"})
    if isinstance(exc, ConflictError):
        return ApiError(409, str(exc), code="version_conflict", headers={"x-should-retry": "false"})
    if isinstance(exc, SchemaError):
        return ApiError(400, str(exc), code="invalid_schema", param="response_format")
    if isinstance(exc, InputError):  # the store's FieldError names its field
        return ApiError(400, str(exc), code="invalid_input", param=getattr(exc, "param", None))
    # Retrying a failed generation or a broken model will not help: tell OpenAI clients not to.
    if isinstance(exc, ModelError):
        return ApiError(
            503, str(exc), type="server_error", code="model_unavailable", headers={"x-should-retry": "false"}
        )
    if isinstance(exc, GenerationError):
        return ApiError(
            500, str(exc), type="server_error", code="generation_failed", headers={"x-should-retry": "false"}
        )
    if isinstance(exc, Cancelled):
        return ApiError(499, "the client closed the request", code="cancelled")
    if isinstance(exc, KogataError):
        return ApiError(400, str(exc))
    return ApiError(
        500, "internal error (see the server log)", type="server_error", headers={"x-should-retry": "false"}
    )


def error_response(exc: BaseException) -> JSONResponse:
    err = api_error(exc)
    if err.status >= 500 and not isinstance(exc, (QueueFull, ModelError, GenerationError, StoreUnavailable)):
        log.error("request failed", exc_info=exc)  # masked by kogata.privacy's log filter
    return JSONResponse(
        error_body(str(err), err.type, err.code, err.param), status_code=err.status, headers=err.headers
    )


# ── the shared state, from a route's Request (or WebSocket) ──


def services(request: Any) -> Services:
    """The shared state: loaded models, queue, visit store, recogniser."""
    return request.app.state.services


def store(request: Any) -> VisitStore:
    """The visit store."""
    return services(request).store


def settings(request: Any) -> ServerConfig:
    """What the server was started with."""
    return services(request).config


# ── model work: through the queue, cancelled when the client leaves ──


async def finish(job: Job, request: Request) -> Any:
    """The job's result; if the client disconnects first, the job is cancelled (and Cancelled raised)."""
    result = asyncio.ensure_future(job.result())
    try:
        while True:
            done, _ = await asyncio.wait({result}, timeout=DISCONNECT_POLL_S)
            if done:
                return result.result()
            if await request.is_disconnected():
                job.cancel()
                raise Cancelled("the client disconnected")
    finally:
        if not result.done():
            result.cancel()


def submit(request: Request, work: Callable[[Job], Any]) -> Job:
    return services(request).queue.submit(work)
