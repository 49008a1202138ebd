"""A visit's chart drafted and kept: the one place the server turns a stored transcript into a chart version.

`POST /v1/karte`, `POST /v1/visits/{id}/chart` and the live WebSocket's end pick what writes the chart with
`target`, draft with `draft` (in the model queue) and keep the result with `keep` (a new, append-only chart version
recording what made it). A request that names no model is charted by the rules, the learned reader and the learned
drug status, with no language model: it never waits for one to load, and a server whose model failed still charts.
A request that names a served model (or `model:adapter`) also has that model draft what they leave.
"""

from __future__ import annotations

from kogata.engine.embed import EmbeddingCache
from kogata.render.header import ChartHeader
from kogata.serve.services import Services, Target
from kogata.store import ChartVersion, VisitStore
from kogata.tasks.karte import Chart, karte
from kogata.transcript import Transcript


def target(svc: Services, requested: str | None) -> Target | None:
    """The language model a chart request asks for (ModelNotFound for one not served here), or None: no model,
    when it names none or the server was started with --rules-only (which keeps its meaning: rules alone)."""
    if svc.config.rules_only or not (requested or "").strip():
        return None
    return svc.resolve(requested)


def draft(
    svc: Services, target: Target | None, transcript: Transcript, embeddings: EmbeddingCache | None = None
) -> Chart:
    """The chart for `transcript` (call from a queue job): rules, reader and drug status without a target; with one,
    its model and adapter draft what they leave; the rules' lines only on a server started with --rules-only.
    `embeddings`: the visit's vectors so far (a live visit warms them as it goes: LiveSession.warm)."""
    if target is None:
        if svc.config.rules_only:
            return karte(transcript, rules_only=True)
        return karte(transcript, embeddings=embeddings)
    return karte(transcript, model=svc.model(target.base), adapter=target.adapter)


def keep(store: VisitStore, visit_id: str, chart: Chart, transcript: Transcript, target: Target | None) -> ChartVersion:
    """`chart` stored as the visit's next version (a blocking write: run it off the loop), recording what made it:
    the model (and adapter) asked for, else the chart's own account ("rules+reader+status", or "rules")."""
    made_by = target.id if target is not None else chart.model
    return store.add_chart_version(
        visit_id,
        chart.to_dict(),
        source="model",
        author=f"kogata:{made_by}",
        model=made_by,
        seconds=round(chart.seconds, 3),
        utterances=len(transcript.utterances),
    )


def header(store: VisitStore, visit_id: str, stored: ChartVersion) -> ChartHeader:
    """What an export of `stored` says about itself: its status, the visit's patient and encounter, and the last
    signature at or before it (an amended version names the signature it departs from)."""
    visit = store.visit(visit_id)
    signed = [v for v in store.chart_versions(visit_id) if v.version <= stored.version and v.status == "signed"]
    last = signed[-1] if signed and stored.status != "draft" else None
    return ChartHeader(
        stored.status,
        visit.patient,
        visit.encounter,
        last.signed_by if last else None,
        last.signed_at if last else None,
        stored.version,
    )
