"""The word tables a task reads: `kogata/tasks/<task>/data/<name>.tsv`, tab-separated with a header.

Every table has `example` and `expect` columns beside its own: a sentence the rule that owns the table reads, and
what it must find there (tests/test_karte_vocabulary.py checks each row, so a row someone adds is tested).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files


@cache
def rows(package: str, name: str) -> tuple[dict[str, str], ...]:
    """The rows of `package`'s data/`name` in order, each a {column: value} with its line in the file as "line"."""
    text = files(package).joinpath("data", name).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return tuple({**row, "line": str(reader.line_num)} for row in reader)


def column(package: str, name: str, key: str) -> tuple[str, ...]:
    """One column of a table, in order."""
    return tuple(row[key] for row in rows(package, name))
