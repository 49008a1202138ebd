"""kogata/ja/data/disease_words.tsv, row by row: a spoken word finds its MEDIS name (with its ICD-10 code) in the
row's example sentence, and an everyday word finds no disease there. A row someone adds is tested here."""

import pytest

from kogata.ja.diseases import disease_words, find_diseases, lookup
from kogata.ja.normalize import normalize

ROWS = disease_words()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.kind}:{r.word}" for r in ROWS])
def test_each_row_reads_its_example(row):
    assert row.word in row.example, "the example must contain the word it tests"
    found = [m.value.name for m in find_diseases(normalize(row.example))]
    if row.kind == "spoken":
        assert found == [row.expect] and row.expect == row.standard
        assert lookup(row.standard).icd10  # a real MEDIS entry, so a real code
    else:
        assert found == [] and row.expect == ""


def test_the_table_has_both_kinds():
    assert {r.kind for r in ROWS} == {"spoken", "everyday"}
