"""Lab and vital values read aloud, as chart lines: each number said is paired with the name said before it in the
same sentence (data/readings.tsv: the spoken forms, katakana spellings too, the name a chart writes, its usual unit
and a plausible range), and one line per utterance gives them in chart language:

    「エイチビーエーワンシーが八点一、あ、違う、八点三ですね。前回が七点六だったので」 → 「HbA1c 8.3%（前回7.6%）。」
    「眼圧は右十四、左十五です。」 → 「眼圧 右14 左15 mmHg。」

A value withdrawn by the speaker (「あ、違う」「いや」「じゃなくて」「…すみません」; data/reading_cues.tsv) gives way to
the one after it. Every number written comes from the cited utterance as kogata.verify reads it (spoken numbers as
digits), so a line never carries a value that was not said. Rules only: no learned part.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import sentences
from kogata.tasks.data import rows
from kogata.tasks.karte.vocabulary import PACKAGE
from kogata.verify import Said, clean


@dataclass(frozen=True)
class Name:
    name: str  # as a chart writes it: HbA1c, eGFR, 眼圧
    unit: str
    kind: str  # lab or vital
    low: float | None
    high: float | None


@dataclass
class Reading:
    """One name's values in one utterance: 「眼圧 右14 左15 mmHg」, 「HbA1c 8.3%（前回7.6%）」."""

    name: str
    unit: str
    kind: str
    values: list[tuple[str, str, str]] = field(default_factory=list)  # (qualifier, side, value): (矯正, 右, 1.2)
    previous: list[tuple[str, str]] = field(default_factory=list)  # (前回, 7.6); ("", 9.2) for 「9.2から7.6に」
    rhythm: str = ""  # 整 / 不整, of a pulse
    evidence: list[int] = field(default_factory=list)

    def text(self) -> str:
        tokens, said = [], ""
        for qualifier, side, value in self.values:
            lead = qualifier + (" " if side else "") if qualifier != said else ""
            said = qualifier
            tokens.append((lead + side, value))
        if any(side for _, side, _ in self.values) or self.unit == "mmHg":
            # 「眼圧 右14 左15 mmHg」「血圧 座位112/68 立位100/62 mmHg」: the unit once, after the values
            out = f"{self.name} {' '.join(a + v for a, v in tokens)}{' ' + self.unit if self.unit else ''}"
        else:
            out = f"{self.name} " + " ".join(a + _with_unit(v, self.unit) for a, v in tokens)
        if self.rhythm:
            out += f" {self.rhythm}"
        earlier = [f"{label}{_with_unit(v, self.unit)}" for label, v in self.previous if label]
        if earlier:
            out += "（" + "、".join(earlier) + "）"
        changed = [_with_unit(v, self.unit) for label, v in self.previous if not label]
        return out.replace(f"{self.name} ", f"{self.name} {changed[-1]}→", 1) if changed else out


def _with_unit(value: str, unit: str) -> str:
    if unit == "mmHg":
        return f"{value} mmHg"
    if unit.startswith("万") and re.fullmatch(r"\d+", value) and int(value) % 1000 == 0:
        return f"{int(value) / 10_000:g}{unit}"  # 28000 → 2.8万/μL, as a chart writes a platelet count
    if unit.startswith("万"):
        return value + unit[1:]
    return value + unit


@functools.cache
def _names() -> tuple[dict[str, Name], re.Pattern[str]]:
    """{spoken form: Name} and one pattern for every spoken form, longest first (HbA1c before Hb)."""
    by_form: dict[str, Name] = {}
    for row in rows(PACKAGE, "readings.tsv"):
        name = Name(
            row["name"],
            row["unit"],
            row["kind"],
            float(row["low"]) if row["low"] else None,
            float(row["high"]) if row["high"] else None,
        )
        for form in row["said"].split("|"):
            by_form.setdefault(clean(form), name)
    forms = sorted(by_form, key=len, reverse=True)

    # an ASCII name is not part of a longer word (Cr in CRP, C3 in C30)
    def form(f: str) -> str:
        if f.isascii():
            return r"(?<![A-Za-z0-9])" + re.escape(f) + r"(?![A-Za-z0-9])"
        return (r"(?<![一-龥])" if len(f) == 1 else "") + re.escape(f)  # 脈 but not 頸動脈

    # not a name inside a unit (「2.1g・パー・グラムクレアチニン」) or a longer name (TSH受容体抗体)
    pattern = re.compile(r"(?<!グラム)(?:" + "|".join(map(form, forms)) + r")(?!受容体|抗体|抗原)")
    return by_form, pattern


