"""Consultation → chart: rules read facts and lines from the words, the learned reader adds what they miss, the
language model (only when asked for) drafts what both leave, and the verifier checks every line.

    chart = karte("visit.txt")            # or a Transcript, bytes, or "-" for standard input; no language model
    chart = karte("visit.txt", model="default")   # the default language model drafts what is left
    print(chart.to_dict())                # the JSON contract (kogata.tasks.karte.schema.CHART_SCHEMA)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kogata.engine import Model, load
from kogata.engine.embed import EmbeddingCache, embed
from kogata.engine.registry import get_spec
from kogata.errors import InputError
from kogata.ja import find_findings, find_quantities
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import find_drugs
from kogata.ja.sentences import is_question, sentences
from kogata.tasks.grounded import Item, tidy, verified
from kogata.tasks.karte import extractive, layterms, readings, vocabulary
from kogata.tasks.karte import facts as fact_rules
from kogata.tasks.karte import lines as in_words
from kogata.tasks.karte import negatives as denied
from kogata.tasks.karte.draft import SPEC, draft
from kogata.tasks.karte.schema import SECTIONS
from kogata.transcript import Transcript, Utterance, read_transcript
from kogata.verify import EvidenceIndex, clean
from kogata.verify.text import content_chars

if TYPE_CHECKING:
    from kogata.tasks.karte.reader import Reading


@dataclass
class Chart:
    transcript: Transcript
    soap: dict[str, list[Item]]
    medications: list[dict]
    allergies: list[dict]
    vitals: list[dict]
    problems: list[dict]
    negatives: list[dict]
    seconds: float = 0.0
    model: str = ""

    @property
    def warnings(self) -> list[dict]:
        return [
            {"message": "; ".join(item.problems), "item": item.text}
            for section in SECTIONS
            for item in self.soap[section]
            if not item.supported
        ]

    def unread(self) -> list[Utterance]:
        """The utterances that sound clinical (a finding, drug, disease, clinical number or one of the rules' cues)
        and that no shown line cites: what the chart admits it may have missed, most often in a department its word
        lists do not cover, for the doctor to read before signing."""
        cited = {i for s in SECTIONS for item in self.soap[s] if item.supported for i in item.evidence}
        cited |= {i for record in self.medications + self.allergies for i in record.get("evidence", [])}
        return [
            u
            for u in self.transcript.utterances
            if u.id not in cited and not is_question(u.text) and in_words.is_clinical(u.text)
        ]

    def items(self, *, show_unsupported: bool = False) -> dict[str, list[Item]]:
        return {s: [i for i in self.soap[s] if i.supported or show_unsupported] for s in SECTIONS}

    @classmethod
    def from_dict(cls, data: dict, transcript: Transcript, *, model: str = "", seconds: float = 0.0) -> Chart:
        """A Chart again from its JSON contract (what the visit store keeps), so the renderers can draw any version."""
        problems = {w["item"]: w["message"] for w in data.get("warnings", [])}
        soap = {
            s: [
                Item(
                    i["text"],
                    list(i["evidence"]),
                    bool(i.get("supported", True)),
                    [problems[i["text"]]] if not i.get("supported", True) and i["text"] in problems else [],
                )
                for i in data.get("soap", {}).get(s, [])
            ]
            for s in SECTIONS
        }
        return cls(
            transcript=transcript,
            soap=soap,
            medications=data.get("medications", []),
            allergies=data.get("allergies", []),
            vitals=data.get("vitals", []),
            problems=data.get("problems", []),
            negatives=data.get("negatives", []),
            seconds=seconds,
            model=model,
        )

    def to_dict(self) -> dict:
        return {
            "soap": {s: [i.to_dict() for i in self.soap[s]] for s in SECTIONS},
            "medications": self.medications,
            "allergies": self.allergies,
            "vitals": self.vitals,
            "problems": self.problems,
            "negatives": self.negatives,
            "warnings": self.warnings,
        }


def _vitals_line(vitals: list[dict]) -> Item | None:
    if not vitals:
        return None
    parts = [f"{v['name']} {v['value']}{v['unit']}" for v in vitals]
    evidence = sorted({i for v in vitals for i in v["evidence"]})
    return Item("、".join(parts) + "。", evidence)


def _named(med: dict) -> str:
    """「アセトアミノフェン（カロナール）」: the drug, and the product named."""
    return med["name"] + (f"（{med['brand']}）" if med["brand"] else "")


def _medication(med: dict) -> str:
    """「アセトアミノフェン（カロナール） 500mg 1日3回 5日分」: the drug with what was said of it."""
    name = _named(med)
    details = " ".join(x for x in (med["dose"], med["frequency"], med["duration"]) if x)
    return f"{name}{' ' + details if details else ''}"


def _medication_line(med: dict, direction: str = "", notes: list[str] = ()) -> Item:
    """「エドキサバン（リクシアナ） 30mg 1日1回 休薬・再開 内服中。」: the drug, what was said of it, and its status;
    a drug stopped for a while or by the patient is written so (休薬, 自己中断) rather than 中止."""
    word = (
        fact_rules.change_word(med, direction) if med["status"] == "changed" else fact_rules.status_word(med["status"])
    )
    if med["status"] == "stopped" and {"休薬", "自己中断"} & set(notes):
        word = ""
    said = " ".join(filter(None, (_medication(med), "・".join(notes), word)))
    return Item(f"{said}。", list(med["evidence"]))


def _content(text: str) -> set[str]:
    return content_chars(text, vocabulary.VOCABULARY.stock_pattern)


def _from_the_example(text: str) -> bool:
    """A line copied from the prompt's worked example (「右下腹部に圧痛あり。」 in a visit about a rash)."""
    mine = _content(text)
    return any(len(mine & _content(line)) >= 0.8 * len(mine) for line in SPEC.example_lines)


def _names_something(text: str) -> bool:
    """Whether a line names what a chart is made of: a finding, disease, drug, test or measurement the lexicons
    know (not 「耳の問題を診断しました」, 「患者が優しいご主人です」: a small model's filler)."""
    return bool(
        find_findings(text)
        or find_diseases(text)
        or find_drugs(text)
        or in_words.names_a_test(text)
        or any(q.unit for q in find_quantities(text))
    )


def _drafted(lines: list[dict]) -> list[Item]:
    """The model's lines for one section, without questions it copied, lines of the prompt's worked example,
    lines that name nothing clinical, and leading fillers."""
    return tidy(lines, drop=lambda text: _from_the_example(text) or not _names_something(clean(text)))


NOVEL_SHARE = 0.5  # of a drafted line's content characters that no line citing the same words has yet


def _lines(found: list[tuple[str, list[int]]]) -> list[Item]:
    return [Item(text, ids) for text, ids in found]


def _adds(item: Item, soap: dict[str, list[Item]]) -> bool:
    """Whether a drafted line says enough that no line citing any of the same utterances says already."""
    mine = _content(item.text)
    near = set().union(
        *(_content(x.text) for lines in soap.values() for x in lines if set(x.evidence) & set(item.evidence))
    )
    return len(mine - near) >= max(2, NOVEL_SHARE * len(mine))


def _more_negatives(index: EvidenceIndex, found: fact_rules.Facts) -> list[denied.Negative]:
    """The negatives kogata.tasks.karte.negatives finds that facts.negatives does not; added to `found.negatives`
    (the chart's list of denied findings) as they are."""
    have = {n["finding"] for n in found.negatives}
    more = [n for n in denied.find(index) if n.finding not in have]
    found.negatives += [{"finding": n.finding, "evidence": list(n.evidence)} for n in more]
    return more


def _rule_lines(index: EvidenceIndex, found: fact_rules.Facts) -> dict[str, list[Item]]:
    """The chart the rules write (kogata.tasks.karte.facts, .lines), every line citing the words it came from."""
    soap: dict[str, list[Item]] = {s: [] for s in SECTIONS}
    vital_values = {v["value"] for v in found.vitals}
    said = list(index.said.values())

    # S: symptoms as the patient side said them, what was denied, allergies, the medicines already taken,
    # and the rest of the patient's story in their words
    symptom_items = _lines(in_words.symptom_lines(said))
    soap["S"] += symptom_items
    if found.negatives:
        soap["S"].append(
            Item(
                "、".join(n["finding"] + "なし" for n in found.negatives) + "。",
                sorted({i for n in found.negatives for i in n["evidence"]}),
            )
        )
    # the denials the rules above leave (「吐いたり、下痢は？」「ないです」 → 嘔吐なし、下痢なし), in S or O, each line
    # citing its question and answer (kogata.tasks.karte.negatives)
    for section, text, ids in denied.lines(_more_negatives(index, found)):
        soap[section].append(Item(text, ids))
    for allergy in found.allergies:
        reaction = f"で{allergy['reaction']}" if allergy["reaction"] else ""
        soap["S"].append(Item(f"アレルギー：{allergy['substance']}{reaction}。", allergy["evidence"]))
    if not found.allergies and not found.no_allergies:  # a denial in a sentence of its own (negatives.no_allergy)
        found.no_allergies = denied.no_allergy(index)
    if found.no_allergies:
        asked = index.said[found.no_allergies[0]].text
        soap["S"].append(Item(f"{'薬剤' if '薬' in asked else ''}アレルギー歴なし。", found.no_allergies))
    for med in found.medications:
        if med["status"] == "current":
            soap["S"].append(_medication_line(med, notes=found.notes.get(med["name"], [])))
    symptom_ids = {i for item in symptom_items if "「" in item.text for i in item.evidence}  # quoted whole, if it fit
    soap["S"] += _lines(in_words.spoken_lines(said, "S", skip=symptom_ids))

    # O: measurements read from the words, the examination with the doctor's words, results as said
    read = readings.lines(said)  # 「HbA1c 8.3%（前回7.6%）。」「眼圧 右14 左15 mmHg。」, one line an utterance
    written = {(v, i) for _, _, ids, values in read for v in values for i in ids}
    unread = [v for v in found.vitals if not all((v["value"], i) in written for i in v["evidence"])]
    if (line := _vitals_line(unread)) is not None:
        soap["O"].append(line)
    for section, text, ids, _ in read:
        soap[section].append(Item(text, ids))
    vital_values |= {v for _, _, _, values in read for v in values}  # a sentence saying only these is charted
    exam_items = _lines(in_words.examination_lines(said))
    soap["O"] += exam_items
    examined_ids = {i for item in exam_items for i in item.evidence}
    soap["O"] += _lines(in_words.spoken_lines(said, "O", skip=examined_ids, known_values=vital_values))

    # A: the assessment as the doctor said it (the diagnoses it leaves out: _diagnosis_lines, after the reader)
    soap["A"] += _lines(in_words.spoken_lines(said, "A"))

    # P: prescriptions and changes, continued medicines, tests and the next visit, the doctor's instructions
    for med in found.medications:
        # what only the patient side said of a drug (「もう飲んどらん」) is their story, in S; a plan is the doctor's
        section = "P" if any(s.staff for s in index.cited(med["evidence"])) else "S"
        if med["status"] in ("prescribed", "changed", "stopped"):
            soap[section].append(
                _medication_line(med, found.directions.get(med["name"], ""), found.notes.get(med["name"], []))
            )
        elif med["status"] == "allergy":
            if not any(a["substance"].startswith(med["name"]) for a in found.allergies):
                soap["S"].append(Item(f"アレルギー：{_named(med)}。", list(med["evidence"])))
        elif med["status"] == "unconfirmed":  # the learned status doubts what the rules read: said so, details kept
            noted = "・".join(found.notes.get(med["name"], []))
            soap[section].append(
                Item(
                    f"{_medication(med)}{' ' + noted if noted else ''}：{fact_rules.status_word('unconfirmed')}。",
                    med["evidence"],
                )
            )
        elif med["status"] == "discussed" and (noted := found.notes.get(med["name"])):
            # 「バイアスピリンはいつから？」「明日から再開してください」: what was said of it, not 説明のみ
            soap[section].append(Item(f"{_medication(med)} {'・'.join(noted)}。", list(med["evidence"])))
        elif med["status"] != "current":  # refused, avoided, deferred, discussed: said, and not taken
            word = fact_rules.status_word(med["status"])
            if med["status"] in ("avoided", "deferred") and (why := fact_rules.reason_not_taken(said, med)):
                word = why + word  # 「ロキソプロフェン（ロキソニン）：妊娠後期のため使用せず。」
            soap[section].append(Item(f"{_named(med)}：{word}。", list(med["evidence"])))
    continued = [m for m in found.medications if m["status"] == "current" and m["name"] in found.continued]
    if continued:  # one line: 「カルベジロール、サクビトリルバルサルタン（エンレスト） 継続。」
        soap["P"].append(
            Item(
                f"{'、'.join(_medication(m) for m in continued)} 継続。",
                sorted({i for m in continued for i in m["evidence"]}),
            )
        )
    soap["P"] += _lines(in_words.plan_lines(said))
    soap["P"] += _lines(in_words.spoken_lines(said, "P"))
    return soap


def _diagnosis_lines(index: EvidenceIndex, found: fact_rules.Facts, soap: dict[str, list[Item]]) -> None:
    """Adds to A each diagnosis the doctor named that no A line names yet, in chart form, once a visit: a line that
    cites the words but keeps them as said (「ウイルス性の胃腸炎」, 「骨粗しょう症の治療を始めましょう」) does not
    name it as a chart does. After the reader's lines, so that a reader line saying more (「…ウイルス性の胃腸炎が一番
    考えられます。軽い脱水があります。」) is not judged against a short diagnosis line and left out."""
    assessed = fact_rules.fold_modifiers(clean(" ".join(i.text for i in soap["A"])))
    named = {m.value.name for m in find_diseases(assessed)}  # じんま疹 where a line says 蕁麻疹
    for problem in found.problems:
        if problem["status"] != "history" and problem["name"] not in assessed and problem["name"] not in named:
            text = in_words.diagnosis_line(problem["name"], problem["status"], index.cited(problem["evidence"]))
            soap["A"].append(Item(text, problem["evidence"]))


def uncovered(said: list, soap: dict[str, list[Item]]) -> list:
    """What the model is given to read: the clinical utterances no rule line cites, each after the question it
    answers. The rules write most of a chart; the model's part is the rest, so it reads a small part of the visit
    rather than all of it (reading is most of a chart's time on 2 cores), and no small talk the rules left out."""
    cited = {i for items in soap.values() for item in items for i in item.evidence}
    keep: set[int] = set()
    for k, s in enumerate(said):
        if s.id not in cited and not is_question(s.text) and in_words.is_clinical(s.text):
            keep.add(k)
            if k and said[k - 1].staff and not s.staff and is_question(said[k - 1].text):
                keep.add(k - 1)  # 「鼻水はどんな感じですか」 before 「透明でサラサラです」
    return [said[k] for k in sorted(keep)]


def uncovered_of(transcript: Transcript) -> list:
    """uncovered() for a transcript: what the model drafts from it."""
    index = vocabulary.evidence(transcript)
    found = fact_rules.extract(index)
    soap = _rule_lines(index, found)
    if READER:  # as karte() does by default, so that the live visit drafts the same residual
        _reader_lines(index, found, soap)
    _diagnosis_lines(index, found, soap)
    return uncovered(list(index.said.values()), soap)


# The learned reader's lines by default: on since they added +0.075 key-fact recall over rules-only on the fresh
# writers (g, h, i), measured once after the freeze against a rule written down before (README, chart section).
READER = True
DRUG_STATUS = True  # the learned drug status by default (kogata.tasks.karte.drug_reader; README: measured on dev)


def made_by(base: str, use_reader: bool, use_status: bool) -> str:
    """What writes a chart, as Chart.model says it: the language model's name or "rules", then the learned parts
    (「rules+reader+status」)."""
    return base + ("+reader" if use_reader else "") + ("+status" if use_status else "")


def use_parts(reader: bool | None, rules_only: bool) -> tuple[bool, bool]:
    """(the reader's lines, the learned drug status) for karte()'s `reader` and `rules_only`: each part's default
    where `reader` is None, both on or both off where it is given, neither with rules only."""
    if rules_only:
        return False, False
    return (READER, DRUG_STATUS) if reader is None else (reader, reader)


def _reader_lines(
    index: EvidenceIndex, found: fact_rules.Facts, soap: dict[str, list[Item]], embed_texts: Callable = embed
) -> None:
    """Adds to `soap` a line for each utterance the learned reader judges clinical (kogata.tasks.karte.extractive)
    where no line cites it yet or the line says enough that those citing it do not (_adds); the verifier checks
    them with the rest in _assemble. `embed_texts`: embed(), or the visit's EmbeddingCache (karte())."""
    from kogata.tasks.karte import reader  # loads numpy weights and the embedder only when asked for

    said = list(index.said.values())
    # every utterance is a candidate, those the rules cite too: a rule line may take one fact from a sentence that
    # says three (dev recall 0.644 reading only the uncited ones, 0.663 reading all; README, chart section)
    medicines = {m["name"] for m in found.medications}
    readings = reader.read(said, only=extractive.candidates(said), embed_texts=embed_texts)
    _drop_small_talk(soap, readings)
    position = {s.id: k for k, s in enumerate(said)}
    for section, item in extractive.lines(said, readings, medicines):
        if _echoes(item, section, said, position, soap):
            continue
        near = [x for lines in soap.values() for x in lines if set(x.evidence) & set(item.evidence)]
        if (
            len(item.evidence) > 1
            and any(item.evidence[-1] in x.evidence for x in near)
            and (item.text.endswith("なし。") or not _adds(item, soap))
        ):
            # an answer with its question's subject (「…なし。」) only where nothing charts the answer yet; a confirmed
            # restatement (「夜も咳で起きる。」 beside 「咳嗽あり。」) where it says more
            continue
        if not near or _adds(item, soap):  # 「においはあんまりないです」 has no kanji for _adds to count
            soap[section].append(item)


ECHO_TURNS = 3  # utterances back in which a doctor's restatement looks for what the patient said
_CONFIRMING = re.compile(r"ね[。！!]*$")  # 「三日前からですね。」: said back to the patient, not news


def _echoes(item: Item, section: str, said: list, position: dict[int, int], soap: dict[str, list[Item]]) -> bool:
    """Whether a reader S line from the staff side restates what the patient said just before, which a line
    already charts (「三日前からですね」 after 「三日前から熱が出てまして」, charted 「3日前より発熱あり」):
    every content character of it (kanji, katakana, digits) is in one line citing a patient utterance of the last
    ECHO_TURNS, or, where the staff utterance only confirms (each sentence not a question ends in ね), in one such
    utterance that a line charts. A line with a word the patient did not say stays: the doctor's chart word
    (「物盗られ妄想ですね」, 「ホットフラッシュですね」), a drug named first by the doctor, a summary of what the
    patient said in pieces (a family history); so do O, A and P lines."""
    if section != "S" or not all(said[position[i]].staff for i in item.evidence if i in position):
        return False
    k = position[item.evidence[0]]
    before = [s for s in said[max(0, k - ECHO_TURNS) : k] if not s.staff]
    charting = [x for lines in soap.values() for x in lines if {s.id for s in before} & set(x.evidence)]
    mine = _content(item.text)
    if not mine or not charting:
        return False
    if any(mine <= _content(x.text) for x in charting):
        return True
    told = [x for x in sentences(said[k].text) if not is_question(x)]
    charted = {i for x in charting for i in x.evidence}
    return (
        bool(told)
        and all(_CONFIRMING.search(x.strip()) for x in told)
        and any(mine <= _content(s.text) for s in before if s.id in charted)
    )


def _drop_small_talk(soap: dict[str, list[Item]], readings: list[Reading]) -> None:
    """Removes the S lines that the clinical cues let through on one everyday word (「帰りに小倉トースト食べて帰ろ」
    passes on 食) where the reader's likeliest section for every utterance they cite is none (dev: small talk shown
    35 → 28, recall unchanged). A line that names a finding, drug, disease or number stays: the reader only vetoes
    what the rules took on a cue."""
    chat = {r.id for r in readings if r.section == "-"}
    soap["S"] = [
        item for item in soap["S"] if not item.evidence or not set(item.evidence) <= chat or _names_a_fact(item.text)
    ]


def _names_a_fact(text: str) -> bool:
    text = clean(text)  # once, not once a lexicon
    return bool(find_findings(text) or find_drugs(text) or find_diseases(text) or find_quantities(text))


def _assemble(
    index: EvidenceIndex, found: fact_rules.Facts, soap: dict[str, list[Item]], lines: dict[str, list[dict]]
) -> dict[str, list[Item]]:
    """The rules' lines, then the model's where they say something those do not (chart wording for what the rules
    kept in the speakers' words, or a fact no rule reads), deduplicated and verified."""
    layterms.reword(index, soap)  # 「天井がぐるぐる回って」 → 「回転性めまい：天井がぐるぐる回って」
    med_names = {m["name"] for m in found.medications}
    drafted = {
        s: [
            verified(index, item, asserts_findings=s != "P")
            for item in _drafted(lines[s])
            if not {m.value.generic for m in find_drugs(clean(item.text))} & med_names
        ]  # a medication line says it
        for s in SECTIONS
    }
    for section in SECTIONS:
        soap[section] += [item for item in drafted[section] if _adds(item, soap)]

    for section in SECTIONS:  # drop repeats, commas aside (a long visit drafted in chunks can say a thing twice)
        seen: set[str] = set()
        soap[section] = [
            i for i in soap[section] if not ((key := re.sub(r"[、,\s]", "", i.text)) in seen or seen.add(key))
        ]
        for item in soap[section]:
            item.problems = index.check(item.text, item.evidence, asserts_findings=section != "P")
            if section in ("A", "P") and not item.problems and not any(s.staff for s in index.cited(item.evidence)):
                item.problems = ["評価・計画の根拠に医師の発言がありません"]  # 「抗生物質はいらないですか」 is no plan
            item.supported = not item.problems
    return soap


def karte(
    source: Transcript | str | Path | bytes,
    *,
    model: Model | str | None = None,
    adapter: str | None = None,
    encoding: str | None = None,
    drafter: Callable | None = None,
    rules_only: bool = False,
    reader: bool | None = None,
    embeddings: EmbeddingCache | None = None,
) -> Chart:
    """Write an evidence-linked SOAP chart draft from a consultation.

    By default the chart is the rules', the learned reader's lines and the learned drug status: no language model
    loads (it added no key fact on the fresh writers g, h, i at about ten times the time; README, chart section).

        karte("visit.txt")                     # rules + reader + drug status; chart.model "rules+reader+status"
        karte("visit.txt", model="default")    # …and the default language model drafts what they leave
        karte("visit.txt", rules_only=True)    # the rules alone; chart.model "rules"

    Args:
        source: a Transcript, a path to a transcript file (text `医師：…` lines or JSON utterances),
            its bytes, or "-" for standard input.
        model: ask for the language model's drafting of what the rules and reader leave: a loaded Model, or a
            model name or alias ("default" is the default model; see `kogata models`), loaded only when something
            is left to draft. None (the default): no language model.
        adapter: a LoRA adapter loaded with the model, for this chart only (needs `model`).
        encoding: the transcript file's encoding when it is not UTF-8 (e.g. "cp932").
        drafter: replaces draft() (same arguments), e.g. IncrementalChart.drafter, which reuses lines
            drafted while the visit went on; used only with `model`.
        rules_only: no model and no learned component: only the lines read from the words by rules (instant on
            any CPU; the baseline every figure is compared with). Refused with `model` or `reader=True`.
        reader: the learned reader's parts: its lines for clinical utterances no rule cites
            (kogata.tasks.karte.reader, .extractive) and the learned drug status, which keeps a drug off the
            current list unless it agrees with the rules (kogata.tasks.karte.drug_reader); None: each part's
            default (READER, DRUG_STATUS).
        embeddings: an EmbeddingCache (kogata.engine.embed) the reader and the drug status embed through, kept
            by a caller that charts the same visit again as it grows (a live visit: at its end only what was said
            since the last chart is embedded, most of a chart's time otherwise).
    """
    start = time.perf_counter()
    if rules_only and (model is not None or reader):
        raise InputError("rules_only means no language model and no learned reader: give neither model nor reader")
    if adapter and model is None:
        raise InputError("an adapter is loaded with a language model: give model= too (e.g. model='default')")
    transcript = source if isinstance(source, Transcript) else read_transcript(source, encoding=encoding)
    use_reader, use_status = use_parts(reader, rules_only)
    llm = model if isinstance(model, Model) else None
    # an unknown name fails here, before any work; the model itself loads only when the rules leave something
    # to draft (on most visits they do not), or at once when an adapter is asked for (checked against it)
    name = made_by("rules" if model is None else llm.spec.name if llm else get_spec(model).name, use_reader, use_status)
    if model is not None and llm is None and adapter:
        llm = load(model)
    embed_texts = embeddings or embed
    index = vocabulary.evidence(transcript)
    found = fact_rules.extract(index)
    if use_status:  # only ever takes a drug off the current list (kogata.tasks.karte.drug_reader.judge)
        from kogata.tasks.karte import drug_reader  # numpy weights and the embedder load only when asked for

        found.medications = drug_reader.judge(list(index.said.values()), found.medications, embed_texts=embed_texts)
    soap = _rule_lines(index, found)
    if use_reader:
        # before the model: it then reads only what neither rules nor reader took
        _reader_lines(index, found, soap, embed_texts)
    _diagnosis_lines(index, found, soap)
    lines: dict[str, list[dict]] = {s: [] for s in SECTIONS}
    if model is not None and (part := uncovered(list(index.said.values()), soap)):
        llm = llm or load(model)
        lines = (drafter or draft)(llm, part, adapter=adapter)
    soap = _assemble(index, found, soap, lines)
    return Chart(
        transcript=transcript,
        soap=soap,
        medications=[m for m in found.medications if m["status"] in fact_rules.CURRENT_STATUSES],
        allergies=found.allergies,
        vitals=found.vitals,
        problems=found.problems,
        negatives=found.negatives,
        seconds=time.perf_counter() - start,
        model=name,
    )
