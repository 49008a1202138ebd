"""Call → after-call record: the model drafts the items, the shared verifier ties each to the words.

    record = call("call.txt", call_date=date(2026, 11, 27))   # or a Transcript, bytes, or "-" for stdin
    print(record.to_dict())                                   # the JSON contract (RECORD_SCHEMA)

Every item cites utterance ids. An item whose cited words do not support it is re-cited to the utterance
that does (kogata.verify.recite), or kept with `supported: false` and a warning saying why. Actions must
cite something the operator said; the follow-up's deadline must be one the call names. Requests the words
state plainly and what the operator said they did (kogata.tasks.call.rules) are added where the draft left
them out; the customer's opening words stand in for an issue, and the operator's own promise for a follow-up,
that the draft missed or the words do not support.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kogata.engine import Model, load
from kogata.tasks import grounded
from kogata.tasks.call import vocabulary
from kogata.tasks.call.dates import Deadline, find_deadlines
from kogata.tasks.call.rules import (
    PROMISE,
    actions_from_words,
    follow_up_from_words,
    issue_from_words,
    requests_from_words,
)
from kogata.tasks.call.similar import MATCH_THRESHOLD, similarity
from kogata.tasks.grounded import Item, tidy, verified
from kogata.transcript import Transcript, read_transcript
from kogata.verify import EvidenceIndex, Said

SPEC = grounded.DraftSpec.read(  # what call tells the model: prompt.toml
    "kogata.tasks.call", limits={"issue": 1, "requests": 14, "actions": 6, "follow_up": 1}, max_tokens=1200
)
PARTS = SPEC.parts


@dataclass
class FollowUp(Item):
    deadline: Deadline | None = None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "deadline": self.deadline.value() if self.deadline else None,
            "evidence": self.evidence,
            "supported": self.supported,
        }


@dataclass
class CallRecord:
    transcript: Transcript
    requests: list[Item]
    issue: Item | None
    actions: list[Item]
    follow_up: FollowUp | None
    call_date: date | None = None
    seconds: float = 0.0
    model: str = ""
    drafted: dict | None = None  # the model's own items before verification (kept for evaluation, not the contract)

    def items(self) -> list[Item]:
        return [
            *([self.issue] if self.issue else []),
            *self.requests,
            *self.actions,
            *([self.follow_up] if self.follow_up else []),
        ]

    @property
    def warnings(self) -> list[dict]:
        return [{"message": "; ".join(i.problems), "item": i.text} for i in self.items() if not i.supported]

    def to_dict(self) -> dict:
        return {
            "requests": [i.to_dict() for i in self.requests],
            "issue": self.issue.to_dict() if self.issue else None,
            "actions": [i.to_dict() for i in self.actions],
            "follow_up": self.follow_up.to_dict() if self.follow_up else None,
            "warnings": self.warnings,
        }


def draft(model: Model, said: Sequence[Said], *, adapter: str | None = None) -> dict[str, list[dict]]:
    """Items written by the model: {"issue": [...], "requests": [...], "actions": [...], "follow_up": [...]},
    each {"text", "evidence"}. A long call is drafted in chunks whose lists are joined in order."""
    return grounded.draft(SPEC, model, said, adapter=adapter)


def _tidy(lines: list[dict]) -> list[Item]:
    """Items without leading fillers, questions the model copied, or repeats."""
    return tidy(lines, unique=True)


def _promised_by_operator(index: EvidenceIndex, item: Item) -> Item:
    if item.supported and not any(s.staff for s in index.cited(item.evidence)):
        item.problems = ["対応の根拠にオペレーターの発言がありません"]
        item.supported = False
    return item


def _checked_follow_up(index: EvidenceIndex, item: Item, call_date: date | None) -> FollowUp:
    """The drafted follow-up, verified; its deadline is the one its text names, which the cited words must
    name too (same day, or same phrase when the call date is unknown). A deadline elsewhere in the cited words
    is not borrowed: it may belong to another step (「住所変更も本日承りました」)."""
    item = verified(index, item, asserts_findings=False)
    cited = [d for s in index.cited(item.evidence) for d in find_deadlines(s.utterance.text, call_date)]
    written = find_deadlines(item.text, call_date)
    problems = list(item.problems)
    ids = "・".join(map(str, item.evidence))
    for d in written:
        if not any(c.phrase == d.phrase or (c.date and c.date == d.date) for c in cited):
            problems.append(f"期限「{d.phrase}」が発言{ids}にありません")
    said = [item.text] + [s.utterance.text for s in index.cited(item.evidence)]
    if not written and not cited and not any(PROMISE.search(t) for t in said):
        problems.append(f"今後の連絡・手続きが発言{ids}にありません")  # 「食事は車でのご旅行です」 is no follow-up
    deadline = written[-1] if written else None  # the last step is the one to follow up
    return FollowUp(item.text, item.evidence, supported=not problems, problems=problems, deadline=deadline)


def assemble(
    index: EvidenceIndex,
    drafted: dict[str, list[dict]],
    *,
    call_date: date | None = None,
    seconds: float = 0.0,
    model: str = "",
) -> CallRecord:
    """The record from the model's draft, each item verified against the words (no model needed here)."""
    issues = [verified(index, i, asserts_findings=True) for i in _tidy(drafted["issue"])]
    requests = [verified(index, i, asserts_findings=False) for i in _tidy(drafted["requests"])]
    # requests the words state plainly and the draft left out (a small model lists some, not all)
    for rule in requests_from_words(index):
        if not any(r.supported and similarity(r.text, rule.text) >= MATCH_THRESHOLD for r in requests):
            requests.append(verified(index, rule, asserts_findings=False))
    actions = [
        _promised_by_operator(index, verified(index, i, asserts_findings=False)) for i in _tidy(drafted["actions"])
    ]
    for rule in actions_from_words(index):  # what the operator said they did, where the draft left it out
        if not any(a.supported and similarity(a.text, rule.text) >= MATCH_THRESHOLD for a in actions):
            actions.append(verified(index, rule, asserts_findings=False))
    follow_ups = [_checked_follow_up(index, i, call_date) for i in _tidy(drafted["follow_up"])]
    follow_up = next((f for f in reversed(follow_ups) if f.supported), follow_ups[-1] if follow_ups else None)
    said = follow_up_from_words(index, call_date)
    if said and (
        follow_up is None or not follow_up.supported or follow_up.deadline is None or said[1] > max(follow_up.evidence)
    ):
        # the draft missed the promise, wrote it without its deadline, or picked an earlier step than the
        # operator's last promise: the operator's own words say it
        sentence, id, deadline = said
        follow_up = FollowUp(sentence, [id], deadline=deadline)
    issue = next((i for i in issues if i.supported), None)
    if issue is None and (said_issue := issue_from_words(index)):
        issue = verified(index, said_issue, asserts_findings=True)  # the customer's own opening words
    issue = issue or (issues[0] if issues else None)
    return CallRecord(
        index.transcript,
        requests,
        issue,
        actions,
        follow_up,
        call_date=call_date,
        seconds=seconds,
        model=model,
        drafted=drafted,
    )


def call(
    source: Transcript | str | Path | bytes,
    *,
    model: Model | str | None = None,
    adapter: str | None = None,
    encoding: str | None = None,
    call_date: date | None = None,
) -> CallRecord:
    """Write an evidence-linked after-call record from an operator–customer conversation.

    Args:
        source: a Transcript, a path to a transcript file (text `オペレーター：…` / `顧客：…` lines or JSON
            utterances), its bytes, or "-" for standard input.
        model: a loaded Model, or a model name to load (None: the default model).
        adapter: a LoRA adapter loaded with the model, for this record only.
        encoding: the transcript file's encoding when it is not UTF-8 (e.g. "cp932").
        call_date: the day of the call; relative deadlines (明日, 3営業日以内) become dates when it is given.
    """
    start = time.perf_counter()
    transcript = source if isinstance(source, Transcript) else read_transcript(source, encoding=encoding)
    llm = model if isinstance(model, Model) else load(model)
    index = vocabulary.evidence(transcript)
    drafted = draft(llm, list(index.said.values()), adapter=adapter)
    return assemble(index, drafted, call_date=call_date, seconds=time.perf_counter() - start, model=llm.spec.name)
