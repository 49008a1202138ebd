"""Visits over HTTP: start one, append utterances as they are said, draft a chart, let the doctor edit it,
export it (Markdown, FHIR, JSON; masked on request). Also `POST /v1/karte`, a transcript in, a chart out.

Store calls are plain (blocking) functions, so those routes are `def` and run in FastAPI's thread pool: an
fsync never stalls a stream. Who did something is the `X-Kogata-User` header (or an edit's `author`); the
API key says only that the caller may use the server. Every read and write is in the store's audit log.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from starlette.concurrency import run_in_threadpool

from kogata.engine.schema import validation_errors
from kogata.privacy import mask_json, mask_text
from kogata.serve import charts
from kogata.serve.deps import ApiError, finish, services, submit
from kogata.serve.queue import Job
from kogata.store import visit_transcript
from kogata.store.visits import MAX_BATCH, MAX_SECONDS, MAX_SPEAKER_CHARS, MAX_UTTERANCE_CHARS
from kogata.tasks.karte import CHART_SCHEMA, Chart
from kogata.transcript import Transcript, from_records, parse_transcript

router = APIRouter(prefix="/v1")
Format = Literal["json", "md", "fhir"]


def actor(request: Request, given: str | None = None) -> str:
    name = (given or request.headers.get("x-kogata-user") or "api").strip()
    return name[:80] or "api"


# ── rendering a chart ──


def render(
    chart: Chart, fmt: str, *, mask: bool = False, show_unsupported: bool = False, extra: dict | None = None
) -> Response:
    """A chart as a response: JSON contract (plus `extra` fields), Markdown, or a FHIR Bundle."""
    if fmt == "md":
        from kogata.render.markdown import chart_markdown

        text = chart_markdown(chart, show_unsupported=show_unsupported)
        return PlainTextResponse(mask_text(text) if mask else text, media_type="text/markdown; charset=utf-8")
    if fmt == "fhir":
        from kogata.render.fhir import chart_bundle

        bundle = chart_bundle(chart, show_unsupported=show_unsupported)
        return JSONResponse(mask_json(bundle) if mask else bundle, media_type="application/fhir+json")
    body = {**(extra or {}), "chart": chart.to_dict()} if extra else chart.to_dict()
    return JSONResponse(mask_json(body) if mask else body)


# ── transcript → chart, statelessly ──


class KarteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transcript: str | dict[str, Any] | list[dict[str, Any]] = Field(
        description='`医師：…` lines, {"utterances": [...]}, or the list of utterances'
    )
    format: Format = "json"
    model: str | None = None
    show_unsupported: bool = False


def read_request_transcript(value: str | dict | list) -> Transcript:
    if isinstance(value, str):
        return parse_transcript(value, source="request")
    return from_records(value, source="request")


@router.post("/karte")
async def karte_route(body: KarteRequest, request: Request) -> Response:
    svc = services(request)
    target = svc.resolve(body.model)
    transcript = read_request_transcript(body.transcript)  # TranscriptError → 400 before the line

    def work(job: Job) -> Chart:
        return charts.draft(svc, target, transcript)

    chart = await finish(submit(request, work), request)
    return render(chart, body.format, show_unsupported=body.show_unsupported)


# ── visits ──


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=200)


Seconds = Field(
    None, ge=0, le=MAX_SECONDS, allow_inf_nan=False, strict=True, description="seconds from the visit's start"
)
Speaker = Field(min_length=1, max_length=MAX_SPEAKER_CHARS, description="医師, 患者 …")
Text = Field(min_length=1, max_length=MAX_UTTERANCE_CHARS)


def _end_after_start(end: float | None, info: ValidationInfo) -> float | None:
    start = info.data.get("start")
    if end is not None and start is not None and end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    return end


def _not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


class UtteranceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str = Speaker
    text: str = Text
    start: float | None = Seconds
    end: float | None = Seconds

    _end = field_validator("end")(_end_after_start)
    _blank = field_validator("speaker", "text")(_not_blank)


class UtterancesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str | None = Field(None, min_length=1, max_length=MAX_SPEAKER_CHARS)
    text: str | None = Field(None, min_length=1, max_length=MAX_UTTERANCE_CHARS)
    start: float | None = Seconds
    end: float | None = Seconds
    utterances: list[UtteranceIn] | None = Field(None, min_length=1, max_length=MAX_BATCH)

    _end = field_validator("end")(_end_after_start)
    _blank = field_validator("speaker", "text")(_not_blank)


class UtteranceFix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str | None = Field(None, min_length=1, max_length=MAX_SPEAKER_CHARS)
    text: str | None = Field(None, min_length=1, max_length=MAX_UTTERANCE_CHARS)
    author: str | None = Field(None, max_length=80)

    _blank = field_validator("speaker", "text")(_not_blank)


class ChartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = None


class ChartEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chart: dict[str, Any]
    author: str | None = Field(None, max_length=80)
    base_version: int | None = Field(None, ge=0, description="the version the edit was made on (0: none yet; required)")


@router.post("/visits", status_code=201)
def create_visit(request: Request, body: VisitCreate | None = None) -> dict:
    visit = services(request).store.create_visit(actor=actor(request), title=body.title if body else "")
    return {"id": visit.id, "created_at": visit.created_at, "created_by": visit.created_by, "title": visit.title}


@router.get("/visits")
def list_visits(request: Request, limit: int = Query(50, ge=1, le=500)) -> dict:
    return {"visits": [v.__dict__ for v in services(request).store.visits(limit)]}


@router.get("/visits/{visit_id}")
def get_visit(visit_id: str, request: Request) -> dict:
    store = services(request).store
    record = store.record(visit_id)
    store.audit("visit.read", actor=actor(request), visit_id=visit_id)
    return record


@router.post("/visits/{visit_id}/utterances", status_code=201)
def append_utterances(visit_id: str, body: UtterancesIn, request: Request) -> dict:
    """One utterance ({speaker, text, start, end}) or several ({"utterances": [...]}). Several are stored in one
    transaction: all of them, or (one bad item: 400 naming it) none. When this answers, they are on disk."""
    store, who = services(request).store, actor(request)
    if body.utterances is not None:
        if any(v is not None for v in (body.speaker, body.text, body.start, body.end)):
            raise ApiError(400, "give {speaker, text} or {utterances: [...]}, not both", param="utterances")
        stored = store.add_utterances(visit_id, [u.model_dump() for u in body.utterances], actor=who)
    elif body.speaker is not None and body.text is not None:
        stored = [store.add_utterance(visit_id, body.speaker, body.text, start=body.start, end=body.end, actor=who)]
    else:
        raise ApiError(400, "give {speaker, text} or {utterances: [...]}", param="utterances")
    return {"visit_id": visit_id, "utterances": [u.to_dict() for u in stored]}


@router.patch("/visits/{visit_id}/utterances/{seq}")
def correct_utterance(visit_id: str, seq: int, body: UtteranceFix, request: Request) -> dict:
    fixed = services(request).store.correct_utterance(
        visit_id, seq, author=actor(request, body.author), speaker=body.speaker, text=body.text
    )
    return fixed.to_dict()


@router.post("/visits/{visit_id}/chart", status_code=201)
async def generate_chart(visit_id: str, request: Request, body: ChartRequest | None = None) -> dict:
    """Draft a new chart version from the transcript stored so far."""
    svc = services(request)
    target = svc.resolve(body.model if body else None)
    transcript = await run_in_threadpool(visit_transcript, svc.store, visit_id)

    chart = await finish(submit(request, lambda job: charts.draft(svc, target, transcript)), request)
    version = await run_in_threadpool(charts.keep, svc.store, visit_id, chart, transcript, target)
    return version.to_dict()


@router.put("/visits/{visit_id}/chart", status_code=201)
def edit_chart(visit_id: str, body: ChartEdit, request: Request) -> dict:
    """The doctor's edit: a whole chart (the JSON contract) stored as a new version with its author."""
    if body.base_version is None:  # an edit without it would silently win over a newer version
        raise ApiError(400, "an edit must name the chart version it was made on (base_version)", param="base_version")
    errors = validation_errors(body.chart, CHART_SCHEMA)
    if errors:
        raise ApiError(400, "the chart does not follow the karte contract: " + "; ".join(errors[:5]), param="chart")
    store = services(request).store
    who = actor(request, body.author)
    previous = store.chart_versions(visit_id)
    version = store.add_chart_version(
        visit_id,
        body.chart,
        source="edit",
        author=who,
        model=previous[-1].model if previous else "",
        utterances=len(store.utterances(visit_id)),
        base_version=body.base_version,
    )
    return version.to_dict()


