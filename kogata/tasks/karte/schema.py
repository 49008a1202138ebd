"""The karte JSON contract (`kogata karte --format json`), and the smaller schema the model fills in."""

from __future__ import annotations

from typing import Any

SECTIONS = ("S", "O", "A", "P")
SECTION_NAMES = {"S": "主観的情報", "O": "客観的情報", "A": "評価", "P": "計画"}

_IDS = {"type": "array", "items": {"type": "integer", "minimum": 1}}
_TEXT = {"type": "string"}

ITEM = {
    "type": "object",
    "properties": {"text": _TEXT, "evidence": _IDS, "supported": {"type": "boolean"}},
    "required": ["text", "evidence", "supported"],
    "additionalProperties": False,
}


def _record(fields: dict[str, Any], required: list[str]) -> dict:
    return {
        "type": "object",
        "properties": {**fields, "evidence": _IDS},
        "required": [*required, "evidence"],
        "additionalProperties": False,
    }


CHART_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "soap": {
            "type": "object",
            "properties": {s: {"type": "array", "items": ITEM} for s in SECTIONS},
            "required": list(SECTIONS),
            "additionalProperties": False,
        },
        "medications": {
            "type": "array",
            "items": _record(
                {
                    "name": _TEXT,
                    "brand": _TEXT,
                    "dose": _TEXT,
                    "frequency": _TEXT,
                    "duration": _TEXT,
                    "status": {"enum": ["current", "prescribed", "stopped", "changed"]},
                },
                ["name", "brand", "dose", "frequency", "duration", "status"],
            ),
        },
        "allergies": {
            "type": "array",
            "items": _record({"substance": _TEXT, "reaction": _TEXT}, ["substance", "reaction"]),
        },
        "vitals": {
            "type": "array",
            "items": _record({"name": _TEXT, "value": _TEXT, "unit": _TEXT}, ["name", "value", "unit"]),
        },
        "problems": {
            "type": "array",
            "items": _record(
                {"name": _TEXT, "icd10": _TEXT, "status": {"enum": ["suspected", "confirmed", "history"]}},
                ["name", "icd10", "status"],
            ),
        },
        "negatives": {"type": "array", "items": _record({"finding": _TEXT}, ["finding"])},
        "warnings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"message": _TEXT, "item": _TEXT},
                "required": ["message", "item"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["soap", "medications", "allergies", "vitals", "problems", "negatives", "warnings"],
    "additionalProperties": False,
}


def draft_schema(first_id: int, last_id: int, *, max_items: int = 6) -> dict:
    """What the model writes: chart lines per section, each citing utterance ids that exist."""
    line = {
        "type": "object",
        "properties": {
            # no maxLength: llama.cpp expands {m,n} repetition into nested rules that make sampling crawl
            "text": {"type": "string"},
            "evidence": {
                "type": "array",
                "items": {"type": "integer", "minimum": first_id, "maximum": last_id},
                "minItems": 1,
                "maxItems": 4,
            },
        },
        "required": ["text", "evidence"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {s: {"type": "array", "items": line, "maxItems": max_items} for s in SECTIONS},
        "required": list(SECTIONS),
        "additionalProperties": False,
    }
