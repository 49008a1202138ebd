"""Spoken Japanese sentences: where one ends, whether it asks, whether it answers no.

sentences("熱はありますか。ないです。")   # ["熱はありますか。", "ないです。"]
is_question("吐いたりは。")               # True
says_no("それは大丈夫です")                # True: a short answer that the asked thing is absent
"""

from __future__ import annotations

import re

_DENIAL = re.compile(r"ない|ありません|ございません|いいえ|特に|なし|無い")
_SHORT_ANSWER = (
    12  # characters: 「それは大丈夫です」 answers the question; a longer 「…骨は大丈夫でした」 is about something else
)
_FINE = re.compile(r"大丈夫|普通です|平気|問題(?:は)?(?:ない|ありません)")  # an answer that the asked symptom is absent
_QUESTION = re.compile(
    r"(?:かね|かな|かしら|か|[?？]|(?:たり|とか|って)?は|(?:どう|いかが)(?:でしょう)?)[。」]?$"
)  # 「吐いたりは。」 asks too


def is_question(sentence: str) -> bool:
    """「…ありますか。」「普段飲んでいるお薬は？」: asked, not stated."""
    return bool(_QUESTION.search(sentence.strip()))


def denies(text: str) -> bool:
    """「ないです」「いいえ」「特に」: a word of denial anywhere in the text."""
    return bool(_DENIAL.search(text))


def sounds_fine(text: str) -> bool:
    """「それは大丈夫です」: a short answer that what was asked about is fine (a longer one is about something else)."""
    return bool(_FINE.search(text) and len(text) <= _SHORT_ANSWER)


def says_no(sentence: str) -> bool:
    """「ないです」「いいえ」, or as a short answer 「それは大丈夫です」: what was asked about is absent."""
    return denies(sentence) or sounds_fine(sentence)


def sentences(text: str) -> list[str]:
    """The sentences of an utterance, each with its closing 。!? (blank pieces dropped, spaces kept)."""
    return [s for s in re.split(r"(?<=[。!?！？])", text) if s.strip()]
