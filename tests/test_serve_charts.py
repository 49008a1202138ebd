"""A chart that names no model is written without one (issue 15: the model added nothing measurable to charts):
over HTTP and at the end of a live visit, on a server whose model failed to load or is still loading. Real app, real
store, real rules, reader and drug status; the model's failure is a real one (its adapter file is gone when it
loads). Naming a model keeps its drafting (tests/test_serve.py, tests/test_live.py)."""

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kogata.serve import ServerConfig, Services, create_app
from kogata.serve import services as services_module
from kogata.transcript import parse_transcript

ROOT = Path(__file__).resolve().parent.parent
SMALL = "qwen2.5-coder-0.5b"
VISIT = (ROOT / "data" / "consultations" / "021_hifuka.txt").read_text(encoding="utf-8")  # leaves a line to draft
LINES = parse_transcript(VISIT).utterances
DEFAULT = "rules+reader+status"


def _services(tmp_path: Path, *, adapter: Path | None = None, rules_only: bool = False) -> Services:
    config = ServerConfig(
        models=(SMALL,),
        waiting=2,
        db=tmp_path / "v.sqlite3",
        registered_adapters=False,
        adapters={"gone": str(adapter)} if adapter else {},
        rules_only=rules_only,
    )
    return Services(config)


@pytest.fixture
def failed(tmp_path):
    """A server whose model failed to load: its adapter was checked at start, then removed before the load."""
    adapter = tmp_path / "gone.gguf"
    shutil.copyfile(ROOT / "kogata" / "adapters" / "bundled" / "karte" / "adapter.gguf", adapter)
    services = _services(tmp_path, adapter=adapter)
    adapter.unlink()
    with TestClient(create_app(services), base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        assert services._loaded.wait(120)  # the load thread has given up
        yield client, services


def _visit(client) -> str:
    visit = client.post("/v1/visits", json={"title": "皮膚科"}).json()["id"]
    said = [{"speaker": u.speaker, "text": u.text} for u in LINES]
    added = client.post(f"/v1/visits/{visit}/utterances", json={"utterances": said})
    assert added.status_code == 201, added.text
    return visit


def test_a_server_whose_model_failed_still_charts_what_names_no_model(failed):
    client, services = failed
    health = client.get("/health")
    assert health.status_code == 503 and health.json()["models"][SMALL].startswith("error: ")
    assert "no file at" in health.json()["models"][SMALL] and health.json()["charts"] == DEFAULT

    chart = client.post("/v1/karte", json={"transcript": VISIT})
    assert chart.status_code == 200, chart.text
    assert chart.json()["soap"]["S"] and chart.json()["medications"]

    visit = _visit(client)
    version = client.post(f"/v1/visits/{visit}/chart")
    assert version.status_code == 201, version.text
    body = version.json()
    assert (body["version"], body["author"], body["model"]) == (1, f"kogata:{DEFAULT}", DEFAULT)
    assert body["chart"] == chart.json() | {"warnings": body["chart"]["warnings"]}  # the same chart, stored

    # naming the model asks for its drafting, which this server cannot give: said, not hidden
    named = client.post("/v1/karte", json={"transcript": VISIT, "model": "small"})
    assert named.status_code == 503 and "failed to load" in named.json()["error"]["message"]
    unknown = client.post(f"/v1/visits/{visit}/chart", json={"model": "no-such-model"})
    assert unknown.status_code == 404
    assert [v.version for v in services.store.chart_versions(visit)] == [1]  # nothing stored for the refusals


def test_a_live_visit_ends_in_a_chart_without_the_model(failed):
    client, services = failed
    visit = client.post("/v1/visits", json={}).json()["id"]
    with client.websocket_connect(f"ws://127.0.0.1:8000/v1/visits/{visit}/live") as ws:
        assert ws.receive_json()["type"] == "ready"
        for u in LINES:
            ws.send_json({"type": "utterance", "speaker": u.speaker, "text": u.text})
            assert ws.receive_json()["type"] == "utterance"  # no draft message: nothing drafts in the background
        ws.send_json({"type": "end"})
        message = ws.receive_json()
    assert message["type"] == "chart", message
    version = message["version"]
    assert version["model"] == DEFAULT and version["utterances"] == len(LINES) and version["chart"]["soap"]["S"]
    assert services.store.chart_version(visit).chart == version["chart"]
    with client.websocket_connect(f"ws://127.0.0.1:8000/v1/visits/{visit}/live?model=no-such-model") as ws:
        refused = ws.receive_json()
        assert refused["type"] == "error" and "not served here" in refused["message"]


def test_a_server_still_loading_its_model_charts_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(services_module, "LOAD_TIMEOUT_S", 1)  # a request naming the model gives up after 1 s
    services = _services(tmp_path)
    # no `with`: the lifespan would start the load; here the model is loading for as long as the test runs
    client = TestClient(create_app(services), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)
    assert client.get("/health").json()["status"] == "loading"
    chart = client.post("/v1/karte", json={"transcript": VISIT, "format": "md"})
    assert chart.status_code == 200 and "## S" in chart.text
    named = client.post("/v1/karte", json={"transcript": VISIT, "model": SMALL})
    assert named.status_code == 503 and "still loading" in named.json()["error"]["message"]


def test_rules_only_keeps_its_meaning(tmp_path):
    client = TestClient(create_app(_services(tmp_path, rules_only=True)), base_url="http://127.0.0.1:8000")
    assert client.get("/health").json()["charts"] == "rules"
    visit = _visit(client)
    for body in (None, {"model": "small"}):  # a --rules-only server charts by the rules whatever is asked
        version = client.post(f"/v1/visits/{visit}/chart", json=body)
        assert version.status_code == 201 and version.json()["model"] == "rules", version.text
