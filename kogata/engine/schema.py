"""Check a JSON schema before generation: constrained decoding must enforce all of it, or refuse it.

llama.cpp's schema-to-grammar conversion silently ignores keywords it cannot express (llama.cpp#19051,
#24097; ollama#17183), so a request could "succeed" with output its schema forbids. kogata refuses such
schemas up front and validates every output afterwards: the result validates, or an error says why.
"""

from __future__ import annotations

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


def check_schema(schema: Any) -> None:
    """Raise SchemaError unless `schema` is a valid JSON schema that constrained decoding fully enforces."""
    if not isinstance(schema, dict):
        raise SchemaError(f"a JSON schema must be a JSON object, got {type(schema).__name__}")
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