@functools.cache
def _cue(kind: str) -> re.Pattern[str]:
    return re.compile("|".join(row["cue"] for row in rows(PACKAGE, "reading_cues.tsv") if row["kind"] == kind))


@functools.cache
def _postures() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple(
        (re.compile(row["cue"]), row["chart"]) for row in rows(PACKAGE, "reading_cues.tsv") if row["kind"] == "posture"
    )


_NUMBER = r"(?<![0-9./A-Za-z\-])\d+(?:\.\d+)?"
_VALUE = re.compile(_NUMBER + r"(?:/\d+(?:\.\d+)?)?")
_SPOKEN_UNIT = r"\s?(?:mmHg|%|℃|kg|キロ|cm|センチ|ppb)?\s?"
# after a value: a count or a time, not a reading (「1分後」「3日前」「2錠」), a value in the tens (「40台」), a bound
# or a change (「130の80未満」「38℃以上」「2キロ増えて」「1kgあたり」), not what was measured
_NOT_A_READING = re.compile(
    r"\s?(?:日|週|か月|ヶ月|年|時間|分(?!の)|秒|歳|錠|包|枚|本|単位|個|人|度目|番|倍|つ|台)"
    r"|" + _SPOKEN_UNIT + r"(?:未満|以下|以上|を?超え|を?切|を?下回|を?上回|増|減|アップ|ダウン|あたり|当たり|パー)"
)
_SAID_UNIT = re.compile(r"\s?(mg|μg|mL|mm|cm|kg|g|ミリ|キロ|グラム|リットル|L)(?![A-Za-z/])")
# a new subject after a value: 「CRPが1.8、血沈が42」 (血沈 is not CRP's); not 「今は」「右は」
_NEW_SUBJECT = re.compile(r"[、,]([^、,\d]{1,10})(?:が|は)[、,\s]*$")
_NOT_A_SUBJECT = re.compile(r"^(?:今|いま|今日|今朝|現在|本日|右|左|両|ここ|こちら)")
_FROM_TO = re.compile(
    _SPOKEN_UNIT + r"から、?\s?(\d+(?:\.\d+)?(?:/\d+)?)" + _SPOKEN_UNIT + r"(くらい|ぐらい|程度|前後|の間|の範囲|台)?"
)
_MAX_GAP = 24  # characters between a name (or its last value) and the next value of it


_UNIT = {"ミリ": "mm", "キロ": "kg", "グラム": "g", "リットル": "L", "センチ": "cm"}


def _inside(span: tuple[int, int], drugs: list[tuple]) -> bool:
    """Whether a name is part of a drug's (カリウム in アスパラカリウム)."""
    return any(a <= span[0] and span[1] <= b for a, b, _, _ in drugs)


def corrected(text: str) -> str:
    """`text` without the values the speaker withdrew: 「8.1、あ、違う、8.3」 → 「8.3」, 「70キロ...いや、69.8」 →
    「69.8」 (the cue must follow a number closely, so 「いや、それは」 elsewhere is left alone)."""
    cue = _cue("correction").pattern
    pattern = re.compile(_NUMBER + r"(?:/\d+)?[^\d。]{0,6}?(?:" + cue + r")(?:[、,\s.…]|です|でした)*(?=\D{0,3}\d)")
    return pattern.sub("", text)


def _side(gap: str) -> str:
    m = re.search(r"(右|左|両)(?:目|眼|側|は|が|も|で|、|\s)*$", gap)
    return m.group(1) if m else ""


def _previous(text: str) -> str | None:
    """The label of a previous value the words before it give (前回, 普段, 入院時: data/reading_cues.tsv), or None."""
    for row in rows(PACKAGE, "reading_cues.tsv"):
        if row["kind"] == "previous" and re.search(row["cue"], text):
            return row["chart"]
    return None


def read(said: list[Said]) -> list[tuple[list[Reading], Said]]:
    """The readings of each utterance that says any, in order."""
    out = []
    for s in said:
        found = readings(s.text, s.id)
        if found:
            out.append((found, s))
    return out


