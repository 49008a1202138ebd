"""Generation on another process (`--backend URL`): a real llama.cpp server on the bundled 0.5B model, started here
in its own process, gives what the in-process model gives; a scripted fake OpenAI server shows what kogata does
with replies that break the schema or the glyph guard, with a backend that fails, and through `kogata serve`."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from servers import free_port

import kogata
from kogata.engine import BackendError, RemoteModel, connect, generate, generate_json, stream_generate
from kogata.engine.remote import parse_backend_models
from kogata.errors import GenerationError, InputError
from kogata.ja.glyphs import non_japanese_chars
from kogata.serve import ServerConfig, Services, create_app
from kogata.tasks.karte import chart as chart_module
from kogata.tasks.karte import karte

SMALL = "qwen2.5-coder-0.5b"
THREADS = 2
# A visit whose rules leave one utterance for the model to draft, so the chart really goes through the backend.
VISIT = Path(__file__).resolve().parents[1] / "data" / "consultations" / "021_hifuka.txt"
KOGATA = [sys.executable, "-m", "kogata.cli"]
# llama.cpp's own server (the one the embedded engine runs), as a second process on a loopback port.
SERVER = """
import sys, time, xllamacpp
p = xllamacpp.CommonParams()
p.model.path, p.port, p.hostnames, p.model_alias = sys.argv[1], int(sys.argv[2]), ["127.0.0.1"], {sys.argv[3]}
p.n_ctx, p.n_parallel, p.warmup, p.verbosity = 4096, 1, False, -1
p.cpuparams.n_threads = p.cpuparams_batch.n_threads = int(sys.argv[4])
server = xllamacpp.Server(p)
while True:
    time.sleep(3600)
