"""The FastAPI application: routers, API-key check, and errors in OpenAI's shape.

    app = create_app(ServerConfig(models=("small",)), api_key="secret")

Routes live in their own modules (openai_api: the OpenAI-compatible API; visits: visits, charts, exports;
live: the live-audio WebSocket; page: the monitor page); a new one is an APIRouter added to ROUTERS below, and
reaches the shared state and the error mapping through `kogata.serve.deps`.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from kogata.errors import KogataError
from kogata.serve import live, openai_api, page, visits
from kogata.serve.deps import ApiError, error_body, error_response
from kogata.serve.guard import BodyGuard, HostOriginGuard, allowed_hosts
from kogata.serve.queue import Cancelled, QueueFull
from kogata.serve.services import ServerConfig, Services

ROUTERS = (openai_api.router, visits.router, live.router, page.router)


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(BaseModel):
    """Every error, as OpenAI clients expect it."""

    error: ErrorDetail


ERRORS = {
    status: {"model": ErrorBody, "description": what}
    for status, what in {
        400: "invalid request: `param` names the field",
        401: "invalid or missing API key",
        403: "a foreign Origin",
        404: "no such visit, version or model",
        409: "an edit or signature on a version that is no longer the latest, nothing to sign, or already signed",
        413: "the request body is too large",
        503: "the queue is full (Retry-After) or the model is unavailable",
    }.items()
}


def openapi_without_422(app: FastAPI) -> dict:
    """FastAPI documents request-validation errors as 422; kogata answers them with 400 in OpenAI's shape."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


KEY_SUBPROTOCOL = "kogata.key."  # a WebSocket offers ["kogata", "kogata.key.KEY"]; the server picks "kogata"


def websocket_key(scope: Scope) -> bytes | None:
    """The key a WebSocket offered as the subprotocol `kogata.key.KEY`, or None."""
    for offered in scope.get("subprotocols") or ():
        if offered.startswith(KEY_SUBPROTOCOL):
            return offered[len(KEY_SUBPROTOCOL) :].encode()
    return None


class ApiKeyMiddleware:
    """Every HTTP request needs `Authorization: Bearer KEY`. A WebSocket may carry the same header, or (browsers
    cannot set headers on a WebSocket) offer the subprotocols ["kogata", "kogata.key.KEY"]; the older `?api_key=KEY`
    still works but puts the key in the URL (logs redact it). `public` paths (a static page that holds no patient
    data and asks for the key itself) are served without it."""

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
            offered = websocket_key(scope)
            if offered is not None:
                return secrets.compare_digest(offered, self.api_key)
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


def field_path(loc: tuple) -> str | None:
    """A pydantic error location as an OpenAI `param`: ("body", "utterances", 2, "start") → utterances[2].start."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
    return path or None


def create_app(
    setup: ServerConfig | Services | None = None,
    *,
    api_key: str | None = None,
    public_paths: frozenset[str] = frozenset(),
    host: str = "127.0.0.1",
    hosts: tuple[str, ...] = (),
    origins: tuple[str, ...] = (),
    max_live: int = live.MAX_LIVE,
) -> FastAPI:
    """The server app, from a config (models load when it starts) or from Services already made (two apps can
    share one loaded model). With `api_key`, every request but those to `public_paths` must carry it.
    A request's Host must be loopback, `host` (the address bound) or one of `hosts`; a state-changing request or
    a WebSocket with an Origin must come from one of those hosts or from `origins` (kogata.serve.guard)."""
    state = setup if isinstance(setup, Services) else Services(setup or ServerConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.start_loading()
        yield

    app = FastAPI(
        title="kogata", summary="Offline Japanese chart drafting: OpenAI-compatible API and visits", lifespan=lifespan
    )
    app.state.services = state
    app.state.max_live = max_live  # live visits (WebSockets) open at once
    for router in ROUTERS:
        app.include_router(router, responses=ERRORS)
    app.openapi = lambda: openapi_without_422(app)

    @app.get(
        "/health",
        responses={
            503: {
                "description": "a model failed to load or its backend does not answer (charts that name no model"
                " are still written: `charts` says by what)"
            }
        },
    )
    def health() -> JSONResponse:  # not async: asking a generation backend blocks for up to a probe's timeout
        health = state.state()
        return JSONResponse(health, status_code=503 if health["status"] == "error" else 200)

    @app.exception_handler(Exception)
    async def kogata_errors(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        problems = "; ".join(f"{field_path(e['loc']) or 'body'}: {e['msg']}" for e in errors[:5])
        return JSONResponse(
            error_body(
                f"invalid request: {problems}",
                "invalid_request_error",
                "invalid_request",
                field_path(errors[0]["loc"]) if errors else None,
            ),
            status_code=400,
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
    app.add_middleware(BodyGuard)  # innermost: after the key is checked, before FastAPI parses the body
    if api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key, public=public_paths | page.PUBLIC_PATHS)
    app.add_middleware(HostOriginGuard, hosts=allowed_hosts(host, hosts), origins=frozenset(origins))
    return app


__all__ = ["ROUTERS", "ApiKeyMiddleware", "ServerConfig", "Services", "create_app"]
