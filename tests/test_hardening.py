"""No input makes the server fail, nothing half-stored, no key in a log line, no request from a foreign page.

The real app over FastAPI's TestClient (and a real uvicorn process for the logs), a real SQLite store; no model is
loaded: every request here is refused, or stored, before any model work starts.
"""

import json
import math
import os
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from servers import free_port
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from kogata.errors import InputError
from kogata.serve import ServerConfig, Services, create_app
from kogata.serve.guard import MAX_BODY_BYTES, MAX_BODY_DEPTH
from kogata.store import VisitStore
from kogata.store.visits import MAX_BATCH, MAX_SPEAKER_CHARS, MAX_UTTERANCE_CHARS, FieldError

SMALL = "qwen2.5-coder-0.5b"
CHAT = {"model": "small", "messages": [{"role": "user", "content": "こんにちは"}]}


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    folder = tmp_path_factory.mktemp("harden")
    return Services(ServerConfig(models=(SMALL,), waiting=1, db=folder / "v.sqlite3", registered_adapters=False))


@pytest.fixture(scope="module")
def app(services):
    return create_app(services, hosts=("clinic.lan",), origins=("https://portal.clinic.lan",))


@pytest.fixture(scope="module")
def client(app):
    # No `with`: the lifespan would start loading the model, and nothing here needs it.
    return TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


@pytest.fixture
def visit(client):
    return client.post("/v1/visits").json()["id"]


def raw(client, path: str, text: str, **headers):
    """POST a body as given (Python's json writes NaN and Infinity, so clients do send them)."""
    return client.post(path, content=text.encode("utf-8"), headers={"content-type": "application/json", **headers})


