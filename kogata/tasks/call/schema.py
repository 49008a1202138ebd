"""The after-call record JSON contract (`kogata call --format json`); the model fills the draft schema of
kogata.tasks.grounded."""

from __future__ import annotations

from kogata.tasks.grounded import ITEM, WARNINGS  # the verified, evidence-linked item every task shares

_IDS = ITEM["properties"]["evidence"]
_TEXT = ITEM["properties"]["text"]

FOLLOW_UP = {
    "type": "object",
    "properties": {
        "text": _TEXT,
        "deadline": {"type": ["string", "null"]},
        "evidence": _IDS,
        "supported": {"type": "boolean"},
    },
    "required": ["text", "deadline", "evidence", "supported"],
    "additionalProperties": False,
}

RECORD_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "requests": {"type": "array", "items": ITEM},
        "issue": {"anyOf": [ITEM, {"type": "null"}]},
        "actions": {"type": "array", "items": ITEM},
        "follow_up": {"anyOf": [FOLLOW_UP, {"type": "null"}]},
        "warnings": WARNINGS,
    },
    "required": ["requests", "issue", "actions", "follow_up", "warnings"],
    "additionalProperties": False,
}
