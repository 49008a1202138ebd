"""kogata.evals: scoring on hand-made cases, the suites' readers, compare, and one small real-model run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kogata.cli import cli
from kogata.engine.schema import check_schema
from kogata.evals import SUITES, report, run
from kogata.evals.choice import admissible, answer_schema, exam_correct, exam_item, picks
from kogata.evals.compare import compare
from kogata.evals.nursing_ner import locate, parse_sentence
from kogata.evals.runner import Item, default_data, sample
from kogata.evals.scoring import (
    Span,
    SpanCounts,
    cohen_kappa,
    exact_set,
    guess_chance,
    igakuqa_points,
    list_f1,
    majority_share,
)

# ── scoring ──


def test_kappa_unweighted_by_hand():
    # observed agreement 3/4; chance 0.5·0.25 + 0.5·0.75 = 0.5 → (0.75 − 0.5) / (1 − 0.5) = 0.5
    assert cohen_kappa(list("AABB"), list("ABBB")) == pytest.approx(0.5)
    assert cohen_kappa(list("ABCD"), list("ABCD")) == pytest.approx(1.0)
    assert cohen_kappa(list("AAAA"), list("AAAA")) == 0.0  # chance agreement is total: no information


def test_kappa_linear_weighted_by_hand():
    # labels A<B<C; one A read as B (distance 1): disagreement 1/3 observed, 7/9 by chance → 1 − 3/7
    assert cohen_kappa(list("ABC"), list("BBC"), weights="linear", labels="ABC") == pytest.approx(4 / 7)
    # a miss by two steps costs twice a miss by one
    near = cohen_kappa(list("ABCABC"), list("BBCABC"), weights="linear", labels="ABC")
    far = cohen_kappa(list("ABCABC"), list("CBCABC"), weights="linear", labels="ABC")
    assert far < near < 1.0


def test_kappa_counts_no_answer_as_disagreement():
    assert cohen_kappa(list("AB"), ["A", "none"], labels="AB") < 1.0
    with pytest.raises(ValueError):
        cohen_kappa(["A"], ["A", "B"])


def test_list_f1_exact_and_partial():
    gold = ["胃癌", "発熱"]
    assert list_f1(gold, ["胃癌の転移", "発熱"]) == pytest.approx(0.5)  # exact: 1 of 2 each way
    assert list_f1(gold, ["胃癌の転移", "発熱"], partial=True) == pytest.approx(1.0)  # 胃癌 lies inside 胃癌の転移
    # partial: 2 of 3 predictions right, both gold found → P 2/3, R 1 → F1 0.8
    assert list_f1(gold, ["癌", "発熱", "咳"], partial=True) == pytest.approx(0.8)
    assert list_f1(gold, []) == 0.0
    assert list_f1([], []) == 1.0


def test_span_f1_exact_partial_and_label():
    gold = [Span(0, 2, "absent"), Span(5, 7, "present")]
    predicted = [Span(0, 3, "absent"), Span(5, 7, "absent")]
    exact, partial, unlabelled = SpanCounts(), SpanCounts(), SpanCounts()
    exact.add(gold, predicted)
    partial.add(gold, predicted, partial=True)
    unlabelled.add(gold, predicted, labelled=False)
    assert exact.f1 == 0.0  # one boundary off, one label wrong
    assert partial.precision == partial.recall == pytest.approx(0.5)  # the overlap with the same label counts
    assert unlabelled.f1 == pytest.approx(0.5)  # the label-wrong span has the right characters


def test_exact_set_and_igakuqa_points():
    assert exact_set(["a", "c"], "c, a")
    assert exact_set(["b"], ["Ｂ"])  # full-width and case do not matter
    assert not exact_set(["a", "b"], ["a"])
    records = [{"points": "3", "correct": True}, {"points": "1", "correct": False}, {"points": "0", "correct": True}]
    assert igakuqa_points(records) == (3.0, 4.0)


def test_random_baselines():
    assert guess_chance(5, 1) == pytest.approx(0.2)
    assert guess_chance(5, 2) == pytest.approx(0.1)
    assert guess_chance(5, "all-that-apply") == pytest.approx(1 / 31)
    assert guess_chance(5, "order") == pytest.approx(1 / 120)
    assert majority_share("abca") == pytest.approx(0.5)


# ── multiple choice ──


@pytest.mark.parametrize(
    "question, form",
    [
        ("正しいのはどれか。", 1),
        ("誤っているのはどれか。2つ選べ。", 2),
        ("どれか。 3 つ選べ。", 3),
        ("誤っているものはどれか.1つ 選べ.", 1),
        ("適切なのはどれか。２つ選べ。", 2),
        ("含まれるのはどれか。すべて選べ。", "all-that-apply"),
        ("処置を実施の順番に並べよ。", "order"),
    ],
)
def test_answer_form_read_from_the_question(question, form):
    assert picks(question, 5) == form


def test_answer_schema_lists_exactly_the_admissible_answers():
    assert admissible("abcde", 2)[:2] == [["a", "b"], ["a", "c"]] and len(admissible("abcde", 2)) == 10
    assert len(admissible("abcde", "all-that-apply")) == 31
    for form in (1, 2, "all-that-apply", "order"):
        check_schema(answer_schema("abcde", form))  # every form is enforceable by constrained decoding


def test_exam_item_and_accepted_alternatives():
    item = exam_item(
        {
            "problem_id": "112B30",
            "problem_text": "正しいのはどれか。",
            "choices": list("12345"),
            "answer": ["a or d"],
            "points": "3",
        },
        group="2018",
        exam="医師国家試験",
    )
    assert item.info["form"] == 1 and item.info["points"] == "3"
    assert exam_correct(item, ["d"]) and exam_correct(item, ["a"]) and not exam_correct(item, ["b"])
    numeric = exam_item(
        {"problem_id": "x", "problem_text": "求めよ。", "choices": [], "answer": ["26"]}, group="g", exam="e"
    )
    assert numeric.info["form"] == "number" and exam_correct(numeric, ["26"]) and not exam_correct(numeric, ["27"])
    assert (
        exam_item(
            {"problem_id": "y", "problem_text": "並べよ。", "choices": ["a"], "answer": "NA"}, group="g", exam="e"
        )
        is None
    )


# ── readers, sampling, compare ──


def test_nursing_sentence_spans():
    text, spans = parse_sentence("<body>頭</body>が<cc_p>ぼうっと</cc_p>します。<cc_n>痛く</cc_n>ない。")
    assert text == "頭がぼうっとします。痛くない。"
    assert [(text[s.start : s.end], s.label) for s in spans] == [("ぼうっと", "present"), ("痛く", "absent")]
    # a repeated surface takes its next occurrence; a rewritten one is placed nowhere
    assert locate("痛い、とても痛い", [("痛い", "present"), ("痛い", "present"), ("頭痛", "present")]) == [
        Span(0, 2, "present"),
        Span(6, 8, "present"),
        Span(-1, -1, "present"),
    ]


def test_sample_is_seeded_and_per_group():
    items = [Item(id=str(i), group="ab"[i % 2], messages=[], schema={}, gold=None) for i in range(20)]
    first = [i.id for i in sample(items, 5, seed=1)]
    assert first == [i.id for i in sample(items, 5, seed=1)] and len(first) == 5
    assert first != [i.id for i in sample(items, 5, seed=2)]
    per_group = sample(items, 3, seed=0, per_group=True)
    assert sorted(i.group for i in per_group) == ["a"] * 3 + ["b"] * 3


def test_compare_reports_flips():
    a = {
        "suite": "jcqa",
        "model": "m",
        "items": [
            {"id": "1", "gold": "a", "prediction": "a", "correct": True},
            {"id": "2", "gold": "b", "prediction": "c", "correct": False},
            {"id": "3", "gold": "c", "prediction": "c", "correct": True},
        ],
    }
    b = {
        "suite": "jcqa",
        "model": "m",
        "items": [
            {"id": "1", "gold": "a", "prediction": "d", "correct": False},
            {"id": "2", "gold": "b", "prediction": "b", "correct": True},
            {"id": "3", "gold": "c", "prediction": "c", "correct": True},
        ],
    }
    diff = compare(a, b)
    assert diff["a"]["accuracy"] == diff["b"]["accuracy"] == pytest.approx(2 / 3)
    assert [r["id"] for r in diff["wrong_to_right"]] == ["2"] and [r["id"] for r in diff["right_to_wrong"]] == ["1"]
    assert diff["answers_changed"] == 2


def test_compare_cli_names_a_file_that_is_not_a_result(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    result = CliRunner().invoke(cli, ["eval", "compare", str(bad), str(bad)], standalone_mode=False)
    assert "not a kogata eval result" in str(result.exception)


def test_missing_data_is_a_clear_error_before_any_model_loads(tmp_path):
    result = CliRunner().invoke(cli, ["eval", "jcqa", "--data", str(tmp_path)], standalone_mode=False)
    assert "no JCommonsenseQA test file" in str(result.exception)


needs = pytest.mark.skipif(not default_data("igakuqa").is_dir(), reason="../shared/data not present")


@needs
def test_every_suite_reads_its_real_data():
    counts = {name: len(s.load(default_data(s.data_dir)).items) for name, s in SUITES.items()}
    assert counts == {"igakuqa": 1471, "medqa-ja": 879, "jmed": 800, "nursing-ner": 589, "jcqa": 1118, "lawqa": 140}


@needs
def test_published_igakuqa_figures_recomputed():
    from kogata.evals.igakuqa import published_accuracy

    figures = published_accuracy(default_data("igakuqa"))
    # Kasai et al. 2023: GPT-4 76.7 %, ChatGPT 54.0 %, GPT-3 40.4 % with their parser
    assert round(figures["GPT-4"]["all_as_published"], 3) == 0.767
    assert round(figures["ChatGPT"]["all_as_published"], 3) == 0.540
    assert round(figures["GPT-3"]["all_as_published"] * 100, 1) == pytest.approx(40.4, abs=0.051)


# ── a real model ──


@needs
def test_jcqa_run_on_the_small_model(small_llm, tmp_path):
    suite = SUITES["jcqa"]
    dataset = suite.load(default_data(suite.data_dir))
    result = run(suite, small_llm, dataset=dataset, limit=3, seed=0, progress=False)
    assert [r["id"] for r in result["items"]] == [i.id for i in sample(dataset.items, 3, 0)]
    assert all(r["prediction"] in "abcde" and r["gold"] in "abcde" for r in result["items"])
    assert result["errors"] == 0 and result["summary"]["rows"][0]["n"] == 3
    assert {"model", "adapter", "date", "limit", "seed", "sample", "summary", "items"} <= set(result)
    assert "| split | n | accuracy |" in report(result)
    json.dumps(result, ensure_ascii=False)  # the result document is JSON as it is


@needs
def test_an_item_that_fails_is_counted_not_fatal(small_llm):
    suite = SUITES["jcqa"]
    dataset = suite.load(default_data(suite.data_dir))
    dataset.items = sample(dataset.items, 2, 0)
    dataset.items[0].max_tokens = 1  # too few tokens to close the JSON: the engine raises for this item
    result = run(suite, small_llm, dataset=dataset, progress=False)
    first, second = result["items"]
    assert result["errors"] == 1 and "max_tokens" in first["error"] and first["correct"] is False
    assert "error" not in second and second["prediction"] in "abcde"


def test_jmed_summary_mixes_option_counts_within_a_task():
    # RRTNM asks T (5 options), N (4) and M (2) questions: chance is per item, the kappa scale their union
    records = [
        {"group": "rrtnm", "gold": "A", "prediction": "A", "correct": True, "labels": "ABCDE"},
        {"group": "rrtnm", "gold": "B", "prediction": "B", "correct": True, "labels": "AB"},
        {"group": "nrner", "gold": ["不安"], "prediction": [], "correct": False, "exact_f1": 0.0, "partial_f1": 0.0},
    ]
    rows = {r["task"]: r for r in SUITES["jmed"].summarise(records, [])["rows"]}
    assert rows["rrtnm"]["random acc"] == pytest.approx((1 / 5 + 1 / 2) / 2)
    assert rows["rrtnm"]["kappa"] == pytest.approx(1.0)
    assert rows["average (kappa / partial F1)"]["kappa"] == pytest.approx(0.5)


def test_a_listed_drug_is_scored_against_the_reference_drug_it_names_exactly():
    from kogata.evals.karte import _wrong_medications

    reference = {
        "medications": [
            {"name": "ロサルタン/ヒドロクロロチアジド", "brand": "プレミネント", "status": "stopped"},
            {"name": "ロサルタン", "brand": "", "status": "changed"},
            {"name": "フルチカゾン", "brand": "フルタイド", "status": "stopped"},
        ]
    }
    listed = [
        {"name": "ロサルタン", "brand": ""},  # changed today: not the stopped combination named beside it
        {"name": "フルチカゾンプロピオン酸エステル", "brand": "フルタイド"},  # the stopped one, by its brand
        {"name": "ロサルタン・ヒドロクロロチアジド", "brand": "プレミネント"},
    ]
    assert _wrong_medications(listed, reference) == [
        "フルチカゾンプロピオン酸エステル",
        "ロサルタン・ヒドロクロロチアジド",
    ]
