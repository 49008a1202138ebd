"""The karte JSON contract (`kogata karte --format json`); the model fills kogata.tasks.grounded's draft schema."""

from __future__ import annotations

from typing import Any

from kogata.tasks.grounded import ITEM, WARNINGS

SECTIONS = ("S", "O", "A", "P")
SECTION_NAMES = {"S": "主観的情報", "O": "客観的情報", "A": "評価", "P": "計画"}

_IDS = ITEM["properties"]["evidence"]
_TEXT = ITEM["properties"]["text"]


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
        "warnings": WARNINGS,
    },
    "required": ["soap", "medications", "allergies", "vitals", "problems", "negatives", "warnings"],
    "additionalProperties": False,
}
