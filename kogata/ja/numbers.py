"""Spoken and kanji numbers → charted numbers with units, and extraction of the quantities in a text.

`normalize_numbers` expects text already passed through `kogata.ja.normalize.normalize` (ASCII digits, ℃ kept).
The verifier relies on one property: 「三十八度五分」, 「38.5℃」 and 「３８．５度」 all end up as the same Quantity.

Heuristics (each is conservative: when unsure, the numeral is left as written):
- A kanji numeral of two or more characters is a number (百五十二 → 152, 二千三百 → 2300), except inside the words
  in _PROTECTED (十二指腸, 百日咳, 五十肩 …). Two consecutive digits with no 十百千 are a spoken range: 二三日 → 2〜3日;
  other digit strings are positional: 一五〇 → 150.
- A single kanji numeral is a number only before a counter or unit (一錠, 五日分, 三日前, 二週間, 一日二回) or right
  after a measurement word (脈は百). So 一緒, 一般, 一度も, 一番, 一杯, 二の腕 stay. Counter exceptions:
  十分 is "enough" (じゅうぶん) unless followed by 間/後/前/程度/ほど/くらい…; 一人 and 二人 stay (ひとり/ふたり are
  words: 一人暮らし), 三人 and up convert; 時 needs 間/頃/半/過ぎ/…分 after it or 午前/午後 before it (一時的
  stays); 月 followed by 前/後/間 stays (一月前 is a month ago, not January); 度 after a single
  numeral is never a temperature (一度 = once).
- 度 is ℃ only for 34–42.9 (body temperature); 度N分 adds N tenths: 38度5分 → 38.5℃.
- Decimals: 点 between numerals is a decimal point (七点八 → 7.8); ・ is one only after 〇 (〇・五 → 0.5), before a
  unit that takes decimals (七・八パーセント → 7.8%) or after a measurement word; otherwise it is a list (七・八月).
- Weight: NキロM百 (十キロ二百) is N.M kg, as a child's weight is said.
- Blood pressure: N/M, NのM (a pause after の too: 百四十六の…九十; 百の六十二) and 上がN、下がM become
  "N/M mmHg" when 60 ≤ N ≤ 300, 20 ≤ M ≤ 200 and N > M;
  N/M additionally needs 血圧 earlier in the sentence or mmHg after it (a bare 5/12 is a date).
- ミリ alone is mg only when the sentence is about a drug (薬, 錠, 処方, 飲む, 服用, a katakana drug name right
  before the number …) and not about a liquid (シロップ, 液, 点滴): 5ミリ can be 5 mm or 5 mL otherwise.
  キロ alone is kg only in a weight context (体重, 痩せた, 増えた, 減った …).
- サチュレーション / サチュ / spo2 → SpO2. A number right after SpO2 gets % when it is 50–100 and no unit follows
  (SpO2 97 → SpO2 97%, SpO2は97です → SpO2は97%です; 酸素2リットル is left alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10_000, "億": 100_000_000}
_NUMERAL_CHARS = "".join(_DIGIT) + "".join(_SMALL) + "".join(_LARGE)
_DIGIT_CHARS = "".join(_DIGIT)


def parse_kanji_number(s: str) -> int:
    """Value of a kanji numeral: '百五十二' → 152, '二千三百' → 2300, '一万二千' → 12000, '一五〇' → 150.

    Raises ValueError for anything that is not a well-formed numeral ('十十', '二三十', 'abc').
    """
    if not s or any(ch not in _NUMERAL_CHARS for ch in s):
        raise ValueError(f"not a kanji numeral: {s!r}")
    if all(ch in _DIGIT for ch in s):  # positional, as in 一五〇 or 二〇二四
        return int("".join(str(_DIGIT[ch]) for ch in s))
    total, section, digit = 0, 0, None
    last_small, last_large = 10**9, 10**18  # multipliers must strictly decrease: 千百十, not 十百
    for ch in s:
        if ch in _DIGIT:
            if digit is not None:
                raise ValueError(f"two digits in a row in {s!r}")
            digit = _DIGIT[ch]
        elif ch in _SMALL:
            mult = _SMALL[ch]
            if mult >= last_small:
                raise ValueError(f"misordered numeral {s!r}")
            section += (1 if digit is None else digit) * mult
            digit, last_small = None, mult
        else:
            mult = _LARGE[ch]
            if mult >= last_large:
                raise ValueError(f"misordered numeral {s!r}")
            section += digit or 0
            total += (section or 1) * mult
            section, digit, last_small, last_large = 0, None, 10**9, mult
    return total + section + (digit or 0)


# ---------------------------------------------------------------------------------------------------------------
# Phase 1: kanji numerals → ASCII digits, where they are numbers.

_RUN = re.compile(f"(?P<int>[{_NUMERAL_CHARS}]+)(?:(?P<sep>[・点.])(?P<frac>[{_DIGIT_CHARS}]+))?")

# Words whose kanji numerals are not quantities. Matched before conversion; their characters are left untouched.
_PROTECTED = re.compile(
    "十二指腸|百日咳|四十肩|五十肩|四六時中|万一|万が一|二日酔い|三日坊主|三日ばしか|一時的|一過性|一石二鳥|十人十色"
    "|十中八九|七五三|五十音|九九|八百屋|九死に一生|一進一退"
)

# Counters and units after which a single kanji numeral is a number. Longest first so か月 wins over 月.
_COUNTERS = sorted(
    [
        "日",
        "回",
        "錠",
        "週",
        "か月",
        "ヶ月",
        "カ月",
        "ケ月",
        "ヵ月",
        "箇月",
        "月",
        "年",
        "歳",
        "才",
        "時間",
        "時",
        "分",
        "秒",
        "人",
        "個",
        "本",
        "枚",
        "包",
        "杯",
        "合",
        "単位",
        "滴",
        "粒",
        "種類",
        "箇所",
        "か所",
        "カ所",
        "ヶ所",
        "階",
        "番",
        "倍",
        "割",
        "食",
        "袋",
        "箱",
        "缶",
        "カプセル",
        "キロ",
        "グラム",
        "マイクロ",
        "ミリ",
        "センチ",
        "メートル",
        "リットル",
        "パーセント",
        "%",
        "mg",
        "kg",
        "g",
        "mL",
        "ml",
        "cc",
        "cm",
        "mm",
        "代",
        "円",
        "度",
        "吸入",
        "噴霧",
        "パフ",
        "針",
        "デシベル",
    ],
    key=len,
    reverse=True,
)
_COUNTER_AFTER = re.compile("|".join(map(re.escape, _COUNTERS)))
# 十分 is a duration only when one of these follows; otherwise it is じゅうぶん ("enough").
_TEN_MINUTES_TAIL = re.compile("間|後|前|程度|ほど|くらい|ぐらい|おき|ごと|以内|以上|以下|未満|弱|強|待|経")
_MONTH_SPAN_TAIL = re.compile("前|後|間|ほど|くらい|ぐらい|程")
_HOUR_TAIL = re.compile(f"間|頃|ごろ|半|過ぎ|[0-9{_NUMERAL_CHARS}]+分")
# Units that take a decimal, so that 七・八パーセント is 7.8 % while 七・八月 is July and August.
_DECIMAL_UNIT = re.compile("パーセント|%|度|℃|マイクロ|ミリ|mg|グラム|g|キロ|kg|センチ|cm|mm|mL|ml|リットル|倍")
# A measurement word right before a number makes even a single numeral a value (脈は百).
_MEASURE_BEFORE = re.compile(
    r"(?:脈拍?|血圧|体温|熱|体重|身長|SpO2|サチュレーション|サチュ|心拍数?|呼吸数|血糖値?|A1c|HbA1c|ヘモグロビン|INR|CRP|クレアチニン|eGFR|尿酸|LDL|HDL|中性脂肪|白血球|カリウム|ナトリウム|上[がは]|下[がは]"
    r"|フェリチン|血清鉄|アンモニア|アルブミン|ビリルビン|トラフ値?|眼圧|視力|(?<![A-Za-z])[A-Z][A-Za-z0-9\-]*[A-Za-z0-9])"
    r"(?:は|が|も|:|、|\s)*$"
)
_MEASURE_WINDOW = 20  # chars looked back for a measurement word; keeps the scan linear
_VALUE_END = re.compile(r"$|[\s、。,.!?)」]|です|でした|くらい|ぐらい|ほど|程度|前後|台|以上|以下|位|で|と|から|まで")


_UPPER_BEFORE = re.compile(f"[{_NUMERAL_CHARS}]{{2,}}の$")


def _single_is_number(ch: str, text: str, start: int, end: int) -> bool:
    """Whether a lone kanji numeral at text[start:end] is a quantity (see the module docstring)."""
    after = text[end:]
    m = _COUNTER_AFTER.match(after)
    if m:
        counter, tail = m.group(), after[m.end() :]
        if counter == "度":
            return False
        if counter == "分" and ch == "十":
            return bool(_TEN_MINUTES_TAIL.match(tail))
        if counter == "人":
            return ch not in "一二"
        if counter == "時":
            return bool(_HOUR_TAIL.match(tail)) or text.endswith(("午前", "午後"), 0, start)
        if counter == "番":
            return tail.startswith("目")
        if counter == "月":
            return not _MONTH_SPAN_TAIL.match(tail)  # 一月前 is ひとつき前 (a month ago), not January
        if counter == "杯":
            return ch != "一"  # 一杯 is usually いっぱい ("a lot")
        return True
    if ch == "百" and (
        re.match(f"の[{_NUMERAL_CHARS}]{{2,}}", after)
        or (_UPPER_BEFORE.search(text, 0, start) and _VALUE_END.match(after))
    ):
        return True  # 「百の六十二」「百八十二の百」: a blood pressure, 100/62 and 182/100
    if _MEASURE_BEFORE.search(text, max(0, start - _MEASURE_WINDOW), start) and _VALUE_END.match(after):
        return True
    # 一、二回 / 一・二日: the first numeral of a spoken list shares the counter of the last.
    nxt = re.match(f"[、・,]([{_NUMERAL_CHARS}]+)", after)
    return bool(nxt) and _COUNTER_AFTER.match(after, nxt.end()) is not None


def _convert_run(run: str, text: str, start: int, end: int) -> str:
    """Replacement for one kanji numeral run at text[start:end] (the run itself when it is not a number)."""
    try:
        value = parse_kanji_number(run)
    except ValueError:
        return run
    if len(run) == 1:
        return str(value) if _single_is_number(run, text, start, end) else run
    if len(run) == 2 and all(ch in _DIGIT for ch in run) and _DIGIT[run[1]] == _DIGIT[run[0]] + 1:
        return f"{_DIGIT[run[0]]}〜{_DIGIT[run[1]]}"  # 二三日 → 2〜3日
    return str(value)


def _is_decimal(m: re.Match[str], text: str) -> bool:
    """Whether the separator in a run like 七・八 / 七点八 / 〇・五 is a decimal point."""
    if m.group("sep") in "点.":
        return True
    return (
        m.group("int") in ("〇", "零")
        or _DECIMAL_UNIT.match(text, m.end()) is not None
        or _MEASURE_BEFORE.search(text, max(0, m.start() - _MEASURE_WINDOW), m.start()) is not None
    )


_MIXED = re.compile(r"(?<![0-9.])((?:[0-9]+(?:\.[0-9]+)?[億万千百])+)([0-9]+(?![0-9.]))?")
_MULTIPLIER = {"百": 100, "千": 1000, "万": 10_000, "億": 100_000_000}


def _mixed(m: re.Match[str]) -> str:
    """30万 → 300000, 1万2千 → 12000, 2.5万 → 25000: digits said with kanji multipliers."""
    total = section = 0.0
    for number, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)([億万千百])", m.group(1)):
        if unit in "万億":
            total += (section + float(number)) * _MULTIPLIER[unit]
            section = 0.0
        else:
            section += float(number) * _MULTIPLIER[unit]
    value = total + section + float(m.group(2) or 0)
    return str(int(value)) if value == int(value) else m.group(0)


def _convert_numerals(text: str) -> str:
    text = _MIXED.sub(_mixed, text)
    protected = [p.span() for p in _PROTECTED.finditer(text)]
    out: list[str] = []
    pos = 0
    for m in _RUN.finditer(text):
        a, b = m.span("int")
        out.append(text[pos:a])
        pos = m.end()
        # A digit glued to a name reads as part of it (HbA1c七・八 → HbA1c7.8 hides the 7.8): keep them apart.
        gap = " " if a and text[a - 1].isascii() and text[a - 1].isalnum() else ""
        if any(s <= a < e for s, e in protected):
            out.append(m.group())
            continue
        frac = m.group("frac")
        if frac and _is_decimal(m, text):
            try:
                whole = parse_kanji_number(m.group("int"))
            except ValueError:
                out.append(m.group())
                continue
            out.append(gap + f"{whole}." + "".join(str(_DIGIT[ch]) for ch in frac))
            continue
        converted = _convert_run(m.group("int"), text, a, b)
        out.append(gap + converted if converted != m.group("int") else converted)
        if frac:
            fa, fb = m.span("frac")
            out.append(m.group("sep") + _convert_run(frac, text, fa, fb))
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# Phase 2: units on ASCII digits.

_NUM = r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)"
_SPO2 = re.compile(r"サチュレーション|サチュ|(?<![A-Za-z])spo2(?![A-Za-z0-9])", re.IGNORECASE)
# Names that end in a digit or letter and are often followed directly by their value (SpO297, HbA1c7.8).
_NAME_BEFORE_DIGIT = re.compile(r"(?<![A-Za-z0-9])(SpO2|HbA1c|A1c)(?=[0-9])")
_TEMP_TENTHS = re.compile(r"(?<![0-9.])([0-9]{2})度([0-9])分")
_TEMP = re.compile(r"(?<![0-9.])([0-9]{2}(?:\.[0-9]{1,2})?)\s?(?:度|℃)(?!目)")
_EXPLICIT_UNITS = {
    "マイクログラム": "\u03bcg",
    "マイクロ": "\u03bcg",
    "mcg": "\u03bcg",  # NFKC turns the micro sign into Greek mu
    "ミリグラム": "mg",
    "ミリリットル": "mL",
    "ミリメートル": "mm",
    "キログラム": "kg",
    "グラム": "g",
    "センチメートル": "cm",
    "センチ": "cm",
    "パーセント": "%",
    "%": "%",
    "シーシー": "mL",
    "cc": "mL",
    "mg": "mg",
    "kg": "kg",
    "ml": "mL",
    "cm": "cm",
    "mm": "mm",
    "デシベル": "dB",
    "db": "dB",
}
_UNIT_RE = re.compile(
    _NUM + r"\s?(" + "|".join(sorted(map(re.escape, _EXPLICIT_UNITS), key=len, reverse=True)) + r")(?![A-Za-z])",
    re.IGNORECASE,
)
_MMHG = re.compile(r"\s?mm\s?hg(?![A-Za-z])", re.IGNORECASE)
_MONTHS = re.compile(r"([0-9])\s?[ヶヵケカ箇]月")
_BP_UPPER_LOWER = re.compile(r"上[がは]?([0-9]{2,3})(?:で|、|,|\s)*下[がは]?([0-9]{2,3})(?![0-9.])(?: mmHg)?")
_BP_NO = re.compile(
    r"(?<![0-9/])(?<![0-9]\.)([0-9]{2,3})\s?の(?:\s|\.{2,}|、)*([0-9]{2,3})(?![0-9.])(?: mmHg)?"
)  # 146の...90
_BP_SLASH = re.compile(r"(?<![0-9./])([0-9]{2,3})\s?/\s?([0-9]{2,3})(?![0-9./])( mmHg)?")
_UNIT_BEFORE_DIGIT = re.compile(r"(?<=[0-9])(mg|\u03bcg|mL|kg|g|mm|cm)(?=[0-9])")
_BARE_MILLI = re.compile(_NUM + r"\s?ミリ(?!グラム|リットル|メートル|シーベルト)")
_BARE_KILO = re.compile(_NUM + r"\s?キロ(?!グラム|メートル|カロリー|m)")
_SPO2_VALUE = re.compile(r"(SpO2(?:は|が|も|:|、|\s)*)([0-9]{2,3})(?![0-9.%])")
_ANY_UNIT_AFTER = re.compile(r"\s?(?:[A-Za-z%℃]|リットル|パーセント|回|日|時間|分|歳|L)")
_DRUG_CONTEXT = re.compile(
    r"薬|錠|処方|飲ん|飲み|飲む|飲ま|服用|内服|頓服|頓用|カプセル|mg|出して|出しと|出します|増量|減量|注射"
)
_LIQUID_CONTEXT = re.compile(r"シロップ|液|点滴")
_FLUID_BEFORE = re.compile(r"(?:水|液|血|尿|膿|痰|胸水|腹水)[がをはも]?[^。]{0,4}$")
_KATAKANA_WORD_BEFORE = re.compile(r"[ァ-ヴー]{3,}(?:を|の|\s)?$")
_KILO_GRAMS = re.compile(r"(?<![0-9.])([0-9]{1,3})kg\s?([0-9]{3})(?![0-9.]|\s?(?:g|kg|グラム|キロ))")
_WEIGHT_CONTEXT = re.compile(r"体重|痩せ|やせ|太|増え|減|重さ|kg")
_SENTENCE_END = "。\n!?"


def _sentence(text: str, i: int) -> tuple[int, int]:
    """Bounds of the sentence around position i."""
    a = max(text.rfind(ch, 0, i) for ch in _SENTENCE_END) + 1
    ends = [e for e in (text.find(ch, i) for ch in _SENTENCE_END) if e >= 0]
    return a, min(ends) if ends else len(text)


def _plausible_bp(sys: str, dia: str) -> bool:
    s, d = int(sys), int(dia)
    return 60 <= s <= 300 and 20 <= d <= 200 and s > d


def _temperature(value: str) -> bool:
    return 34 <= float(value) < 43


def _units(text: str) -> str:
    text = _SPO2.sub(lambda m: "SpO2", text)
    text = _NAME_BEFORE_DIGIT.sub(r"\1 ", text)
    text = _TEMP_TENTHS.sub(lambda m: f"{m[1]}.{m[2]}℃" if _temperature(m[1]) else m[0], text)
    text = _TEMP.sub(lambda m: f"{m[1]}℃" if _temperature(m[1]) else m[0], text)
    text = _UNIT_RE.sub(lambda m: m[1] + _EXPLICIT_UNITS[m[2].lower() if m[2].isascii() else m[2]], text)
    text = _MMHG.sub(" mmHg", text)
    text = _MONTHS.sub(r"\1か月", text)
    text = _BP_UPPER_LOWER.sub(lambda m: f"{m[1]}/{m[2]} mmHg" if _plausible_bp(m[1], m[2]) else m[0], text)
    text = _BP_NO.sub(lambda m: f"{m[1]}/{m[2]} mmHg" if _plausible_bp(m[1], m[2]) else m[0], text)

    def slash(m: re.Match[str]) -> str:
        a, _ = _sentence(m.string, m.start())
        if _plausible_bp(m[1], m[2]) and (m[3] or "血圧" in m.string[a : m.start()]):
            return f"{m[1]}/{m[2]} mmHg"
        return m[0]

    text = _BP_SLASH.sub(slash, text)

    def milli(m: re.Match[str]) -> str:
        a, b = _sentence(m.string, m.start())
        sentence = m.string[a:b]
        if _FLUID_BEFORE.search(m.string, max(a, m.start() - 8), m.start()):
            return f"{m[1]}mL"  # 「黄色い透明な水が二十ミリ抜けました」: a volume drawn, not a dose
        drug = _DRUG_CONTEXT.search(sentence) or _KATAKANA_WORD_BEFORE.search(m.string, a, m.start())
        return f"{m[1]}mg" if drug and not _LIQUID_CONTEXT.search(sentence) else m[0]

    text = _BARE_MILLI.sub(milli, text)

    def kilo(m: re.Match[str]) -> str:
        a, b = _sentence(m.string, m.start())
        return f"{m[1]}kg" if _WEIGHT_CONTEXT.search(m.string, max(0, a - 40), b) else m[0]  # or the sentence before

    text = _BARE_KILO.sub(kilo, text)
    text = _KILO_GRAMS.sub(lambda m: f"{m[1]}.{m[2].rstrip('0') or '0'}kg", text)  # 十キロ二百 → 10.2kg

    def spo2(m: re.Match[str]) -> str:
        if 50 <= int(m[2]) <= 100 and not _ANY_UNIT_AFTER.match(m.string, m.end()):
            return f"{m[1]}{m[2]}%"
        return m[0]

    text = _SPO2_VALUE.sub(spo2, text)
    return _UNIT_BEFORE_DIGIT.sub(r"\1 ", text)  # 500mg1日2回 → 500mg 1日2回: the 1 is a number, not part of a name


def normalize_numbers(text: str) -> str:
    """Spoken/kanji numbers → digits with charting units: 三十八度五分 → 38.5℃, 一日二回 → 1日2回,
    五百ミリグラム → 500mg.

    Expects normalised text (see kogata.ja.normalize.normalize); heuristics are listed in this module's docstring.
    """
    return _SPOKEN_RANGE.sub(_spoken_range, _units(_convert_numerals(text)))


# 「二、三日」「2、3週間後」: two neighbouring numbers before a counter are a range (2〜3日), not a list.
_SPOKEN_RANGE = re.compile(r"(?<![0-9.,、])([1-9])[、,]([1-9])(?=日|週間|週|か月|ヶ月|回|時間|年|分|錠|杯|本)")


def _spoken_range(m: re.Match) -> str:
    low, high = int(m.group(1)), int(m.group(2))
    return f"{low}〜{high}" if high == low + 1 else m.group(0)


# ---------------------------------------------------------------------------------------------------------------
# Quantities.


@dataclass(frozen=True)
class Quantity:
    """A number as charted ("38.5", "152/94", "2300") with its unit ("℃", "mmHg", "日分", or "" when bare)."""

    value: str
    unit: str
    span: tuple[int, int]


_QUANTITY = re.compile(
    r"(?<![A-Za-z0-9/])(?<![0-9]\.)(?P<num>(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:/[0-9]+(?:\.[0-9]+)?)?)"
    r"(?:\s?(?P<unit>(?:mmHg|bpm|\u03bcg|mg|kg|mL|mm|cm|g|L)(?![A-Za-z])|℃|%|日分|週間|週|[かヶカケヵ箇]月|時間|回|錠|日|歳|包|枚|本|単位|分|年|合|杯))?"
)
_RANGE_JOINERS = ("〜", "~", "-")


def find_quantities(text: str) -> list[Quantity]:
    """Numbers in normalised text with their units, in order; digits inside names (SpO2, HbA1c) are not numbers.

    In a range the first number takes the unit of the second: 2〜3日 → 2 日, 3 日.
    """
    found: list[Quantity] = []
    for m in _QUANTITY.finditer(text):
        unit = m.group("unit") or ""
        if unit.endswith("月"):
            unit = "か月"
        found.append(Quantity(m.group("num").replace(",", ""), unit, m.span()))
    for i in range(len(found) - 1):
        q, nxt = found[i], found[i + 1]
        if not q.unit and nxt.unit and text[q.span[1] : nxt.span[0]] in _RANGE_JOINERS:
            found[i] = Quantity(q.value, nxt.unit, q.span)
    return found
