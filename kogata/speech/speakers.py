"""Who is speaking, 医師, 患者 or 家族, from the turns and from the words, and how sure that is.

Speech recognition here hears no voices, only pauses: a new turn is most often the other party. But a doctor
often speaks several turns in a row (examining, then explaining, then prescribing), so the words decide where
they are clear: questions, instructions and prescriptions are the doctor's; reports of one's own symptoms,
「先生」 and thanks are the patient's (or the parent's). Each cue adds to a score (positive: the doctor); a turn
keeps the previous speaker only when its words point there by at least `KEEP_MARGIN`, and otherwise goes to
the other party. The cues are data, `kogata/speech/data/speaker_cues.tsv` (cue, label, weight, example, notes), so
a clinic can edit them without Python; every row's example must be found by its cue (checked on loading and by
tests/test_speakers.py). Cues and margin were set on the 14 train-split consultations in data/consultations, and
the cues for someone speaking for the patient on the train writers (a–c) of data/corpus; `bench/speakers.py`
measures the other splits.

What is not automatic: a third speaker (看護師) is labelled 医師 or 患者 by the same rule, and two people talking at
once are one utterance. The monitor page lets the user correct any label.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from kogata.errors import InputError

DOCTOR, PATIENT, FAMILY = "医師", "患者", "家族"
QUESTION = "質問"  # a cue row with this label finds a question: the turn after it, by the other party, is an answer
LABELS = (DOCTOR, PATIENT, FAMILY, QUESTION)
KEEP_MARGIN = 1.5  # how strongly a turn's words must point to the previous speaker to keep them
# Confidence = 1 / (1 + exp(-(CONF_BIAS + CONF_SLOPE * margin))), the margin clipped to CONF_CLIP: a logistic fit
# on the train writers (a–c) of data/corpus, so a confidence of 0.7 means about 7 in 10 such labels were right.
CONF_BIAS, CONF_SLOPE, CONF_CLIP = 0.79, 1.43, (-1.5, 3.0)
# Below this a label says it is unsure (「患者?」): chosen on the train and dev writers (bench/speakers.py).
SURE = 0.7
# A patient-side turn without family words, after someone spoke for the patient earlier in the visit, is labelled
# 家族 with this confidence: the share of such labels that were right on the train writers (93 of 227).
FAMILY_CARRIED = 0.41
CUES_FILE = "data/speaker_cues.tsv"
_COLUMNS = ("cue", "label", "weight", "example", "notes")


@dataclass(frozen=True)
class Cue:
    """One row of the cue file: where `pattern` is found in a turn, `weight` counts towards `label`'s side."""

    pattern: re.Pattern[str]
    label: str  # 医師, or 患者 / 家族 (both the patient's side), or 質問 (the next turn answers)
    weight: float
    example: str  # a sentence the pattern must find
    notes: str
    line: int  # line in the file, for messages

    @property
    def signed(self) -> float:
        """The weight as it counts in doctor_score: positive for the doctor, negative for the patient's side."""
        return 0.0 if self.label == QUESTION else self.weight if self.label == DOCTOR else -self.weight


@dataclass(frozen=True)
class Label:
    """Who spoke a turn, and how sure the words and turns make that."""

    speaker: str
    confidence: float  # 0–1, about the share of labels like this one that were right on the train visits
    margin: float = 0.0  # how far the words (and a question before) point to `speaker`; confidence grows with it
    asks: float = 0.0  # the weight of the 質問 cues in the turn: a change of speaker after it is an answer
    carer: bool = False  # someone has spoken for the patient in this visit (a 家族 cue on the patient's side)

    @property
    def sure(self) -> bool:
        """A wrong label is worse than an unknown one: below SURE the label is shown as a guess (「患者?」)."""
        return self.confidence >= SURE


