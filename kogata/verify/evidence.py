"""Tie every chart line to the words it came from, and flag the ones the cited words do not support.

An `EvidenceIndex` reads each utterance once (normalised text, numbers with units, drug names, symptom
findings with negation) and then checks any generated line against the utterances it cites:
- it cites at least one utterance, and only ones that exist;
- every number with its unit, and every drug, appears in the cited utterances (after normalisation);
- no finding the patient denied is written as present;
- the rest of its content can be found in the cited words (a line citing the wrong utterance fails here).
Shared by every task that writes evidence-linked output (karte, call-centre records).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from functools import lru_cache
from importlib.resources import files

from kogata.ja import Finding, find_findings, find_quantities, normalize, normalize_numbers
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import Drug, find_drugs
from kogata.ja.glyphs import non_japanese_chars
from kogata.transcript import Transcript, Utterance

if TYPE_CHECKING:
    from kogata.verify.passages import PassageIndex

# Speakers on the staff side of a conversation: clinicians in a consultation, the operator or clerk in a
# call or at a counter. Everyone else (患者, 家族, 顧客, 住民 …) is the side whose words are reported.
CLINICIAN_LABELS = (
    "医師",
    "先生",
    "ドクター",
    "Dr",
    "看護師",
    "ナース",
    "薬剤師",
    "技師",
    "オペレーター",
    "担当",
    "operator",
    "agent",
    "受付",
    "窓口",
    "職員",
    "スタッフ",
)
# Words that chart style adds around facts; they are not content a line must find in the transcript.
_STOCK = re.compile(
    r"あり|なし|無し|処方|継続|中止|変更|開始|指示|予定|所見|認め[るず]|疑い|内服中|経過観察|の|を|に|は|が|と|で|、|。|・|：|:|（|）|\(|\)|\s"
)
# Content characters (kanji, katakana, Latin, digits): chart style rewrites the kana of speech
# (昨日の夜から右の耳が痛い → 昨夜より右耳痛) but keeps these. Measured on the 595 key facts of
# data/consultations: at 0.4, 92 % of correctly cited facts pass and 97 % of facts citing a random other
# utterance fail (character bigrams managed 74 % / 99 %).
_CONTENT = re.compile(r"[\u30a0-\u30ff\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
MIN_COVERAGE = 0.4


@lru_cache(maxsize=None)
def _terms(name: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    text = files("kogata.ja").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return tuple((r["term"], tuple(r["plain"].split("|"))) for r in csv.DictReader(text.splitlines(), delimiter="\t"))


def lay_terms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Everyday words a chart always writes in its own (後ろ頭 → 後頭部, 昼ご飯 → 昼食; kogata/ja/data/lay_terms.tsv):
    safe to substitute anywhere, unlike 喉 → 咽頭 (「喉が赤い」 is not 「咽頭が赤い」 in a chart)."""
    return _terms("lay_terms.tsv")


@lru_cache(maxsize=1)
def chart_terms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Chart-style words and the plain words said for them (kogata/ja/data/chart_terms.tsv and lay_terms.tsv)."""
    return _terms("chart_terms.tsv") + lay_terms()


def is_clinician(speaker: str) -> bool:
    """True for the staff side (医師, 看護師, オペレーター, 窓口 …), whose words are plans and promises rather
    than what the patient or customer reports."""
    return any(label.lower() in speaker.lower() for label in CLINICIAN_LABELS)


def clean(text: str) -> str:
    """Normalised text as the verifier compares it: NFKC, spoken numbers as digits with units, ミリ as mg
    where a drug is named."""
    text = normalize_numbers(normalize(text))
    if find_drugs(text):
        text = re.sub(r"(\d+(?:\.\d+)?)ミリ(?!リットル|グラム|メートル|[Lgm])", r"\1mg", text)
    return text


@dataclass
class Said:
    """One utterance as the verifier sees it."""

    utterance: Utterance
    text: str
    quantities: set[tuple[str, str]]
    drugs: set[str]
    findings: list[Finding]
    content: set[str]  # content characters a supported line may draw on (see `_vocabulary`)

    @property
    def id(self) -> int:
        return self.utterance.id

    @property
    def clinician(self) -> bool:
        return is_clinician(self.utterance.speaker)


def same_quantity(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Equal values whose units agree, where a missing unit or a unit's prefix (mg of mg/dL) agrees too."""
    (value_a, unit_a), (value_b, unit_b) = a, b
    return value_a == value_b and (not unit_a or not unit_b or unit_a.startswith(unit_b) or unit_b.startswith(unit_a))


def _quantities(text: str) -> set[tuple[str, str]]:
    return {(q.value, q.unit) for q in find_quantities(text)}


