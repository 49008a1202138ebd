"""A JSON schema that constrained decoding cannot enforce is refused before anything is generated (fail closed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kogata.engine.schema import MAX_DEPTH, check_schema
from kogata.errors import SchemaError


def _nested(levels: int) -> dict:
    schema: dict = {"type": "object"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


@pytest.mark.parametrize(
    ("schema", "named"),
    [
        (_nested(500), "nested more than"),
        ({"type": "string", "pattern": "^(?=a)b$"}, "lookahead"),
        ({"type": "string", "pattern": "(?<!x)y"}, "lookbehind"),
        ({"type": "string", "pattern": "\\bword"}, "word boundary"),
        ({"type": "string", "pattern": "(a)\\1"}, "backreference"),
        ({"type": "string", "pattern": "a{1,100000}"}, "repeats 100000 times"),
        ({"type": "string", "pattern": "[0-9"}, "pattern"),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 100000}, "minItems 100000"),
        ({"type": "string", "minLength": 10**6}, "minLength 1000000"),
    ],
)
def test_unenforceable_schemas_are_refused_naming_what(schema, named):
    with pytest.raises(SchemaError, match=named):
        check_schema(schema)


@pytest.mark.parametrize(
    "schema",
    [
        _nested(MAX_DEPTH // 2 - 1),
        {"type": "string", "pattern": "^[0-9]{3}-[0-9]{4}$"},
        {"type": "string", "pattern": "a{256}"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1000},
    ],
)
def test_enforceable_schemas_at_the_bounds_pass(schema):
    check_schema(schema)


def test_cli_refuses_a_deeply_nested_schema_in_one_line_without_loading_a_model(tmp_path):
    path = tmp_path / "deep.json"
    levels = 2000  # deeper than Python's json module can parse: the CLI must say so, not print a RecursionError
    path.write_text('{"type": "object", "properties": {"a": ' * levels + '{"type": "object"}' + "}}" * levels)
    done = subprocess.run(
        [sys.executable, "-m", "kogata", "generate", "こんにちは", "--json-schema", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "nested" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
