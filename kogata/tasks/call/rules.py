"""What the words of a call say without a model: why the customer called, requests the customer voiced or the
operator confirmed, what
the operator did, and the operator's promise of a next step with its deadline. Each item cites the utterance
it was read from; the record verifies it like any drafted item.

Operators restate what they agreed to (復唱: 「観光地に近いお宿でお探しいたします」); that restatement is the
condition as agreed, so it replaces an earlier customer sentence that says the same thing.
"""

from __future__ import annotations

import re
from datetime import date

from kogata.ja.sentences import is_question
from kogata.tasks.call.dates import Deadline, find_deadlines
from kogata.tasks.call.similar import similarity
from kogata.tasks.call.vocabulary import cues
from kogata.tasks.grounded import Item
from kogata.verify import EvidenceIndex

# A customer sentence that asks for something or states a condition.
_WISH = cues("wish")  # data/cues.tsv
# A question that is a request (「携帯にいただけますか」「送迎のある宿はありますか」).
_ASK = re.compile(r"(?:いただけ|もらえ|くれ|でき|あり)(?:ます|ません)か[?？。]?$")
# An operator sentence that restates the condition it will act on; group 1 is the condition.
_CONFIRM = re.compile(
    r"^(?:それでは|では|はい|承知(?:いた)?しました|かしこまりました)?[、,]?\s*(.+?)(?:で|を|に)"
    r"(?:お探し|お調べ|探し|調べ|検索|ご用意|手配|お取り|承り|お手続き|お作り)(?:いた)?(?:します|しましょう|いたします)"
)
# Courtesies, apologies, and the lead-in to a recap (「以下のご希望条件で…」): never a request or an action.
_COURTESY = cues("courtesy")
# What an operator says when doing something or committing to it.
_DONE = cues("done")
_ACKNOWLEDGE = re.compile(r"^(?:はい|承知(?:いた)?しました|かしこまりました|ありがとうございます)[。、,]?")
# What an operator says when promising the next step; with a deadline in the same sentence it is a follow-up.
PROMISE = cues("promise")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[。!?！？])|\n", text) if s.strip()]


def issue_from_words(index: EvidenceIndex) -> Item | None:
    """The customer's first sentence of substance: callers say why they call before anything else."""
    for s in index.said.values():
        if s.staff:
            continue
        for sentence in sentences(s.utterance.text):
            if len(sentence) >= 6 and not _COURTESY.search(sentence):
                return Item(sentence.rstrip("。"), [s.id])
    return None


def requests_from_words(index: EvidenceIndex) -> list[Item]:
    """Requests as said: customer sentences that ask for something, operator restatements as 「…を希望」."""
    found: list[Item] = []
    for s in index.said.values():
        for sentence in sentences(s.utterance.text):
            if _COURTESY.search(sentence) or (is_question(sentence) and not _ASK.search(sentence)):
                continue
            if s.staff:
                m = _CONFIRM.search(sentence)
                if not m or len(m.group(1)) < 4:
                    continue
                item = Item(m.group(1) + "を希望", [s.id])
            elif (_WISH.search(sentence) or _ASK.search(sentence)) and len(sentence) >= 6:
                item = Item(sentence.rstrip("。"), [s.id])
            else:
                continue
            same = next((k for k, kept in enumerate(found) if similarity(kept.text, item.text) >= 0.5), None)
            if same is None:
                found.append(item)
            elif s.staff:
                found[same] = item  # the operator's restatement is the condition as agreed
    return found


def actions_from_words(index: EvidenceIndex) -> list[Item]:
    """What the operator said they did or will do (「事故の受付は完了しました」「書類をお送りします」), as said."""
    found: list[Item] = []
    for s in index.said.values():
        if not s.staff:
            continue
        for sentence in sentences(s.utterance.text):
            rest = _ACKNOWLEDGE.sub("", sentence).strip()
            if (
                len(rest) < 6
                or _COURTESY.search(rest)
                or is_question(rest)
                or "お願い" in rest
                or not _DONE.search(rest)
            ):
                continue
            found.append(Item(rest.rstrip("。"), [s.id]))
    return found


def follow_up_from_words(index: EvidenceIndex, call_date: date | None = None) -> tuple[str, int, Deadline] | None:
    """(sentence, utterance id, deadline) of the operator's last promise that names a deadline
    (「3営業日以内にご連絡いたします」)."""
    for s in reversed(list(index.said.values())):
        if not s.staff:
            continue
        for sentence in reversed(sentences(s.utterance.text)):
            if PROMISE.search(sentence) and (deadlines := find_deadlines(sentence, call_date)):
                # 「資料は本日お送りし、来週月曜日にお電話します」: the last step is the one to follow up
                return sentence, s.id, deadlines[-1]
    return None