def _vocabulary(text: str, drugs: Sequence[Drug], findings: Sequence[Finding]) -> str:
    """An utterance with the words a chart may use for what it says: symptom terms, the generic and brand
    names of drugs, standard disease names, and chart-style words for plain ones (喉 → 咽頭)."""
    words = [text, *(f.term for f in findings)]
    words += [name for d in drugs for name in (d.generic, *d.brands)]
    words += [m.value.name for m in find_diseases(text)]
    source = " ".join(words)
    return source + " " + " ".join(term for term, plain in chart_terms() if any(p in source for p in plain))


def content_chars(text: str) -> set[str]:
    """The content characters of a line (kanji, katakana, Latin, digits), without chart style's stock words."""
    return {c for c in _STOCK.sub(" ", text) if _CONTENT.match(c)}


@dataclass
class EvidenceIndex:
    transcript: Transcript
    said: dict[int, Said] = field(init=False)
    denied: dict[str, list[int]] = field(init=False)  # findings the patient side denied and never affirmed

    def __post_init__(self) -> None:
        self.said = {}
        for u in self.transcript.utterances:
            text = clean(u.text)
            drugs = [m.value for m in find_drugs(text)]
            findings = find_findings(text)
            self.said[u.id] = Said(
                u,
                text,
                _quantities(text),
                {d.generic for d in drugs},
                findings,
                content_chars(_vocabulary(text, drugs, findings)),
            )
        affirmed = {f.term for s in self.said.values() if not s.clinician for f in s.findings if not f.negated}
        denied: dict[str, list[int]] = {}
        for s in self.said.values():
            if s.clinician:
                continue
            for f in s.findings:
                if f.negated and f.term not in affirmed:
                    denied.setdefault(f.term, []).append(s.id)
        self.denied = denied

    @property
    def ids(self) -> list[int]:
        return list(self.said)

    def cited(self, ids: Iterable[int]) -> list[Said]:
        return [self.said[i] for i in ids if i in self.said]

    def check(self, text: str, evidence: Sequence[int], *, asserts_findings: bool = True) -> list[str]:
        """Why `text` is not supported by the utterances `evidence` cites (empty when it is).

        `asserts_findings=False` is for plans and instructions (「呼吸困難出現時は再診」), which name symptoms
        without saying the patient has them.
        """
        if not evidence:
            return ["根拠となる発言番号がありません"]
        unknown = [i for i in evidence if i not in self.said]
        if unknown:
            return [f"発言{', '.join(map(str, unknown))}は存在しません"]
        cited = self.cited(evidence)
        ids = "・".join(str(i) for i in evidence)
        line = clean(text)
        problems: list[str] = []
        if foreign := non_japanese_chars(text):
            problems.append(f"日本語で使わない漢字「{''.join(foreign)}」があります")

        cited_quantities = set().union(*(s.quantities for s in cited))
        drug_names = re.compile("|".join(re.escape(m.value.generic) for m in find_drugs(line)) or r"(?!)")
        for value, unit in sorted(_quantities(drug_names.sub(" ", line))):  # マクロゴール4000 is a name
            if not any(same_quantity((value, unit), said) for said in cited_quantities):
                problems.append(f"数値「{value}{unit}」が発言{ids}にありません")

        cited_drugs = set().union(*(s.drugs for s in cited))
        for m in find_drugs(line):
            if m.value.generic not in cited_drugs:
                problems.append(f"薬剤「{m.surface}」が発言{ids}にありません")

        for f in find_findings(line) if asserts_findings else ():
            if f.negated:
                continue
            if f.term in self.denied:
                problems.append(
                    f"患者が否定した「{f.term}」が、ありとして書かれています（発言{'・'.join(map(str, self.denied[f.term]))}）"
                )
            elif any(g.term == f.term and g.negated for s in cited for g in s.findings) and not any(
                g.term == f.term and not g.negated for s in cited for g in s.findings
            ):
                problems.append(f"発言{ids}では「{f.term}」は否定されています")

        grams = content_chars(line)
        if grams:
            have = set().union(*(s.content for s in cited))
            coverage = len(grams & have) / len(grams)
            if coverage < MIN_COVERAGE:
                problems.append(f"内容が発言{ids}に見当たりません（一致 {coverage:.0%}）")
        return problems


def recite(
    index: EvidenceIndex | PassageIndex, text: str, evidence: Sequence[int], *, neighbours: bool = True, **check_options
) -> tuple[list[int], list[str]]:
    """(evidence, problems) for a generated line: its own citation when the cited words support it; otherwise
    the first utterance or passage (or, with `neighbours`, pair of neighbouring utterances) that does, since a small
    model often quotes the right words under the wrong number. A line nothing supports keeps its citation and its
    problems. `check_options` go to index.check (asserts_findings for an EvidenceIndex)."""
    problems = index.check(text, evidence, **check_options)
    if not problems:
        return list(evidence), []
    ids = index.ids
    candidates = [[i] for i in ids] + ([[a, b] for a, b in zip(ids, ids[1:])] if neighbours else [])
    for candidate in candidates:
        if not index.check(text, candidate, **check_options):
            return candidate, []
    return list(evidence), problems
