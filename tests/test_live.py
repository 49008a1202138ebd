"""The live-visit WebSocket (kogata.serve.live) and the incremental chart (kogata.tasks.karte.incremental), with the
real 0.5B model, the real Whisper base recogniser, and a real uvicorn server on a loopback port."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from servers import ServerThread
from websockets.sync.client import connect

import kogata
from kogata.serve import ServerConfig, Services, create_app
from kogata.speech.speakers import SURE
from kogata.store import VisitStore
from kogata.tasks.karte import chart as chart_module
from kogata.tasks.karte import incremental
from kogata.tasks.karte.chart import uncovered_of
from kogata.tasks.karte.incremental import IncrementalChart
from kogata.transcript import read_transcript

ROOT = Path(__file__).resolve().parent.parent
SMALL = "qwen2.5-coder-0.5b"
SPOKEN = ROOT / "data" / "speech" / "short_visit.txt"
TYPED = [
    ("医師", "今日はどうされましたか。"),
    ("患者", "三日前から熱があって、咳も出ます。"),
    ("医師", "体温は38.5℃ですね。カロナール500mgを1日3回、5日分出しておきます。"),
]


@pytest.fixture(scope="module")
def model():
    return kogata.load("small", n_ctx=4096, threads=2, progress=False)


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    config = ServerConfig(
        models=(SMALL,), waiting=2, db=tmp_path_factory.mktemp("live") / "v.sqlite3", registered_adapters=False
    )
    services = Services(config, preloaded={SMALL: model})
    with ServerThread(create_app(services)) as running:
        yield f"127.0.0.1:{running.port}", services


def receive(ws, kind: str, timeout: float = 900) -> dict:
    """The next message of `kind` (others, e.g. draft progress, are skipped); fails on an error message."""
    deadline = time.time() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.time())))
        if message["type"] == kind:
            return message
        assert message["type"] != "error" or kind == "error", message["message"]


def new_visit(host: str) -> str:
    return httpx.post(f"http://{host}/v1/visits", json={}).json()["id"]


@pytest.mark.parametrize("asked, made_by", [("", "rules+reader+status"), (f"?model={SMALL}", SMALL)])
def test_typed_visit_is_stored_as_it_goes_and_charted_at_the_end(server, asked, made_by):
    """Charted without a language model unless the session asks for one (?model=), which then drafts."""
    host, services = server
    visit = new_visit(host)
    with connect(f"ws://{host}/v1/visits/{visit}/live{asked}") as ws:
        assert receive(ws, "ready")["utterances"] == 0
        for n, (speaker, text) in enumerate(TYPED, 1):
            ws.send(json.dumps({"type": "utterance", "speaker": speaker, "text": text}))
            stored = receive(ws, "utterance")["utterance"]
            assert (stored["seq"], stored["speaker"], stored["text"]) == (n, speaker, text)
            assert stored["speaker_confidence"] is None and stored["speaker_sure"] is None  # a person's label
            # on disk before the page hears of it: a second connection to the file sees it
            assert len(VisitStore(services.store.path).utterances(visit)) == n
        ws.send(json.dumps({"type": "end"}))
        chart = receive(ws, "chart")
    version = chart["version"]
    assert version["version"] == 1 and version["source"] == "model" and version["utterances"] == 3
    assert version["model"] == made_by and version["author"] == f"kogata:{made_by}"
    meds = version["chart"]["medications"]
    assert [m["name"] for m in meds] == ["アセトアミノフェン"] and meds[0]["evidence"] == [3]
    assert services.store.chart_version(visit).chart == version["chart"]


def test_pasted_transcript_and_bad_messages(server):
    host, services = server
    visit = new_visit(host)
    with connect(f"ws://{host}/v1/visits/{visit}/live") as ws:
        receive(ws, "ready")
        ws.send("not json")
        assert "JSON" in receive(ws, "error")["message"]
        ws.send(json.dumps({"type": "dance"}))
        assert "unknown message type" in receive(ws, "error")["message"]
        ws.send(json.dumps({"type": "transcript", "text": "Hello there"}))
        receive(ws, "error")  # not Japanese: refused, nothing stored
        ws.send(b"\x00\x00\x80")  # not whole float32 samples
        assert "whole" in receive(ws, "error")["message"]
        ws.send(json.dumps({"type": "transcript", "text": "\n".join(f"{s}：{t}" for s, t in TYPED)}))
        assert [receive(ws, "utterance")["utterance"]["seq"] for _ in TYPED] == [1, 2, 3]
    assert len(services.store.utterances(visit)) == 3
    with connect(f"ws://{host}/v1/visits/no-such-visit/live") as ws:
        assert "no visit" in receive(ws, "error")["message"]
    with connect(f"ws://{host}/v1/visits/{visit}/live?format=mp3") as ws:
        assert "format" in receive(ws, "error")["message"]


def test_audio_frames_become_stored_utterances(server):
    from kogata.speech.synth import synthesize

    host, services = server
    visit = new_visit(host)
    audio = synthesize(SPOKEN, seed=3, limit=3)
    pcm = (audio.samples * 32767).astype("<i2")
    heard, previews = [], []  # previews: (partial text, how many utterances had arrived before it)
    with connect(f"ws://{host}/v1/visits/{visit}/live?format=i16&rate=16000") as ws:
        receive(ws, "ready")
        for i in range(0, len(pcm), 1600):  # 100 ms frames, as the page sends them (faster than real time)
            ws.send(pcm[i : i + 1600].tobytes())
        ws.send(json.dumps({"type": "end"}))
        while True:
            message = json.loads(ws.recv(timeout=900))
            assert message["type"] != "error", message
            if message["type"] == "utterance":
                heard.append(message["utterance"])
            if message["type"] == "partial":
                previews.append((message["text"], len(heard)))
            if message["type"] == "chart":
                break
    assert [u["speaker"] for u in heard] == ["医師", "患者", "医師"]
    # each heard label says how sure it is (the page marks an unsure one 患者?); a typed one says nothing
    assert all(
        0 < u["speaker_confidence"] <= 1 and u["speaker_sure"] == (u["speaker_confidence"] >= SURE) for u in heard
    )
    # While an utterance is still being spoken its words come ahead as previews: the start of a preview is the
    # start of the utterance that follows it (a preview is never stored).
    assert previews, "no partial text while the utterances were spoken"
    assert any(text[:3] in heard[n]["text"] for text, n in previews if n < len(heard)), (previews, heard)
    assert "熱" in heard[1]["text"] and "糖尿病" in heard[2]["text"]
    stored = services.store.utterances(visit)
    assert [u.text for u in stored] == [u["text"] for u in heard]
    # the guess is stored with the utterance, so a reload shows an unsure label unsure again
    assert [(u.speaker_confidence, u.speaker_sure) for u in stored] == [
        (u["speaker_confidence"], u["speaker_sure"]) for u in heard
    ]
    assert message["version"]["utterances"] == 3


def test_incremental_chart_drafts_what_the_rules_leave_in_windows_during_the_visit_and_only_its_tail_at_the_end(
    model, monkeypatch
):
    # The windows' bookkeeping over the rules' residual: the learned reader is off here, because its judgement of an
    # utterance can change as the visit grows (one of its signs is the place in the visit), and a window drafted
    # during the visit may then be covered at the end (extra drafting, nothing lost: _assemble keeps what adds).
    monkeypatch.setattr(chart_module, "READER", False)
    transcript = read_transcript(ROOT / "data" / "consultations" / "010_shonika.txt")
    residual = [s.id for s in uncovered_of(transcript)]  # what the model is given: no line of the rules cites it
    drafted: list[list[int]] = []
    real_draft = incremental.draft

    def counting_draft(llm, said, **kw):
        drafted.append([s.id for s in said])
        return real_draft(llm, said, **kw)

    monkeypatch.setattr(incremental, "draft", counting_draft)
    live = IncrementalChart(model, window_chars=20)
    steps = []
    for u in transcript.utterances:
        live.add(u)
        while live.pending():
            steps.append(live.step())
    windows = [list(ids) for ids in drafted]
    assert len(windows) >= 2 and "draft" in {s.action for s in steps}
    assert [i for w in windows for i in w] == residual[: sum(map(len, windows))]  # in order, none skipped, no rule's

    drafted.clear()
    chart = live.finish(transcript)
    tail = [i for i in residual if i > windows[-1][-1]]
    assert drafted == ([tail] if tail else [])  # only what no window covers
    assert chart.medications and sum(len(v) for v in chart.soap.values()) >= 3

    # a corrected speaker label changes its window: that window and the ones after it are drafted again
    fixed = [
        u if u.id != windows[1][0] else type(u)(u.id, "患者" if u.speaker == "医師" else "医師", u.text, u.start, u.end)
        for u in transcript.utterances
    ]
    drafted.clear()
    live.finish(type(transcript)(fixed, source="fixed"))
    assert drafted and drafted[0][0] <= windows[1][0] and drafted[0][0] > windows[0][-1]
