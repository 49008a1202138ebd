"""Facts read straight from the words, without the model: vitals, medications, allergies, denied
symptoms and problem names. Each comes with the ids of the utterances that state it, so these lines are
evidence-linked by construction (kogata.tasks.karte.lines writes the rest of the chart in the speakers' words;
the model drafts narrative lines around both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kogata.ja import find_findings
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import denies, is_question, says_no, sentences, sounds_fine
from kogata.ja.tokenizer import tokenize
from kogata.tasks.karte import vocabulary as karte_words
from kogata.tasks.karte.vocabulary import alternation, chart_words, cues, drug_word_rows, status_cues
from kogata.verify import EvidenceIndex, Said

# name, pattern on cleaned text (value in group 1), unit
_VITALS = [
    ("体温", re.compile(r"(?:体温|熱)[^。\d]{0,8}?(\d{2}(?:\.\d)?)℃"), "℃"),
    ("血圧", re.compile(r"(\d{2,3}/\d{2,3}) ?mmHg"), "mmHg"),
    ("脈拍", re.compile(r"(?:脈拍?|心拍数?|HR)[^。\d]{0,8}?(\d{2,3})(?![\d/.])"), "/分"),
    ("SpO2", re.compile(r"SpO2[^。\d]{0,8}?(\d{2,3})"), "%"),
    ("呼吸数", re.compile(r"呼吸数[^。\d]{0,8}?(\d{1,2})(?!\d)"), "/分"),
    ("HbA1c", re.compile(r"HbA1c[^。\d]{0,8}?(\d{1,2}(?:\.\d)?)"), "%"),
    ("血糖", re.compile(r"血糖(?:値)?[^。\d]{0,8}?(\d{2,3})(?!\d)"), "mg/dL"),
    (
        "体重",
        re.compile(r"(?:体重[^。\d]{0,8}?|^(?:今日|本日)は)(\d{1,3}(?:\.\d)?) ?(?:kg|キロ)"),
        "kg",
    ),  # 「今日は66.5kgですね」
]
_BARE_TEMPERATURE = re.compile(r"(?<![\d.])(3[4-9]|4[0-2])(\.\d)?℃")

_DOSE = re.compile(r"\d+(?:\.\d+)?(?:mg|g|mL|μg|単位|錠|カプセル|包|枚|本|滴|パフ|吸入)")
_DIRECTION = re.compile(cues("direction"))
_CHART_FREQUENCY = {"頓服": "頓用", "寝る前": "就寝前"}
_MASS = re.compile(r"(?:mg|g|μg|mL|単位)$")
_FREQUENCY = re.compile(
    r"1日\d回(?:毎食後|朝夕食後|朝食後|夕食後|就寝前|寝る前)?|毎食後|朝夕|朝食後|夕食後|就寝前|寝る前|頓用|頓服|\d+時間おき|週\d回"
)
_DURATION = re.compile(r"(?<!\d)(?:[2-9]|\d{2,})回分|\d+日分|\d+週間分|\d+日間|\d+週間|\d+か月分|\d+ヶ月分|\d+カ月分")
_PRESCRIBING = re.compile(cues("prescribing"))
# The status a drug's own words give it, strongest first (data/statuses.tsv; prescribing cues from data/cues.tsv).
# Only current, prescribed and changed belong in the chart's current-medication list (CURRENT_STATUSES).
_STATUS_ORDER = ("stopped", "avoided", "refused", "deferred", "discussed", "changed", "prescribed", "current")
_STATUS_CUES = [
    (status, _PRESCRIBING if status == "prescribed" else re.compile(status_cues(status))) for status in _STATUS_ORDER
]
CURRENT_STATUSES = ("current", "prescribed", "changed")
_RANK = {
    status: i
    for i, status in enumerate(
        ("stopped", "avoided", "refused", "deferred", "changed", "prescribed", "current", "discussed", "allergy")
        + ("unconfirmed",)  # named with no cue either way (a measured variant): any status said replaces it
    )
}
_TAKING_BEFORE = re.compile(r"(?:今|いま|普段|ふだん|毎日)[^。]{0,6}(?:飲んで|使って|服用|内服)")
_FORM = re.compile(r"(?:テープ|パップ|ゲル|軟膏|クリーム|ローション|点眼|点鼻|坐剤|シロップ|吸入|注)$")
_CONTINUE = re.compile(r"続け|継続|そのまま")
_STATUS_WORD = {
    "prescribed": "処方",
    "changed": "変更",
    "stopped": "中止",
    "current": "内服中",
    "avoided": "使用せず",
    "refused": "本人希望せず見送り",
    "deferred": "今回は見送り（今後検討）",
    "discussed": "説明のみ（処方なし）",
    "allergy": "アレルギーあり",
    "unconfirmed": "服用状況未確認",  # the rules and the learned status disagree (kogata.tasks.karte.drug_reader)
}

_REACTIONS = re.compile(alternation("reactions.tsv", "said"))
_ALLERGENS = re.compile(alternation("allergens.tsv", "allergen"))
# The reaction as a chart writes it; a swelling takes the body part named before it (まぶたが腫れた → 眼瞼腫脹).
_REACTION_TERMS = chart_words("reactions.tsv", "said")
_SWOLLEN_PART = re.compile(
    "(" + alternation("swollen_parts.tsv", "part") + r")[がのも]?(?:少し|ぱんぱんに|すごく)?腫れ"
)
_PART_TERMS = chart_words("swollen_parts.tsv", "part")


def _reaction_term(text: str, reaction: str) -> str:
    if reaction == "腫れ" and (part := _SWOLLEN_PART.search(text)):
        return _PART_TERMS[part.group(1)] + "腫脹"
    return _REACTION_TERMS.get(reaction, reaction)


def reaction_term(text: str) -> str:
    """The first allergic reaction `text` names, as a chart writes it (「まぶたが腫れた」 → 眼瞼腫脹;
    data/reactions.tsv, swollen_parts.tsv), or ""."""
    reaction = _REACTIONS.search(text)
    return _reaction_term(text, reaction.group(0)) if reaction else ""


def allergens(text: str) -> list[str]:
    """The allergens (other than drugs) `text` names (data/allergens.tsv)."""
    return _ALLERGENS.findall(text)


_ALLERGY_PAST = re.compile(cues("allergy_past"))
_ASKS_ALLERGY = re.compile(r"アレルギー")
_SUSPECTED = re.compile(cues("suspected"))
_HISTORY = re.compile(cues("history"))
_RISK_AFTER = re.compile(
    r"[のをにが]?(?:原因|予防|防|リスク|危険|なる|なり|起こ|可能性は低|出たら|あったら|出る場合|の場合|なら|しやす|が出やす)"
)
_FAMILY = re.compile(cues("family"))  # 「お母さんが」「ご家族も」: about a relative (data/cues.tsv)
_IF = re.compile(r"たら|れば|場合|とき(?:は|に)|時は|なら")
# a disease ruled out after its name, alone or as one of a list (「骨折や歯のかけらはありません」「骨折なし」
# 「子宮筋腫などがないか」)
_NEGATED_AFTER = re.compile(
    r"(?:(?:や|とか|と|、)[^。、]{1,12}?)?(?:など|とか)?(?:の(?:症状|所見|兆候|徴候|心配|可能性))?(?:は|も|が)?"
    r"(?:ない|ありません|なさそう|なし|無し|認めず|認めません|否定|違う|ではない|じゃない|低い)"
)


@dataclass
class Facts:
    vitals: list[dict] = field(default_factory=list)
    medications: list[dict] = field(default_factory=list)
    allergies: list[dict] = field(default_factory=list)
    negatives: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    continued: list[str] = field(default_factory=list)  # current medicines the doctor says to keep taking
    no_allergies: list[int] = field(default_factory=list)  # the question and answer 「アレルギーはないです」
    directions: dict[str, str] = field(default_factory=dict)  # medication name → 増量/減量 as the doctor said it
    notes: dict[str, list[str]] = field(default_factory=dict)  # medication name → 休薬, 再開, 自己中断, 飲み忘れ


def vitals(said: list[Said]) -> list[dict]:
    """Measurements said by the doctor or nurse (a patient's home reading belongs to S, in their words)."""
    found: dict[str, dict] = {}
    for s in said:
        if not s.staff:
            continue
        for name, pattern, unit in _VITALS:
            m = pattern.search(s.text)
            if m and name not in found:
                found[name] = {"name": name, "value": m.group(1), "unit": unit, "evidence": [s.id]}
        if "体温" not in found and (m := _BARE_TEMPERATURE.search(s.text)):
            found["体温"] = {"name": "体温", "value": m.group(1) + (m.group(2) or ""), "unit": "℃", "evidence": [s.id]}
    order = [name for name, _, _ in _VITALS]
    return sorted(found.values(), key=lambda v: order.index(v["name"]))


def is_allergy_sentence(text: str) -> bool:
    """「ペニシリンで蕁麻疹が出た」「卵で蕁麻疹」; not 「小児喘息で、キプレスを飲んでます」
    (a drug for the condition)."""
    reaction = _REACTIONS.search(text)
    return bool(reaction and (_ALLERGY_PAST.search(text) or _ALLERGENS.search(text))) or "アレルギー" in text


def is_allergy_talk(s: Said) -> bool:
    return is_allergy_sentence(s.text)


def _status(text: str) -> str | None:
    return next((status for status, cue in _STATUS_CUES if cue.search(text)), None)


def drug_status(text: str) -> str:
    """The status the words after a drug's name give it (data/statuses.tsv, strongest first), or ""."""
    return _status(text) or ""


def has_status_cue(text: str, status: str) -> bool:
    """Whether `text` holds a cue of `status` anywhere (data/statuses.tsv; prescribing cues from data/cues.tsv)."""
    return bool(dict(_STATUS_CUES)[status].search(text))


# How a drug is taken as said, in a chart's words (data/drug_words.tsv): frequency (朝昼夕の三回 → 朝昼夕3回), condition
# of an as-needed drug (気持ち悪いとき → 嘔気時) and notes beside its status (休薬, 再開, 自己中断, 飲み忘れ)
_DRUG_WORDS = [(row["kind"], re.compile(row["said"]), row["chart"]) for row in drug_word_rows()]
NOTE_ORDER = tuple(dict.fromkeys(chart for kind, _, chart in _DRUG_WORDS if kind == "note"))


def drug_words(kind: str, text: str) -> list[str]:
    """The chart words of `kind` (frequency, condition, note) that `text` says, in table order, each once."""
    found = [m.expand(chart) for k, said, chart in _DRUG_WORDS if k == kind and (m := said.search(text))]
    return list(dict.fromkeys(found))


def gives_dose(text: str) -> bool:
    """Whether `text` says a dose, a frequency or a supply (「1回500mg」「1日2回」「7日分」)."""
    return bool(_DOSE.search(text) or _FREQUENCY.search(text) or _DURATION.search(text))


def said_when_later(text: str) -> bool:
    """Whether `text` (the words before a drug's name) puts it off to a condition (「妊娠を考えるときは」)."""
    return bool(_WHEN_LATER.search(text))


def orders_a_drug(sentence: str) -> bool:
    """Whether a sentence naming a drug starts, changes, stops or doses it (a medication line says that), rather
    than advising about it (「腎臓の働きが弱いので、ロキソニンは控えるように」)."""
    return _status(sentence) in _ORDERS or bool(_DOSE.search(sentence) or _FREQUENCY.search(sentence))


# Leftover tablets counted aloud (残薬: 「アムロジピンは14錠残ってました」) are a note on the drug's line, never a
# dose or an amount prescribed: the cues are data/cues.tsv's leftover rows.
_LEFTOVER = re.compile(cues("leftover"))
_COUNT = re.compile(r"\d+(?:錠|カプセル|包|枚|本|粒|個)")
_MASS_DOSE = re.compile(r"\d+(?:\.\d+)?(?:mg|g|mL|μg|単位)")
_PER_DOSE = re.compile(r"(?:1日|1回|毎[朝晩日]?)\d+(?:錠|カプセル|包|枚|本|粒|個)|ずつ")


def _orders_here(text: str) -> bool:
    """Whether `text` gives an order or a regimen (出します, 1日2回, 14日分, 5mg): a count there is no leftover."""
    regimen = [m for m in _FREQUENCY.finditer(text) if not text.startswith("の", m.end())]  # 「1日3回の分が」 names
    return bool(regimen or _PRESCRIBING.search(text) or _DURATION.search(text) or _MASS_DOSE.search(text))


def leftover_counts(scope: str, context: str = "") -> list[str]:
    """The counts in a drug's words that are leftovers: in a clause holding a leftover cue (「14錠残ってました」
    「残薬が4錠」), or anywhere in words that order nothing when the talk around (`context`: the utterance and the two
    before) is of counting leftovers (「残りを数えてきましたか」「アムロジピンは14錠です」)."""
    found = [
        c
        for clause in re.split(r"[、。]", scope)
        if _LEFTOVER.search(clause) and not _orders_here(clause)
        for c in _COUNT.findall(clause)
    ]
    # from the talk around only where the drug's words give no status or per-dose amount (「バクタは1日1錠、続けて」)
    if (
        not found
        and _LEFTOVER.search(context)
        and not (_orders_here(scope) or _status(scope) or _PER_DOSE.search(scope))
    ):
        found = _COUNT.findall(scope)
    return list(dict.fromkeys(found))


def _without(text: str, counts: list[str]) -> str:
    for count in counts:
        text = re.sub(rf"(?<!\d)(?<!\d\.){re.escape(count)}", "", text)  # not the 4錠 of 14錠 or 0.4錠
    return text


def _add_leftover(med: dict, counts: list[str]) -> None:
    """「残薬14錠」 on the drug's line, once (the first count said)."""
    have = med.setdefault("notes", [])
    if counts and not any(n.startswith("残薬") for n in have):
        have.append(f"残薬{counts[0]}")


def medications(said: list[Said]) -> list[dict]:
    """Drugs named, with dose, frequency, duration and status read from the words after each name
    (「吐き気止めにナウゼリン」: the 止め before the name is not about it)."""
    by_name: dict[str, dict] = {}
    for n, s in enumerate(said):
        parts = sentences(s.text)
        around = "".join(x.text for x in said[max(0, n - 2) : n + 1])  # the talk a leftover count is read in
        for si, sentence in enumerate(parts):
            if is_allergy_sentence(sentence) and not _PRESCRIBING.search(sentence):
                continue  # 「ペニシリンで蕁麻疹が出た」 is an allergy, not a medication
            mentions = find_drugs(sentence)
            for k, m in enumerate(mentions):
                later = [n for n in mentions[k + 1 :] if n.value != m.value]
                scope = own = sentence[m.span[1] : later[0].span[0] if later else len(sentence)]
                if not later:  # 「クラリスにします。二百ミリを一日二回、七日分です。」: the dose follows
                    for follow in parts[si + 1 :]:
                        if find_drugs(follow) or is_question(follow):
                            break
                        scope += follow
                # a leftover count is taken out of the words read for a dose and a status (「14錠残ってました」)
                left = leftover_counts(scope, around)
                scope, own = _without(scope, left), _without(own, left)
                # the drug's own sentence first: 「カロナールを頓服で出します。下痢止めは…使いません」
                status = _status(own) or _status(scope)
                if later and _REPLACED.search(own) and _REPLACED_BY.search(sentence[later[0].span[1] :]):
                    status = "stopped"  # 「フルタイドを、アドエアに変えましょう」: the first is replaced by the second
                elif status is None and later and _LIST_JOIN.search(scope):  # 「AとBはそのまま続けましょう」
                    status = _status(sentence[later[0].span[0] :])
                elif status is None and later and _COMPANION.search(after := sentence[later[0].span[1] :]):
                    status = _status(after)  # 「イブプロフェンは、ワーファリンと一緒だと…使わないで」
                if status is None:
                    status = _status(_until_another(s.text[s.text.find(sentence) + m.span[1] :], m))
                if status in _NOT_TAKEN and _COMPANION.search(scope):
                    status = None  # 「シクロスポリンとの組み合わせで…使わないで」 is said of another drug
                if (
                    status == "changed"  # a drug for when it hurts (「痛い時はカロナールを」) is ordered today
                    and _WHEN_LATER.search(sentence[: m.span[0]])
                    and not (_DOSE.search(scope) or _FREQUENCY.search(scope) or _DURATION.search(scope))
                ):
                    status = "deferred"  # 「妊娠を考える時期になったら、チウラジールに切り替えます」: not today
                said_how = status is not None
                if status is None:
                    status = _unsaid_status(s, sentence, m.span[0], scope, parts[si - 1] if si else "")
                    if (
                        POSITIVE_ONLY
                        and status in ("current", "prescribed")
                        and not _taken_said(s, sentence, m.span[0], scope, parts[si - 1] if si else "")
                    ):
                        status = "unconfirmed"
                drug = m.value
                form = _FORM.search(m.surface)  # ロキソニンテープ and ロキソニン (tablets) are two products
                key = drug.generic + (form.group(0) if form else "")
                med = by_name.setdefault(
                    key,
                    {
                        "name": drug.generic,
                        "brand": "",
                        "dose": "",
                        "frequency": "",
                        "duration": "",
                        "status": status,
                        "evidence": [],
                    },
                )
                if m.surface != drug.generic and (not med["brand"] or m.surface.startswith(med["brand"])):
                    med["brand"] = m.surface  # メプチンエアー, said after メプチン, is the product
                in_order = _DOSE.findall(scope)
                doses = sorted(in_order, key=lambda d: not _MASS.search(d))  # 400mg before 2錠
                if status == "changed" and len(in_order) >= 2:
                    med["dose"] = "→".join(
                        dict.fromkeys(in_order)
                    )  # 「5mgから10mgに増やしましょう」, a taper 30mg→20mg→10mg
                elif doses and (not med["dose"] or status == "changed"):
                    med["dose"] = doses[-1] if status == "changed" else doses[0]
                if status == "changed" and (now := _FREQUENCY.findall(scope)):
                    med["frequency"] = _CHART_FREQUENCY.get(now[-1], now[-1])  # the new one: 「朝夕から1日1回夕に」
                for key, pattern in (("frequency", _FREQUENCY), ("duration", _DURATION)):
                    if not med[key] and (found := pattern.search(scope)):
                        med[key] = _CHART_FREQUENCY.get(found.group(0), found.group(0))
                if not med["frequency"] and (said_as := drug_words("frequency", scope)):
                    med["frequency"] = said_as[0]  # 「朝昼夕の三回」「朝晩一錠ずつ」
                # an as-needed drug's condition, said in its own sentence (「気持ち悪いとき一回一錠」); a warning in
                # the next sentence (「痛いときはすぐ来て」) is not about it, nor the clause before the next drug
                # (「メリスロンを一日三回と、吐き気が強いときのトラベルミン」)
                start = mentions[k - 1].span[1] if k else 0
                its_own = own[: own.rfind("、")] if later and "、" in own else own
                if (condition := drug_words("condition", sentence[start : m.span[0]] + its_own)) and not any(
                    c in med["frequency"] for c in condition
                ):
                    med["frequency"] = " ".join(filter(None, (condition[0], med["frequency"])))
                if not is_question(sentence):
                    # 「メトホルミンとジャディアンスは…お休みです」: said after a list, said of each drug in it
                    joined = later and _LIST_JOIN.search(own) and sentence[later[0].span[0] :]
                    said_of = drug_words("note", scope) or drug_words("note", joined or "")
                    if not s.staff:  # the patient side saying they stopped it (「やめちゃって」) stopped it themselves
                        said_of += drug_words("own_stop", scope)
                    _add_notes(med, said_of, scope)
                _add_leftover(med, left)
                if _overrides(status, med["status"]) and (said_how or not med["evidence"]):
                    med["status"] = status  # not a drug taken already, named again (「ワーファリンの効き具合は…」)
                if status == "changed" and (direction := _DIRECTION.search(scope)):
                    med["direction"] = "増量" if direction.group(0)[0] in "増上" else "減量"
                if s.id not in med["evidence"]:
                    med["evidence"].append(s.id)
    _answered_doses(said, by_name)
    _answered_notes(said, by_name)
    _answered_offers(said, by_name)
    return list(by_name.values())


_ORDERED = ("prescribed", "changed")
_ORDERS = ("stopped", "changed", "prescribed", "current")
_LIST_JOIN = re.compile(cues("list_join"))
_COMPANION = re.compile(cues("companion"))
_WHEN_LATER = re.compile(cues("when_later"))
_REPLACED = re.compile(cues("replaced"))
_REPLACED_BY = re.compile(cues("replaced_by"))
_NOT_TAKEN = ("avoided", "refused", "deferred", "discussed")


def _overrides(status: str, before: str) -> bool:
    """Whether a drug's status said now replaces the one said before: the stronger does, except that a drug ordered
    today stays ordered when it is named again in advice (「パタノールは…コンタクトは控えて」「ロメリジンを試して、だめ
    なら考えましょう」); stopping it does replace the order."""
    if before in _ORDERED and status in _NOT_TAKEN:
        return False
    return _RANK[status] < _RANK[before]


def _until_another(text: str, mention) -> str:
    """`text` up to the next drug named in it other than `mention`'s (what is said of one drug ends there)."""
    others = [n for n in find_drugs(text) if n.value != mention.value]
    return text[: others[0].span[0]] if others else text


def _unsaid_status(s: Said, sentence: str, start: int, scope: str, before: str = "") -> str:
    """The status of a drug named with no status cue after it: one taken already where the words say so
    (「今飲んでいるのは、メトホルミン…」), a doctor asks about it (「ディフェリンは毎晩塗れていますか」) or the patient
    names it in a statement; prescribed where the doctor gives a dose, frequency or supply, or has just said what
    is given (「整腸剤も出しておきますね。ビオフェルミンRです。」); else only discussed
    (「ロキソニンも痛み止めですけど」, 「ザルティアっていうのは？」)."""
    if _TAKING_BEFORE.search(sentence[:start]) or (s.staff and is_question(sentence)):
        return "current"
    if not s.staff:
        return "discussed" if is_question(sentence) else "current"
    if _DOSE.search(scope) or _FREQUENCY.search(scope) or _DURATION.search(scope):
        return "prescribed"
    return "prescribed" if _PRESCRIBING.search(before) and not find_drugs(before) else "discussed"


# A drug named with no status cue is listed only where something says it is taken or ordered (_taken_said); else it
# is written 「服用状況未確認」. Against listing it (README, medication safety), rules only: dev wrong medications 4→1.
POSITIVE_ONLY = True
_MEDICINE_OF = re.compile(cues("medicine_of"))


def _taken_said(s: Said, sentence: str, start: int, scope: str, before: str) -> bool:
    """Whether the words around a drug named with no status cue say it is taken or ordered: a dose, frequency or
    supply (「カロナールを1回500mg」), 「今飲んでいるのは」 or 「血圧の薬、」 before it, or the doctor's order just
    before (「整腸剤も出しておきますね。ビオフェルミンRです。」). An answer to 「今飲んでいるお薬は」 alone is not
    enough: it names what was stopped too (dev: 3 of 4 wrong medications came back with it)."""
    return bool(
        _DOSE.search(scope)
        or _FREQUENCY.search(scope)
        or _DURATION.search(scope)
        or _TAKING_BEFORE.search(sentence[:start])
        or _MEDICINE_OF.search(sentence[:start])
        or (s.staff and _PRESCRIBING.search(before) and not find_drugs(before))
    )


# what an answer says of the drug just named → the statuses it replaces: an offer declined or put off, or a medicine
# asked about that the patient stopped (「ザイザルのシロップは？」「二週間前から、やめちゃいました」)
_ANSWERS = {
    "refused": ("prescribed", "discussed", "deferred"),
    "deferred": ("prescribed", "discussed"),
    "stopped": ("current", "discussed"),
}


def _answered_offers(said: list[Said], by_name: dict[str, dict]) -> None:
    """A drug the doctor offers, declined or put off in the patient side's answer, which names no drug:
    「ロスバスタチンを始めたほうがいいと思います」「できれば飲みたくないんです」 (refused), 「ボーナスが出てから考えたい
    です」 (deferred). The answer speaks of the last drug the offer named."""
    for named_in, answer in zip(said, said[1:], strict=False):
        mentions = find_drugs(named_in.text)
        if not named_in.staff or answer.staff or not mentions:
            continue
        last = mentions[-1]
        if any(n.value != last.value for n in find_drugs(answer.text)):
            continue  # the answer speaks of another drug
        form = _FORM.search(last.surface)
        med = by_name.get(last.value.generic + (form.group(0) if form else ""))
        status = _status(answer.text)
        if med is None or status not in _ANSWERS or med["status"] not in _ANSWERS[status]:
            continue
        med["status"] = status
        if answer.id not in med["evidence"]:
            med["evidence"].append(answer.id)


def _add_notes(med: dict, notes: list[str], text: str) -> None:
    """Notes said of a drug, each once; a missed dose with how often `text` says it (「週に二回くらい」 →
    飲み忘れ（週2回）)."""
    have = med.setdefault("notes", [])
    for note in notes:
        if note == "飲み忘れ" and (often := drug_words("often", text)):
            note = f"{note}（{often[0]}）"
        if not any(h.split("（")[0] == note.split("（")[0] for h in have):
            have.append(note)


def _answered_notes(said: list[Said], by_name: dict[str, dict]) -> None:
    """What an answer from the other side, naming no drug, says of the one drug the words before named:
    「アムロジピン、ちゃんと飲めてます？」「飲み忘れは、二週に一回くらいかな」 (飲み忘れ（2週に1回）),
    「自分でやめちゃってました」 (自己中断), and the doctor's 「明日から再開してください」 to
    「バイアスピリンはいつから飲んだらええの？」."""
    for asked, answer in zip(said, said[1:], strict=False):
        named = {m.value.generic for m in find_drugs(asked.text)}
        if asked.staff == answer.staff or len(named) != 1 or find_drugs(answer.text):
            continue
        meds = [m for m in by_name.values() if m["name"] in named and asked.id in m["evidence"]]
        notes = drug_words("note", answer.text) + ([] if answer.staff else drug_words("own_stop", answer.text))
        if len(meds) == 1 and notes:
            _add_notes(meds[0], notes, answer.text)
            if answer.id not in meds[0]["evidence"]:
                meds[0]["evidence"].append(answer.id)


_SUPPLY = re.compile(r"(?<![\d〜])\d+(?:日|週間|か月|ヶ月)分")


def _answered_doses(said: list[Said], by_name: dict[str, dict]) -> None:
    """Details said after the one drug an utterance named, in the next two utterances that name none:
    「ハルシオンをもらっているんでしたね」「0.25mgを寝る前に飲んでます」 (the dose is the answer's), and
    「ナゾネックスを…使ってください」…「30日分お出しします」 (the supply is the doctor's next words)."""
    for k, named_in in enumerate(said):
        if not named_in.staff:
            continue
        named = {m.value.generic for m in find_drugs(named_in.text)}
        meds = [m for m in by_name.values() if m["name"] in named and named_in.id in m["evidence"]]
        if len(meds) != 1:
            continue
        med = meds[0]
        for follow in said[k + 1 : k + 3]:
            if find_drugs(follow.text):
                break
            # the doctor's next words count where they give the supply; a patient's answer says what they take
            supply = _SUPPLY.search(follow.text) if follow.staff else None
            if follow.staff and supply is None:
                continue
            left = [] if follow.staff else leftover_counts(follow.text, named_in.text)
            _add_leftover(med, left)
            if left and follow.id not in med["evidence"]:
                med["evidence"].append(follow.id)
            found = {
                "dose": (_DOSE.findall(_without(follow.text, left)) or [""])[0],
                "frequency": (m.group(0) if (m := _FREQUENCY.search(follow.text)) else ""),
                "duration": supply.group(0) if supply else "",
            }
            if added := {key: value for key, value in found.items() if value and not med[key]}:
                med.update({key: _CHART_FREQUENCY.get(v, v) for key, v in added.items()})
                med["evidence"].append(follow.id)


_REASON = re.compile(cues("reason"))


def reason_not_taken(said: list[Said], med: dict) -> str:
    """Why the doctor leaves a drug out, said before it in the sentence that names it (「妊娠後期なので、ロキソニンは
    使わないでください」 → 妊娠後期), for the plan line of an avoided or deferred drug; "" when none is said."""
    for s in said:
        if not s.staff or s.id not in med["evidence"]:
            continue
        for sentence in sentences(s.text):
            named = [m for m in find_drugs(sentence) if m.value.generic == med["name"]]
            if named and (found := list(_REASON.finditer(sentence[: named[0].span[0]]))):
                return _because(found[-1].group(1))
            if named and (found := _REASON.search(sentence[named[0].span[1] :])):
                return _because(found.group(1).lstrip("はがもを、"))  # 「ロキソニンは腎臓に負担がかかるので」
    return ""


def _because(reason: str) -> str:
    """「妊娠後期」 → 妊娠後期のため, 「眼圧が上がることがある」 → 眼圧が上がることがあるため."""
    return reason + ("ため" if re.search(r"[るいたすくうつぬむぶぐず]$", reason) else "のため") if reason else ""


def continued(said: list[Said], meds: list[dict]) -> list[str]:
    """Medicines already taken that the doctor says to continue (「メトホルミンはそのまま続けましょう」)."""
    current = {m["name"] for m in meds if m["status"] == "current"}
    return list(
        dict.fromkeys(
            m.value.generic
            for s in said
            if s.staff
            for sentence in sentences(s.text)
            if not is_question(sentence) and _CONTINUE.search(sentence)
            for m in find_drugs(sentence)
            if m.value.generic in current
        )
    )


def change_word(med: dict, direction: str = "") -> str:
    """増量 / 減量 when the dose went up or down (「5mg→10mg」), 漸減 for a taper over three or more doses, else
    the direction the doctor said (「1日3回に増やして」), else 変更."""
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", med["dose"])]
    if "→" in med["dose"] and len(numbers) >= 2:
        if len(numbers) >= 3 and all(a > b for a, b in zip(numbers, numbers[1:], strict=False)):
            return "漸減"
        return "増量" if numbers[-1] > numbers[0] else "減量" if numbers[-1] < numbers[0] else "変更"
    return direction or "変更"


_ALLERGY_TO = re.compile(r"アレルギーは(" + _ALLERGENS.pattern + r")(?:です|でした|があります|があ|なので)")
_NO_ALLERGY_SAID = re.compile(r"アレルギー(?:は|も)(?:特に)?(?:ない|ありません|なし)")


def allergies(said: list[Said]) -> tuple[list[dict], list[int]]:
    """Allergies the patient side reports, and (separately) the ids of an answered 「アレルギーはない」."""
    found: list[dict] = []
    denied: list[int] = []
    previous: Said | None = None
    for s in said:
        if not s.staff:
            asked = previous is not None and previous.staff and _ASKS_ALLERGY.search(previous.text)
            reaction = _REACTIONS.search(s.text)
            substances = [
                m.value.generic if m.surface == m.value.generic else f"{m.value.generic}（{m.surface}）"
                for m in find_drugs(s.text)
            ] + allergens(s.text)
            if substances and reaction and (_ALLERGY_PAST.search(s.text) or asked):
                evidence = ([previous.id] if asked else []) + [s.id]
                for substance in dict.fromkeys(substances):
                    found.append(
                        {
                            "substance": substance,
                            "reaction": _reaction_term(s.text, reaction.group(0)),
                            "evidence": evidence,
                        }
                    )
            elif asked and not substances and denies(s.text):
                denied = [previous.id, s.id]
            elif any(  # 「薬のアレルギーもないです」 unasked, in a sentence of its own: 「メトホルミンを飲んでいます。
                # 薬のアレルギーはありません。」 denies an allergy though a drug is named before it
                _NO_ALLERGY_SAID.search(x) and not find_drugs(x) and not allergens(x)
                for x in sentences(s.text)
            ):
                denied = denied or [s.id]
        if (named := _ALLERGY_TO.search(s.text)) and not any(a["substance"] == named.group(1) for a in found):
            found.append({"substance": named.group(1), "reaction": "", "evidence": [s.id]})  # no reaction said
        previous = s
    return found, denied


def _denied_words(text: str) -> list[str]:
    """Nouns said to be absent (「痛みもないし」 → 痛み): a noun, は/も/が, then a negative."""
    tokens = tokenize(text)
    return [
        t.surface
        for t, particle, neg in zip(tokens, tokens[1:], tokens[2:], strict=False)
        if t.pos[0] == "名詞"
        and len(t.surface) >= 2
        and particle.surface in ("は", "も", "が")
        and neg.normalized_form in ("無い", "ない")
    ]


def negatives(index: EvidenceIndex) -> list[dict]:
    """Symptoms the patient side denied (and never affirmed), with the question that was answered."""
    out: list[dict] = []
    said = list(index.said.values())
    affirmed = {f.term for s in said if not s.staff for f in s.findings if not f.negated}
    for k, s in enumerate(said):
        if s.staff:
            continue
        before = said[k - 1] if k and said[k - 1].staff else None
        question = before if before is not None and any(is_question(x) for x in sentences(before.text)) else None
        if karte_words.answer(s.text) == "unsure":
            question = None  # 「わからない」 holds ない but denies nothing asked (data/answers.tsv)
        terms = [f.term for f in s.findings if f.negated]
        clauses = [c for x in sentences(s.text) for c in re.split(r"(?<=[、,])", x)]
        if question is not None and (
            any(not find_findings(x) and says_no(x) for x in sentences(s.text))
            or any(not find_findings(c) and sounds_fine(c) for c in clauses)
        ):
            # 「しびれもないですし、しゃべるのも普通です」: the clause that names nothing answers for the rest
            # 「ないです」「それは大丈夫です」「目も大丈夫です」 answering 「息苦しさはありますか」
            # 「…物が二重に見えることは」
            terms += [f.term for f in question.findings if f.term not in affirmed]
        elif question is not None:  # 「痛みもないし、耳だれもないです」 to 「耳の痛みや、耳だれは」: 耳痛 too
            named = {f.term for f in s.findings}
            denied_words = _denied_words(s.text)
            terms += [
                f.term for f in question.findings if f.term not in named and any(w in f.surface for w in denied_words)
            ]
        for term in dict.fromkeys(terms):
            if term not in affirmed and not any(n["finding"] == term for n in out):
                asked = question is not None and any(f.term == term for f in question.findings)
                out.append({"finding": term, "evidence": ([question.id] if asked else []) + [s.id]})
    return out


_OF_A_KIND = re.compile(r"([一-龥ァ-ヶー]+性)の(?=[一-龥ァ-ヶー])")  # ウイルス性の, 一次性の, 機能性の


def fold_modifiers(text: str) -> str:
    """急性の気管支炎 → 急性気管支炎, ウイルス性の胃腸炎 → ウイルス性胃腸炎, as disease names are written; a 「…性の」
    only before a disease name (not 「可能性の高い」)."""
    text = re.sub(r"(急性|慢性|軽度|重度|軽症|重症)の", r"\1", text)
    for m in reversed(list(_OF_A_KIND.finditer(text))):
        if any(d.span[0] == 0 for d in find_diseases(text[m.end() :])):
            text = text[: m.end() - 1] + text[m.end() :]
    return text


def problems(said: list[Said]) -> list[dict]:
    found: dict[str, dict] = {}
    for s in said:
        if is_allergy_talk(s):
            continue  # an allergic reaction is recorded as an allergy, not as a problem
        for sentence in sentences(s.text):
            if s.staff and (is_question(sentence) or _IF.search(sentence) or _FAMILY.search(sentence)):
                # a question (「アレルギーはありますか」), a warning (「血便が出るときは」) or a relative's illness
                # (「お母さんが糖尿病なんですね」) names a disease without finding it in the patient
                continue
            sentence = fold_modifiers(sentence)
            for m in find_diseases(sentence):
                after = sentence[m.span[1] :]
                if _RISK_AFTER.match(after):
                    continue  # 「脳梗塞の原因になる」「脳梗塞を予防する」: a risk talked about, not a diagnosis
                if _NEGATED_AFTER.match(after.lstrip("をが")) or re.match(
                    r"[をが]?(?:疑う|示唆する)[^。]*(?:ない|ありません)", after
                ):
                    continue  # 「肺炎を疑うような音はない」: ruled out, not a problem
                if not s.staff:
                    status = "history" if _HISTORY.search(sentence) else None
                    if status is None:
                        continue  # the patient naming a disease is not a diagnosis
                else:
                    status = (
                        "history"
                        if _HISTORY.search(sentence) and not _SUSPECTED.search(sentence)
                        else "suspected"
                        if _SUSPECTED.search(sentence)
                        else "confirmed"
                    )
                disease = m.value
                if disease.name not in found:
                    found[disease.name] = {
                        "name": disease.name,
                        "icd10": disease.icd10,
                        "status": status,
                        "evidence": [s.id],
                    }
                elif s.id not in found[disease.name]["evidence"]:
                    found[disease.name]["evidence"].append(s.id)
    # a shorter name inside a longer one found too (気管支炎 in 急性気管支炎) is the same problem
    names = list(found)
    return [p for n, p in found.items() if not any(n != other and n in other for other in names)]


def _note_order(note: str) -> int:
    """A note's place on the drug's line: the table's order (休薬, 再開 …), then 残薬."""
    base = note.split("（")[0]
    return NOTE_ORDER.index(base) if base in NOTE_ORDER else len(NOTE_ORDER)


def extract(index: EvidenceIndex) -> Facts:
    said = list(index.said.values())
    found_allergies, denied = allergies(said)
    meds = medications(said)
    allergens_named = {a["substance"].split("（")[0] for a in found_allergies}
    for med in meds:
        if med["name"] in allergens_named and med["status"] not in ("prescribed", "changed"):
            med["status"] = "allergy"  # 「ボルタレンで蕁麻疹」, named again: an allergen, not a medicine taken
    directions = {m["name"]: m.pop("direction") for m in meds if "direction" in m}  # not part of the contract
    notes = {m["name"]: sorted(n, key=_note_order) for m in meds if (n := m.pop("notes", []))}
    return Facts(
        directions=directions,
        notes=notes,
        vitals=vitals(said),
        medications=meds,
        allergies=found_allergies,
        negatives=negatives(index),
        problems=problems(said),
        continued=continued(said, meds),
        no_allergies=[] if found_allergies else denied,
    )


def status_word(status: str) -> str:
    return _STATUS_WORD[status]