def refused(response, status: int, param: str | None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["param"] == param, error
    return error


def stored_rows(services, visit_id: str) -> int:
    with sqlite3.connect(services.store.path) as db:
        return db.execute("SELECT COUNT(*) FROM utterances WHERE visit_id = ?", (visit_id,)).fetchone()[0]


# ── 1. impossible utterances are refused at the door and in the store ──


@pytest.mark.parametrize(
    "body, param",
    [
        ('{"speaker": "医師", "text": "熱です", "start": -5}', "start"),
        ('{"speaker": "医師", "text": "熱です", "start": 3, "end": 1}', "end"),
        ('{"speaker": "医師", "text": "熱です", "start": 1e999}', "start"),
        ('{"speaker": "医師", "text": "熱です", "start": NaN}', "start"),
        ('{"speaker": "医師", "text": "熱です", "end": -Infinity}', "end"),
        ('{"speaker": "医師", "text": "熱です", "start": true}', "start"),
        ('{"speaker": "医師", "text": "   "}', "text"),
        ('{"speaker": "  ", "text": "熱です"}', "speaker"),
        ('{"speaker": "医師", "text": "\\ud800熱"}', "text"),
        ('{"speaker": "\\udc00", "text": "熱です"}', "speaker"),
        (json.dumps({"speaker": "医" * (MAX_SPEAKER_CHARS + 1), "text": "熱です"}), "speaker"),
        (json.dumps({"speaker": "医師", "text": "熱" * (MAX_UTTERANCE_CHARS + 1)}), "text"),
    ],
)
def test_an_impossible_utterance_is_a_400_naming_its_field_and_nothing_is_stored(client, services, visit, body, param):
    refused(raw(client, f"/v1/visits/{visit}/utterances", body), 400, param)
    assert stored_rows(services, visit) == 0


def test_utterances_at_the_bounds_are_stored(client, visit):
    ok = {"speaker": "医" * MAX_SPEAKER_CHARS, "text": "熱" * MAX_UTTERANCE_CHARS, "start": 0, "end": 0}
    assert client.post(f"/v1/visits/{visit}/utterances", json=ok).status_code == 201
    again = {"speaker": "患者", "text": "はい", "start": 1.5, "end": 1.5}
    assert client.post(f"/v1/visits/{visit}/utterances", json=again).json()["utterances"][0]["seq"] == 2


@pytest.mark.parametrize(
    "speaker, text, start, end, param",
    [
        ("医師", "熱です", -5, None, "start"),
        ("医師", "熱です", 3, 1, "end"),
        ("医師", "熱です", float("inf"), None, "start"),
        ("医師", "熱です", math.nan, None, "start"),
        ("医師", "熱です", None, math.nan, "end"),
        ("医師", "熱です", "3", None, "start"),
        ("医師", " \n ", None, None, "text"),
        ("医師", "\ud800", None, None, "text"),
        ("\ud800", "熱です", None, None, "speaker"),
    ],
)
def test_the_store_refuses_impossible_utterances_too(tmp_path, speaker, text, start, end, param):
    store = VisitStore(tmp_path / "v.sqlite3")
    visit = store.create_visit(actor="t")
    with pytest.raises(FieldError) as caught:
        store.add_utterance(visit.id, speaker, text, start=start, end=end, actor="t")
    assert caught.value.param == param and isinstance(caught.value, InputError)
    assert store.utterances(visit.id) == []


# ── 2. a batch is all or nothing ──


def test_a_batch_with_one_bad_item_stores_nothing(client, services, visit):
    good = {"speaker": "医師", "text": "どうされましたか", "start": 0.0, "end": 1.0}
    for bad, param in [
        ({"speaker": "患者", "text": "熱です", "start": 5, "end": 2}, "utterances[2].end"),
        ({"speaker": "患者", "text": "\ud800"}, "utterances[2].text"),
        ({"speaker": "", "text": "熱です"}, "utterances[2].speaker"),
    ]:
        body = json.dumps({"utterances": [good, good, bad, good]})
        refused(raw(client, f"/v1/visits/{visit}/utterances", body), 400, param)
        assert stored_rows(services, visit) == 0
    answer = client.post(f"/v1/visits/{visit}/utterances", json={"utterances": [good] * 3})
    assert answer.status_code == 201 and [u["seq"] for u in answer.json()["utterances"]] == [1, 2, 3]
    refused(client.post(f"/v1/visits/{visit}/utterances", json={"utterances": []}), 400, "utterances")
    too_many = {"utterances": [good] * (MAX_BATCH + 1)}
    refused(client.post(f"/v1/visits/{visit}/utterances", json=too_many), 400, "utterances")
    assert stored_rows(services, visit) == 3


def test_add_utterances_is_one_transaction(tmp_path):
    store = VisitStore(tmp_path / "v.sqlite3")
    visit = store.create_visit(actor="t")
    items = [{"speaker": "医師", "text": "熱は"}, {"speaker": "患者", "text": "あります", "start": 1, "end": 2}]
    with pytest.raises(FieldError) as caught:
        store.add_utterances(visit.id, [*items, {"speaker": "患者", "text": "x", "start": -1}], actor="t")
    assert caught.value.param == "utterances[2].start"
    assert store.utterances(visit.id) == [] and [a["action"] for a in store.audit_log(visit.id)] == ["visit.create"]

    # A failure inside the transaction (here: the database refuses the third row) leaves nothing either.
    with sqlite3.connect(store.path) as db:
        db.execute(
            "CREATE TRIGGER third BEFORE INSERT ON utterances WHEN NEW.seq = 3 "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    with pytest.raises(sqlite3.DatabaseError):
        store.add_utterances(visit.id, [*items, items[0]], actor="t")
    assert store.utterances(visit.id) == []
    stored = store.add_utterances(visit.id, items, actor="t")
    assert [u.seq for u in stored] == [1, 2] and [u.seq for u in store.utterances(visit.id)] == [1, 2]
    assert [a["detail"] for a in store.audit_log(visit.id) if a["action"] == "utterance.append"] == ["seq=1", "seq=2"]


# ── the edit's base version is named ──


def test_an_edit_without_base_version_is_a_400_naming_it_and_a_stale_one_a_409(client, visit):
    refused(client.put(f"/v1/visits/{visit}/chart", json={"chart": {}}), 400, "base_version")
    refused(client.put(f"/v1/visits/{visit}/chart", json={"chart": {}, "base_version": -1}), 400, "base_version")


# ── 7. ordinary bad values are 4xx, never 500 ──


@pytest.mark.parametrize(
    "extra, param",
    [
        ('"temperature": NaN', "temperature"),
        ('"temperature": 1e999', "temperature"),
        ('"temperature": -0.5', "temperature"),
        ('"temperature": 2.5', "temperature"),
        ('"max_tokens": 0', "max_tokens"),
        ('"max_tokens": 2147483648', "max_tokens"),
        ('"max_tokens": 4294967304', "max_tokens"),
        ('"max_completion_tokens": 4097', "max_completion_tokens"),
        ('"seed": -1', "seed"),
        ('"seed": 4294967296', "seed"),
        ('"seed": 18446744073709551616', "seed"),
        ('"messages": [{"role": "user", "content": "\\ud800"}]', "messages[0].content"),
    ],
)
def test_bad_chat_values_are_a_400_naming_the_field(client, extra, param):
    body = '{"model": "small", "messages": [{"role": "user", "content": "こんにちは"}], ' + extra + "}"
    refused(raw(client, "/v1/chat/completions", body), 400, param)


def nested(levels: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def deep_json(value) -> str:
    """json.dumps for documents deeper than Python's own recursion limit lets it write."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        return json.dumps(value)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("levels", [40, 500, 5000])
def test_a_deeply_nested_schema_or_body_is_a_400(client, levels):
    response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": nested(levels)}}
    error = refused(
        raw(client, "/v1/chat/completions", deep_json({**CHAT, "response_format": response_format})),
        400,
        "response_format" if levels * 2 < MAX_BODY_DEPTH else "response_format.json_schema.schema",
    )
    assert "deep" in error["message"]
    if levels >= MAX_BODY_DEPTH:  # any field: refused before a parser could recurse through it
        body = '{"model": "small", "messages": [], "x": ' + "[" * levels + "]" * levels + "}"
        refused(raw(client, "/v1/chat/completions", body), 400, "x[0][0]")


def test_lone_surrogates_in_karte_and_edits_are_400(client, visit):
    refused(raw(client, "/v1/karte", '{"transcript": "医師：熱\\udfff"}'), 400, "transcript")
    body = '{"transcript": [{"speaker": "医師", "text": "\\ud83d"}]}'
    refused(raw(client, "/v1/karte", body), 400, "transcript[0].text")
    refused(raw(client, f"/v1/visits/{visit}/chart", '{"chart": {"\\ud800": 1}, "base_version": 1}'), 400, "chart")


def test_a_body_past_the_size_bound_is_a_413(client, visit):
    text = "熱" * 10
    at_bound = json.dumps({"speaker": "医師", "text": text}).encode()
    padding = MAX_BODY_BYTES - len(at_bound)
    body = at_bound[:-1] + b" " * padding + b"}"
    assert len(body) == MAX_BODY_BYTES
    assert raw(client, f"/v1/visits/{visit}/utterances", body.decode()).status_code == 201
    error = refused(raw(client, f"/v1/visits/{visit}/utterances", body.decode() + " "), 413, None)
    assert error["code"] == "body_too_large"


def test_the_cli_refuses_bad_generation_values_in_one_line():
    from kogata.cli import cli

    bad = (
        ["--temperature", "nan"],
        ["--temperature", "inf"],
        ["--max-tokens", "0"],
        ["--seed", "-1"],
        ["--seed", "4294967296"],
    )
    for args in bad:
        result = CliRunner().invoke(cli, ["generate", *args, "こんにちは"])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output and "Error: Invalid value" in result.output, result.output
    result = subprocess.run(
        [sys.executable, "-m", "kogata", "generate", "--max-tokens", "4294967304", "こんにちは"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--max-tokens" in errors[0] and "4294967304" in errors[0], result.stderr


# ── 4. the API key is in no log line ──


def test_the_api_key_is_in_no_log_line_of_a_real_server(tmp_path):
    key = "sk-kogata-7f3a9c1e5b"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "kogata", "serve", "--port", str(port), "--model", "small"]
            + ["--api-key", key, "--db", str(tmp_path / "v.sqlite3"), "--no-registered-adapters"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "KOGATA_API_KEY": ""},
        )
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(base + "/health", headers=auth).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.time() < deadline, log.read_text()
            time.sleep(0.2)
        visit = httpx.post(base + "/v1/visits", headers=auth).json()["id"]
        assert httpx.get(f"{base}/v1/visits?api_key={key}").status_code == 401  # a key in the query is no key
        assert httpx.get(f"{base}/v1/visits?limit=1&token={key}&key={key}", headers=auth).status_code == 200
        live = f"ws://127.0.0.1:{port}/v1/visits/{visit}/live"
        with connect(f"{live}?api_key={key}") as ws:  # the old way still works, and is redacted
            assert json.loads(ws.recv())["type"] == "ready"
        with connect(live, subprotocols=["kogata", f"kogata.key.{key}"]) as ws:  # the page's way
            assert ws.subprotocol == "kogata" and json.loads(ws.recv())["type"] == "ready"
        with connect(live, additional_headers=auth) as ws:
            assert json.loads(ws.recv())["type"] == "ready"
        with pytest.raises(InvalidStatus):  # a wrong key in the subprotocol is refused (HTTP 403)
            with connect(live, subprotocols=["kogata", "kogata.key.wrong"]) as ws:
                ws.recv()
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert "/v1/visits?api_key=" in text and "live?api_key=" in text, text  # the lines were written …
    assert key not in text, text  # … without the key
    assert text.count("[REDACTED]") >= 4


def test_redact_secrets():
    from kogata.privacy.logs import redact_secrets

    line = 'GET /v1/x?limit=2&api_key=abc&token=def#frag "Bearer ghi" kogata.key.jkl'
    assert redact_secrets(line) == (
        'GET /v1/x?limit=2&api_key=[REDACTED]&token=[REDACTED]#frag "Bearer [REDACTED]" kogata.key.[REDACTED]'
    )


# ── 5. Host and Origin ──


@pytest.mark.parametrize(
    "host, status",
    [
        ("127.0.0.1:8000", 201),
        ("localhost:8000", 201),
        ("[::1]:8000", 201),
        ("clinic.lan", 201),
        ("CLINIC.LAN:8443", 201),
        ("evil.example", 400),
        ("evil.example:8000", 400),
        ("127.0.0.1.evil.example", 400),
    ],
)
def test_a_foreign_host_header_is_a_400(client, host, status):
    answer = client.post("/v1/visits", headers={"host": host})
    assert answer.status_code == status, answer.text
    if status == 400:
        assert answer.json()["error"]["code"] == "invalid_host"
    assert client.get("/health", headers={"host": host}).status_code == (200 if status == 201 else 400)


@pytest.mark.parametrize(
    "origin, status",
    [
        (None, 201),  # curl, scripts, the openai client
        ("http://127.0.0.1:8000", 201),  # the monitor page itself
        ("http://localhost:5173", 201),
        ("https://portal.clinic.lan", 201),  # --allowed-origin
        ("http://clinic.lan", 201),  # --allowed-host
        ("https://evil.example", 403),
        ("http://127.0.0.1.evil.example", 403),
        ("null", 403),
    ],
)
def test_a_foreign_origin_may_not_change_state_or_open_the_websocket(client, services, origin, status):
    headers = {"origin": origin} if origin else {}
    answer = client.post("/v1/visits", headers=headers)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json()["error"]["code"] == "forbidden_origin"
        assert client.get("/v1/visits", headers=headers).status_code == 200  # reads are the browser's CORS business
    visit = services.store.create_visit(actor="t").id
    body = {"speaker": "医師", "text": "熱です"}
    assert client.post(f"/v1/visits/{visit}/utterances", json=body, headers=headers).status_code == status
    assert stored_rows(services, visit) == (1 if status == 201 else 0)
    if status == 201:
        with client.websocket_connect(f"ws://127.0.0.1:8000/v1/visits/{visit}/live", headers=headers) as ws:
            assert ws.receive_json()["type"] == "ready"
    else:
        with pytest.raises(WebSocketDisconnect) as closed:
            with client.websocket_connect(f"ws://127.0.0.1:8000/v1/visits/{visit}/live", headers=headers) as ws:
                ws.receive_json()
        assert closed.value.code == 1008


def test_serve_takes_allowed_hosts_and_origins():
    from kogata.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--allowed-host" in result.output and "--allowed-origin" in result.output


# ── 9. --out never prints a traceback, never writes through a link, never leaves half a file ──


def karte_out(tmp_path, out) -> subprocess.CompletedProcess:
    transcript = tmp_path / "visit.txt"
    transcript.write_text(
        "医師：今日はどうされましたか。\n患者：三日前から熱があって、咳も出ます。\n", encoding="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "kogata", "karte", str(transcript), "--rules-only", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_out_to_a_folder_or_an_unwritable_path_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    for out in (tmp_path, tmp_path / "visit.txt" / "chart.md", locked / "chart.md"):
        if out.parent == locked and os.geteuid() == 0:
            continue  # root writes anywhere
        result = karte_out(tmp_path, out)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().startswith("error:") and len(result.stderr.strip().splitlines()) == 1
        assert str(out) in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked", "visit.txt"]  # no temporary file left


def test_out_is_written_0600_atomically_and_never_through_a_link(tmp_path):
    out = tmp_path / "charts" / "chart.md"
    result = karte_out(tmp_path, out)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600 and "熱" in out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["chart.md"]

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = tmp_path / "charts" / "planted.md"
    link.symlink_to(victim)
    result = karte_out(tmp_path, link)
    assert result.returncode != 0 and "symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert victim.read_text(encoding="utf-8") == "keep me" and link.is_symlink()


# ── resource bounds, each at the bound and one past it ──


def test_a_visit_holds_max_utterances_and_not_one_more(client, services):
    from kogata.store.visits import MAX_UTTERANCES

    visit = client.post("/v1/visits").json()["id"]
    one = {"speaker": "患者", "text": "はい"}
    for _ in range(MAX_UTTERANCES // MAX_BATCH):
        services.store.add_utterances(visit, [one] * MAX_BATCH, actor="t")
    assert stored_rows(services, visit) == MAX_UTTERANCES
    refused(client.post(f"/v1/visits/{visit}/utterances", json=one), 400, "utterances")
    assert stored_rows(services, visit) == MAX_UTTERANCES


def test_live_visits_open_at_once_are_bounded(services):
    app = create_app(services, max_live=2)
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    visit = services.store.create_visit(actor="t").id
    url = f"ws://127.0.0.1:8000/v1/visits/{visit}/live"
    with client.websocket_connect(url) as first, client.websocket_connect(url) as second:
        assert first.receive_json()["type"] == second.receive_json()["type"] == "ready"
        with client.websocket_connect(url) as third:
            assert "live visits are open" in third.receive_json()["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
            assert closed.value.code == 1013
    with client.websocket_connect(url) as again:  # the two closed: room again
        assert again.receive_json()["type"] == "ready"


def test_a_transcript_past_the_visit_length_is_a_400_before_the_queue(client):
    from kogata.transcript.parse import DEFAULT_MAX_CHARS

    line = "患者：" + "熱があります。" * 50 + "\n"
    text = line * (DEFAULT_MAX_CHARS // len(line) + 1)
    assert len(text) > DEFAULT_MAX_CHARS
    answer = client.post("/v1/karte", json={"transcript": text})
    assert answer.status_code == 400 and "60,000" in answer.json()["error"]["message"], answer.text


def test_a_live_visit_refuses_deep_or_impossible_messages_and_goes_on(client, services):
    visit = services.store.create_visit(actor="t").id
    with client.websocket_connect(f"ws://127.0.0.1:8000/v1/visits/{visit}/live") as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_text('{"type": "utterance", "x": ' + "[" * 5000 + "]" * 5000 + "}")
        assert "nested" in ws.receive_json()["message"]
        ws.send_text('{"type": "utterance", "speaker": "医師", "text": "\\ud800"}')
        assert "surrogate" in ws.receive_json()["message"]
        ws.send_json({"type": "utterance", "speaker": "医師", "text": "熱はありますか"})
        assert ws.receive_json()["utterance"]["seq"] == 1
    assert stored_rows(services, visit) == 1


def test_the_engine_refuses_a_seed_it_would_cut(small_llm):
    from kogata.engine.generate import MAX_SEED, generate

    for seed in (-1, MAX_SEED + 1, 2**64):
        with pytest.raises(InputError, match="seed must be 0 to"):
            generate(small_llm, "こんにちは", max_tokens=1, seed=seed)
