"""Deadlines as people say them (明日, 3営業日以内, 来週月曜, 12月5日まで) → a normalised phrase and, when the
date of the call is known, the calendar date they mean.

Business days skip Saturdays and Sundays only: national holidays are not known offline here, so a deadline
that spans one reads a day early (the safe side for a promise to call back).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from kogata.ja import normalize, normalize_numbers, parse_kanji_number

WEEKDAYS = "月火水木金土日"
_NUM = r"(\d+|[一二三四五六七八九十]+)"

# Most specific first: the first pattern that matches a phrase decides its date.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("business_days", re.compile(_NUM + r"営業日(?:以内|後|目|まで)?")),
    ("weeks", re.compile(_NUM + r"週間(?:以内|後|ほど|程度|くらい)?")),
    ("days", re.compile(_NUM + r"日(?:以内|後|ほど|程度|くらい)(?:に|まで)?")),
    ("month_day", re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")),
    ("weekday", re.compile(r"(今週|来週|再来週)?(?:の)?([月火水木金土日])曜(?:日)?")),
    ("week", re.compile(r"(今週|来週)(?:中|末|いっぱい)")),
    ("month_end", re.compile(r"(今月|来月)(?:末|中|いっぱい)|月末")),
    ("today", re.compile(r"本日中|今日中|本日|今日")),
    ("day_after_tomorrow", re.compile(r"明後日|あさって")),
    ("tomorrow", re.compile(r"明日|あした|あす|明朝")),
]


@dataclass(frozen=True)
class Deadline:
    phrase: str  # as said, normalised (NFKC, digits): 「3営業日以内」
    date: date | None  # the day it falls on, when the call date is known

    def value(self) -> str:
        """What the record stores: the ISO date when known, else the phrase."""
        return self.date.isoformat() if self.date else self.phrase


def _number(text: str) -> int:
    return int(text) if text.isdigit() else parse_kanji_number(text)


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _resolve(kind: str, m: re.Match[str], today: date) -> date | None:
    if kind == "business_days":
        return add_business_days(today, _number(m.group(1)))
    if kind == "weeks":
        return today + timedelta(weeks=_number(m.group(1)))
    if kind == "days":
        return today + timedelta(days=_number(m.group(1)))
    if kind == "month_day":
        year, month, day = (int(m.group(1)) if m.group(1) else today.year), int(m.group(2)), int(m.group(3))
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if not m.group(1) and found < today:  # 「1月10日まで」 said in December is next January
            found = found.replace(year=year + 1)
        return found
    if kind == "weekday":
        target = WEEKDAYS.index(m.group(2))
        monday = today - timedelta(days=today.weekday())
        weeks = {"今週": 0, "来週": 1, "再来週": 2}.get(m.group(1) or "")
        if weeks is None:  # a bare 「月曜に」: the next one after today
            return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)
        return monday + timedelta(weeks=weeks, days=target)
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=1 if m.group(1) == "来週" else 0, days=4)  # that week's Friday
    if kind == "month_end":
        year, month = today.year, today.month
        if m.group(1) == "来月":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return date(year, month, calendar.monthrange(year, month)[1])
    if kind == "today":
        return today
    if kind == "day_after_tomorrow":
        return today + timedelta(days=2)
    if kind == "tomorrow":
        return today + timedelta(days=1)
    raise ValueError(kind)


def find_deadlines(text: str, call_date: date | None = None) -> list[Deadline]:
    """Every deadline phrase in `text`, in order (the most specific reading where two overlap)."""
    text = normalize_numbers(normalize(text))
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for rank, (kind, pattern) in enumerate(_PATTERNS):
        for m in pattern.finditer(text):
            found.append((m.start(), rank, kind, m))
    deadlines, end = [], 0
    for begin, _, kind, m in sorted(found, key=lambda f: (f[0], f[1])):
        if begin < end:
            continue
        end = m.end()
        phrase = m.group(0)
        if kind in ("business_days", "weeks", "days"):
            phrase = re.sub(r"^[一二三四五六七八九十]+", lambda k: str(parse_kanji_number(k.group(0))), phrase)
        deadlines.append(Deadline(phrase, _resolve(kind, m, call_date) if call_date else None))
    return deadlines


def find_deadline(text: str, call_date: date | None = None) -> Deadline | None:
    """The first deadline phrase in `text`, or None."""
    found = find_deadlines(text, call_date)
    return found[0] if found else None
