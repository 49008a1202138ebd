"""Check a JSON schema before generation: constrained decoding must enforce all of it, or refuse it.

llama.cpp's schema-to-grammar conversion silently ignores keywords it cannot express (llama.cpp#19051,
#24097; ollama#17183), so a request could "succeed" with output its schema forbids. kogata refuses such
schemas up front and validates every output afterwards: the result validates, or an error says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema

from kogata.errors import SchemaError

# Keywords the grammar conversion enforces (or that only annotate).
SUPPORTED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
}
# Keywords whose values are schemas (or maps/lists of schemas) to walk into.
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "additionalProperties")
_FORMATS = {"date", "time", "date-time", "uuid"}
# Bounds on what a grammar can enforce in a generation of ordinary length: a schema past them is refused at once
# rather than generating for minutes and failing (or being cut before it validates).
MAX_DEPTH = 64  # nesting of objects and arrays in the schema document (a property's schema is two levels down)
MAX_REPEAT = 256  # {n,m} counts in a pattern: the grammar spells each repetition out
MAX_MIN_ITEMS = 1_000
MAX_MIN_LENGTH = 10_000
# Regular-expression features the grammar conversion cannot express (it reads patterns as plain sequences).
_UNENFORCEABLE_PATTERN = {
    name: re.compile(feature)
    for name, feature in {
        "lookahead": r"\(\?[=!]",
        "lookbehind": r"\(\?<[=!]",
        "word boundary (\\b, \\B)": r"(?<!\\)(?:\\\\)*\\[bB]",
        "backreference": r"(?<!\\)(?:\\\\)*\\[1-9]",
        "named group": r"\(\?P?<[A-Za-z_]",
        "inline flag": r"\(\?[aiLmsux-]",
    }.items()
}
_REPEAT = re.compile(r"(?<!\\)\{(\d+)(?:,(\d*))?\}")


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in `value`, measured without recursion (a 10,000-deep schema is input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _pattern_problems(pattern: Any, where: str) -> Iterator[str]:
    if not isinstance(pattern, str):
        return
    try:
        re.compile(pattern)
    except re.error as e:
        yield f"{where}: pattern {pattern!r} is not a valid regular expression ({e})"
        return
    for name, feature in _UNENFORCEABLE_PATTERN.items():
        if feature.search(pattern):
            yield f"{where}: pattern {pattern!r} uses a {name}, which constrained decoding cannot enforce"
    for m in _REPEAT.finditer(pattern):
        count = max(int(m.group(1)), int(m.group(2) or 0))
        if count > MAX_REPEAT:
            yield f"{where}: pattern {pattern!r} repeats {count} times (at most {MAX_REPEAT} can be enforced)"


def _walk(schema: Any, where: str) -> Iterator[str]:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        yield f"{where}: a schema must be an object or a boolean, not {type(schema).__name__}"
        return
    for key, value in schema.items():
        if key not in SUPPORTED:
            yield f"{where}: keyword {key!r} cannot be enforced by constrained decoding"
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _walk(sub, f"{where}/{key}/{name}")
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            for i, sub in enumerate(value):
                yield from _walk(sub, f"{where}/{key}/{i}")
        elif key in _SUBSCHEMA_ONE:
            yield from _walk(value, f"{where}/{key}")
        elif key == "$ref" and not str(value).startswith("#"):
            yield f'{where}: only local $ref ("#/...") can be resolved offline, not {value!r}'
        elif key == "format" and value not in _FORMATS:
            yield f"{where}: format {value!r} is not enforced (supported: {', '.join(sorted(_FORMATS))})"
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") and schema.get("type") != "integer":
            yield f"{where}: {key} is enforced only for integers"
        elif key == "pattern":
            yield from _pattern_problems(value, where)
        elif key == "minItems" and isinstance(value, int) and value > MAX_MIN_ITEMS:
            yield f"{where}: minItems {value} is more than a generation can hold (at most {MAX_MIN_ITEMS})"
        elif key == "minLength" and isinstance(value, int) and value > MAX_MIN_LENGTH:
            yield f"{where}: minLength {value} is more than a generation can hold (at most {MAX_MIN_LENGTH})"


def check_schema(schema: Any) -> None:
    """Raise SchemaError unless `schema` is a valid JSON schema that constrained decoding fully enforces."""
    if not isinstance(schema, dict):
        raise SchemaError(f"a JSON schema must be a JSON object, got {type(schema).__name__}")
    depth = _depth(schema)  # before jsonschema walks it: a deep schema would end in RecursionError there
    if depth > MAX_DEPTH:
        raise SchemaError(f"unsupported JSON schema: nested more than {MAX_DEPTH} levels deep")
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except jsonschema.SchemaError as e:
        path = "/".join(str(p) for p in e.path) or "(root)"
        raise SchemaError(f"invalid JSON schema at {path}: {e.message}") from None
    problems = list(_walk(schema, "#"))
    if problems:
        raise SchemaError("unsupported JSON schema: " + "; ".join(problems))


def validation_errors(instance: Any, schema: dict) -> list[str]:
    """Every way `instance` breaks `schema`, as readable lines (empty when it validates)."""
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]
