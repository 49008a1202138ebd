"""The after-call record JSON contract (`kogata call --format json`), and the smaller schema the model fills in."""

from __future__ import annotations

from kogata.tasks.karte.schema import ITEM  # the verified, evidence-linked item every task shares

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
    "required": ["requests", "issue", "actions", "follow_up", "warnings"],
    "additionalProperties": False,
}


def draft_schema(first_id: int, last_id: int, *, max_requests: int = 14, max_actions: int = 6) -> dict:
    """What the model writes for one stretch of the call; every item cites utterance ids that exist.

    A missing issue or follow-up is an empty list (at most one item) rather than null: small models fill a
    list more reliably than they choose between an object and null.
    """
    line = {
        "type": "object",
        "properties": {
            # no maxLength: llama.cpp expands {m,n} repetition into nested rules that make sampling crawl
            "text": _TEXT,
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
        "properties": {
            "issue": {"type": "array", "items": line, "maxItems": 1},
            "requests": {"type": "array", "items": line, "maxItems": max_requests},
            "actions": {"type": "array", "items": line, "maxItems": max_actions},
            "follow_up": {"type": "array", "items": line, "maxItems": 1},
        },
        "required": ["issue", "requests", "actions", "follow_up"],
        "additionalProperties": False,
    }
