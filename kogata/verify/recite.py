"""Re-cite a generated line: its own citation when the cited words support it, otherwise the first utterance or
passage that does, since a small model often quotes the right words under the wrong number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Checks(Protocol):
    """What recite needs of an index (an EvidenceIndex over utterances, a PassageIndex over passages): the ids
    a line may cite, and why a line is not supported by the ones it cites."""

    @property
    def ids(self) -> list[int]: ...

    def check(self, text: str, evidence: Sequence[int], **options) -> list[str]: ...


def recite(
    index: Checks, text: str, evidence: Sequence[int], *, neighbours: bool = True, **check_options
) -> tuple[list[int], list[str]]:
    """(evidence, problems) for a generated line: its own citation when the cited words support it; otherwise
    the first utterance or passage (or, with `neighbours`, pair of neighbouring utterances) that does. A line
    nothing supports keeps its citation and its problems. `check_options` go to index.check (asserts_findings for
    an EvidenceIndex)."""
    problems = index.check(text, evidence, **check_options)
    if not problems:
        return list(evidence), []
    ids = index.ids
    candidates = [[i] for i in ids] + ([[a, b] for a, b in zip(ids, ids[1:], strict=False)] if neighbours else [])
    for candidate in candidates:
        if not index.check(text, candidate, **check_options):
            return candidate, []
    return list(evidence), problems
