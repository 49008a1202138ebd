"""Property-based: schemathesis generates requests from the server's own OpenAPI document, for every route, and no
answer may be a 5xx, have a status the document does not list, or break the documented response schema.

Routes that run a model are generated too, but only with bodies that break their schema (negative mode): a valid
one would wait for a model this test never loads. They are POST /v1/chat/completions, /v1/karte,
/v1/visits/{visit_id}/chart and /v1/embeddings. POST /v1/audio/transcriptions is left out: its multipart form has
only strings and a file, so a "negative" form is still a valid one, and any file goes to the recogniser
(tests/test_serve.py covers its refusals). Everything else (visits, utterances,
corrections, edits, exports, models, health) gets valid and invalid bodies. A few examples per route keep the file
to well under a minute on two cores.
"""

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
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
EXAMPLES = 8

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
