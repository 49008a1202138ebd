"""After-call records: the real model on a synthetic insurance call, the verifier on planted errors, deadline
normalisation, requirement matching, the ASDC reader, and clear errors for bad input."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from kogata.engine.schema import validation_errors
from kogata.errors import InputError
from kogata.evals.calls import read_asdc, score_requests
from kogata.render.call_markdown import call_markdown
from kogata.tasks.call import RECORD_SCHEMA
from kogata.tasks.call.dates import add_business_days, find_deadline, find_deadlines
from kogata.tasks.call.record import assemble, draft
from kogata.tasks.call.rules import actions_from_words, follow_up_from_words, requests_from_words
from kogata.tasks.call.similar import match, similarity
from kogata.tasks.call.vocabulary import evidence
from kogata.transcript import parse_transcript, read_transcript

CALLS = Path(__file__).resolve().parents[1] / "data" / "calls"
KOGATA = [str(Path(sys.executable).with_name("kogata"))]  # the installed command
FRIDAY = date(2026, 11, 27)


# ---------------------------------------------------------------------------------------------------------------
# The real model on one synthetic call, with a wrong fact planted in its draft.


@pytest.fixture(scope="module")
def address_change(llm):
    reference = json.loads((CALLS / "003_jusho_henko.json").read_text(encoding="utf-8"))
    index = evidence(read_transcript(CALLS / "003_jusho_henko.txt"))
    drafted = draft(llm, list(index.said.values()))
    drafted["requests"].append(reference["planted"])  # 4丁目: the customer said 3丁目5番8号
    record = assemble(index, drafted, call_date=date.fromisoformat(reference["call_date"]), model=llm.spec.name)
    return record, reference


def test_record_follows_the_contract(address_change):
    record, _ = address_change
    assert validation_errors(record.to_dict(), RECORD_SCHEMA) == []
    assert record.issue is not None and record.requests and record.actions


def test_every_item_cites_utterances_that_exist(address_change):
    record, _ = address_change
    ids = {u.id for u in record.transcript.utterances}
    for item in record.items():
        assert item.evidence and set(item.evidence) <= ids
    assert len(record.warnings) == sum(not i.supported for i in record.items())


def test_planted_wrong_fact_is_flagged_and_the_call_is_understood(address_change):
    record, reference = address_change
    planted = next(i for i in record.requests if i.text == reference["planted"]["text"])
    assert not planted.supported and "4" in " ".join(planted.problems)
    shown = [i.text for i in record.requests if i.supported]
    assert score_requests(shown, reference["requests"])["matched"] >= 1
    assert record.follow_up is not None and record.follow_up.supported
    assert record.follow_up.to_dict()["deadline"] == "2026-12-04"  # 今週中 said on Tuesday 1 December: Friday
    md = call_markdown(record)
    assert "## お客様のご要望・条件" in md and reference["planted"]["text"] not in md.split("## 検証")[0]


# ---------------------------------------------------------------------------------------------------------------
# Verification of drafted items, without a model.

CALL = """オペレーター：お電話ありがとうございます。さくら生命の小林です。
顧客：入院したので給付金を請求したいです。11月10日から8日間入院しました。
オペレーター：承知しました。請求書類は郵送でよろしいですか。
顧客：はい、郵送でお願いします。口座は引き落としと同じでお願いします。
オペレーター：かしこまりました。請求書類は3営業日以内に発送いたします。"""


@pytest.fixture(scope="module")
def index():
    return evidence(parse_transcript(CALL))


def _draft(**parts):
    return {"issue": [], "requests": [], "actions": [], "follow_up": [], **parts}


def test_wrong_numbers_and_missing_content_are_unsupported(index):
    record = assemble(
        index,
        _draft(
            requests=[
                {"text": "11月10日から8日間入院。", "evidence": [2]},
                {"text": "11月10日から9日間入院。", "evidence": [2]},  # wrong number
                {"text": "解約返戻金の金額を知りたい。", "evidence": [4]},  # said nowhere
            ]
        ),
    )
    assert [i.supported for i in record.requests[:3]] == [True, False, False]
    assert record.warnings and all(w["message"] for w in record.warnings)


def test_wrong_citation_is_moved_to_the_utterance_that_says_it(index):
    record = assemble(index, _draft(requests=[{"text": "請求書類は郵送を希望。", "evidence": [1]}]))
    assert record.requests[0].supported and record.requests[0].evidence in ([3], [4], [3, 4])


def test_an_action_must_be_something_the_operator_said(index):
    record = assemble(
        index,
        _draft(
            actions=[
                {"text": "給付金を請求したい。", "evidence": [2]},
                {"text": "請求書類を郵送で発送。", "evidence": [5]},
            ]
        ),
    )
    assert [i.supported for i in record.actions[:2]] == [False, True]
    assert "オペレーター" in record.actions[0].problems[0]


def test_follow_up_deadline_is_checked_and_resolved(index):
    wrong = assemble(index, _draft(follow_up=[{"text": "請求書類を明日発送。", "evidence": [5]}]), call_date=FRIDAY)
    # the drafted deadline is not the one said, so the operator's own promise replaces it
    assert wrong.follow_up.text == "請求書類は3営業日以内に発送いたします。"
    assert wrong.follow_up.to_dict()["deadline"] == "2026-12-02"  # Fri + 3 business days = Wed
    right = assemble(index, _draft(follow_up=[{"text": "3営業日以内に請求書類を発送。", "evidence": [5]}]))
    assert right.follow_up.supported and right.follow_up.to_dict()["deadline"] == "3営業日以内"  # no date: the phrase


def test_requests_from_the_words(index):
    texts = [i.text for i in requests_from_words(index)]
    assert any("給付金を請求" in t for t in texts) and any("口座は引き落とし" in t for t in texts)
    record = assemble(index, _draft(requests=[{"text": "給付金の請求を希望。", "evidence": [2]}]))
    assert sum("給付金" in i.text for i in record.requests) == 1  # the draft's item; the rule's repeat is left out


def test_actions_from_the_words(index):
    assert [i.text for i in actions_from_words(index)] == ["請求書類は3営業日以内に発送いたします"]


def test_a_follow_up_must_be_a_next_step(index):
    record = assemble(index, _draft(follow_up=[{"text": "請求書類は郵送。", "evidence": [3]}]))
    # no deadline and no promise in 「請求書類は郵送でよろしいですか」: the operator's promise in 5 replaces it
    assert record.follow_up.evidence == [5] and record.follow_up.supported


def test_follow_up_from_the_words_when_the_model_has_none(index):
    assert follow_up_from_words(index, FRIDAY)[1] == 5
    record = assemble(index, _draft())
    assert validation_errors(record.to_dict(), RECORD_SCHEMA) == []
    assert record.follow_up is not None
    assert record.issue.text == "入院したので給付金を請求したいです" and record.issue.evidence == [
        2
    ]  # the opening words
    silent = assemble(evidence(parse_transcript("オペレーター：お電話ありがとうございます。\n顧客：はい。")), _draft())
    assert silent.to_dict()["issue"] is None and silent.to_dict()["follow_up"] is None


@pytest.mark.parametrize("name", sorted(p.stem for p in CALLS.glob("*.json")))
def test_planted_facts_in_the_synthetic_calls_are_flagged(name):
    reference = json.loads((CALLS / f"{name}.json").read_text(encoding="utf-8"))
    assert reference["synthetic"] is True
    idx = evidence(read_transcript(CALLS / f"{name}.txt"))
    record = assemble(idx, _draft(requests=[reference["planted"]]))
    assert not record.requests[0].supported, reference["planted"]


# ---------------------------------------------------------------------------------------------------------------
# Deadlines.


@pytest.mark.parametrize(
    "text, phrase, day",
    [
        ("三営業日以内にご連絡いたします", "3営業日以内", date(2026, 12, 2)),  # skips Saturday and Sunday
        ("明日までにお送りします", "明日", date(2026, 11, 28)),
        ("明後日までに発送します", "明後日", date(2026, 11, 29)),
        ("来週の月曜日にお電話します", "来週の月曜日", date(2026, 11, 30)),
        ("来週月曜にお電話します", "来週月曜", date(2026, 11, 30)),
        ("水曜にお送りします", "水曜", date(2026, 12, 2)),
        ("12月5日までにご返送ください", "12月5日", date(2026, 12, 5)),
        ("1月10日までに", "1月10日", date(2027, 1, 10)),  # said in November: next January
        ("今週中にお送りします", "今週中", date(2026, 11, 27)),
        ("来月末までに", "来月末", date(2026, 12, 31)),
        ("２週間ほどでお届けします", "2週間ほど", date(2026, 12, 11)),
        ("本日中に折り返します", "本日中", date(2026, 11, 27)),
    ],
)
def test_deadlines_are_normalised(text, phrase, day):
    found = find_deadline(text, FRIDAY)
    assert (found.phrase, found.date) == (phrase, day)
    assert find_deadline(text).date is None and find_deadline(text).value() == phrase


def test_no_deadline_and_several_deadlines():
    assert find_deadline("保険金は30万円です。証券番号は12345678です。", FRIDAY) is None
    both = find_deadlines("資料は本日お送りし、来週月曜日にお電話します。", FRIDAY)
    assert [d.phrase for d in both] == ["本日", "来週月曜日"]
    assert add_business_days(FRIDAY, 1) == date(2026, 11, 30)


# ---------------------------------------------------------------------------------------------------------------
# Requirement matching and scoring.


@pytest.mark.parametrize(
    "gold, predicted",
    [
        ("日付は4月1日", "4月1日に宿泊を希望"),
        ("人数は大人3名", "大人３名"),  # full-width digit
        ("行先は宮崎県", "宮崎県への旅行を希望"),
        ("館内に地酒をお楽しみいただけるバーのあるお宿を希望", "地酒が楽しめるバーがある宿を希望"),
        ("予算は2名で合計5000円", "予算は2名で5,000円"),
    ],
)
def test_same_requirement_matches(gold, predicted):
    assert similarity(gold, predicted) >= 0.5


@pytest.mark.parametrize(
    "gold, predicted",
    [
        ("日付は4月1日", "人数は大人3名"),
        ("最寄り駅から送迎サービスのある宿を希望", "観光スポットに公共交通機関でアクセスしやすい場所を希望"),
        ("予算は1万円", "禁煙の部屋を希望"),
        ("泊数は1泊", "泊数は2泊"),
    ],
)
def test_different_requirements_do_not_match(gold, predicted):
    assert similarity(gold, predicted) < 0.5


def test_matching_is_one_to_one():
    gold = ["日付は4月1日", "宿泊日数は3泊"]
    assert len(match(["4月1日から宿泊", "4月1日から宿泊を希望"], gold)) == 1
    scored = score_requests(["4月1日から宿泊", "3泊で宿泊", "温泉付きを希望"], gold)
    assert (scored["matched"], scored["recall"], scored["precision"]) == (2, 1.0, 2 / 3)
    assert scored["missed"] == [] and score_requests([], gold)["recall"] == 0.0


def test_asdc_reader_drops_the_recap(tmp_path):
    doc = {
        "meta": {"id": {"id": "asdc.v4.999"}, "purpose": "dev", "conditions": ["日付は4月1日", "泊数は1泊"]},
        "utterances": [
            {"name": "operator_1", "text": "ご希望をお聞かせください。"},
            {"name": "customer_2", "text": "4月1日から1泊で泊まりたいです。"},
            {"name": "operator_1", "text": "・日付は4月1日。\n・泊数は1泊。"},
        ],
    }
    path = tmp_path / "999.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    dialogue = read_asdc(path)
    assert [u.speaker for u in dialogue.transcript.utterances] == ["オペレーター", "顧客"]
    assert dialogue.conditions == ["日付は4月1日", "泊数は1泊"]
    doc["utterances"].pop()  # now the customer speaks last: there is no recap to drop
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match="recap"):
        read_asdc(path)


# ---------------------------------------------------------------------------------------------------------------
# Bad input gets a clear error before any model loads.


@pytest.mark.parametrize(
    "args, content, message",
    [
        (["call"], b"", "empty"),
        (["call"], b"Operator: hello\nCustomer: I want to cancel", "Japanese"),
        (["call", "--date", "来週"], CALL.encode(), "--date"),
    ],
)
def test_bad_call_input_fails_clearly(tmp_path, args, content, message):
    path = tmp_path / "call.txt"
    path.write_bytes(content)
    done = subprocess.run([*KOGATA, *args, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_eval_asdc_without_data_fails_clearly(tmp_path):
    done = subprocess.run(
        [*KOGATA, "eval", "asdc", "--data", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "dialog_json" in done.stderr and "Traceback" not in done.stderr