def readings(text: str, utterance: int = 0) -> list[Reading]:
    """The readings in one utterance's cleaned text (kogata.verify.clean: spoken numbers as digits)."""
    by_form, pattern = _names()
    found: dict[str, Reading] = {}
    pending: Name | None = None  # a name whose value comes in the next sentence: 「INR出ました。2.8です。」
    last: Name | None = None  # the name read last: 「HbA1cが8.3です。前回が7.6だったので」 gives its previous value
    for sentence in sentences(corrected(text)):
        drugs = [(m.span[0], m.span[1], "drug", m.surface) for m in find_drugs(sentence)]
        names = [m for m in pattern.finditer(sentence) if not _inside(m.span(), drugs)]
        masked = pattern.sub(lambda m: "＿" * len(m.group(0)), sentence)  # C3, HbA1c: no number inside a name
        events = sorted(
            drugs
            + [(m.start(), m.end(), "name", m.group(0)) for m in names]
            + [(m.start(), m.end(), "value", m.group(0)) for m in _VALUE.finditer(masked)]
        )
        current, pending, valued, lead = pending, None, False, ""
        anchor = 0  # where the gap before the next value starts
        qualifier = ""  # 矯正, 座位 …: kept for the values after it
        skip_to = -1  # the second value of a range 「70から120くらい」 is skipped with the first
        for start, end, what, word in events:
            if what == "drug":  # 「カリウムを下げる粉薬、ロケルマを5g」: a dose from here on
                current = None
                continue
            if what == "name":
                current, anchor, qualifier, valued = by_form[word], end, "", False
                lead = re.split(r"[、,]", sentence[max(0, start - 8) : start])[-1]  # 「前回CRPが0.9」
                continue
            if current is None:
                if "/" in word and sentence.startswith(" mmHg", end):  # 「182/100 mmHg」 is a blood pressure
                    current = by_form["血圧"]
                elif last is not None and (label := _previous(sentence[anchor:start])) is not None:
                    found[last.name].previous.append((label, word))  # 「前回が7.6だったので」
                    last = None
                    continue
                else:
                    continue
            gap = sentence[anchor:start]
            anchor = end
            for cue_pattern, posture in _postures():  # 「座って112/68、立ってもらって1分後、100/62」
                if cue_pattern.search(gap):
                    qualifier = posture
            if _cue("corrected_vision").search(gap):
                qualifier = "矯正"
            if start < skip_to:
                continue
            if (
                valued
                and (new := _NEW_SUBJECT.search(gap))
                and not _NOT_A_SUBJECT.match(new.group(1))
                and not any(cue.search(new.group(1)) for cue, _ in _postures())  # 「、立ってすぐが108/64」
            ):
                current = None
                continue
            if len(gap) > _MAX_GAP or _NOT_A_READING.match(sentence, end) or _cue("target").search(gap):
                continue
            if sentence.startswith("回", end) and current.unit != "/分":
                continue  # 「1日3回」 is how often; 「呼吸数は18回」 is a rate
            if (unit := _SAID_UNIT.match(sentence, end)) and not current.unit.startswith(_UNIT.get(unit[1], unit[1])):
                continue  # 「血沈が42ミリ」 is not CRP's, 「5g」 a dose
            if ("/" in word) != (current.name == "血圧"):
                continue  # a blood pressure is N/M, and N/M is only a blood pressure
            number = float(word.split("/")[0])
            if (current.low is not None and number < current.low) or (
                current.high is not None and number > current.high
            ):
                continue
            reading = found.setdefault(
                current.name, Reading(current.name, current.unit, current.kind, evidence=[utterance])
            )
            if (to := _FROM_TO.match(sentence, end)) and to.group(1):
                if to.group(2):  # a range said (「70から120くらい」): no one value to write
                    skip_to = to.end(1)
                    continue
                reading.previous.append(("", word))  # 「9.2から7.6に」: 9.2→7.6
                continue
            label = _previous(gap if valued else lead + gap)
            if label is not None:
                reading.previous.append((label, word))  # 「前回が7.6」 → （前回7.6%）
                continue
            valued = True
            value = (qualifier, _side(gap), word)
            if value not in reading.values:
                reading.values.append(value)
            if current.name == "脈拍" and (
                rhythm := re.match(rf"[、,\sで]*({_cue('rhythm').pattern})", sentence[end:])
            ):
                reading.rhythm = rhythm.group(1)
        if current is not None and current.name not in found and names and len(sentence[anchor:]) <= 8:
            pending = current
        last = current if current is not None and current.name in found and found[current.name].values else None
    return [r for r in found.values() if r.values]


def line(text: str, utterance: int = 0) -> str:
    """The chart line for one utterance's readings (「HbA1c 8.3%（前回7.6%）、eGFR 72」), or ""."""
    return "、".join(r.text() for r in readings(clean(text), utterance))


def lines(said: list[Said]) -> list[tuple[str, str, list[int], set[str]]]:
    """(section, line, evidence, the values written): O for what staff read out, S for what the patient side
    reports (a home reading)."""
    return [
        (
            "O" if s.staff else "S",
            "、".join(r.text() for r in found) + "。",
            [s.id],
            {v for r in found for _, _, v in r.values} | {v for r in found for _, v in r.previous},
        )
        for found, s in read(said)
    ]
