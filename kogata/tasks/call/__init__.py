"""Call-centre after-call work: an operator–customer call becomes an evidence-linked record (requests, issue,
actions, follow-up with its deadline), verified like the カルテ."""

from kogata.tasks.call.record import CallRecord, FollowUp, call
from kogata.tasks.call.schema import RECORD_SCHEMA

__all__ = ["RECORD_SCHEMA", "CallRecord", "FollowUp", "call"]
