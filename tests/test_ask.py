"""Answers with citations: planted unsupported sentences are dropped, and a real small model answers from a
pack with citations and says 「該当する規定が見つかりませんでした」 when the pack does not hold the answer."""

from __future__ import annotations

import pytest

import kogata
from kogata.knowledge import store
from kogata.knowledge.chunk import chunk_text
from kogata.knowledge.retrieve import Hit, Retriever
from kogata.knowledge.store import Passage
from kogata.tasks.ask import NOT_FOUND, ask, draft_reply
from kogata.tasks.ask.answer import verify
from kogata.tasks.ask.vocabulary import VOCABULARY
from kogata.verify.passages import PassageIndex

RULE = """さくら市粗大ごみ規則
（粗大ごみの収集）
第七条　粗大ごみの収集を受けようとする者は、収集を希望する日の七日前までに、粗大ごみ受付センターに申し込まなければならない。
２　粗大ごみの処理手数料は、一点につき五百円とする。
（自己搬入）
第八条　自己搬入の処理手数料は、十キログラムごとに百円とする。
"""


@pytest.fixture(scope="module")
def hits():
    chunks = chunk_text(RULE, source="sodai.txt")
    return [Hit(Passage(i, c, "sodai.txt", []), 0.0, 0.9, 1.0) for i, c in enumerate(chunks)]


@pytest.fixture(scope="module")
def index(hits):
    return PassageIndex({n: h.chunk.context for n, h in enumerate(hits, 1)}, vocabulary=VOCABULARY)


@pytest.mark.parametrize(
    "text, cites",
    [
        ("粗大ごみの処理手数料は、1点につき500円です。", [1]),
        ("収集を希望する日の7日前までに、粗大ごみ受付センターに申し込みます。", [1]),
        ("第7条により、粗大ごみは申込みが必要です。", [1]),
        ("自己搬入の処理手数料は、10キログラムごとに100円です。", [2]),
    ],
)
def test_supported_sentences_pass(index, text, cites):
    assert index.check(text, cites) == []


@pytest.mark.parametrize(
    "text, cites, reason",
    [
        ("粗大ごみの処理手数料は、1点につき800円です。", [1], "数値「800」"),  # wrong amount
        ("収集日の3日前までに申し込みます。", [1], "数値「3日」"),  # wrong deadline
        ("第9条により、粗大ごみは申込みが必要です。", [1], "「第9条」"),  # wrong article
        ("粗大ごみはマイナポータルで申し込めます。", [1], "「マイナ」"),  # invented name
        ("犬の登録手数料は、1点につき500円です。", [1], "「犬」「登録」"),  # right number, wrong subject
        ("自己搬入の処理手数料は、10キログラムごとに100円です。", [3], "存在しません"),  # a passage that is not there
        ("粗大ごみの処理手数料は500円です。", [], "出典の番号がありません"),
    ],
)
def test_planted_errors_are_caught(index, text, cites, reason):
    assert any(reason in p for p in index.check(text, cites)), index.check(text, cites)


def test_verify_drops_unsupported_recites_misplaced_and_refuses_echoes(hits, index):
    kept, dropped = verify(
        [
            {"text": "粗大ごみの処理手数料は、1点につき500円です。", "cites": [1]},
            {"text": "自己搬入の処理手数料は、10キログラムごとに100円です。", "cites": [1]},  # wrong passage cited
            {"text": "粗大ごみの処理手数料は、1点につき1000円です。", "cites": [1]},  # planted, unsupported
            {"text": "粗大ごみの手数料はいくらですか。", "cites": [1]},  # the question said back
        ],
        hits,
        index,
        question="粗大ごみの手数料はいくらですか",
    )
    assert [(s.text[:11], s.cites, s.recited) for s in kept] == [
        ("粗大ごみの処理手数料は", [1], False),
        ("自己搬入の処理手数料は", [2], True),
    ]
    assert [s.text for s in dropped] == [
        "粗大ごみの処理手数料は、1点につき1000円です。",
        "粗大ごみの手数料はいくらですか。",
    ]
    assert "数値「1000」" in dropped[0].problems[0]


# ── with a real model (the 0.5B edge profile: the smallest that follows the schema in Japanese) ──


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    root = tmp_path_factory.mktemp("ask")
    mp = pytest.MonkeyPatch()
    mp.setenv("KOGATA_HOME", str(root / "home"))
    (root / "sodai.txt").write_text(RULE, encoding="utf-8")
    store.add("sodai", [root / "sodai.txt"], progress=False)
    yield Retriever("sodai")
    mp.undo()


@pytest.fixture(scope="module")
def model():
    return kogata.load("qwen2.5-coder-0.5b", n_ctx=2048, progress=False)


@pytest.mark.slow
def test_ask_answers_with_citations(pack, model):
    answer = ask(pack, "粗大ごみの処理手数料はいくらですか。", model=model, k=2)
    assert answer.found, (answer.reason, [(s.text, s.problems) for s in answer.unsupported])
    assert "500" in answer.text.replace("五百", "500")
    index = PassageIndex({n: h.chunk.context for n, h in enumerate(answer.passages, 1)}, vocabulary=VOCABULARY)
    for s in answer.sentences:
        assert s.cites and not s.problems
        assert index.check(s.text, s.cites) == []
    cited = {answer.passages[n - 1].chunk.citation for s in answer.sentences for n in s.cites}
    assert "sodai.txt 第7条" in cited
    assert answer.to_dict()["sentences"][0]["citations"]


@pytest.mark.slow
def test_ask_says_so_when_the_pack_lacks_the_answer(pack, model):
    far = ask(pack, "固定資産税の納期はいつですか。", model=model, k=2)  # retrieval alone finds nothing related
    assert not far.found and far.text == NOT_FOUND and "類似度" in far.reason
    # near enough in words (手数料) to reach the model: it must say so, or the verifier must drop what it wrote
    near = ask(pack, "犬の登録手数料はいくらですか。", model=model, k=2, min_similarity=0.0)
    assert not near.found and near.text == NOT_FOUND, [s.text for s in near.sentences]
    assert "類似度" not in near.reason


@pytest.mark.slow
def test_draft_reply_is_a_letter_with_sources(pack, model):
    reply = draft_reply(
        pack, "タンスを捨てたいのですが、粗大ごみの手数料はいくらですか。", model=model, k=2, sender="さくら市 環境課"
    )
    letter = reply.letter()
    assert letter.startswith("お問い合わせいただき、ありがとうございます。") and "さくら市 環境課" in letter
    if reply.found:  # a small model may find nothing it can support; then the letter says so, never guesses
        assert "根拠：" in letter and "sodai.txt 第7条" in letter
    else:
        assert NOT_FOUND in letter


def test_supported_sentences_about_something_else_are_no_answer():
    from kogata.ja.glossary import Glossary, parse_glossary
    from kogata.tasks.ask.answer import Sentence, on_topic

    glossary = Glossary(parse_glossary("粗大ごみ\tソダイゴミ\t家具|大型ごみ\tごみ\n"))
    # recorded from the 1.5B model on the sakura-city pack: the FAQ on 保育所 given for a question on 市営住宅
    off = [Sentence("四月入所の一次申込みは、前年の十一月一日から十一月三十日までです。", [1])]
    assert not on_topic("市営住宅の入居条件を教えてください。", off, glossary)
    assert on_topic("大型の家具を出したいのですが。", [Sentence("粗大ごみは七日前までに申し込みます。", [1])], glossary)
