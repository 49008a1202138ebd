"""`kogata serve` against the official `openai` client (unchanged), the queue under load, disconnects, API keys,
visits end to end, and a server killed mid-visit. Real model (the 0.5B "small" profile), real HTTP."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jsonschema
import numpy as np
import openai
import pytest
from click.testing import CliRunner
from servers import ServerThread, free_port
from test_adapters import write_lora

import kogata
from kogata.cli import cli
from kogata.errors import InputError
from kogata.serve import ModelQueue, QueueFull, ServerConfig, Services, create_app
from kogata.serve.queue import Cancelled
from kogata.speech.speakers import SURE
from kogata.tasks.karte import CHART_SCHEMA

SMALL = "qwen2.5-coder-0.5b"
LONG_PROMPT = "1から300までの数字を、読点で区切って一つずつすべて書いてください。"
VISIT = [
    ("医師", "今日はどうされましたか。"),
    ("患者", "田中です。三日前から熱があって、咳も出ます。"),
    ("医師", "体温は38.5℃ですね。電話番号は090-1234-5678でよろしいですか。"),
    ("医師", "カロナール500mgを1日3回、5日分出しておきます。"),
]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    write_lora(folder / "noisy.gguf")  # a random LoRA: whether it was applied shows in the text
    model = kogata.load("small", n_ctx=2048, adapters={"noisy": folder / "noisy.gguf"}, progress=False)
    config = ServerConfig(models=(SMALL,), waiting=1, db=folder / "v.sqlite3", registered_adapters=False)
    return Services(config, preloaded={SMALL: model})


@pytest.fixture(scope="module")
def server(services):
    with ServerThread(create_app(services)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=600)


def idle(server, before: dict, timeout: float) -> dict:
    """Wait until nothing runs or waits; the queue state then."""
    deadline = time.time() + timeout
    while True:
        state = httpx.get(server.url + "/health").json()["queue"]
        if (
            state["running"] == 0
            and state["waiting"] == 0
            and state["completed"] + state["cancelled"] > before["completed"] + before["cancelled"]
        ):
            return state
        assert time.time() < deadline, f"model still busy {timeout} s later: {state}"
        time.sleep(0.05)


# ── the openai client, unchanged ──


def test_chat_plain_and_streamed_agree(client):
    ask = dict(model="small", messages=[{"role": "user", "content": "日本の首都はどこですか。一言で。"}], max_tokens=16)
    whole = client.chat.completions.create(**ask)
    text = whole.choices[0].message.content
    assert text and whole.usage.completion_tokens > 0 and whole.choices[0].finish_reason in ("stop", "length")
    pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(**ask, stream=True) if c.choices]
    assert "".join(pieces) == text  # greedy: the same answer, streamed
    assert all("\ufffd" not in p for p in pieces)  # never a split UTF-8 character


def test_json_schema_is_enforced(client):
    schema = {
        "type": "object",
        "properties": {"answer": {"enum": ["はい", "いいえ"]}, "days": {"type": "integer"}},
        "required": ["answer", "days"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model=SMALL,
        messages=[{"role": "user", "content": "三日前から熱があります。発熱はありますか。何日目ですか。"}],
        max_tokens=40,
        response_format={"type": "json_schema", "json_schema": {"name": "yes_no", "schema": schema}},
    )
    jsonschema.validate(json.loads(reply.choices[0].message.content), schema)
    obj = client.chat.completions.create(
        model=SMALL,
        messages=[{"role": "user", "content": "体温38.5℃をJSONで"}],
        max_tokens=16,
        response_format={"type": "json_object"},
    )
    if obj.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(obj.choices[0].message.content), dict)


@pytest.mark.parametrize(
    "schema,words",
    [
        ({"type": "object", "patternProperties": {"^a": {"type": "string"}}}, "patternProperties"),
        ({"type": "nonsense"}, "invalid JSON schema"),
    ],
)
def test_bad_schema_is_a_400_not_ignored(client, schema, words):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=SMALL,
            messages=[{"role": "user", "content": "x"}],
            response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
        )
    assert words in caught.value.body["message"] and caught.value.body["param"] == "response_format"


def test_adapter_chosen_per_request_by_model_name(client):
    ask = dict(messages=[{"role": "user", "content": "日本の首都はどこですか。"}], max_tokens=12)
    base = client.chat.completions.create(model=SMALL, **ask).choices[0].message.content
    adapted = client.chat.completions.create(model=f"{SMALL}:noisy", **ask)
    assert adapted.model == f"{SMALL}:noisy" and adapted.choices[0].message.content != base


def test_unknown_model_or_adapter_is_a_404(client):
    for name in ("gpt-4o", "small:clinic"):
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model=name, messages=[{"role": "user", "content": "こんにちは"}])


def test_models_and_embeddings(client):
    assert [m.id for m in client.models.list()] == [SMALL, f"{SMALL}:noisy", "multilingual-e5-small"]
    one = client.embeddings.create(model="multilingual-e5-small", input="三日前から熱があります")  # base64 by default
    many = client.embeddings.create(
        model="multilingual-e5-small", input=["熱があります", "咳が出ます"], encoding_format="float"
    )
    assert len(one.data) == 1 and len(one.data[0].embedding) == 384
    vectors = np.array([d.embedding for d in many.data])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)


def test_audio_transcriptions(client, tmp_path):
    from kogata.speech.audio import write_wav
    from kogata.speech.synth import synthesize
    from kogata.transcript import parse_transcript

    spoken = synthesize(parse_transcript("医師：今日はどうされましたか。\n患者：三日前から熱があります。"), seed=1)
    wav = write_wav(tmp_path / "visit.wav", spoken.samples)
    with wav.open("rb") as audio:
        verbose = client.audio.transcriptions.create(model="whisper-base", file=audio, response_format="verbose_json")
    assert "熱" in verbose.text and [s.speaker for s in verbose.segments] == ["医師", "患者"]
    assert 0 < verbose.segments[0].start < verbose.segments[0].end <= verbose.segments[1].start < verbose.duration
    # beside OpenAI's fields, each guessed label says how sure it is (false: shown as 患者?), as the live page hears it
    assert [s.id for s in verbose.segments] == [1, 2] and all(s.text for s in verbose.segments)
    for segment in verbose.segments:
        assert 0 < segment.speaker_confidence <= 1 and segment.speaker_sure == (segment.speaker_confidence >= SURE)
    with pytest.raises(openai.BadRequestError):
        client.audio.transcriptions.create(model="whisper-base", file=("x.wav", b"not audio at all"))


# ── the queue: load, disconnects ──


def test_queue_full_answers_503_with_retry_after_and_recovers(server):
    body = {"model": SMALL, "messages": [{"role": "user", "content": "こんにちは"}], "max_tokens": 4}
    visit = httpx.post(server.url + "/v1/visits").json()["id"]

    def utterance(i):
        return httpx.post(f"{server.url}/v1/visits/{visit}/utterances", json={"speaker": "患者", "text": f"発言{i}"})

    with ThreadPoolExecutor(16) as pool:  # one runs, one waits (--queue 1), the rest are refused
        chats = [pool.submit(httpx.post, server.url + "/v1/chat/completions", json=body, timeout=600) for _ in range(6)]
        said = list(pool.map(utterance, range(10)))  # visits keep flowing while the model is busy
        replies = [c.result() for c in chats]
    assert all(r.status_code == 201 for r in said)
    stored = httpx.get(f"{server.url}/v1/visits/{visit}").json()["utterances"]
    assert sorted(u["text"] for u in stored) == sorted(f"発言{i}" for i in range(10))  # no utterance lost
    assert [u["seq"] for u in stored] == list(range(1, 11))
    codes = sorted(r.status_code for r in replies)
    assert set(codes) <= {200, 503} and codes.count(200) >= 2 and codes.count(503) >= 1, codes
    for r in replies:
        if r.status_code == 503:
            assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["code"] == "queue_full"
    after = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=600)
    assert after.status_code == 200 and after.json()["choices"][0]["message"]["content"]


def test_a_client_that_leaves_stops_its_generation(server):
    """Closing a stream, or timing out on a plain request, frees the model within a few tokens' time, not after
    the 600 tokens asked for (timed in tokens measured here, so the test holds on a busy machine too)."""
    body = {"model": SMALL, "messages": [{"role": "user", "content": LONG_PROMPT}], "max_tokens": 600}
    before = httpx.get(server.url + "/health").json()["queue"]
    arrivals = []
    with (
        httpx.Client(timeout=600) as http,
        http.stream("POST", server.url + "/v1/chat/completions", json={**body, "stream": True}) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                arrivals.append(time.perf_counter())
                if len(arrivals) == 6:
                    break  # the client walks away mid-answer
    left = time.perf_counter()
    per_token = (arrivals[-1] - arrivals[0]) / (len(arrivals) - 1)
    budget = 2 + 20 * per_token
    state = idle(server, before, timeout=60 + 600 * per_token)
    assert time.perf_counter() - left < budget and state["cancelled"] == before["cancelled"] + 1, state

    with pytest.raises(httpx.ReadTimeout):  # same prompt: served from the KV cache, so it is generating by then
        httpx.post(server.url + "/v1/chat/completions", json=body, timeout=2 + 3 * per_token)
    left = time.perf_counter()
    after = idle(server, state, timeout=60 + 600 * per_token)
    assert time.perf_counter() - left < budget and after["cancelled"] == state["cancelled"] + 1, after


def test_queue_order_cancel_and_errors():
    async def scenario():
        queue = ModelQueue(waiting=2)
        gate, order = threading.Event(), []

        def blocked(job):
            gate.wait(10)
            order.append("first")

        def record(name):
            return lambda job: order.append(name) or name

        first = queue.submit(blocked)
        second = queue.submit(record("second"))
        third = queue.submit(record("third"))
        with pytest.raises(QueueFull) as full:
            queue.submit(record("fourth"))
        assert full.value.retry_after >= 1
        second.cancel()  # leaves the line while waiting
        gate.set()
        await first.result()
        assert await third.result() == "third"
        with pytest.raises(Cancelled):
            await second.result()
        failing = queue.submit(lambda job: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            await failing.result()
        assert order == ["first", "third"] and queue.state()["running"] == 0

    asyncio.run(scenario())


# ── API key and binding ──


def test_api_key_is_required_on_every_route_when_set(services):
    with ServerThread(create_app(services, api_key="sekret")) as locked:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=locked.url + "/v1", api_key="wrong", max_retries=0).models.list()
        for method, path in (("GET", "/health"), ("POST", "/v1/visits"), ("GET", "/v1/models")):
            assert httpx.request(method, locked.url + path).status_code == 401
        ok = openai.OpenAI(base_url=locked.url + "/v1", api_key="sekret", max_retries=0)
        assert SMALL in [m.id for m in ok.models.list()]


def test_refuses_a_public_address_without_a_key():
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert isinstance(result.exception, InputError) and "without an API key" in str(result.exception)


# ── karte and visits ──


def test_karte_and_a_visit_from_utterances_to_masked_export(server):
    http = httpx.Client(base_url=server.url, timeout=900, headers={"X-Kogata-User": "dr.test"})
    bad = http.post("/v1/karte", json={"transcript": "Hello, how are you?"})  # refused before it waits in line
    assert bad.status_code == 400 and "no utterance found" in bad.json()["error"]["message"]

    visit = http.post("/v1/visits", json={"title": "内科"}).json()
    http.post(f"/v1/visits/{visit['id']}/utterances", json={"speaker": VISIT[0][0], "text": VISIT[0][1]})
    added = http.post(
        f"/v1/visits/{visit['id']}/utterances", json={"utterances": [{"speaker": s, "text": t} for s, t in VISIT[1:]]}
    ).json()
    assert [u["seq"] for u in added["utterances"]] == [2, 3, 4]
    drafted = http.post(f"/v1/visits/{visit['id']}/chart", json={"model": "small"})
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["version"] == 1 and drafted.json()["author"] == f"kogata:{SMALL}"
    jsonschema.validate(drafted.json()["chart"], CHART_SCHEMA)
    cited = {i for items in drafted.json()["chart"]["soap"].values() for item in items for i in item["evidence"]}
    assert cited and cited <= {1, 2, 3, 4}

    edited_chart = json.loads(json.dumps(drafted.json()["chart"]))
    edited_chart["soap"]["A"] = [{"text": "急性上気道炎。", "evidence": [2, 3], "supported": True}]
    edit = http.put(
        f"/v1/visits/{visit['id']}/chart", json={"chart": edited_chart, "author": "dr.yamada", "base_version": 1}
    )
    assert edit.status_code == 201 and edit.json()["version"] == 2
    stale = http.put(f"/v1/visits/{visit['id']}/chart", json={"chart": edited_chart, "base_version": 1})
    assert stale.status_code == 409
    broken = http.put(f"/v1/visits/{visit['id']}/chart", json={"chart": {"soap": {}}})
    assert broken.status_code == 400

    record = http.get(f"/v1/visits/{visit['id']}").json()
    assert [v["version"] for v in record["versions"]] == [1, 2]
    assert record["versions"][0]["chart"] == drafted.json()["chart"]  # never overwritten
    assert record["edits"][0]["author"] == "dr.yamada" and "A" in record["edits"][0]["what"]["soap"]

    plain = http.get(f"/v1/visits/{visit['id']}/export", params={"format": "json"}).json()
    masked = http.get(f"/v1/visits/{visit['id']}/export", params={"format": "json", "mask": "true"}).json()
    assert "090-1234-5678" in json.dumps(plain, ensure_ascii=False)
    assert "090-1234-5678" not in json.dumps(masked, ensure_ascii=False)
    assert "38.5℃" in json.dumps(masked, ensure_ascii=False)
    markdown = http.get(f"/v1/visits/{visit['id']}/export", params={"format": "md", "mask": "true"}).text
    assert "急性上気道炎" in markdown and "## S" in markdown
    bundle = http.get(f"/v1/visits/{visit['id']}/export", params={"format": "fhir", "version": 1}).json()
    assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["resourceType"] == "Composition"


def test_server_killed_mid_visit_loses_no_utterance(tmp_path):
    """kill -9 between utterances; a new server on the same database has every utterance it acknowledged."""
    db, port = tmp_path / "visits.sqlite3", free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-c",
        "from kogata.cli import main; main()",  # the installed `kogata` command
        "serve",
        "--port",
        str(port),
        "--db",
        str(db),
        "--model",
        "tiny",
    ]

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read()
            assert time.time() < deadline, "server did not start"
            time.sleep(0.1)

    first = start()
    try:
        visit = httpx.post(url + "/v1/visits").json()["id"]
        said = [f"{i}回目の発言です。" for i in range(1, 8)]
        for text in said[:4]:
            added = httpx.post(f"{url}/v1/visits/{visit}/utterances", json={"speaker": "患者", "text": text})
            assert added.status_code == 201
        httpx.post(
            f"{url}/v1/visits/{visit}/utterances",
            json={"utterances": [{"speaker": "医師", "text": t} for t in said[4:]]},
        ).raise_for_status()
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
    assert first.returncode == -9

    second = start()
    try:
        record = httpx.get(f"{url}/v1/visits/{visit}").json()
        assert [u["text"] for u in record["utterances"]] == said
        assert [u["seq"] for u in record["utterances"]] == list(range(1, 8))
        more = httpx.post(f"{url}/v1/visits/{visit}/utterances", json={"speaker": "医師", "text": "続けます。"}).json()
        assert more["utterances"][0]["seq"] == 8  # the visit goes on where it stopped
    finally:
        second.terminate()
        second.wait(30)
