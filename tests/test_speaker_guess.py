"""The recogniser's speaker guess kept with the utterance: stored and read back on both backends, added to old
databases by a forward migration that keeps every row, made sure by a person's correction (the guess stays in the
history), and carried by the API and the exports. A wrong label is worse than an unknown one: an unsure guess reads
患者? wherever the transcript is shown."""

import sqlite3

import pytest
from fastapi.testclient import TestClient
from stores import chart, execute, raw, refused

from kogata.errors import InputError
from kogata.serve import ServerConfig, Services, create_app
from kogata.store import FieldError, VisitStore, migrations, open_store, visit_transcript
from kogata.transcript.formats import label, to_srt, to_txt

HEARD = [  # (speaker, text, confidence, sure): as the recogniser gives them
    ("医師", "今日はどうされましたか。", 0.93, True),
    ("患者", "それで、その。", 0.55, False),
]


def test_a_guess_is_stored_and_read_back_and_a_correction_makes_the_label_sure(store):
    visit = store.create_visit(actor="dr").id
    for speaker, text, confidence, sure in HEARD:
        out = store.add_utterance(visit, speaker, text, actor="live", speaker_confidence=confidence, speaker_sure=sure)
        assert (out.speaker_confidence, out.speaker_sure) == (confidence, sure)
    store.add_utterances(
        visit,
        [
            {"speaker": "家族", "text": "母です。", "speaker_confidence": 0.41, "speaker_sure": False},
            {"speaker": "医師", "text": "お大事に。"},  # typed: no guess
        ],
        actor="live",
    )
    read = store.utterances(visit)
    assert [(u.speaker, u.speaker_confidence, u.speaker_sure, u.corrected) for u in read] == [
        ("医師", 0.93, True, False),
        ("患者", 0.55, False, False),
        ("家族", 0.41, False, False),
        ("医師", None, None, False),
    ]
    assert store.record(visit)["utterances"][1]["speaker_sure"] is False  # what GET /v1/visits/{id} returns

    # a person's text fix says nothing of who spoke: the label stays a guess; a speaker fix makes it sure
    store.correct_utterance(visit, 2, author="dr", text="それで、その、熱が。")
    assert store.utterances(visit)[1].speaker_sure is False
    fixed = store.correct_utterance(visit, 2, author="dr", speaker="家族")
    assert (fixed.speaker, fixed.speaker_confidence, fixed.speaker_sure, fixed.corrected) == ("家族", None, True, True)
    assert store.utterances(visit)[2].speaker_sure is False  # the others are as they were

    # the guess stays where it was stored: the history shows what was heard and each correction after it
    (history,) = store.utterance_history(visit)
    assert (history["seq"], history["speaker"], history["text"]) == (2, "患者", "それで、その。")
    assert (history["speaker_confidence"], history["speaker_sure"], history["received_by"]) == (0.55, False, "live")
    assert [(c["speaker"], c["text"], c["author"]) for c in history["corrections"]] == [
        (None, "それで、その、熱が。", "dr"),
        ("家族", None, "dr"),
    ]
    assert execute(store, "SELECT speaker, speaker_confidence, speaker_sure FROM utterances WHERE seq = 2") == [
        ("患者", 0.55, 0)
    ]

    # the transcript kogata reads from the visit carries the guess: an unsure label is written 家族? / 患者?
    transcript = visit_transcript(store, visit)
    assert [label(u) for u in transcript.utterances] == ["医師", "家族", "家族?", "医師"]
    assert "家族?：母です。" in to_txt(transcript.utterances) and "家族?：母です。" in to_srt(transcript.utterances)


@pytest.mark.parametrize(
    "guess, param",
    [
        ({"speaker_confidence": 1.5, "speaker_sure": True}, "speaker_confidence"),
        ({"speaker_confidence": float("nan"), "speaker_sure": True}, "speaker_confidence"),
        ({"speaker_confidence": True, "speaker_sure": True}, "speaker_confidence"),
        ({"speaker_confidence": 0.5}, "speaker_sure"),
        ({"speaker_sure": False}, "speaker_confidence"),
        ({"speaker_confidence": 0.5, "speaker_sure": "no"}, "speaker_sure"),
    ],
)
def test_a_bad_guess_is_refused_naming_its_field_and_nothing_is_stored(tmp_path, guess, param):
    store = VisitStore(tmp_path / "v.sqlite3")
    visit = store.create_visit(actor="dr").id
    with pytest.raises(FieldError) as e:
        store.add_utterance(visit, "患者", "熱です", actor="t", **guess)
    assert e.value.param == param
    with pytest.raises(FieldError) as e:
        store.add_utterances(
            visit, [{"speaker": "医師", "text": "はい"}, {"speaker": "患者", "text": "熱", **guess}], actor="t"
        )
    assert e.value.param == f"utterances[1].{param}"
    assert store.utterances(visit) == []