"""
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def backend(model_file):
    """The URL of a llama.cpp server process serving the 0.5B model under its kogata name; stopped afterwards."""
    port = free_port()
    args = [sys.executable, "-c", SERVER, str(model_file(SMALL)), str(port), SMALL, str(THREADS)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            assert process.poll() is None, "the backend process exited"
            assert time.time() < deadline, "the backend did not start"
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def local(model_file):
    """The same weights in this process, loaded as the backend loaded them."""
    model_file(SMALL)
    return kogata.load(SMALL, n_ctx=4096, threads=THREADS, progress=False)


class Fake:
    """A scripted OpenAI-compatible server in a thread: each chat request gets the next reply in `replies`
    (a content string, an HTTP status, or a list of raw SSE byte pieces), and every request is kept."""

    def __init__(self, replies, tokens=None):
        self.replies = list(replies)
        self.tokens = tokens or {}  # text → the id /tokenize reports for it (longest first; any other character: 1)
        self.chats: list[dict] = []
        self.tokenized: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, data: bytes, kind="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.send(200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode())

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/tokenize":
                    fake.tokenized.append(body["content"])
                    return self.send(200, json.dumps({"tokens": fake.tokenize(body["content"])}).encode())
                fake.chats.append(body)
                reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if isinstance(reply, int):
                    return self.send(reply, json.dumps({"error": {"message": "busy"}}).encode())
                if isinstance(reply, list):  # raw SSE, written piece by piece
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in reply:
                        self.wfile.write(piece)
                        self.wfile.flush()
                        time.sleep(0.05)
                    return None
                message = {"role": "assistant", "content": reply}
                usage = {"prompt_tokens": 5, "completion_tokens": 3}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                return self.send(200, json.dumps({"choices": [choice], "usage": usage}).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def tokenize(self, text: str) -> list[dict]:
        pieces, i = [], 0
        while i < len(text):
            piece = max((t for t in self.tokens if text.startswith(t, i)), key=len, default=text[i])
            pieces.append({"id": self.tokens.get(piece, 1), "piece": piece})
            i += len(piece)
        return pieces

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def sse(*events: dict) -> bytes:
    return (
        b"".join(b"data: " + json.dumps(e, ensure_ascii=False).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    )


def delta(text: str) -> dict:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


# ── against a real llama.cpp server process ──


def test_generate_through_the_backend_equals_the_in_process_result(backend, local):
    remote = connect(backend)
    assert isinstance(remote, RemoteModel) and remote.spec.name == SMALL  # named as the backend lists it
    assert len(remote.logit_bias()) > 1000  # the backend's tokens for simplified Han, from its /tokenize
    prompt = "日本の首都はどこですか？一文で答えてください。"
    here = generate(local, prompt, seed=7, max_tokens=24)
    there = generate(remote, prompt, seed=7, max_tokens=24)
    assert there.text == here.text and there.text
    assert there.stats.completion_tokens == here.stats.completion_tokens
    assert "".join(stream_generate(remote, prompt, seed=7, max_tokens=24)) == here.text
    value = generate_json(local, "田中さん、30歳。JSONで", SCHEMA, seed=7)
    assert generate_json(remote, "田中さん、30歳。JSONで", SCHEMA, seed=7) == value
    for model in (local, remote):  # streamed to a progress display as it is written: the same value, piece by piece
        pieces: list[str] = []
        assert generate_json(model, "田中さん、30歳。JSONで", SCHEMA, seed=7, on_text=pieces.append) == value
        assert len(pieces) > 1 and json.loads("".join(pieces)) == value


def test_a_chart_through_the_backend_equals_the_in_process_chart(backend, local):
    drafted_by = []

    def drafter(llm, said, *, adapter=None):  # the chart's own drafting, noting which model it was given
        drafted_by.append(llm)
        return chart_module.draft(llm, said, adapter=adapter)

    here = karte(VISIT, model=local, drafter=drafter)
    there = karte(VISIT, model=connect(backend), drafter=drafter)
    assert len(drafted_by) == 2 and drafted_by[0] is local and isinstance(drafted_by[1], RemoteModel)
    assert there.model == here.model and here.model.startswith(SMALL)  # + the learned parts' names
    assert there.to_dict() == here.to_dict()  # SOAP lines, evidence, support, medications, … field for field
    for section in here.soap:
        assert [i.problems for i in there.soap[section]] == [i.problems for i in here.soap[section]]


def test_the_cli_sends_generation_to_the_backend(backend):
    env = {**os.environ, "KOGATA_BACKEND": backend + "/v1/"}
    out = subprocess.run(
        [*KOGATA, "generate", "--max-tokens", "8", "--seed", "1", "こんにちは"], capture_output=True, env=env
    )
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode("utf-8").strip()


# ── against a scripted fake server ──


def test_a_reply_that_breaks_the_schema_is_asked_for_once_more_then_refused():
    with Fake(['{"name": "田中"}']) as fake:
        remote = connect(fake.url)
        with pytest.raises(GenerationError) as e:
            generate_json(remote, "田中さん、30歳", SCHEMA)
        assert len(fake.chats) == 2  # the first reply, and one more: never a third, never the bad value
        assert fake.url.removesuffix("/v1") in str(e.value) and "2 tries" in str(e.value)
        assert "'age' is a required property" in str(e.value)
        sent = fake.chats[0]["response_format"]
        assert sent == {"type": "json_schema", "json_schema": {"name": "output", "schema": SCHEMA}}
    with Fake(["これはJSONではない", '{"name": "田中", "age": 30}']) as fake:
        assert generate_json(connect(fake.url), "田中さん、30歳", SCHEMA) == {"name": "田中", "age": 30}
        assert len(fake.chats) == 2


def test_non_japanese_han_is_banned_then_asked_again_then_rewritten():
    tokens = {"药": 4001, "气": 4002, "药を": 9000}  # 药を: a token of two characters, missed by the first ban
    with Fake(["药を飲んでください。", "薬を飲んでください。"], tokens=tokens) as fake:
        remote = connect(fake.url)
        assert generate(remote, "どうすれば").text == "薬を飲んでください。"
        first, second = fake.chats
        assert [4001, False] in first["logit_bias"] and [4002, False] in first["logit_bias"]  # from /tokenize
        assert "lora" not in first and first["model"] == "fake-model"
        assert [9000, False] not in first["logit_bias"] and [9000, False] in second["logit_bias"]
    with Fake(["药と气"], tokens={}) as fake:  # the ban cannot name them and the backend writes them again
        response = generate(connect(fake.url), "どうすれば")
        assert response.text == "薬と気" and not non_japanese_chars(response.text)
        assert response.stats.rewritten_glyphs == 2
        assert len(fake.chats) == 1  # nothing new to ban: not asked again in vain
    with Fake(["药"]) as fake:
        assert generate(connect(fake.url, glyph_guard=False), "どうすれば").text == "药"
        assert "logit_bias" not in fake.chats[0] and fake.tokenized == []


def test_a_stream_is_utf8_safe_and_guarded():
    data = sse(delta("お薬"), delta("と药"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    cut = data.index("薬".encode()) + 1  # the network splits 薬's three bytes
    with Fake([[data[:cut], data[cut:]]]) as fake:
        stream = stream_generate(connect(fake.url), "どうすれば")
        assert "".join(stream) == "お薬と薬"
        assert stream.stats.finish_reason == "stop" and stream.stats.rewritten_glyphs == 1
        assert fake.chats[0]["stream"] is True


def test_busy_backend_is_retried_with_backoff_and_adapters_are_backend_models():
    with Fake([503, 429, "はい。"]) as fake:
        remote = connect(fake.url, model="base-model", adapters={"karte": "qwen-karte"}, glyph_guard=False)
        assert generate(remote, "元気？", adapter="karte").text == "はい。"
        assert [c["model"] for c in fake.chats] == ["qwen-karte"] * 3
        assert generate(remote, "元気？").text == "はい。" and fake.chats[-1]["model"] == "base-model"
        with pytest.raises(InputError, match="--backend-model clinic=NAME"):
            generate(remote, "元気？", adapter="clinic")
    assert parse_backend_models(["qwen", "karte=qwen-karte"]) == ("qwen", {"karte": "qwen-karte"})
    with pytest.raises(InputError, match="ADAPTER=NAME"):
        parse_backend_models(["karte="])
    with pytest.raises(InputError, match="http:// or https://"):
        connect("gpu-box:8080", model="m")


def test_a_backend_that_is_down_is_one_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    remote = connect(url, model="m", retries=1)
    with pytest.raises(BackendError, match=f"the generation backend at {url} is not reachable"):
        generate(remote, "こんにちは")
    env = {**os.environ, "KOGATA_BACKEND": url}
    commands = (
        ["generate", "こんにちは"],
        ["karte", str(VISIT), "--model", "m"],  # a chart asks for a model only when one is named
        ["generate", "--backend", url + "/v1", "hi"],
        ["serve", "--port", str(free_port())],  # without --model, serve asks the backend for its models at once
    )
    for args in commands:
        out = subprocess.run([*KOGATA, *args], capture_output=True, env=env)
        err = out.stderr.decode()
        assert out.returncode == 3, err
        assert (
            err.strip()
            == f"error: the generation backend at {url} is not reachable ([Errno 111] Connection refused, 4 tries)"
        )
        assert "Traceback" not in err
    charted = subprocess.run([*KOGATA, "karte", str(VISIT), "--format", "json"], capture_output=True, env=env)
    assert charted.returncode == 0, charted.stderr.decode()  # the default chart needs no backend: it never calls it
    assert json.loads(charted.stdout)["soap"]["S"]
    out = subprocess.run([*KOGATA, "serve", "--adapter", "a.gguf"], capture_output=True, env=env)
    assert out.returncode == 2 and "--backend-model ADAPTER=NAME" in out.stderr.decode()


def test_serve_with_a_backend_resolves_models_and_adapters_to_it(tmp_path):
    with Fake([[sse(delta("はい、"), delta("元気です。"))]]) as fake:
        config = ServerConfig(
            models=("fake-model",), db=tmp_path / "v.sqlite3", backend=fake.url, backend_models={"karte": "qwen-karte"}
        )
        services = Services(config)
        with TestClient(create_app(services), base_url="http://127.0.0.1:8000") as client:  # a Host it accepts
            models = client.get("/v1/models").json()
            assert [m["id"] for m in models["data"]][:2] == ["fake-model", "fake-model:karte"]
            messages = [{"role": "user", "content": "元気？"}]
            reply = client.post("/v1/chat/completions", json={"model": "fake-model:karte", "messages": messages})
            assert reply.status_code == 200, reply.text
            assert reply.json()["choices"][0]["message"]["content"] == "はい、元気です。"
        assert fake.chats[0]["model"] == "qwen-karte"


def settled_health(client) -> httpx.Response:
    """/health once the models have loaded (connecting to a backend takes a moment in a background thread)."""
    deadline = time.time() + 30
    while (health := client.get("/health")).json()["status"] == "loading" and time.time() < deadline:
        time.sleep(0.1)
    return health


def test_health_asks_the_backend_and_says_503_when_it_is_down_or_lacks_the_model(tmp_path, monkeypatch):
    monkeypatch.setattr("kogata.serve.services.BACKEND_PROBE_S", 0.0)  # ask at every call, not every 5 s
    with Fake(["はい"]) as fake:
        for served, expected in (("fake-model", 200), ("other-model", 503)):
            config = ServerConfig(models=(served,), db=tmp_path / f"{served}.sqlite3", backend=fake.url)
            with TestClient(create_app(Services(config)), base_url="http://127.0.0.1:8000") as client:
                health = settled_health(client)
                assert health.status_code == expected, health.text
        missing = health.json()["models"]["other-model"]
        assert missing == f"error: the generation backend at {fake.url.removesuffix('/v1')} does not list other-model"
    with TestClient(create_app(Services(config)), base_url="http://127.0.0.1:8000") as client:  # backend gone
        health = settled_health(client)
        assert health.status_code == 503 and "is not reachable" in health.json()["models"]["other-model"], health.text
