"""Property-based: schemathesis generates requests from the server's own OpenAPI document, for every route, and no
answer may be a 5xx, have a status the document does not list, or break the documented response schema.

Routes that run a model are generated too, but only with bodies that break their schema (negative mode): a valid
one would wait for a model this test never loads (a chart that names no model does not wait for one, but one that
names the served model would; tests/test_serve_charts.py charts without it). They are POST /v1/chat/completions,
/v1/karte, /v1/visits/{visit_id}/chart and /v1/embeddings. POST /v1/audio/transcriptions is left out: its
multipart form has only strings and a file, so a "negative" form is still a valid one, and any file goes to the
recogniser (tests/test_serve.py covers its refusals). Everything else (visits, utterances,
corrections, edits, exports, models, health) gets valid and invalid bodies. A few examples per route keep the file
to well under a minute on two cores.
"""

import json
import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from kogata.serve import ServerConfig, Services, create_app

MODEL_ROUTES = [
    "POST /v1/chat/completions",
    "POST /v1/karte",
    "POST /v1/visits/{visit_id}/chart",
    "POST /v1/embeddings",
]
NOT_GENERATED = ["POST /v1/audio/transcriptions"]
EXAMPLES = int(os.environ.get("KOGATA_FUZZ_EXAMPLES", "8"))  # per route; `make fuzz` asks for many more

_folder = Path(tempfile.mkdtemp(prefix="kogata-schema-"))  # under the test KOGATA_HOME's tmp; tiny
_services = Services(
    ServerConfig(models=("qwen2.5-coder-0.5b",), waiting=1, db=_folder / "v.sqlite3", registered_adapters=False)
)
_visit = _services.store.create_visit(actor="schema")
_services.store.add_utterance(_visit.id, "患者", "三日前から熱があります", actor="schema")
# No lifespan runs (nothing loads a model); "testserver" is the Host schemathesis's ASGI client sends.
app = create_app(_services, hosts=("testserver",))

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
negative = schemathesis.openapi.from_asgi("/openapi.json", app)
negative.config.generation.update(modes=["negative"])
assert schema.config.generation.modes != negative.config.generation.modes
# Every status is documented (errors in OpenAI's shape, no FastAPI 422) and every body matches its schema.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@schema.exclude(name=MODEL_ROUTES + NOT_GENERATED).parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_5xx(case):
    if "visit_id" in (case.path_parameters or {}) and case.path_parameters["visit_id"].startswith("0"):
        case.path_parameters["visit_id"] = _visit.id  # sometimes a visit that exists, with an utterance
    case.call_and_validate(checks=CHECKS)


@negative.include(name=MODEL_ROUTES).parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_model_routes_refuse_bad_bodies_without_5xx(case):
    case.call_and_validate(checks=CHECKS, timeout=10)


# ── values JSON parsers accept but OpenAPI cannot describe, so schemathesis never sends them ──

POISONS = ["NaN", "Infinity", "-Infinity", "1e999", '"\\ud800"', '"text \\udfff"', '{"a": "\\udc00x"}']
JSON_ROUTES = sorted(
    (method.upper(), path)
    for path, item in app.openapi()["paths"].items()
    for method, operation in item.items()
    if "application/json" in (operation.get("requestBody") or {}).get("content", {})
)
_client = TestClient(app, base_url="http://testserver")  # not entered: no lifespan, no model loading


def _json_with(poison: str):
    """JSON documents (as text) that hold `poison` somewhere: as a value, in a list, deep in an object."""
    leaf = st.one_of(st.just(poison), st.integers(-5, 5).map(str), st.text("あ熱 1", max_size=5).map(json.dumps))
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
            st.dictionaries(st.sampled_from(["model", "text", "chart", "speaker", "x"]), inner, max_size=3).map(
                lambda d: "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in d.items()) + "}"
            ),
        ),
        max_leaves=6,
    ).filter(lambda text: poison in text)


@pytest.mark.parametrize("method, path", JSON_ROUTES, ids=[f"{m} {p}" for m, p in JSON_ROUTES])
@given(data=st.data())
@settings(max_examples=2 * EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_nan_infinity_and_lone_surrogates_are_a_400_on_every_json_route(method, path, data):
    poison = data.draw(st.sampled_from(POISONS))
    body = data.draw(_json_with(poison))
    url = path.replace("{visit_id}", _visit.id).replace("{seq}", "1")
    response = _client.request(method, url, content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400, (body, response.text)
    assert response.json()["error"]["code"] == "invalid_request"
