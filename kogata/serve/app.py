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
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from kogata.errors import KogataError
from kogata.serve import live, openai_api, page, visits
from kogata.serve.deps import ApiError, error_body, error_response
from kogata.serve.queue import Cancelled, QueueFull
from kogata.serve.services import ServerConfig, Services

ROUTERS = (openai_api.router, visits.router, live.router, page.router)


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


def create_app(
    setup: ServerConfig | Services | None = None,
    *,
    api_key: str | None = None,
    public_paths: frozenset[str] = frozenset(),
) -> FastAPI:
    """The server app, from a config (models load when it starts) or from Services already made (two apps can
    share one loaded model). With `api_key`, every request but those to `public_paths` must carry it."""
    state = setup if isinstance(setup, Services) else Services(setup or ServerConfig())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.start_loading()
        yield

    app = FastAPI(
        title="kogata", summary="Offline Japanese chart drafting: OpenAI-compatible API and visits", lifespan=lifespan
    )
    app.state.services = state
    for router in ROUTERS:
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


__all__ = ["ROUTERS", "ApiKeyMiddleware", "ServerConfig", "Services", "create_app"]