def _step_3_file(path) -> None:
    """A visit database as kogata made it before the guess was kept (schema step 3), with a corrected utterance."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for step in migrations.STEPS[:3]:
        step(db)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO visits (id, created_at, created_by) VALUES ('v1', '2026-12-01T00:00:00.000+00:00', 'dr')")
    for seq, speaker, text in ((1, "医師", "どうされましたか。"), (2, "患者", "熱があります。")):
        db.execute(
            "INSERT INTO utterances (visit_id, seq, speaker, text, start_s, end_s, received_at, received_by) "
            "VALUES ('v1', ?, ?, ?, 1.0, 2.0, '2026-12-01T00:00:01.000+00:00', 'live')",
            (seq, speaker, text),
        )
    db.execute(
        "INSERT INTO utterance_corrections (visit_id, seq, speaker, author, at) VALUES ('v1', 2, '家族', 'dr', 'x')"
    )
    db.close()


def test_an_old_sqlite_file_gains_the_guess_columns_with_every_row_kept(tmp_path):
    path = tmp_path / "old.sqlite3"
    _step_3_file(path)
    db = sqlite3.connect(path)
    before = db.execute("SELECT * FROM utterances ORDER BY seq").fetchall()
    db.close()

    store = VisitStore(path)
    assert store.schema_version() == migrations.LATEST
    # rows stored before the step are labels a person gave or confirmed: no guess, nothing shown as unsure
    assert [(u.speaker, u.speaker_confidence, u.speaker_sure, u.corrected) for u in store.utterances("v1")] == [
        ("医師", None, None, False),
        ("家族", None, True, True),
    ]
    store.add_utterance("v1", "患者", "咳も出ます。", actor="live", speaker_confidence=0.6, speaker_sure=False)
    assert store.utterances("v1")[2].speaker_sure is False
    store.close()

    db = sqlite3.connect(path)
    after = db.execute("SELECT * FROM utterances ORDER BY seq").fetchall()
    assert [row[:8] for row in after[:2]] == before and [row[8:] for row in after[:2]] == [(None, None)] * 2
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE utterances SET speaker_sure = 1")  # the step left the guard as it was
    db.close()
    assert VisitStore(path).schema_version() == migrations.LATEST  # a second open changes nothing


def test_a_step_3_postgresql_database_gains_the_guess_columns_with_every_row_kept(pg_url):
    store = open_store(pg_url)
    store.migrate(to=3)
    execute(
        store, "INSERT INTO visits (id, created_at, created_by) VALUES ('v1', '2026-12-01T00:00:00.000+00:00', 'dr')"
    )
    execute(
        store,
        "INSERT INTO utterances (visit_id, seq, speaker, text, received_at, received_by) "
        "VALUES ('v1', 1, '患者', '熱があります。', '2026-12-01T00:00:01.000+00:00', 'live')",
    )
    before = execute(store, "SELECT * FROM utterances")
    assert store.migrate() == migrations.LATEST
    after = execute(store, "SELECT * FROM utterances")
    assert [row[:8] for row in after] == before and [row[8:] for row in after] == [(None, None)]
    store.add_utterance("v1", "医師", "そうですか。", actor="live", speaker_confidence=0.8, speaker_sure=True)
    assert [(u.speaker_confidence, u.speaker_sure) for u in store.utterances("v1")] == [(None, None), (0.8, True)]
    with raw(store) as db, pytest.raises(refused(), match="append-only"):
        db.execute("UPDATE utterances SET speaker_sure = 0")
    store.close()


def test_undoing_the_step_is_refused_while_a_guess_is_stored(where):
    store = open_store(where)
    visit = store.create_visit(actor="dr").id
    store.add_utterance(visit, "患者", "熱です。", actor="live", speaker_confidence=0.5, speaker_sure=False)
    with pytest.raises(InputError, match="restore from a backup"):
        store.migrate(to=3)
    assert store.schema_version() == migrations.LATEST
    assert store.utterances(visit)[0].speaker_confidence == 0.5
    store.close()


# ── over HTTP: the real app, a real store on each backend, no model ──


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, tmp_path_factory):
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("guess") / "v.sqlite3"
    else:
        from stores import new_database

        db = new_database(request.getfixturevalue("postgres"))
    services = Services(ServerConfig(models=("qwen2.5-coder-0.5b",), waiting=1, db=db))
    # No `with`: the lifespan would start loading the model, and nothing here needs it.
    return TestClient(create_app(services), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


def test_the_api_stores_returns_corrects_and_exports_the_guess(client):
    visit = client.post("/v1/visits", json={}).json()["id"]
    one = client.post(
        f"/v1/visits/{visit}/utterances",
        json={"speaker": "医師", "text": "今日はどうされましたか。", "speaker_confidence": 0.93, "speaker_sure": True},
    )
    assert one.status_code == 201 and one.json()["utterances"][0]["speaker_confidence"] == 0.93
    batch = [
        {"speaker": "患者", "text": "三日前から熱があります。", "speaker_confidence": 0.55, "speaker_sure": False},
        {"speaker": "患者", "text": "咳も出ます。", "speaker_confidence": 0.62, "speaker_sure": False},
    ]
    assert client.post(f"/v1/visits/{visit}/utterances", json={"utterances": batch}).status_code == 201

    utterances = client.get(f"/v1/visits/{visit}").json()["utterances"]
    assert [(u["speaker_confidence"], u["speaker_sure"]) for u in utterances] == [
        (0.93, True),
        (0.55, False),
        (0.62, False),
    ]

    fixed = client.patch(f"/v1/visits/{visit}/utterances/2", json={"speaker": "家族", "author": "dr.sato"})
    assert fixed.status_code == 200
    assert {k: fixed.json()[k] for k in ("speaker", "speaker_confidence", "speaker_sure", "corrected")} == {
        "speaker": "家族",
        "speaker_confidence": None,
        "speaker_sure": True,
        "corrected": True,
    }
    after = client.get(f"/v1/visits/{visit}").json()["utterances"]
    assert [(u["speaker"], u["speaker_sure"]) for u in after] == [("医師", True), ("家族", True), ("患者", False)]
    (history,) = client.get(f"/v1/visits/{visit}/history").json()["utterances"]
    assert (history["seq"], history["speaker"], history["speaker_confidence"], history["speaker_sure"]) == (
        2,
        "患者",
        0.55,
        False,
    )
    assert [(c["speaker"], c["author"]) for c in history["corrections"]] == [("家族", "dr.sato")]

    # exports: the JSON's transcript carries the guess; Markdown lists an unread unsure line as 患者?
    assert (
        client.put(f"/v1/visits/{visit}/chart", json={"chart": chart("発熱あり。"), "base_version": 0}).status_code
        == 201
    )
    exported = client.get(f"/v1/visits/{visit}/export", params={"format": "json"}).json()["transcript"]["utterances"]
    assert [(u["speaker"], u.get("speaker_confidence"), u["speaker_sure"]) for u in exported] == [
        ("医師", 0.93, True),
        ("家族", None, True),
        ("患者", 0.62, False),
    ]
    markdown = client.get(f"/v1/visits/{visit}/export", params={"format": "md"}).text
    assert "患者?：咳も出ます。" in markdown and "家族：三日前から" in markdown


@pytest.mark.parametrize(
    "guess, param",
    [
        ({"speaker_confidence": 1.2, "speaker_sure": True}, "speaker_confidence"),
        ({"speaker_confidence": "0.5", "speaker_sure": True}, "speaker_confidence"),
        ({"speaker_confidence": 0.5, "speaker_sure": "false"}, "speaker_sure"),
        ({"speaker_confidence": 0.5}, "speaker_sure"),
    ],
)
def test_a_bad_guess_over_http_is_a_400_naming_its_field(client, guess, param):
    visit = client.post("/v1/visits", json={}).json()["id"]
    response = client.post(f"/v1/visits/{visit}/utterances", json={"speaker": "患者", "text": "熱です", **guess})
    assert response.status_code == 400, response.text
    assert param in (response.json()["error"]["param"] or "")
    assert client.get(f"/v1/visits/{visit}").json()["utterances"] == []


def test_a_json_transcript_keeps_its_guesses_and_a_bad_one_is_refused():
    from kogata.errors import TranscriptError
    from kogata.transcript import parse_transcript
    from kogata.transcript.formats import to_json

    first = parse_transcript(to_json_records()).utterances
    again = parse_transcript(to_json(first)).utterances  # written out and read back
    assert [(u.speaker_confidence, u.speaker_sure) for u in again] == [(0.93, True), (0.55, False), (None, None)]
    assert again == first and [label(u) for u in again] == ["医師", "患者?", "医師"]
    for bad in ('"speaker_confidence": 2, "speaker_sure": true', '"speaker_confidence": 0.5, "speaker_sure": "yes"'):
        with pytest.raises(TranscriptError, match=r"utterances\[0\]\.speaker_"):
            parse_transcript('{"utterances": [{"speaker": "患者", "text": "熱があります。", ' + bad + "}]}")


def to_json_records() -> str:
    """HEARD and a typed line as a JSON transcript, the shape `kogata transcribe --format json` writes."""
    import json

    records = [dict(zip(("speaker", "text", "speaker_confidence", "speaker_sure"), h)) for h in HEARD]
    return json.dumps({"utterances": [*records, {"speaker": "医師", "text": "お大事に。"}]}, ensure_ascii=False)
