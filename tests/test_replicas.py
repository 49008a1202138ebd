"""Two `kogata serve` processes on one PostgreSQL behave as one service: a visit written through one is charted
through the other, concurrent edits through both give one winner and 409s, and a live WebSocket visit survives
its replica's death by resuming, on the other replica, from the stored utterances.

Real processes (`kogata serve --store postgresql://… --rules-only`: charts by the rules, no model, so the test
stays fast), a real PostgreSQL (tests/conftest.py), real HTTP and WebSocket clients.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from replicas import Replica  # noqa: E402

from kogata.transcript import read_transcript  # noqa: E402

VISIT = read_transcript(ROOT / "data" / "consultations" / "001_naika.txt")
LINES = [{"speaker": u.speaker, "text": u.text} for u in VISIT.utterances]


@pytest.fixture(scope="module")
def store_url(postgres):
    from stores import new_database

    return new_database(postgres)


@pytest.fixture(scope="module")
def pair(store_url, tmp_path_factory):
    logs = tmp_path_factory.mktemp("replicas")
    a = Replica(store_url, log=logs / "a.log")
    b = Replica(store_url, log=logs / "b.log")
    # started one after the other on an empty database: the second finds the schema the first migrated
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


def new_visit(replica: Replica) -> str:
    response = httpx.post(replica.url + "/v1/visits", json={"title": "replica"}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_visit_appended_through_one_replica_is_charted_through_the_other(pair):
    a, b = pair
    visit = new_visit(a)
    half = len(LINES) // 2
    for batch in (LINES[:half], LINES[half:]):
        response = httpx.post(f"{a.url}/v1/visits/{visit}/utterances", json={"utterances": batch}, timeout=30)
        assert response.status_code == 201, response.text
    charted = httpx.post(f"{b.url}/v1/visits/{visit}/chart", json={}, timeout=60)
    assert charted.status_code == 201, charted.text
    version = charted.json()
    assert version["version"] == 1 and version["utterances"] == len(LINES) and version["model"] == "rules"
    meds = [m["name"] for m in version["chart"]["medications"]]
    assert "アセトアミノフェン" in meds  # read from utterances that only replica A received
    seen = httpx.get(f"{a.url}/v1/visits/{visit}", timeout=30).json()
    assert [u["text"] for u in seen["utterances"]] == [line["text"] for line in LINES]
    assert [v["chart"] for v in seen["versions"]] == [version["chart"]]


def test_concurrent_edits_through_both_replicas_give_one_201_and_409s(pair):
    a, b = pair
    visit = new_visit(a)
    httpx.post(f"{a.url}/v1/visits/{visit}/utterances", json={"utterances": LINES[:6]}, timeout=30)
    base = httpx.post(f"{b.url}/v1/visits/{visit}/chart", json={}, timeout=60).json()
    start = threading.Barrier(8)
    results: list[tuple[int, str]] = []

    def edit(n: int) -> None:
        chart = json.loads(json.dumps(base["chart"]))
        chart["soap"]["P"].append({"text": f"編集{n}：再診。", "evidence": [1], "supported": True})
        replica = (a, b)[n % 2]
        start.wait()
        response = httpx.put(
            f"{replica.url}/v1/visits/{visit}/chart",
            json={"chart": chart, "author": f"dr.{n}", "base_version": base["version"]},
            timeout=60,
        )
        results.append((response.status_code, response.text))

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in results)
    assert codes == [201] + [409] * 7, results
    record = httpx.get(f"{b.url}/v1/visits/{visit}", timeout=30).json()
    assert [v["version"] for v in record["versions"]] == [1, 2]
    assert len(record["edits"]) == 1 and record["edits"][0]["base_version"] == 1
    winner = json.loads(next(text for code, text in results if code == 201))
    assert record["versions"][1]["author"] == winner["author"]


def receive(ws, kind: str, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.time())))
        if message["type"] == kind:
            return message
        assert message["type"] != "error", message["message"]


def test_a_live_visit_resumes_on_the_other_replica_after_its_replica_dies(pair, store_url):
    a, b = pair
    visit = new_visit(a)
    first, rest = LINES[:7], LINES[7:]
    with connect(f"ws://{a.host}/v1/visits/{visit}/live") as ws:
        assert receive(ws, "ready")["utterances"] == 0
        for n, line in enumerate(first, 1):
            ws.send(json.dumps({"type": "utterance", **line}))
            assert receive(ws, "utterance")["utterance"]["seq"] == n
        a.kill()  # mid-visit, without a shutdown
        with pytest.raises((ConnectionClosed, TimeoutError)):  # the connection is gone
            ws.recv(timeout=10)
    try:
        # the page reconnects to the same visit through whichever replica answers
        with connect(f"ws://{b.host}/v1/visits/{visit}/live") as ws:
            ready = receive(ws, "ready")
            assert ready["utterances"] == len(first)  # every acknowledged utterance is there
            assert ready["last"]["seq"] == len(first) and ready["last"]["text"] == first[-1]["text"]
            for n, line in enumerate(rest, len(first) + 1):
                ws.send(json.dumps({"type": "utterance", **line}))
                assert receive(ws, "utterance")["utterance"]["seq"] == n
            ws.send(json.dumps({"type": "end"}))
            chart = receive(ws, "chart")["version"]
        assert chart["utterances"] == len(LINES)
        assert "アセトアミノフェン" in [m["name"] for m in chart["chart"]["medications"]]
    finally:
        a.start()  # the restarted replica serves the same visit
    seen = httpx.get(f"{a.url}/v1/visits/{visit}", timeout=30).json()
    assert [u["seq"] for u in seen["utterances"]] == list(range(1, len(LINES) + 1))
    assert [v["version"] for v in seen["versions"]] == [1]


def test_serve_with_an_unreachable_store_is_one_clear_line_without_the_password():
    import subprocess

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "kogata.cli",
            "serve",
            "--rules-only",
            "--store",
            "postgresql://kogata:pw@127.0.0.1:1/v",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "127.0.0.1:1" in lines[0], run.stderr
    assert "pw" not in lines[0].replace("postgresql://kogata:***@", "")
