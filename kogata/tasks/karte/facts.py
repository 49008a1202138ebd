"""Facts read straight from the words, without the model: vitals, medications, allergies, denied
symptoms and problem names. Each comes with the ids of the utterances that state it, so these lines are
evidence-linked by construction; the model is left to write the narrative lines around them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kogata.ja import find_findings, find_quantities
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import find_drugs
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
    ("体重", re.compile(r"体重[^。\d]{0,8}?(\d{2,3}(?:\.\d)?) ?(?:kg|キロ)"), "kg"),
]
_BARE_TEMPERATURE = re.compile(r"(?<![\d.])(3[4-9]|4[0-2])(\.\d)?℃")

_DOSE = re.compile(r"\d+(?:\.\d+)?(?:mg|g|mL|μg|単位|錠|カプセル|包|枚|本|滴|パフ|吸入)")
_DIRECTION = re.compile(r"増や|増量|に上げ|減ら|減量|に下げ")
_CHART_FREQUENCY = {"頓服": "頓用", "寝る前": "就寝前"}
_MASS = re.compile(r"(?:mg|g|μg|mL|単位)$")
_FREQUENCY = re.compile(r"1日\d回(?:毎食後|朝夕食後|朝食後|夕食後|就寝前|寝る前)?|毎食後|朝夕|朝食後|夕食後|就寝前|寝る前|頓用|頓服|\d+時間おき|週\d回")
_DURATION = re.compile(r"\d+日分|\d+週間分|\d+日間|\d+週間|\d+か月分|\d+ヶ月分|\d+カ月分")
_PRESCRIBING = re.compile(r"出し|処方|始め|追加|開始|飲んでください|使ってください|貼ってください|塗ってください|出ます|お渡し"
                          r"|にします|にしましょう|使います|使いましょう|を使|点滴し|注射し")
_STATUS_CUES = [  # strongest first
    ("stopped", re.compile(r"中止|(?<!たら)(?<!れば)やめ(?:ま|て|る|よう|に)|止めましょう|止めます|中断|飲まなくて|終了|終わりに")),
    ("changed", re.compile(r"増や|増量|減ら|減量|変更|変え|切り替え|に上げ|に下げ")),
    ("prescribed", _PRESCRIBING),
    ("current", re.compile(r"飲んで|服用|使って|続け|内服|貼って|塗って|もらって|飲めて|塗れて|使えて")),
]
_TAKING_BEFORE = re.compile(r"(?:今|いま|普段|ふだん|毎日)[^。]{0,6}(?:飲んで|使って|服用|内服)")
_FORM = re.compile(r"(?:テープ|パップ|ゲル|軟膏|クリーム|ローション|点眼|点鼻|坐剤|シロップ|吸入|注)$")
_CONTINUE = re.compile(r"続け|継続|そのまま")
_STATUS_WORD = {"prescribed": "処方", "changed": "変更", "stopped": "中止", "current": "内服中"}

_REACTIONS = re.compile(r"蕁麻疹|じんましん|じんま疹|発疹|湿疹|かゆ|痒|腫れ|息苦し|呼吸困難|アナフィラキシー|ショック|赤く|ブツブツ"
                        r"|喘息|かぶれ|むくみ")
_ALLERGENS = re.compile(r"ペニシリン|セフェム|ニューキノロン|造影剤|ヨード|アスピリン|NSAIDs|ラテックス|卵|小麦|そば|蕎麦|エビ|えび|カニ|かに|牛乳|乳製品|ピーナッツ|落花生|大豆|スギ|花粉|ダニ|ハウスダスト|猫|犬|金属")
# The reaction as a chart writes it; a swelling takes the body part named before it (まぶたが腫れた → 眼瞼腫脹).
_REACTION_TERMS = {"じんましん": "蕁麻疹", "じんま疹": "蕁麻疹", "かゆ": "瘙痒", "痒": "瘙痒", "息苦し": "呼吸困難",
                   "赤く": "発赤", "ブツブツ": "発疹", "喘息": "喘息発作", "むくみ": "浮腫", "腫れ": "腫脹"}
_SWOLLEN_PART = re.compile(r"(まぶた|瞼|目|唇|くちびる|顔|喉|のど|舌)[がのも]?(?:少し|ぱんぱんに|すごく)?腫れ")
_PART_TERMS = {"まぶた": "眼瞼", "瞼": "眼瞼", "目": "眼瞼", "唇": "口唇", "くちびる": "口唇", "顔": "顔面", "喉": "咽頭",
               "のど": "咽頭", "舌": "舌"}


def _reaction_term(text: str, reaction: str) -> str:
    if reaction == "腫れ" and (part := _SWOLLEN_PART.search(text)):
        return _PART_TERMS[part.group(1)] + "腫脹"
    return _REACTION_TERMS.get(reaction, reaction)
_ALLERGY_PAST = re.compile(r"出た|出まし|なった|なりまし|ありまし|起き|アレルギー")
_ASKS_ALLERGY = re.compile(r"アレルギー")
_DENIAL = re.compile(r"ない|ありません|ございません|いいえ|特に|なし|無い")
_SHORT_ANSWER = 12  # characters: 「それは大丈夫です」 answers the question; a longer 「…骨は大丈夫でした」 is about something else
_FINE = re.compile(r"大丈夫|普通です|平気|問題(?:は)?(?:ない|ありません)")  # an answer that the asked symptom is absent
_SUSPECTED = re.compile(r"疑|かもしれ|可能性|思います|でしょう|考えられ|否定でき|おそらく|恐らく")
_HISTORY = re.compile(r"既往|以前|昔|前に|持病|治療中|通院中|飲んで|言われて")
_RISK_AFTER = re.compile(r"[のをにが]?(?:原因|予防|防|リスク|危険|なる|なり|起こ|可能性は低|出たら|あったら|出る場合|の場合|なら)")
_NEGATED_AFTER = re.compile(r"(?:の(?:症状|所見|兆候|徴候|心配|可能性))?(?:は|も)?(?:ない|ありません|なさそう|否定|違う|ではない|じゃない|低い)")


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


_QUESTION = re.compile(r"(?:かね|かな|かしら|か|[?？]|(?:たり|とか|って)?は)[。」]?$")  # 「吐いたりは。」 asks too


def is_question(sentence: str) -> bool:
    """「…ありますか。」「普段飲んでいるお薬は？」: asked, not stated."""
    return bool(_QUESTION.search(sentence.strip()))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。!?！？])", text) if s.strip()]


def vitals(said: list[Said]) -> list[dict]:
    """Measurements said by the doctor or nurse (a patient's home reading belongs to S, in their words)."""
    found: dict[str, dict] = {}
    for s in said:
        if not s.clinician:
            continue
        for name, pattern, unit in _VITALS:
            m = pattern.search(s.text)
            if m and name not in found:
                found[name] = {"name": name, "value": m.group(1), "unit": unit, "evidence": [s.id]}
        if "体温" not in found and (m := _BARE_TEMPERATURE.search(s.text)):
            found["体温"] = {"name": "体温", "value": m.group(1) + (m.group(2) or ""), "unit": "℃", "evidence": [s.id]}
    order = [name for name, _, _ in _VITALS]
    return sorted(found.values(), key=lambda v: order.index(v["name"]))


def _is_allergy_sentence(text: str) -> bool:
    """「ペニシリンで蕁麻疹が出た」「卵で蕁麻疹」; not 「小児喘息で、キプレスを飲んでます」 (a drug for the condition)."""
    reaction = _REACTIONS.search(text)
    return bool(reaction and (_ALLERGY_PAST.search(text) or _ALLERGENS.search(text))) or "アレルギー" in text


def _is_allergy_talk(s: Said) -> bool:
    return _is_allergy_sentence(s.text)


def _status(text: str) -> str | None:
    return next((status for status, cue in _STATUS_CUES if cue.search(text)), None)


def medications(said: list[Said]) -> list[dict]:
    """Drugs named, with dose, frequency, duration and status read from the words after each name
    (「吐き気止めにナウゼリン」: the 止め before the name is not about it)."""
    by_name: dict[str, dict] = {}
    rank = {status: i for i, (status, _) in enumerate(_STATUS_CUES)}
    for s in said:
        sentences = _sentences(s.text)
        for si, sentence in enumerate(sentences):
            if _is_allergy_sentence(sentence) and not _PRESCRIBING.search(sentence):
                continue  # 「ペニシリンで蕁麻疹が出た」 is an allergy, not a medication
            mentions = find_drugs(sentence)
            for k, m in enumerate(mentions):
                later = [n for n in mentions[k + 1:] if n.value != m.value]
                scope = sentence[m.span[1]:later[0].span[0] if later else len(sentence)]
                if not later:  # 「クラリスにします。二百ミリを一日二回、七日分です。」: the dose follows
                    for follow in sentences[si + 1:]:
                        if find_drugs(follow) or is_question(follow):
                            break
                        scope += follow
                status = _status(scope) or _status(s.text[s.text.find(sentence) + m.span[1]:])
                if status is None:
                    taking = _TAKING_BEFORE.search(sentence[:m.span[0]])  # 「今飲んでいるのは、メトホルミン…」
                    # a doctor asking about a drug (「ディフェリンは毎晩塗れていますか」) asks about one already used
                    status = "current" if taking or not s.clinician or is_question(sentence) else "prescribed"
                drug = m.value
                form = _FORM.search(m.surface)  # ロキソニンテープ and ロキソニン (tablets) are two products
                key = drug.generic + (form.group(0) if form else "")
                med = by_name.setdefault(key, {"name": drug.generic, "brand": "", "dose": "", "frequency": "",
                                               "duration": "", "status": status, "evidence": []})
                if m.surface != drug.generic and not med["brand"]:
                    med["brand"] = m.surface
                doses = sorted(_DOSE.findall(scope), key=lambda d: not _MASS.search(d))  # 400mg before 2錠
                in_order = _DOSE.findall(scope)
                if status == "changed" and len(in_order) >= 2:
                    med["dose"] = "→".join(dict.fromkeys(in_order))  # 「5mgから10mgに増やしましょう」, a taper 30mg→20mg→10mg
                    doses = in_order
                elif doses and (not med["dose"] or status == "changed"):
                    med["dose"] = doses[-1] if status == "changed" else doses[0]
                for key, pattern in (("frequency", _FREQUENCY), ("duration", _DURATION)):
                    if not med[key] and (found := pattern.search(scope)):
                        med[key] = _CHART_FREQUENCY.get(found.group(0), found.group(0))
                if rank[status] < rank[med["status"]]:
                    med["status"] = status
                if status == "changed" and (direction := _DIRECTION.search(scope)):
                    med["direction"] = "増量" if direction.group(0)[0] in "増上" else "減量"
                if s.id not in med["evidence"]:
                    med["evidence"].append(s.id)
    _answered_doses(said, by_name)
    return list(by_name.values())


_SUPPLY = re.compile(r"(?<![\d〜])\d+(?:日|週間|か月|ヶ月)分")


def _answered_doses(said: list[Said], by_name: dict[str, dict]) -> None:
    """Details said after the one drug an utterance named, in the next two utterances that name none:
    「ハルシオンをもらっているんでしたね」「0.25mgを寝る前に飲んでます」 (the dose is the answer's), and
    「ナゾネックスを…使ってください」…「30日分お出しします」 (the supply is the doctor's next words)."""
    for k, named_in in enumerate(said):
        named = {m.value.generic for m in find_drugs(named_in.text)}
        meds = [m for m in by_name.values() if m["name"] in named and named_in.id in m["evidence"]]
        if len(meds) != 1:
            continue
        med = meds[0]
        for follow in said[k + 1:k + 3]:
            if find_drugs(follow.text):
                break
            found = {"dose": (_DOSE.findall(follow.text) or [""])[0],
                     "frequency": (m.group(0) if (m := _FREQUENCY.search(follow.text)) else ""),
                     "duration": (m.group(0) if (m := _SUPPLY.search(follow.text)) and follow.clinician else "")}
            if named_in.clinician and not follow.clinician:
                found["duration"] = ""  # a patient's answer says what they take, not what is supplied
            elif not named_in.clinician:
                continue
            added = {key: value for key, value in found.items() if value and not med[key]}
            if added and not (named_in.clinician and follow.clinician and not found["duration"]):
                med.update({key: _CHART_FREQUENCY.get(v, v) for key, v in added.items()})
                med["evidence"].append(follow.id)


def continued(said: list[Said], meds: list[dict]) -> list[str]:
    """Medicines already taken that the doctor says to continue (「メトホルミンはそのまま続けましょう」)."""
    current = {m["name"] for m in meds if m["status"] == "current"}
    return list(dict.fromkeys(m.value.generic for s in said if s.clinician
                              for sentence in _sentences(s.text) if not is_question(sentence) and _CONTINUE.search(sentence)
                              for m in find_drugs(sentence) if m.value.generic in current))


def change_word(med: dict, direction: str = "") -> str:
    """増量 / 減量 when the dose went up or down (「5mg→10mg」), 漸減 for a taper over three or more doses, else
    the direction the doctor said (「1日3回に増やして」), else 変更."""
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", med["dose"])]
    if "→" in med["dose"] and len(numbers) >= 2:
        if len(numbers) >= 3 and all(a > b for a, b in zip(numbers, numbers[1:])):
            return "漸減"
        return "増量" if numbers[-1] > numbers[0] else "減量" if numbers[-1] < numbers[0] else "変更"
    return direction or "変更"


def allergies(said: list[Said]) -> tuple[list[dict], list[int]]:
    """Allergies the patient side reports, and (separately) the ids of an answered 「アレルギーはない」."""
    found: list[dict] = []
    denied: list[int] = []
    previous: Said | None = None
    for s in said:
        if not s.clinician:
            asked = previous is not None and previous.clinician and _ASKS_ALLERGY.search(previous.text)
            reaction = _REACTIONS.search(s.text)
            substances = [m.value.generic if m.surface == m.value.generic else f"{m.value.generic}（{m.surface}）"
                          for m in find_drugs(s.text)] + _ALLERGENS.findall(s.text)
            if substances and reaction and (_ALLERGY_PAST.search(s.text) or asked):
                evidence = ([previous.id] if asked else []) + [s.id]
                for substance in dict.fromkeys(substances):
                    found.append({"substance": substance, "reaction": _reaction_term(s.text, reaction.group(0)),
                                  "evidence": evidence})
            elif asked and not substances and _DENIAL.search(s.text):
                denied = [previous.id, s.id]
        previous = s
    return found, denied


def negatives(index: EvidenceIndex) -> list[dict]:
    """Symptoms the patient side denied (and never affirmed), with the question that was answered."""
    out: list[dict] = []
    said = list(index.said.values())
    affirmed = {f.term for s in said if not s.clinician for f in s.findings if not f.negated}
    for k, s in enumerate(said):
        if s.clinician:
            continue
        question = said[k - 1] if k and said[k - 1].clinician else None
        terms = [f.term for f in s.findings if f.negated]
        if question is not None and any(not find_findings(x) and (_DENIAL.search(x) or
                                                                  (_FINE.search(x) and len(x) <= _SHORT_ANSWER))
                                        for x in _sentences(s.text)):
            # 「ないです」「それは大丈夫です」「目も大丈夫です」 answering 「息苦しさはありますか」「…物が二重に見えることは」
            terms += [f.term for f in question.findings if f.term not in affirmed]
        for term in dict.fromkeys(terms):
            if (term in index.denied or term not in affirmed) and not any(n["finding"] == term for n in out):
                asked = question is not None and any(f.term == term for f in question.findings)
                out.append({"finding": term, "evidence": ([question.id] if asked else []) + [s.id]})
    return out


def fold_modifiers(text: str) -> str:
    """急性の気管支炎 → 急性気管支炎, as disease names are written."""
    return re.sub(r"(急性|慢性|軽度|重度|軽症|重症)の", r"\1", text)


def problems(said: list[Said]) -> list[dict]:
    found: dict[str, dict] = {}
    for s in said:
        if _is_allergy_talk(s):
            continue  # an allergic reaction is recorded as an allergy, not as a problem
        for sentence in _sentences(s.text):
            if s.clinician and is_question(sentence):
                continue  # a question (「アレルギーはありますか」) names a disease without finding it
            sentence = fold_modifiers(sentence)
            for m in find_diseases(sentence):
                after = sentence[m.span[1]:]
                if _RISK_AFTER.match(after):
                    continue  # 「脳梗塞の原因になる」「脳梗塞を予防する」: a risk talked about, not a diagnosis
                if _NEGATED_AFTER.match(after.lstrip("をが")) or re.match(r"[をが]?(?:疑う|示唆する)[^。]*(?:ない|ありません)", after):
                    continue  # 「肺炎を疑うような音はない」: ruled out, not a problem
                if not s.clinician:
                    status = "history" if _HISTORY.search(sentence) else None
                    if status is None:
                        continue  # the patient naming a disease is not a diagnosis
                else:
                    status = ("history" if _HISTORY.search(sentence) and not _SUSPECTED.search(sentence)
                              else "suspected" if _SUSPECTED.search(sentence) else "confirmed")
                disease = m.value
                if disease.name not in found:
                    found[disease.name] = {"name": disease.name, "icd10": disease.icd10, "status": status,
                                           "evidence": [s.id]}
                elif s.id not in found[disease.name]["evidence"]:
                    found[disease.name]["evidence"].append(s.id)
    # a shorter name inside a longer one found too (気管支炎 in 急性気管支炎) is the same problem
    names = list(found)
    return [p for n, p in found.items() if not any(n != other and n in other for other in names)]


_ONSET = re.compile(r"((?:\d+(?:〜\d+)?|半|数)(?:日|週間|か月|ヶ月|年)(?:ぐらい|くらい|ほど)?前|昨日(?:の(?:夜|朝|昼|夕方))?|昨夜|今朝"
                    r"|一昨日|先週|先月|去年|今日)(?:ぐらい|くらい|ほど)?(?:から|より|前に|に)")
# When a symptom comes, as a chart writes it (誘因・時間帯): 「寝返りをうったときに」 → 寝返り時
_CIRCUMSTANCES = [
    (re.compile(r"朝起き(?:た|る)?(?:とき|時|ても|て)|起床時|寝起き"), "起床時"),
    (re.compile(r"起き上が(?:る|った)(?:とき|時)"), "起き上がり時"),
    (re.compile(r"寝返り"), "寝返り時"),
    (re.compile(r"夜中|夜間|明け方|寝ている(?:とき|時)"), "夜間"),
    (re.compile(r"お風呂上がり|入浴後|風呂から上が"), "入浴後"),
    (re.compile(r"食後|食べた後|食べたあと"), "食後"),
    (re.compile(r"階段"), "階段昇降時"),
    (re.compile(r"歩き始め"), "歩き始め"),
    (re.compile(r"動く(?:と|とき)|動かす(?:と|とき)"), "体動時"),
    (re.compile(r"安静にして(?:いる|る)?(?:とき|時)|じっとして(?:いる|る)?(?:とき|時)"), "安静時"),
]
_TESTS = re.compile(r"採血|血液検査|血液の検査|尿検査|尿の検査|検尿|胸のレントゲン|レントゲン|X線|CT|MRI|心臓の超音波|エコー|超音波"
                    r"|運動負荷心電図|ホルター心電図|心電図|迅速検査|パッチテスト|聴力検査|内視鏡|胃カメラ|大腸カメラ|骨密度|検査")
_TEST_TERMS = {"血液の検査": "血液検査", "尿の検査": "尿検査", "胸のレントゲン": "胸部X線", "レントゲン": "X線",
               "心臓の超音波": "心エコー", "超音波": "エコー"}
_WHEN = re.compile(r"\d+(?:〜\d+)?(?:日|週間|か月|ヶ月)(?:後|ぐらい後|くらい後)|明日|来週|次回")
_ORDERS = re.compile(r"しましょう|します|しておきます|お願いします|行います|撮り|撮って|調べ|測り|予約|やります|やりましょう"
                     r"|とります|取ります")
_CANCELLED = re.compile(r"[はも]?(?:やめ|行わ|しない|しません|不要|いらない|必要ない)")
_FOLLOW_UP = re.compile(r"(\d+(?:〜\d+)?(?:日|週間|か月|ヶ月)|明日|明後日|来週|来月)(?:後|ぐらい後|くらい後|先)?[^。]{0,20}?"
                        r"(?:来て|受診|再診|お越し|診せて|見せて|結果)|次回は(\d+(?:日|週間|か月|ヶ月))後")


_DAYS_AHEAD = ("明日", "明後日", "来週", "来月")
_HOME_READING = re.compile(r"測[っるりれ][^。]{0,12}?(?<!\d)(?:[89]\d|1\d\d|2[0-2]\d)(?!\d)")  # 「朝測ると150ぐらい」
_MIN_SPOKEN = 8  # characters: a shorter sentence of the patient's kept alone (「飲んでます」) says nothing on its own
_MAX_QUOTE = 120  # characters of the patient's words kept beside a symptom line
_CHART_ONSET = {"昨日の夜": "昨夜", "昨日の朝": "昨日朝", "昨日の昼": "昨日昼", "昨日の夕方": "昨日夕方"}
_NOT_A_FINDING = re.compile(r"見ておき|見ます|診ます|確認し|チェック|聞きます|調べ|止め")
_CONDITIONAL = re.compile(r"たら|れば|場合|時は|ときは|うちは|なら|ように|予防")


_SIDE = re.compile(r"(左|右|両)(?:の|側の|方の|方)?$")
_SIDE_TERM = {"左": "左", "右": "右", "両": "両側"}


def _sided(text: str, finding) -> str:
    """左膝痛 for 「左の膝が痛い」: the side said just before the words of a finding."""
    side = _SIDE.search(text[max(0, finding.span[0] - 4):finding.span[0]])
    return _SIDE_TERM[side.group(1)] + finding.term if side else finding.term


def symptom_lines(said: list[Said]) -> list[tuple[str, list[int]]]:
    """「3日前より発熱、咳嗽あり。」 from what the patient side says, one line per utterance with symptoms."""
    lines = []
    for s in said:
        if s.clinician or _is_allergy_talk(s):
            continue  # 「ペニシリンで蕁麻疹が出た」 is recorded as an allergy
        present = list(dict.fromkeys(_sided(s.text, f) for f in s.findings if not f.negated))
        if present:
            onset = _ONSET.search(s.text)
            when = re.sub(r"ぐらい|くらい|ほど", "", onset.group(1)) if onset else ""
            lead = f"{_CHART_ONSET.get(when, when)}より" if onset else ""
            circumstances = [word for pattern, word in _CIRCUMSTANCES
                             if pattern.search(s.text) and not any(word in term for term in present)]  # not 夜間の夜間頻尿
            lead += "・".join(circumstances) + "の" if circumstances else ""
            # the patient's own words beside the terms: where, since when, how (「右手の親指から薬指がしびれる」),
            # from every clinical sentence of the utterance but those that only deny
            words = [chart_sentence(clinical).rstrip("。") for x in _sentences(s.text)
                     if not is_question(x) and (clinical := _without_small_talk(x))
                     and not ((found := find_findings(x)) and all(f.negated for f in found))]
            quote = f"（「{'。'.join(words)}」）" if words and len("".join(words)) <= _MAX_QUOTE else ""
            lines.append((f"{lead}{'、'.join(present)}あり{quote}。", [s.id]))
    return lines


def examination_lines(said: list[Said]) -> list[tuple[str, list[int]]]:
    """What the doctor states on examination, present or absent (「喉が赤いですね」「むくみはないですね」), one line
    per utterance with the doctor's words beside the terms (where, how much: 「左膝の内側を押すと痛い」);
    questions and conditionals (「熱が出たら」) are not findings."""
    lines = []
    previous: Said | None = None
    for s in said:
        heard, previous = previous, s
        if not s.clinician or _is_allergy_talk(s):
            continue
        echoed = {f.term for f in heard.findings} if heard is not None and not heard.clinician else set()
        present: list[str] = []
        absent: list[str] = []
        words: list[str] = []
        for sentence in _sentences(s.text):
            if is_question(sentence) or _CONDITIONAL.search(sentence) or _NOT_A_FINDING.search(sentence) \
                    or find_drugs(sentence) or "薬" in sentence or _ADVICE_CUES.search(sentence) \
                    or _is_assessment(sentence):
                continue  # 「むくみも見ておきますね」 announces an examination; 「吐き気止めに…」 names a drug's use
            findings = [f for f in find_findings(sentence) if f.term not in echoed]
            present += [f.term for f in findings if not f.negated]
            absent += [f.term for f in findings if f.negated]
            if findings or _RESULT_CUES.search(sentence):
                words.append(chart_sentence(sentence).rstrip("。"))
        present = list(dict.fromkeys(present))
        absent = [t for t in dict.fromkeys(absent) if t not in present]
        parts = ([f"{'、'.join(present)}あり"] if present else []) + [f"{t}なし" for t in absent]
        if parts:
            quote = f"（「{'。'.join(words)}」）" if words and len("".join(words)) <= _MAX_QUOTE else ""
            lines.append(("、".join(parts) + quote + "。", [s.id]))
    return lines


def plan_lines(said: list[Said]) -> list[tuple[str, list[int]]]:
    """Tests ordered and the next visit, as the doctor says them."""
    lines = []
    for s in said:
        if not s.clinician:
            continue
        for sentence in _sentences(s.text):
            tests = list(dict.fromkeys(_TEST_TERMS.get(m.group(0), m.group(0)) for m in _TESTS.finditer(sentence)
                                       if not _CANCELLED.match(sentence, m.end()) and not
                                       _CANCELLED.match(sentence, m.end() + 1)))  # 「CTはやめて」
            if tests and _ORDERS.search(sentence) and not is_question(sentence) and not _CONDITIONAL.search(sentence):
                when = _WHEN.search(sentence)
                at = re.sub(r"ぐらい|くらい", "", when.group(0)) + "に" if when else ""
                lines.append((f"{at}{'、'.join(tests)}を予定。", [s.id]))
            if (m := _FOLLOW_UP.search(sentence)) and not is_question(sentence):
                when = m.group(1) or m.group(2)
                lines.append((f"{when}{'' if when in _DAYS_AHEAD else '後に'}再診。", [s.id]))
    return lines


# Sentences worth keeping in the doctor's or patient's own words when no rule above turned them into a line:
# the history and habits the patient tells, what the doctor reports from an examination or a test, the doctor's
# assessment and instructions. Cited by construction; the model's chart-style line replaces them where it cites them.
_HISTORY_CUES = re.compile(r"昔|以前|\d+(?:年|か月|週間|日)前|歳の(?:時|とき|頃)|手術|入院|既往|持病|治療中|通院|お酒|飲酒|タバコ"
                           r"|たばこ|喫煙|吸って|仕事は|働いて|勤めて|同じ症状|測ると|測っ|飲み忘れ|食べ過ぎ|間食|塩分|運動|歩いて"
                           r"|体重|(?:病院|医者|先生|健診|検診|ドック)[^。]{0,12}言われ")
_RESULT_CUES = re.compile(r"検査|結果|陽性|陰性|正常|異常|X線|レントゲン|心電図|エコー|CT|MRI|所見|押すと|触れ|腫れ|赤く|赤い|白い"
                          r"|音|圧痛|骨折|数値|値は|値が|問題ありません|保たれ|左右差|試験|反射|聴診|触診|表情|顔色|受け答え|\d+点")
_ADVICE_CUES = re.compile(r"ましょう|てください|でください|下さい|予約|控え|避け|様子を見|までに"
                          r"|続けて|休んで|安静|冷やして|温めて|気をつけ|受診して|診断書|紹介状|紹介します|呼んで"
                          r"|(?:し|取り|とり|つけ|書き|入れ|抜き|とめ|撮り|戻し|固定し|縫い)ます")
# Words a chart is about (body, symptoms, care, habits); a sentence without any, and without a finding, drug, disease
# or measurement, is small talk (「梅雨でじめじめしてるのに、二人とも元気すぎて大変です」).
_CLINICAL = re.compile(r"(?<!饅)頭|顔|額|おでこ|(?<![\d回番つ])目(?!標)|耳|鼻|(?<!窓)口|唇|喉|のど|首|肩|腕|肘|(?<![上相])手(?!伝|続|紙)"
                       r"|指|爪|胸|背中|腰|お腹|おなか|腹|お尻|おしり|肛門|膝|ひざ|足|脚|すね|皮膚|肌|関節|骨|筋|心臓|肺|胃|腸|肝|腎"
                       r"|血|便|尿|おしっこ|熱|痛|かゆ|咳|痰|鼻水|薬|検査|医者|診断|治療|食|飯|飲|お酒|眠|睡眠|寝|タバコ|たばこ"
                       r"|喫煙|運動|発作|症状|体重|声|息|水分|塩分|安静|入浴|お風呂|表情|顔色|受け答え|応答|意識|\d+点"
                       r"|尻|転|滑っ|ぶつけ|打っ|打撲|ひね|捻|けが|怪我|傷|切っ|刺さ|噛ま"  # how an injury happened
                       r"|LDL|HDL|コレステロール|中性脂肪|HbA1c|血糖|eGFR|クレアチニン|尿酸|CRP|INR|白血球|数値"
                       r"|黄色|緑色|透明|ドロッ|サラサラ|ネバネバ|水っぽ|血が混"  # what comes out, and how
                       r"|増え|減っ|減り|良くな|悪くな|楽に|治ま|続い|ひど|強く|弱く")  # and the course
_CLINICAL_UNITS = {"mg", "g", "mL", "μg", "℃", "kg", "mmHg", "%", "錠", "包", "単位", "cm", "mm", "dB", "mg/dL", "/分", "本", "杯"}
_ASSESSMENT = re.compile(r"と考えられ|(?:だ|か)と思い|でしょう|疑い|可能性|かもしれ|状態|診断|ですね|です(?:。|$)")
_ASSESSMENT_END = re.compile(r"(?:と考えられます|と考えます|だと思います|かと思います|と思います|でしょう|かもしれません|の状態|状態)?"
                             r"(?:ですね|です|ね)?(。?)$")
# How a chart says what the doctor says in words (applied to assessment lines).
_ASSESSMENT_WORDS = [
    (re.compile(r"(?:が|は)?(?:少し|やや|だいぶ|かなり)?(?:悪くなって|悪化して)(?:いる|きている|きた)"), "の増悪"),
    (re.compile(r"(?:が|は)?(?:少し|やや|だいぶ|かなり)?(?:良くなって|よくなって)(?:いる|きている|きた|います)"), "の改善"),
    (re.compile(r"(?:中くらい|中等度)の発作"), "中発作"),
    (re.compile(r"(?:小さい|小さな|軽い)発作"), "小発作"),
    (re.compile(r"(?:大きい|大きな|重い)発作"), "大発作"),
    (re.compile(r"([一-龥ァ-ヶー]+)は(軽度|中等度|高度|軽症|中等症|重症)"), r"\2\1"),  # 脱水は軽度 → 軽度脱水
]
_JUDGED = re.compile(r"と考えられ|と思い|でしょう|疑い|可能性|かもしれ|による|のせい")
_JUDGED_OR_NAMED = re.compile(_JUDGED.pattern + r"|考えやす|診断|です(?:ね)?[。]?$")
_DIAGNOSIS_WORDS = re.compile(r"炎|症|病|障害|発作|便秘|脱水|骨折|捻挫|打撲|増悪|悪化|コントロール|感染|アレルギー|薬疹|蕁麻疹|じんましん")


_LEAD = re.compile(r"^(?:[.…‥・\s]+|(?:じゃあ|では|それでは|それと|それから|あと|まず|なので|ですので|はい|ええ|うん|そうですね|えっと|えーと|えー"
                   r"|あのー|あの|あー|まあ|うーん)ー*(?![はがをにのもで])[、,]?\s*)+")


def chart_sentence(sentence: str) -> str:
    """A spoken sentence as a chart line: without its opening filler and the closing ね/よ of speech."""
    text = _LEAD.sub("", sentence.strip())
    text = re.sub(r"(?:ね|よ|よね)([。！!？?]?)$", r"\1", text)
    return text if text.endswith(("。", "！", "？", "!", "?")) else text + "。"


# Lifestyle guidance as a chart names it, when the doctor advises less of the habit (「塩分は控えめにしましょう」).
_GUIDANCE = [("減塩指導", re.compile(r"塩分|塩|しょっぱ")), ("節酒指導", re.compile(r"お酒|飲酒|アルコール|ビール")),
             ("禁煙指導", re.compile(r"タバコ|たばこ|煙草|喫煙|禁煙")), ("体重管理", re.compile(r"体重を(?:減ら|落と)|減量"))]
_REVISIT = re.compile(r"(?:もう一度|また)(?:来て|診せて|見せて|受診して)ください")
_LIMIT_ADVICE = re.compile(r"控え|減ら|やめ|止め|落と|少なめ|未満|以下|まで")


def _is_clinical(text: str) -> bool:
    return bool(_CLINICAL.search(text) or find_findings(text) or find_drugs(text) or find_diseases(text)
                or any(q.unit in _CLINICAL_UNITS for q in find_quantities(text)))


_WHEN_CLAUSE = re.compile(r"(?:\d+(?:〜\d+)?(?:日|週間|か月|ヶ月|年)(?:ぐらい|くらい|ほど)?前|昨日|一昨日|今朝|昨夜|先週|先月|去年|今日)"
                          r"(?:の(?:朝|夜|昼|夕方))?(?:に|から|より|は)?")


def _without_small_talk(sentence: str) -> str:
    """The clauses of a patient's sentence that say something clinical (「正直、先週は妻が出張でいなくて、3日ぐらい
    飲ませ忘れました」 → 「3日ぐらい飲ませ忘れました」); empty when none does."""
    clauses = [c for c in re.split(r"(?<=[、,])", sentence) if c.strip()]
    clinical = [_is_clinical(c) for c in clauses]
    # a time clause (「3日前に、」) goes with the clinical clause it leads
    kept = [c for k, c in enumerate(clauses)
            if clinical[k] or (_WHEN_CLAUSE.fullmatch(c.strip("、, ")) and any(clinical[k + 1:k + 2]))]
    return "".join(kept).rstrip("、,") if any(clinical) else ""


def assessment_sentence(sentence: str) -> str:
    """「慢性の機能性便秘ですね。」 → 「慢性機能性便秘。」: the doctor's diagnosis without the words of speech."""
    text = chart_sentence(sentence)
    for f in find_findings(text):
        if not f.negated and f.surface != f.term and len(f.surface) >= 2:
            text = text.replace(f.surface, f.term)  # むくみ → 浮腫
    for pattern, chart_words in _ASSESSMENT_WORDS:
        text = pattern.sub(chart_words, text)
    text = _ASSESSMENT_END.sub(r"\1", text.rstrip("。")) + "。"
    return fold_modifiers(text)


def _is_assessment(sentence: str) -> bool:
    """「良性発作性頭位めまい症が一番考えやすいです」: a diagnosis, not an examination finding."""
    return bool((find_diseases(sentence) or _DIAGNOSIS_WORDS.search(sentence)) and _JUDGED_OR_NAMED.search(sentence))


def _answered_denial(sentence: str, question: Said | None) -> bool:
    """「ないです」 answering a question about symptoms: the denied-findings line says it."""
    return question is not None and bool(question.findings) and bool(_DENIAL.search(sentence) or _FINE.search(sentence)) \
        and not find_diseases(sentence)


def spoken_lines(said: list[Said], section: str, *, skip: set[int] = frozenset(),
                 known_values: set[str] = frozenset()) -> list[tuple[str, list[int]]]:
    """S: what the patient side tells beyond symptoms (history, habits, timing, course); O: the doctor's or nurse's
    examination and test results; A: the doctor's assessment; P: the doctor's instructions and procedures.
    Questions, small talk, allergy talk, and sentences that name a drug (a medication line says them; A keeps them:
    「フロモックスによる薬疹」) are left out, and so are utterances in `skip` (already a line) and measurements
    whose values are all in `known_values` (the vitals line)."""
    lines = []
    previous: Said | None = None
    for s in said:
        heard, previous = previous, s
        if s.clinician != (section != "S") or s.id in skip:
            continue
        question = heard if heard is not None and heard.clinician else None
        for sentence in _sentences(s.text):
            if is_question(sentence) or (_is_allergy_sentence(sentence) and section != "A") \
                    or (not _is_clinical(sentence) and section != "P") or (find_drugs(sentence) and section != "A"):
                continue  # a doctor's instruction is clinical however it is worded (「バスマットは分けてください」)
            findings = find_findings(sentence)
            if section == "S":
                if any(not f.negated for f in findings) or (findings and all(f.negated for f in findings)) \
                        or _answered_denial(sentence, question):
                    continue  # a symptom line or the denied-findings line says it
                clinical = _without_small_talk(sentence)
                if len(clinical) >= _MIN_SPOKEN or (clinical and find_quantities(clinical) and len(clinical) > 6):
                    home_bp = question is not None and "血圧" in question.text + sentence and _HOME_READING.search(clinical)
                    lines.append((("家庭血圧：" if home_bp else "") + chart_sentence(clinical), [s.id]))
            elif section == "O":
                numbers = {q.value for q in find_quantities(sentence)}
                if _CONDITIONAL.search(sentence) or _ADVICE_CUES.search(sentence) or _NOT_A_FINDING.search(sentence) \
                        or (_ASSESSMENT.search(sentence) and _DIAGNOSIS_WORDS.search(sentence) and not numbers):
                    continue  # advice, an announced examination, or an assessment (A keeps it)
                if _RESULT_CUES.search(sentence) or findings or (numbers and not numbers <= known_values):
                    lines.append((_TESTS.sub(lambda m: _TEST_TERMS.get(m.group(0), m.group(0)), chart_sentence(sentence)),
                                  [s.id]))  # レントゲンでは骨折はありません → X線では…
            elif section == "A":
                if _CONDITIONAL.search(sentence) or _ADVICE_CUES.search(sentence) or not _ASSESSMENT.search(sentence):
                    continue
                if find_diseases(sentence) or _DIAGNOSIS_WORDS.search(sentence) \
                        or (find_findings(sentence) and _JUDGED.search(sentence)):
                    lines.append((assessment_sentence(sentence), [s.id]))
            elif _ADVICE_CUES.search(sentence) or _TESTS.search(sentence) and _ORDERS.search(sentence):
                topics = [term for term, topic in _GUIDANCE if topic.search(sentence)]
                lead = "、".join(topics) + "：" if topics and _LIMIT_ADVICE.search(sentence) else ""
                lines.append((lead + _REVISIT.sub("再診", chart_sentence(sentence)), [s.id]))
    return lines


def extract(index: EvidenceIndex) -> Facts:
    said = list(index.said.values())
    found_allergies, denied = allergies(said)
    meds = medications(said)
    directions = {m["name"]: m.pop("direction") for m in meds if "direction" in m}  # not part of the contract
    return Facts(directions=directions, vitals=vitals(said), medications=meds, allergies=found_allergies,
                 negatives=negatives(index), problems=problems(said), continued=continued(said, meds),
                 no_allergies=[] if found_allergies else denied)


def status_word(status: str) -> str:
    return _STATUS_WORD[status]