@router.get("/visits/{visit_id}/chart")
def get_chart(visit_id: str, request: Request, version: int | None = Query(None, ge=1)) -> dict:
    return services(request).store.chart_version(visit_id, version).to_dict()


@router.get("/visits/{visit_id}/export")
def export_visit(
    visit_id: str,
    request: Request,
    format: Format = "md",
    mask: bool = False,
    version: int | None = Query(None, ge=1),
    show_unsupported: bool = False,
) -> Response:
    """The chart (latest or `version`) as Markdown, FHIR or JSON (with its transcript); `mask=true` replaces
    names, numbers and addresses by labels such as ［氏名］."""
    store = services(request).store
    transcript = visit_transcript(store, visit_id)
    stored = store.chart_version(visit_id, version)
    chart = Chart.from_dict(stored.chart, transcript, model=stored.model, seconds=stored.seconds)
    store.audit(
        "visit.export",
        actor=actor(request),
        visit_id=visit_id,
        detail=f"format={format} version={stored.version} mask={str(mask).lower()}",
    )
    extra = {
        "visit_id": visit_id,
        "version": stored.version,
        "author": stored.author,
        "created_at": stored.created_at,
        "transcript": transcript.to_dict(),
    }
    return render(chart, format, mask=mask, show_unsupported=show_unsupported, extra=extra)
