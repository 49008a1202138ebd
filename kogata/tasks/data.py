"""The word tables a task reads: `kogata/tasks/<task>/data/<name>.tsv`, tab-separated with a header.

Every table has `example` and `expect` columns beside its own: a sentence the rule that owns the table reads, and
what it must find there (tests/test_karte_vocabulary.py checks each row, so a row someone adds is tested).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files

from kogata.verify import Vocabulary


@cache
def rows(package: str, name: str) -> tuple[dict[str, str], ...]:
    """The rows of `package`'s data/`name` in order, each a {column: value} with its line in the file as "line"."""
    text = files(package).joinpath("data", name).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return tuple({**row, "line": str(reader.line_num)} for row in reader)


def column(package: str, name: str, key: str) -> tuple[str, ...]:
    """One column of a table, in order."""
    return tuple(row[key] for row in rows(package, name))


def alternation(package: str, name: str, key: str, *, kind: str | None = None) -> str:
    """One column of a table as a regular-expression alternation in file order (only the rows of `kind`, if given):
    each cell is a word or a regular-expression fragment, and at any place the first row that matches wins."""
    return "|".join(row[key] for row in rows(package, name) if kind is None or row["kind"] == kind)


def synonyms(package: str, name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(the word written, the plain words said for it) of a table with `term` and `plain` (words split by |)."""
    return tuple((row["term"], tuple(row["plain"].split("|"))) for row in rows(package, name))


def vocabulary(package: str) -> Vocabulary:
    """The words a task hands the verifier, from those of its tables it has: staff.tsv (label), stock.tsv (word),
    chart_terms.tsv, lay_terms.tsv and negative_terms.tsv (term, plain)."""
    data = files(package).joinpath("data")

    def has(name: str) -> bool:
        return data.joinpath(name).is_file()

    return Vocabulary(
        staff=column(package, "staff.tsv", "label") if has("staff.tsv") else (),
        stock=column(package, "stock.tsv", "word") if has("stock.tsv") else (),
        synonyms=tuple(
            pair
            for name in ("chart_terms.tsv", "lay_terms.tsv", "negative_terms.tsv")
            if has(name)
            for pair in synonyms(package, name)
        ),
    )
