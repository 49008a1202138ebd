"""The FastAPI application: routes, API-key check, and errors in OpenAI's shape.

    app = create_app(ServerConfig(models=("small",)), api_key="secret")

Every error body is `{"error": {"message", "type", "param", "code"}}`, as OpenAI clients expect. Routes
live in their own modules (openai_api: the OpenAI-compatible API; visits: visits, charts, exports); a new
one (the monitor page, the live-audio WebSocket) is an APIRouter added to ROUTERS below, and reaches the
shared state through `services(request)` (kogata.serve.services.Services: models, queue, store, asr).
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from kogata.errors import GenerationError, InputError, KogataError, ModelError, SchemaError
from kogata.serve.queue import Cancelled, QueueFull
from kogata.serve.services import ModelNotFound, ServerConfig, Services
from kogata.store import ConflictError, NotFoundError

log = logging.getLogger("kogata.serve")


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
    if isinstance(exc, ConflictError):
        return ApiError(409, str(exc), code="version_conflict", headers={"x-should-retry": "false"})
    if isinstance(exc, SchemaError):
        return ApiError(400, str(exc), code="invalid_schema", param="response_format")
    if isinstance(exc, InputError):
        return ApiError(400, str(exc), code="invalid_input")
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
    if err.status >= 500 and not isinstance(exc, (QueueFull, ModelError, GenerationError)):
        log.error("request failed", exc_info=exc)  # masked by kogata.privacy's log filter
    return JSONResponse(
        error_body(str(err), err.type, err.code, err.param), status_code=err.status, headers=err.headers
    )


class ApiKeyMiddleware:
    """Every HTTP request needs `Authorization: Bearer KEY`; a WebSocket may give it as `?api_key=KEY`
    instead (browsers cannot set headers on a WebSocket). `public` paths (a static page that holds no
    patient data and asks for the key itself) are served without it."""

    def __init__(self, app: ASGIApp, api_key: str, public: frozenset[str] = frozenset()):
        self.app = app
        self.api_key = api_key.encode()
        self.public = public

    def authorized(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"")
        if given[:7].lower() == b"bearer ":
            return secrets.compare_digest(given[7:].strip(), self.api_key)
        if scope["type"] == "websocket":
            from urllib.parse import parse_qs

            keys = parse_qs(scope.get("query_string", b"").decode()).get("api_key", [])
            return bool(keys) and secrets.compare_digest(keys[0].encode(), self.api_key)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path") in self.public or self.authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "invalid or missing API key"})
            return
        response = JSONResponse(
            error_body(
                "invalid or missing API key: send `Authorization: Bearer KEY`",
                "invalid_request_error",
                "invalid_api_key",
            ),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


def services(request: Any) -> Services:
    """The shared state, from a route's Request (or WebSocket)."""
    return request.app.state.services


def create_app(
    setup: ServerConfig | Services | None = None,
    *,
    api_key: str | None = None,
    public_paths: frozenset[str] = frozenset(),
) -> FastAPI:
    """The server app, from a config (models load when it starts) or from Services already made (two apps can
    share one loaded model). With `api_key`, every request but those to `public_paths` must carry it."""
    from kogata.serve import live, openai_api, page, visits

    state = setup if isinstance(setup, Services) else Services(setup or ServerConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.start_loading()
        yield

    app = FastAPI(
        title="kogata", summary="Offline Japanese chart drafting: OpenAI-compatible API and visits", lifespan=lifespan
    )
    app.state.services = state
    for router in (openai_api.router, visits.router, live.router, page.router):  # ROUTERS
        app.include_router(router)

    @app.get("/health")
    async def health() -> dict:
        return state.state()

    @app.exception_handler(Exception)
    async def kogata_errors(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        )
        return JSONResponse(
            error_body(f"invalid request: {problems}", "invalid_request_error", "invalid_request"), status_code=400
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(str(exc.detail), "invalid_request_error", None),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    for kind in (KogataError, QueueFull, Cancelled, ApiError):
        app.add_exception_handler(kind, kogata_errors)
    if api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key, public=public_paths | page.PUBLIC_PATHS)
    return app


__all__ = ["ApiError", "ApiKeyMiddleware", "ServerConfig", "Services", "create_app", "error_response", "services"]
