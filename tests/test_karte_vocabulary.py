"""One case per row of every task word table (kogata/tasks/*/data/*.tsv): the rule that owns the table reads the
row's `example` and must give its `expect`. A row someone adds is tested as `file.tsv:LINE`."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.resources import files

import pytest

from kogata.tasks.ask import vocabulary as ask_words
from kogata.tasks.call import vocabulary as call_words
from kogata.tasks.data import rows
from kogata.tasks.karte import extractive, facts, layterms, lines, negatives, readings
from kogata.tasks.karte import vocabulary as karte_words
from kogata.verify import Vocabulary
from kogata.verify.text import content_chars


def _first(found: list[str]) -> str:
    return found[0] if found else ""


def _match(pattern: str | re.Pattern[str], example: str) -> str:
    m = re.search(pattern, example)
    return m.group(0) if m else ""


def _every(pattern: str, example: str) -> str:
    """Every place `pattern` matches in `example`, in order, joined by |."""
    return "|".join(m.group(0) for m in re.finditer(pattern, example))


def _left(vocabulary: Vocabulary, example: str) -> str:
    """The content characters of `example` once the stock words are taken out, in order."""
    kept = content_chars(example, vocabulary.stock_pattern)
    return "".join(c for c in example if c in kept)


def _brought(vocabulary: Vocabulary, example: str) -> str:
    """The words the task writes that `example` brings (Vocabulary.synonyms), in order."""
    return "|".join(term for term, plain in vocabulary.synonyms if any(p in example for p in plain))


# (package, file) → the rule: row → what it finds in row["example"]
RULES: dict[tuple[str, str], Callable[[dict[str, str]], str]] = {
    ("kogata.tasks.karte", "answers.tsv"): lambda r: karte_words.answer(r["example"]),
    ("kogata.tasks.karte", "staff.tsv"): lambda r: "staff" if karte_words.VOCABULARY.is_staff(r["example"]) else "",
    ("kogata.tasks.karte", "reactions.tsv"): lambda r: facts.reaction_term(r["example"]),
    ("kogata.tasks.karte", "swollen_parts.tsv"): lambda r: facts.reaction_term(r["example"]),
    ("kogata.tasks.karte", "allergens.tsv"): lambda r: _first(facts.allergens(r["example"])),
    ("kogata.tasks.karte", "tests.tsv"): lambda r: _first(lines.tests_named(r["example"])),
    ("kogata.tasks.call", "staff.tsv"): lambda r: "staff" if call_words.VOCABULARY.is_staff(r["example"]) else "",
    ("kogata.tasks.karte", "stock.tsv"): lambda r: _left(karte_words.VOCABULARY, r["example"]),
    ("kogata.tasks.karte", "chart_terms.tsv"): lambda r: _brought(karte_words.VOCABULARY, r["example"]),
    ("kogata.tasks.karte", "lay_terms.tsv"): lambda r: _brought(karte_words.VOCABULARY, r["example"]),
    ("kogata.tasks.call", "stock.tsv"): lambda r: _left(call_words.VOCABULARY, r["example"]),
    ("kogata.tasks.call", "chart_terms.tsv"): lambda r: _brought(call_words.VOCABULARY, r["example"]),
    ("kogata.tasks.call", "lay_terms.tsv"): lambda r: _brought(call_words.VOCABULARY, r["example"]),
    ("kogata.tasks.ask", "stock.tsv"): lambda r: _left(ask_words.VOCABULARY, r["example"]),
    ("kogata.tasks.karte", "cues.tsv"): lambda r: _match(karte_words.cues(r["kind"]), r["example"]),
    ("kogata.tasks.karte", "small_talk.tsv"): lambda r: _every(extractive.SMALL_TALK.pattern, r["example"]),
    ("kogata.tasks.karte", "statuses.tsv"): lambda r: facts.drug_status(r["example"]),
    ("kogata.tasks.karte", "drug_words.tsv"): lambda r: _first(facts.drug_words(r["kind"], r["example"])),
    ("kogata.tasks.karte", "readings.tsv"): lambda r: readings.line(r["example"]),
    ("kogata.tasks.karte", "reading_cues.tsv"): lambda r: _match(r["cue"], r["example"]),  # each row's own cue
    ("kogata.tasks.karte", "negative_terms.tsv"): lambda r: negatives.chart_term(r["example"]),
    ("kogata.tasks.karte", "lay_findings.tsv"): lambda r: _first(layterms.terms(r["example"], lexicon=False)),
    ("kogata.tasks.karte", "negative_cues.tsv"): lambda r: (
        negatives.cue_found(r["kind"], r["example"])
        if r["kind"] in ("separator", "generic")
        else _match(r["cue"], r["example"])
    ),
    ("kogata.tasks.call", "cues.tsv"): lambda r: _match(call_words.cues(r["kind"]), r["example"]),
}

TABLES = sorted(
    (package, path.name)
    for package in ("kogata.tasks.karte", "kogata.tasks.call", "kogata.tasks.ask")
    if files(package).joinpath("data").is_dir()
    for path in files(package).joinpath("data").iterdir()
    if path.name.endswith(".tsv")
)
CASES = [
    pytest.param(package, name, row, id=f"{package.rsplit('.', 1)[1]}/{name}:{row['line']}")
    for package, name in TABLES
    for row in rows(package, name)
]


def test_every_table_has_a_rule():
    assert set(TABLES) == set(RULES)


@pytest.mark.parametrize("package, name, row", CASES)
def test_row(package, name, row):
    assert RULES[package, name](row) == row["expect"], row
