"""Mask personal information in Japanese text: what logs and masked exports may hold instead of the words.

`fuseji`'s validated recognisers find My Number (check digit), phone numbers, postal codes, e-mail addresses
and card numbers (Luhn). Rules written here add what a clinic's text also carries: addresses
(都道府県・市区町村・丁目・番地), insurance numbers (保険者番号・記号・番号), patient and customer ids,
birth dates, long numbers read out in kanji digits, and people's names (before 様・さん・氏・先生…, or
after 「名前は」). Each find becomes a label such as ［氏名］, so a masked line still reads naturally.

Recall comes before precision (a missed name is worse than a masked word), but clinical words must survive:
38.5℃, 5mg, 152/94, 1日3回, 患者さん and 様子 are never touched (tests/test_mask.py holds both sides).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fuseji import Entity, Masker
from fuseji.recognizers.base import default_recognizers

LABELS = {
    "PERSON": "［氏名］",
    "JP_ADDRESS": "［住所］",
    "JP_PHONE_NUMBER": "［電話番号］",
    "JP_POSTAL_CODE": "［郵便番号］",
    "MY_NUMBER": "［個人番号］",
    "INSURANCE_NUMBER": "［保険番号］",
    "PERSON_ID": "［ID］",
    "BIRTH_DATE": "［生年月日］",
    "EMAIL": "［メール］",
    "CREDIT_CARD": "［カード番号］",
    "SPOKEN_NUMBER": "［番号］",
}

# One character in, one character out (so match offsets hold for the original text): full-width ASCII to
# ASCII, dash look-alikes to "-", the ideographic space to " ". NFKC would change lengths.
_FOLD = str.maketrans(
    {**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}, **dict.fromkeys("‐‑‒–—―−－", "-"), "\u3000": " "}
)

_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_KATAKANA = "\u30a1-\u30faー"
_NAME_PART = f"[{_KANJI}{_KATAKANA}]{{1,6}}"
_NAME = f"{_NAME_PART}(?:[ ・]{_NAME_PART})?"
_KANJI_DIGIT = "〇零一二三四五六七八九"
_NUM = f"[0-9{_KANJI_DIGIT}十]+"
_PREFECTURE = (
    "(?:北海道|東京都|(?:京都|大阪)府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|神奈川|新潟|富山|"
    "石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知|"
    "福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県)"
)
_MUNICIPALITY = f"(?:[{_KANJI}{_KATAKANA}]{{1,6}}|[ぁ-ん]{{2,5}})[市区町村郡]"
_TOWN = f"[{_KANJI}{_KATAKANA}]{{0,8}}"
_BLOCK = f"(?:{_NUM} ?(?:丁目|番地|番|号|-|の))+(?:{_NUM}号?)?"
_SAID = "(?:は|が|を|:|：|\\s)*"  # 「番号は」「ID: 」 between a cue and its value (which must hold digits)
_IS = "(?:は|が|:|：|、|\\s)+"  # 「名前は」「住所：」 (not 「名前を」: a question, no value follows)

# Words that come before さん/様/先生 and are not names (お母さん, 患者さん, 皆様, 担当の先生 …); a run ending in
# a role (田中看護師さん) is masked without the role.
_NOT_NAMES = frozenset(
    "患者 家族 ご家族 皆 奥 客 娘 息子 孫 妹 姉 弟 兄 母 父 祖母 祖父 婆 爺 嫁 婿 旦那 主人 子 赤 彼 彼女 隣 近所 大家 "
    "医者 歯医者 看護師 医師 薬剤師 技師 担当 主治医 院長 副院長 部長 課長 社長 店長 先生 先輩 後輩 同僚 神 仏 王 "
    "殿 方 皆さん 本人 ご本人 相手 業者 運転手 職員 受付 事務 係 係員 担当者 責任者 代表 利用者 "
    "契約者 お客".split()
)
_ROLES = ("看護師", "薬剤師", "医師", "技師", "主治医", "院長", "部長", "課長", "社長", "店長", "担当", "患者")
_SHOP = "屋"  # 八百屋さん, 本屋さん


@dataclass(frozen=True)
class _Rule:
    """A pattern whose group `group` (0: the whole match) is one entity of `type`."""

    type: str
    pattern: re.Pattern[str]
    group: int = 0
    score: float = 0.85
    min_digits: int = 0  # a find with fewer digits is not one (「No problem」 is no id)


def _rule(type_: str, pattern: str, group: int = 0, score: float = 0.85, flags: int = 0, min_digits: int = 0) -> _Rule:
    return _Rule(type_, re.compile(pattern, flags), group, score, min_digits)


_RULES: tuple[_Rule, ...] = (
    _rule("JP_ADDRESS", f"{_PREFECTURE}(?:{_MUNICIPALITY}){{1,3}}{_TOWN}(?:{_BLOCK})?", score=0.9),
    _rule("JP_ADDRESS", f"(?:{_MUNICIPALITY}){{1,3}}{_TOWN}{_BLOCK}", score=0.9),
    _rule(
        "JP_ADDRESS", f"(?:ご?住所|お?住まい){_IS}([^\\s。？?]{{2,40}}?)(?=です|でございます|になります|。|\\n|$)", 1
    ),
    _rule(
        "INSURANCE_NUMBER",
        "(?:被?保険者(?:証)?番号|保険証(?:の)?(?:番号|記号)?|記号番号|記号|番号|枝番)"
        f"{_SAID}([0-9A-Za-z{_KANJI_DIGIT}][0-9A-Za-z{_KANJI_DIGIT}\\-・]{{1,23}})",
        1,
        min_digits=2,
    ),
    _rule(
        "PERSON_ID",
        "(?:患者 ?(?:ID|番号|No\\.?)|カルテ ?(?:番号|No\\.?|ID)|診察券(?:番号)?|受付番号|会員番号|顧客(?:番号|ID)|"
        "お客(?:様|さま)番号|契約番号|(?<![A-Za-z])ID|(?<![A-Za-z])No\\.?)"
        f"{_SAID}([0-9A-Za-z][0-9A-Za-z\\-]{{2,19}})",
        1,
        score=0.88,
        flags=re.IGNORECASE,
        min_digits=2,
    ),
    _rule(
        "BIRTH_DATE",
        f"(?:生年月日|誕生日){_SAID}((?:明治|大正|昭和|平成|令和)?(?:{_NUM}|元)年{_NUM}月{_NUM}日"
        "|\\d{4}[/.-]\\d{1,2}[/.-]\\d{1,2})",
        1,
    ),
    _rule(
        "PERSON",
        f"(?:お?名前|氏名|患者名|フルネーム){_IS}([{_KANJI}{_KATAKANA}ぁ-ん ・]{{1,20}}?)"
        "(?=です|でございます|と申します|といいます|と言います|さん|様|[。、？?]|\\n|$)",
        1,
    ),
    _rule("PERSON", f"({_NAME})(?=と申します|といいます|と言います)", 1),
    _rule(
        "SPOKEN_NUMBER",
        f"[{_KANJI_DIGIT}]{{2,5}}(?:[-の][{_KANJI_DIGIT}]{{2,5}}){{1,2}}|[{_KANJI_DIGIT}]{{8,13}}",
        min_digits=9,
    ),
)

# A name right before an honorific. 様 is not an honorific in 様子・様式・様々, nor 氏 in 氏名, nor 殿 in 殿堂.
_HONORIFIC_NAME = re.compile(f"({_NAME})(?:さん|さま|サン|様(?![子式態相々])|氏(?!名)|先生|殿(?!堂)|くん|ちゃん)")


def _honorific_names(text: str) -> Iterator[tuple[int, int]]:
    for m in _HONORIFIC_NAME.finditer(text):
        start, end = m.span(1)
        name = m.group(1)
        for role in _ROLES:  # 田中看護師さん → 田中
            if name.endswith(role) and len(name) > len(role):
                name, end = name[: -len(role)], end - len(role)
                break
        honorific = text[m.end(1) : m.end()]
        if name in _NOT_NAMES or name.endswith(_SHOP) or name.endswith(_ROLES):
            continue
        if honorific in ("様", "さま") and len(name) < 2:  # 同様, 皆様, 奥様, 模様
            continue
        yield start, end


class _Recognizer:
    """kogata's rules, in fuseji's recogniser shape (so fuseji resolves overlaps with its own finds)."""

    entity_type = "KOGATA"

    def analyze(self, text: str) -> Iterable[Entity]:
        folded = text.translate(_FOLD)
        for rule in _RULES:
            for m in rule.pattern.finditer(folded):
                start, end = m.span(rule.group)
                while end > start and folded[end - 1] in " ・-":
                    end -= 1
                if end > start and _digits(folded[start:end]) >= rule.min_digits:
                    yield Entity(rule.type, text[start:end], start, end, rule.score, "kogata")
        for start, end in _honorific_names(folded):
            yield Entity("PERSON", text[start:end], start, end, 0.8, "kogata")


def _digits(text: str) -> int:
    return sum(ch.isdigit() or ch in _KANJI_DIGIT for ch in text)


@dataclass(frozen=True)
class _Labels:
    """fuseji masking strategy: each entity becomes its Japanese label, e.g. ［電話番号］."""

    def mask(self, text: str, entities: Sequence[Entity]) -> tuple[str, Mapping[str, str]]:
        out, cursor = [], 0
        for e in sorted(entities, key=lambda e: e.start):
            out += [text[cursor : e.start], LABELS.get(e.type, "［個人情報］")]
            cursor = e.end
        out.append(text[cursor:])
        return "".join(out), {}


@lru_cache(maxsize=1)
def _masker() -> Masker:
    return Masker(recognizers=(*default_recognizers(), _Recognizer()), strategy=_Labels())


# Escapes a log line may carry instead of the characters (a repr, a JSON dump, a traceback of either): a surrogate
# pair, \uXXXX, \UXXXXXXXX, and runs of \xXX bytes (a bytes repr of UTF-8 text).
_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})|((?:\\x[0-9a-fA-F]{2})+)"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_MIN_NAME = 2  # a name masked on sight elsewhere: one character (林, 森) would take ordinary words with it


def _unescape(m: re.Match[str]) -> str:
    high, low, bmp, wide, raw = m.groups()
    if high:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if raw:
        return bytes(int(h, 16) for h in raw.split("\\x")[1:]).decode("utf-8", errors="replace")
    code = int(bmp or wide, 16)
    return "\ufffd" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)


def readable(text: str) -> str:
    """`text` as a reader sees it: escapes decoded to the characters they stand for, lone surrogates as U+FFFD.

    Masking reads this form, so a name written as \\u7530\\u4e2d in a traceback is found like 田中.
    """
    return _SURROGATE.sub("\ufffd", _ESCAPE.sub(_unescape, text))


def find_pii(text: str) -> list[Entity]:
    """Every piece of personal information found in `text` (non-overlapping, in order)."""
    return list(_masker().detect(text))


def _name_forms(found: str) -> set[str]:
    """A found name and its tails: Japanese has no spaces, so 「咳田中さん」 may hold the name 田中 after a word."""
    return {found[i:] for i in range(len(found) - _MIN_NAME + 1) if found[i] not in " ・"}


def _labelled(text: str) -> tuple[str, set[str]]:
    """`text` (escapes decoded) with each piece found replaced by its label, and the name forms found in it.
    Detection runs once: the finds are labelled with the same strategy the masker would apply."""
    text = readable(text)
    found = find_pii(text)
    labelled = _Labels().mask(text, found)[0] if found else text
    return labelled, set().union(*(_name_forms(e.text) for e in found if e.type == "PERSON"))


def _without_names(text: str, names: Iterable[str]) -> str:
    for name in sorted(names, key=len, reverse=True):  # longest first: 田中太郎 before 田中
        text = text.replace(name, LABELS["PERSON"])
    return text


def mask_and_find(text: str, names: Iterable[str] = ()) -> tuple[str, set[str]]:
    """`mask_text(text, names)` and the names found in `text`, from one detection (for a memory of names)."""
    if not text:
        return text, set()
    labelled, found = _labelled(text)
    return _without_names(labelled, found.union(names)), found


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` with every piece of personal information replaced by its label (［氏名］, ［住所］ …).

    Escapes are decoded first (what is masked is what a reader sees). A name found once — here, or in `names`
    (the rest of the visit) — is masked wherever it is written, with or without an honorific.
    """
    return mask_and_find(text, names)[0]


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """`value` with `fn` applied to every string (dict keys are kept: they are field names)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_map_strings(v, fn) for v in value]
    return value


def mask_json(value: Any, names: Iterable[str] = ()) -> Any:
    """A JSON-ready value with every string masked (dict keys are kept: they are field names).

    Every string is labelled first and its names gathered, so a name seen in one field is masked in all of them.
    """
    known = set(names)

    def label(text: str) -> str:
        labelled, found = _labelled(text) if text else (text, set())
        known.update(found)
        return labelled

    labelled = _map_strings(value, label)
    return _map_strings(labelled, lambda text: _without_names(text, known))
