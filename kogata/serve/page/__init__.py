"""The monitor page: static HTML, CSS and plain JavaScript served by `kogata serve` at `/` (no build step, nothing
fetched from the network). The page itself holds no patient data, so it is served without the API key; every
call it makes to /v1 carries the key the user typed (kept in the tab's sessionStorage only)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

HERE = Path(__file__).resolve().parent
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "capture.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
PUBLIC_PATHS = frozenset({"/", *(f"/page/{name}" for name in FILES)})

router = APIRouter(include_in_schema=False)


def _file(name: str) -> FileResponse:
    # no-cache: a page from an older kogata must not outlive an upgrade in the browser's cache
    return FileResponse(HERE / name, media_type=FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/")
def index() -> FileResponse:
    return _file("index.html")


@router.get("/page/{name}")
def asset(name: str) -> FileResponse:
    if name not in FILES:
        from starlette.exceptions import HTTPException

        raise HTTPException(404, f"no page file {name!r}")
    return _file(name)