def parse_cues(text: str, name: str = "speaker_cues.tsv") -> list[Cue]:
    """The cues in a TSV file (see the module doc); InputError naming the line for a row that cannot be used."""
    found: list[Cue] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if cells[: len(_COLUMNS)] == list(_COLUMNS):
            continue  # the header row
        where = f"speaker cues {name} line {lineno}"
        if len(cells) < 4:
            raise InputError(f"{where}: expected {', '.join(_COLUMNS)} separated by tabs, got {len(cells)} column(s)")
        cue, label, weight, example = (c.strip() for c in cells[:4])
        notes = cells[4].strip() if len(cells) > 4 else ""
        if label not in LABELS:
            raise InputError(f"{where}: label must be one of {'/'.join(LABELS)}, got {label!r}")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not value >= 0:
            raise InputError(f"{where}: weight must be a number ≥ 0, got {weight!r}")
        try:
            pattern = re.compile(cue)
        except re.error as exc:
            raise InputError(f"{where}: the cue {cue!r} is not a regular expression ({exc})") from None
        if not example:
            raise InputError(f"{where}: every cue needs an example sentence it finds")
        if not pattern.search(example):
            raise InputError(f"{where}: the cue {cue!r} does not find its own example {example!r}")
        found.append(Cue(pattern, label, value, example, notes, lineno))
    if not found:
        raise InputError(f"speaker cues {name}: no cues")
    return found


@cache
def cues() -> tuple[Cue, ...]:
    """The bundled cues (kogata/speech/data/speaker_cues.tsv), read once."""
    text = files("kogata.speech").joinpath(CUES_FILE).read_text(encoding="utf-8")
    return tuple(parse_cues(text, "speaker_cues.tsv"))


def doctor_score(text: str) -> float:
    """How much the words sound like the doctor (> 0) or the patient side (< 0)."""
    text = text.strip()
    return sum(c.signed for c in cues() if c.pattern.search(text))


def _decide(score: float, previous: str | None) -> str:
    if previous is None:
        return PATIENT if score <= -KEEP_MARGIN else DOCTOR
    if previous == DOCTOR:
        return DOCTOR if score >= KEEP_MARGIN else PATIENT
    return PATIENT if score <= -KEEP_MARGIN else DOCTOR


def next_speaker(text: str, previous: str | None) -> str:
    """The side of a new turn (医師 or 患者; a 家族 `previous` is the patient's side): the other party, unless the
    words clearly belong to the one who spoke last. The first turn is the doctor's unless its words are clearly
    the patient's."""
    return _decide(doctor_score(text), None if previous is None else _side(previous))


def _side(speaker: str) -> str:
    return DOCTOR if speaker == DOCTOR else PATIENT


def label_turn(text: str, previous: Label | None) -> Label:
    """next_speaker with its confidence, and 家族 for the patient's side where someone speaks for the patient.
    The margin is how far the words point to the chosen speaker, beyond the bar when they keep the previous one
    (a turn kept by words just over the bar is right 77 % of the time on the train writers, one that only follows
    the alternation 74 %); a change of speaker right after a question is an answer (93 %), so the question's 質問
    weight adds to it."""
    text = text.strip()
    score = doctor_score(text)
    before = None if previous is None else _side(previous.speaker)
    speaker = _decide(score, before)
    toward = score if speaker == DOCTOR else -score
    by_words = speaker == before or (before is None and speaker == PATIENT)  # against the turn-taking default
    margin = toward - KEEP_MARGIN if by_words else toward
    if previous is not None and speaker != before:
        margin += previous.asks
    low, high = CONF_CLIP
    confidence = 1.0 / (1.0 + math.exp(-(CONF_BIAS + CONF_SLOPE * min(high, max(low, margin)))))
    asks = sum(c.weight for c in cues() if c.label == QUESTION and c.pattern.search(text))
    carer = previous is not None and previous.carer
    if speaker == PATIENT:
        # 家族 where the words say someone speaks for the patient (本人は…, この子が…); after that, the patient's
        # side stays 家族 for the visit (a parent, a spouse answers for them), but only as a guess
        if any(c.label == FAMILY and c.pattern.search(text) for c in cues()):
            speaker, carer = FAMILY, True
        elif carer:
            speaker, confidence = FAMILY, min(confidence, FAMILY_CARRIED)
    return Label(speaker, round(confidence, 3), margin, asks, carer)
