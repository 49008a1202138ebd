"""Visits over HTTP: start one (with the patient, encounter and consent, or add them later with PATCH), append
utterances as they are said, draft a chart, let the doctor edit and sign it (an edit after a signature is
"amended"), list a day's visits, see every version in the history, export it (Markdown, FHIR, JSON; masked on
request). Also `POST /v1/karte`, a transcript in, a chart out.

Store calls are plain (blocking) functions, so those routes are `def` and run in FastAPI's thread pool: an
fsync never stalls a stream. Who did something is the `X-Kogata-User` header (or an edit's `author`); the
API key says only that the caller may use the server. Every read and write is in the store's audit log.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator
from starlette.concurrency import run_in_threadpool

from kogata.engine.schema import validation_errors
from kogata.privacy import LABELS, mask_json, mask_text
from kogata.render.header import ChartHeader
from kogata.serve import charts
from kogata.serve.deps import ApiError, finish, services, submit
from kogata.serve.queue import Job
from kogata.store import Patient, visit_transcript
from kogata.store.identity import MAX_CONSENT_BY_CHARS, MAX_DEPARTMENT_CHARS, MAX_ID_CHARS, MAX_NAME_CHARS
from kogata.store.visits import MAX_BATCH, MAX_SECONDS, MAX_SPEAKER_CHARS, MAX_UTTERANCE_CHARS
from kogata.tasks.karte import CHART_SCHEMA, Chart
from kogata.transcript import Transcript, from_records, parse_transcript

router = APIRouter(prefix="/v1")
Format = Literal["json", "md", "fhir", "text"]


def actor(request: Request, given: str | None = None) -> str:
    name = (given or request.headers.get("x-kogata-user") or "api").strip()
    return name[:80] or "api"


# ── rendering a chart ──


def render(
    chart: Chart,
    fmt: str,
    *,
    mask: bool = False,
    show_unsupported: bool = False,
    extra: dict | None = None,
    header: ChartHeader | None = None,
) -> Response:
    """A chart as a response: JSON contract (plus `extra` fields), Markdown, plain text, or a FHIR Bundle.
    `header` (default: an unsigned draft) says whether it is signed and for whom; every format says it."""
    header = header or ChartHeader()
    hide = _hider(header) if mask else None
    if fmt in ("md", "text"):
        from kogata.render.markdown import chart_markdown, chart_text

        write = chart_markdown if fmt == "md" else chart_text
        text = write(chart, show_unsupported=show_unsupported, header=header)
        media = "text/markdown" if fmt == "md" else "text/plain"
        return PlainTextResponse(hide(text) if hide else text, media_type=f"{media}; charset=utf-8")
    if fmt == "fhir":
        from kogata.render.fhir import chart_bundle

        bundle = chart_bundle(chart, show_unsupported=show_unsupported, header=header)
        return JSONResponse(hide(bundle) if hide else bundle, media_type="application/fhir+json")
    body = {**(extra or {}), "chart": chart.to_dict()} if extra else chart.to_dict()
    return JSONResponse(hide(body) if hide else body)


def _hider(header: ChartHeader):
    """A masker that also hides what the visit was given as fields: the patient's id and birth date (by value)
    and name (each part, wherever written), beside everything mask_text finds on its own."""
    p = header.patient or Patient()
    values = {v: label for v, label in ((p.id, LABELS["PERSON_ID"]), (p.birth_date, LABELS["BIRTH_DATE"])) if v}
    names = [part for part in (p.name or "").replace("\u3000", " ").split() if len(part) >= 2]
    names += [p.name.replace(" ", "").replace("\u3000", "")] if p.name else []

    def replace(text: str) -> str:
        for value, label in values.items():
            text = text.replace(value, label)
        return text

    def hide(value: Any) -> Any:
        if isinstance(value, str):
            return mask_text(replace(value), names)
        return mask_json(_map_strings(value, replace), names)

    return hide


def _map_strings(value: Any, fn) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


# ── transcript → chart, statelessly ──


MODEL_FIELD = (
    "a served model (or `model:adapter`, see /v1/models) to draft what the rules and the learned reader leave; "
    "none (the default): no language model, the chart is the rules', the reader's and the drug status's"
)


class KarteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transcript: str | dict[str, Any] | list[dict[str, Any]] = Field(
        description='`医師：…` lines, {"utterances": [...]}, or the list of utterances'
    )
    format: Format = "json"
    model: str | None = Field(None, description=MODEL_FIELD)
    show_unsupported: bool = False


def read_request_transcript(value: str | dict | list) -> Transcript:
    if isinstance(value, str):
        return parse_transcript(value, source="request")
    return from_records(value, source="request")


@router.post("/karte")
async def karte_route(body: KarteRequest, request: Request) -> Response:
    """A chart for a transcript, stored nowhere: by the rules, the learned reader and drug status (no language
    model) unless `model` names a served one to draft what they leave."""
    svc = services(request)
    target = charts.target(svc, body.model)
    transcript = read_request_transcript(body.transcript)  # TranscriptError → 400 before the line

    def work(job: Job) -> Chart:
        return charts.draft(svc, target, transcript)

    chart = await finish(submit(request, work), request)
    return render(chart, body.format, show_unsupported=body.show_unsupported)


# ── visits ──


# The identity groups as the API takes them; the store checks dates and times (FieldError names the field).
class PatientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=MAX_ID_CHARS, description="the clinic system's patient id")
    name: str | None = Field(None, max_length=MAX_NAME_CHARS)
    birth_date: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    sex: Literal["male", "female", "other", "unknown"] | None = None


class EncounterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: str | None = Field(None, max_length=10, description="YYYY-MM-DD: the day of the visit")
    department: str | None = Field(None, max_length=MAX_DEPARTMENT_CHARS, description="内科, 小児科 …")
    doctor: str | None = Field(None, max_length=MAX_NAME_CHARS)


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    given: StrictBool
    by: str | None = Field(None, max_length=MAX_CONSENT_BY_CHARS, description="患者本人, 家族 …")
    at: str | None = Field(None, max_length=40, description="ISO time it was given (the server's time if absent)")


class PractitionerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=MAX_ID_CHARS)
    name: str | None = Field(None, max_length=MAX_NAME_CHARS)


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patient: PatientIn | None = None
    encounter: EncounterIn | None = None
    consent: ConsentIn | None = None

    def groups(self) -> dict[str, dict | None]:
        """Each group as the store takes it (fields not given left out)."""
        return {
            name: group.model_dump(exclude_none=True) if group is not None else None
            for name, group in (("patient", self.patient), ("encounter", self.encounter), ("consent", self.consent))
        }


class VisitCreate(IdentityIn):
    title: str = Field("", max_length=200)


class SignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    practitioner: PractitionerIn
    base_version: int | None = Field(None, ge=0, description="the version being signed: the latest (required)")


Seconds = Field(
    None, ge=0, le=MAX_SECONDS, allow_inf_nan=False, strict=True, description="seconds from the visit's start"
)
Speaker = Field(min_length=1, max_length=MAX_SPEAKER_CHARS, description="医師, 患者 …")
# A recogniser's guess at the speaker (both or neither; the store says which is missing): how sure, and whether the
# label is shown as sure (false: 患者?). Left out: a label a person gave.
Confidence = Field(None, ge=0, le=1, allow_inf_nan=False, strict=True, description="0–1: how sure the guess is")
Sure = Field(None, description="false: the label is a guess shown as 患者?")
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
    speaker_confidence: float | None = Confidence
    speaker_sure: StrictBool | None = Sure

    _end = field_validator("end")(_end_after_start)
    _blank = field_validator("speaker", "text")(_not_blank)


class UtterancesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    speaker: str | None = Field(None, min_length=1, max_length=MAX_SPEAKER_CHARS)
    text: str | None = Field(None, min_length=1, max_length=MAX_UTTERANCE_CHARS)
    start: float | None = Seconds
    end: float | None = Seconds
    speaker_confidence: float | None = Confidence
    speaker_sure: StrictBool | None = Sure
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
    model: str | None = Field(None, description=MODEL_FIELD)


class ChartEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chart: dict[str, Any]
    author: str | None = Field(None, max_length=80)
    base_version: int | None = Field(None, ge=0, description="the version the edit was made on (0: none yet; required)")


@router.post("/visits", status_code=201)
def create_visit(request: Request, body: VisitCreate | None = None) -> dict:
    """A new visit; patient, encounter and consent are optional and kept as given."""
    body = body or VisitCreate()
    visit = services(request).store.create_visit(actor=actor(request), title=body.title, **body.groups())
    return visit.to_dict()


@router.get("/visits")
def list_visits(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    date: str | None = Query(None, max_length=10, description="YYYY-MM-DD: that day's visits (encounter date)"),
) -> dict:
    """The most recent visits first, each with its patient, encounter, consent and status."""
    return {"visits": [v.to_dict() for v in services(request).store.visits(limit, date=date)]}


@router.get("/visits/{visit_id}")
def get_visit(visit_id: str, request: Request) -> dict:
    store = services(request).store
    record = store.record(visit_id)
    store.audit("visit.read", actor=actor(request), visit_id=visit_id)
    return record


@router.patch("/visits/{visit_id}")
def set_identity(visit_id: str, body: IdentityIn, request: Request) -> dict:
    """Record the patient, encounter or consent (each group given: a new row; the latest wins when read)."""
    return services(request).store.set_identity(visit_id, actor=actor(request), **body.groups()).to_dict()


@router.post("/visits/{visit_id}/sign", status_code=201)
def sign_chart(visit_id: str, body: SignRequest, request: Request) -> dict:
    """Sign the latest chart version: a new version, status "signed", with who and when (409 if `base_version` is
    not the latest, there is no chart, or it is already signed)."""
    if body.base_version is None:  # signing what the doctor has not seen would be no signature
        raise ApiError(400, "a signature must name the chart version it signs (base_version)", param="base_version")
    return (
        services(request)
        .store.sign_chart(visit_id, practitioner=body.practitioner.model_dump(), base_version=body.base_version)
        .to_dict()
    )


@router.get("/visits/{visit_id}/history")
def history(visit_id: str, request: Request) -> dict:
    """Every chart version (status, source, who, when, who signed), every identity change, and each corrected
    utterance as received (the recogniser's speaker guess with it) with its corrections, oldest first."""
    store = services(request).store
    body = {
        "versions": store.history(visit_id),
        "identity": store.identity_history(visit_id),
        "utterances": store.utterance_history(visit_id),
    }
    store.audit("visit.history", actor=actor(request), visit_id=visit_id)
    return body


@router.post("/visits/{visit_id}/utterances", status_code=201)
def append_utterances(visit_id: str, body: UtterancesIn, request: Request) -> dict:
    """One utterance ({speaker, text, start, end}) or several ({"utterances": [...]}). Several are stored in one
    transaction: all of them, or (one bad item: 400 naming it) none. When this answers, they are on disk.
    A label a recogniser guessed comes with speaker_confidence (0–1) and speaker_sure, stored with it."""
    store, who = services(request).store, actor(request)
    one = body.model_dump(exclude={"utterances"})
    if body.utterances is not None:
        if any(v is not None for v in one.values()):
            raise ApiError(400, "give {speaker, text} or {utterances: [...]}, not both", param="utterances")
        stored = store.add_utterances(visit_id, [u.model_dump() for u in body.utterances], actor=who)
    elif body.speaker is not None and body.text is not None:
        stored = [store.add_utterance(visit_id, one.pop("speaker"), one.pop("text"), actor=who, **one)]
    else:
        raise ApiError(400, "give {speaker, text} or {utterances: [...]}", param="utterances")
    return {"visit_id": visit_id, "utterances": [u.to_dict() for u in stored]}


@router.patch("/visits/{visit_id}/utterances/{seq}")
def correct_utterance(visit_id: str, seq: int, body: UtteranceFix, request: Request) -> dict:
    """A correction, stored beside the original: a new speaker makes the label sure (the guess stays in the
    history)."""
    fixed = services(request).store.correct_utterance(
        visit_id, seq, author=actor(request, body.author), speaker=body.speaker, text=body.text
    )
    return fixed.to_dict()


@router.post("/visits/{visit_id}/chart", status_code=201)
async def generate_chart(visit_id: str, request: Request, body: ChartRequest | None = None) -> dict:
    """Draft a new chart version from the transcript stored so far: by the rules, the learned reader and drug status
    (no language model) unless `model` names a served one to draft what they leave."""
    svc = services(request)
    target = charts.target(svc, body.model if body else None)
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
    """The chart (latest or `version`) as Markdown, plain text, FHIR or JSON (with its transcript, status, patient
    and signature); `mask=true` replaces names, numbers and addresses by labels such as ［氏名］ (the patient's
    name, id and birth date too)."""
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
    header = charts.header(store, visit_id, stored)
    extra = {
        "visit_id": visit_id,
        "version": stored.version,
        "status": stored.status,  # "draft" until signed: the JSON says so as every format does
        "author": stored.author,
        "created_at": stored.created_at,
        "signed_by": header.signed_by.to_dict() if header.signed_by else None,
        "signed_at": header.signed_at,
        "patient": header.patient.to_dict() if header.patient else None,
        "encounter": header.encounter.to_dict() if header.encounter else None,
        "transcript": transcript.to_dict(),
    }
    return render(chart, format, mask=mask, show_unsupported=show_unsupported, extra=extra, header=header)
