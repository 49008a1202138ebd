"""Guards in front of every route: request bodies no parser chokes on, and requests only from this machine's pages.

`BodyGuard` reads a JSON body before FastAPI does and refuses, with 4xx in OpenAI's error shape and the field named:
a body over MAX_BODY_BYTES (413), nesting deeper than MAX_BODY_DEPTH (Python's json and pydantic would end in
RecursionError, a 500), numbers that are not finite (NaN, Infinity, 1e999: JSON has none of them, yet Python's json
reads them), and strings holding a lone surrogate (\\ud800: not Unicode, SQLite and UTF-8 cannot store it).
Multipart uploads (audio) pass untouched; their own route bounds them.

`HostOriginGuard` protects a server on 127.0.0.1 from web pages the browser loaded elsewhere: a Host header that is
not an address of this server is refused with 400 (DNS rebinding: evil.example resolving to 127.0.0.1), and a
state-changing request (POST, PUT, PATCH, DELETE) or a WebSocket from a foreign Origin with 403. Requests without
an Origin (curl, scripts, the openai client) and same-origin pages pass.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kogata.serve.deps import error_body

MAX_BODY_BYTES = 8 * 1024 * 1024  # a JSON body; a 60,000-character transcript is under 200 KB
MAX_BODY_DEPTH = 100  # objects and arrays; a json_schema deeper than engine.schema.MAX_DEPTH (64) is refused there
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NUMBER_WORDS = re.compile(r"NaN|Infinity|\d[eE]\+?\d{3}")
FORM_TYPES = (b"multipart/form-data", b"application/x-www-form-urlencoded")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


class BodyError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.param = status, param


def _param(path: list) -> str | None:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or None


def too_deep(text: str, limit: int = MAX_BODY_DEPTH) -> list | None:
    """The path (keys and indexes) where `text` nests deeper than `limit`, or None; a linear scan, no recursion."""
    stack: list[list] = []  # per open container: [is_object, key or index, expecting_key]
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in "{[":
            if len(stack) >= limit:
                return [entry[1] for entry in stack]
            stack.append([token == "{", None if token == "{" else 0, token == "{"])
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ",":
            if stack:
                top = stack[-1]
                if top[0]:
                    top[2] = True
                elif isinstance(top[1], int):
                    top[1] += 1
        elif token == ":":
            if stack:
                stack[-1][2] = False
        elif stack and stack[-1][0] and stack[-1][2]:  # a key
            try:
                stack[-1][1] = json.loads(token)
            except ValueError:
                stack[-1][1] = token.strip('"')
    return None


def bad_value(doc: Any) -> tuple[list, str] | None:
    """The first value JSON cannot carry: (its path, what is wrong), or None. Iterative (depth already bounded)."""
    todo: list[tuple[Any, list]] = [(doc, [])]
    while todo:
        value, path = todo.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path, f"is {value}; JSON numbers are finite"
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as e:
                return path, f"holds a lone surrogate at character {e.start} (not Unicode text)"
        elif isinstance(value, dict):
            for k, v in reversed(list(value.items())):
                try:
                    k.encode("utf-8")
                except UnicodeEncodeError:
                    return path, "has a key with a lone surrogate (not Unicode text)"
                todo.append((v, path + [k]))
        elif isinstance(value, list):
            todo.extend((v, path + [i]) for i, v in reversed(list(enumerate(value))))
    return None


def check_body(body: bytes) -> None:
    """BodyError for a JSON body kogata refuses; a body that is not JSON at all is left to FastAPI (400)."""
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(413, f"the request body is {len(body):,} bytes; at most {MAX_BODY_BYTES:,}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "the request body is not UTF-8 text") from None
    deep = too_deep(text)
    if deep is not None:
        where = _param(deep[:3])  # the field it starts in; the full path would be a hundred levels long
        raise BodyError(400, f"{where or 'the body'} is nested more than {MAX_BODY_DEPTH} levels deep", where)
    if not (_SURROGATE_ESCAPE.search(text) or _NUMBER_WORDS.search(text)):
        return  # the common case: nothing the walk below could find
    try:
        doc = json.loads(text)
    except ValueError:
        return
    found = bad_value(doc)
    if found is not None:
        path, problem = found
        raise BodyError(400, f"{_param(path) or 'the body'} {problem}", _param(path))


class BodyGuard:
    """Read a JSON body whole (bounded), check it, and hand it on; see the module docstring."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if headers.get(b"content-type", b"").split(b";")[0].strip().lower() in FORM_TYPES:
            await self.app(scope, receive, send)
            return
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > self.max_bytes:
                raise BodyError(413, f"the request body is {declared:,} bytes; at most {self.max_bytes:,}")
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    raise BodyError(413, f"the request body is over {self.max_bytes:,} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            if body:
                check_body(body)
        except BodyError as e:
            code = "body_too_large" if e.status == 413 else "invalid_request"
            response = JSONResponse(error_body(str(e), "invalid_request_error", code, e.param), status_code=e.status)
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# ── Host and Origin ──


def _host_name(value: str) -> str:
    """The host part of a Host header or an origin's netloc, lower-cased ("[::1]:8000" → "[::1]")."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names a Host header may carry: loopback names, the bound address (unless a wildcard), and `extra`."""
    names = set(LOOPBACK_NAMES) | {h.strip().lower() for h in extra if h.strip()}
    bound = bound.strip().lower()
    if bound and bound not in ("0.0.0.0", "::", "[::]"):
        try:
            names.add(f"[{bound.strip('[]')}]" if ipaddress.ip_address(bound.strip("[]")).version == 6 else bound)
        except ValueError:
            names.add(bound)
    return frozenset(names)


class HostOriginGuard:
    """400 for a Host not in `hosts`; 403 for a foreign Origin on a state-changing request or a WebSocket.
    An origin is "same" when its host is one `hosts` allows (any port: the page and the API may differ) or it is
    one of `origins` (as the browser sends it: scheme://host[:port])."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], origins: frozenset[str] = frozenset()):
        self.app = app
        self.hosts = hosts
        self.origins = frozenset(o.strip().rstrip("/").lower() for o in origins if o.strip())

    def origin_allowed(self, origin: str) -> bool:
        origin = origin.strip().rstrip("/").lower()
        if origin in self.origins:
            return True
        scheme, sep, rest = origin.partition("://")
        return bool(sep) and scheme in ("http", "https", "ws", "wss") and _host_name(rest) in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        status, message = 0, ""
        if host and _host_name(host) not in self.hosts:
            status, message = 400, f"host {host!r} is not this server's (start it with --allowed-host NAME)"
        elif b"origin" in headers and (scope["type"] == "websocket" or scope.get("method") in STATE_CHANGING):
            origin = headers[b"origin"].decode("latin-1")
            if not self.origin_allowed(origin):  # "null" (a sandboxed or file:// page) is foreign too
                status, message = 403, f"origin {origin!r} may not use this server (--allowed-origin adds one)"
        if not status:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            return
        code = "invalid_host" if status == 400 else "forbidden_origin"
        response = JSONResponse(error_body(message, "invalid_request_error", code), status_code=status)
        await response(scope, receive, send)
