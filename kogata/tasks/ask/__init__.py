"""Answers with citations from a knowledge pack, and reply letters to residents' inquiries."""

from kogata.tasks.ask.answer import NOT_FOUND, Answer, Sentence, ask
from kogata.tasks.ask.reply import Reply, draft_reply

__all__ = ["NOT_FOUND", "Answer", "Reply", "Sentence", "ask", "draft_reply"]
