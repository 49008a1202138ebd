"""Who is speaking, 医師 or 患者, from the turns and from the words.

Speech recognition here hears no voices, only pauses: a new turn is most often the other party. But a doctor
often speaks several turns in a row (examining, then explaining, then prescribing), so the words decide where
they are clear: questions, instructions and prescriptions are the doctor's; reports of one's own symptoms,
「先生」 and thanks are the patient's (or the parent's). Each cue adds to a score (positive: the doctor); a turn
keeps the previous speaker only when its words point there by at least `KEEP_MARGIN`, and otherwise goes to
the other party. Cues and margin were set on the 14 train-split consultations in data/consultations, and the cues
for someone speaking for the patient on the train writers (a–c) of data/corpus; `bench/speakers.py` measures the
test splits of both.

What is not automatic: a third speaker (看護師) is labelled 医師 or 患者 by the same rule, and two people talking at
once are one utterance. The monitor page lets the user correct any label.
"""

from __future__ import annotations

import re

DOCTOR, PATIENT = "医師", "患者"
KEEP_MARGIN = 1.5  # how strongly a turn's words must point to the previous speaker to keep them

_DOCTOR_CUES = [
    (re.compile(r"(?:ます|です|ません|でした|ました)か[。？?]?$|[?？]$|(?:は|とか)[?？。]?$"), 1.5),  # a question
    (re.compile(r"どうされました|いかがですか|どうですか|ありますか|ありませんか|いますか|ませんでしたか"), 1.0),
    (
        re.compile(
            r"ください|しましょう|しておきます|出しておきます|お出しします|出します|処方|始めます|続けて|中止|増やし|減らし"
        ),
        2.0,
    ),
    (re.compile(r"診ますね|診せて|見せてください|拝見|聴診|押しますね|測ります|検査|レントゲン|採血|結果"), 1.5),
    (re.compile(r"と思います|考えられ|でしょう|可能性|疑い|診断|ですね[。]?$"), 1.0),
    (re.compile(r"お大事に|次回|再診|予約"), 2.0),
    (re.compile(r"\d+(?:mg|μg|錠|包)|1日\d回|\d+日分"), 1.0),
]
_PATIENT_CUES = [
    (re.compile(r"先生"), 3.0),
    (re.compile(r"んです|んですけど|ちゃって|ちゃいました|てて|なくて|くて[。、]|ました[。]?$"), 1.0),
    (re.compile(r"痛い|痛くて|かゆ|つらい|しんどい|だるい|心配|不安|眠れ"), 1.0),
    (re.compile(r"^(?:はい|ええ|いいえ|いえ|うーん|えっと|そうです|そうなんです)"), 0.5),
    (re.compile(r"お願いします|ありがとうございま|わかりました|分かりました|すみません"), 2.0),
    (re.compile(r"私|うちの子|この子|主人|(?<!丈)夫|妻|母が|父が|娘|息子"), 1.0),
    # someone speaking for the patient: family words, and what a carer asks the doctor for
    (re.compile(r"本人|おばあちゃん|おじいちゃん|お袋|親父|上の子|下の子|お兄ちゃん|お姉ちゃん|連れてき"), 1.0),
    (
        re.compile(
            r"(?:ても|て)(?:いい|ええ|大丈夫|よか)(?:です|でしょう|ん)?か|(?:た|の)?(?:ほう|方)がいい(?:です|でしょう)?か"
            r"|もらえ(?:ない|ません|ますか|へん)|出せ(?:ん|ない|ません)|いら(?:ん|ない)の?(?:です|でしょう)?か"
            r"|(?:なん|ん)でしょうか|どうしましょう"
        ),
        2.0,
    ),
]


def doctor_score(text: str) -> float:
    """How much the words sound like the doctor (> 0) or the patient side (< 0)."""
    text = text.strip()
    return sum(w for p, w in _DOCTOR_CUES if p.search(text)) - sum(w for p, w in _PATIENT_CUES if p.search(text))


def next_speaker(text: str, previous: str | None) -> str:
    """The speaker of a new turn: the other party, unless the words clearly belong to the one who spoke last.
    The first turn is the doctor's unless its words are clearly the patient's."""
    score = doctor_score(text)
    if previous is None:
        return PATIENT if score <= -KEEP_MARGIN else DOCTOR
    if previous == DOCTOR:
        return DOCTOR if score >= KEEP_MARGIN else PATIENT
    return PATIENT if score <= -KEEP_MARGIN else DOCTOR
