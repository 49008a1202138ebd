"""The model's part: narrative chart lines per SOAP section, each citing utterance ids.

Long visits are split into chunks of whole utterances that fit the context; each chunk is drafted on its
own and the lines are concatenated in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from kogata.engine import Model, generate_json
from kogata.tasks.karte.prompt import messages
from kogata.tasks.karte.schema import SECTIONS, draft_schema
from kogata.verify import Said

CHUNK_CHARS = 2400  # about 1,900 prompt tokens with the instruction: leaves room for the answer in 4,096
MAX_TOKENS = 900


def chunks(said: Sequence[Said], limit: int = CHUNK_CHARS) -> Iterator[list[Said]]:
    chunk: list[Said] = []
    size = 0
    for s in said:
        if chunk and size + len(s.text) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(s)
        size += len(s.text) + len(s.utterance.speaker) + 6
    if chunk:
        yield chunk


def draft(model: Model, said: Sequence[Said], *, adapter: str | None = None) -> dict[str, list[dict]]:
    """Chart lines written by the model: {"S": [{"text", "evidence"}], "O": …, "A": …, "P": …}."""
    lines: dict[str, list[dict]] = {s: [] for s in SECTIONS}
    for part in chunks(said):
        schema = draft_schema(part[0].id, part[-1].id)
        value = generate_json(model, messages(part), schema, max_tokens=MAX_TOKENS, adapter=adapter)
        for section in SECTIONS:
            lines[section] += value[section]
    return lines
