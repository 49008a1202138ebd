"""A visit's chart drafted and kept: the one place the server turns a stored transcript into a chart version.

`POST /v1/visits/{id}/chart` and the live WebSocket's end both draft with `draft` (in the model queue) and keep
the result with `keep` (a new, append-only chart version recording which model and adapter made it).
"""

from __future__ import annotations

from kogata.render.header import ChartHeader
from kogata.serve.services import Services, Target
from kogata.store import ChartVersion, VisitStore
from kogata.tasks.karte import Chart, karte
from kogata.transcript import Transcript


def draft(svc: Services, target: Target, transcript: Transcript) -> Chart:
    """The chart for `transcript` from the target's model and adapter (call from a queue job); the rules' lines only
    on a server started with --rules-only."""
    if svc.config.rules_only:
        return karte(transcript, rules_only=True)
    return karte(transcript, model=svc.model(target.base), adapter=target.adapter)


def keep(store: VisitStore, visit_id: str, chart: Chart, transcript: Transcript, target: Target) -> ChartVersion:
    """`chart` stored as the visit's next version, made by the model (a blocking write: run it off the loop)."""
    return store.add_chart_version(
        visit_id,
        chart.to_dict(),
        source="model",
        author=f"kogata:{target.id}",
        model=target.id,
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
