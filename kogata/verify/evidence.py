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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kogata.ja import Finding, find_findings
from kogata.ja.diseases import find_diseases
from kogata.ja.drugs import Drug, find_drugs
from kogata.transcript import Transcript, Utterance
from kogata.verify.text import citation_problems, clean, content_chars, fact_problems, glyph_problems, quantities
from kogata.verify.vocabulary import Vocabulary

# Of a line's content characters (kogata.verify.text.content_chars), the share its cited words must have:
# at 0.4, 92 % of the correctly cited key facts of data/consultations pass and 97 % citing another utterance fail.
MIN_COVERAGE = 0.4


@dataclass
class Said:
    """One utterance as the verifier sees it."""

    utterance: Utterance
    text: str
    quantities: set[tuple[str, str]]
    drugs: set[str]
    findings: list[Finding]
    content: set[str]  # content characters a supported line may draw on (see `_vocabulary`)
    staff: bool = False  # said by the staff side (Vocabulary.staff): a plan or promise, not what is reported

    @property
    def id(self) -> int:
        return self.utterance.id


def _vocabulary(text: str, drugs: Sequence[Drug], findings: Sequence[Finding], vocabulary: Vocabulary) -> str:
    """An utterance with the words a chart may use for what it says: symptom terms, the generic and brand
    names of drugs, standard disease names, and the task's words for plain ones (Vocabulary.synonyms: 喉 → 咽頭)."""
    words = [text, *(f.term for f in findings)]
    words += [name for d in drugs for name in (d.generic, *d.brands)]
    words += [m.value.name for m in find_diseases(text)]
    source = " ".join(words)
    return source + " " + " ".join(term for term, plain in vocabulary.synonyms if any(p in source for p in plain))


@dataclass
class EvidenceIndex:
    """The utterances of one transcript as the verifier reads them; `vocabulary` is the task's (who is staff)."""

    transcript: Transcript
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
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
                quantities(text),
                {d.generic for d in drugs},
                findings,
                content_chars(_vocabulary(text, drugs, findings, self.vocabulary), self.vocabulary.stock_pattern),
                self.vocabulary.is_staff(u.speaker),
            )
        affirmed = {f.term for s in self.said.values() if not s.staff for f in s.findings if not f.negated}
        denied: dict[str, list[int]] = {}
        for s in self.said.values():
            if s.staff:
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
        if problems := citation_problems(evidence, self.said, none="根拠となる発言番号がありません", source="発言"):
            return problems
        cited = self.cited(evidence)
        ids = "・".join(str(i) for i in evidence)
        line = clean(text)
        problems = glyph_problems(text)

        drug_names = re.compile("|".join(re.escape(m.value.generic) for m in find_drugs(line)) or r"(?!)")
        written = quantities(drug_names.sub(" ", line))  # マクロゴール4000 is a name
        problems += fact_problems(line, written, cited, f"発言{ids}")

        for f in find_findings(line) if asserts_findings else ():
            if f.negated:
                continue
            if f.term in self.denied:
                denied = "・".join(map(str, self.denied[f.term]))
                problems.append(f"患者が否定した「{f.term}」が、ありとして書かれています（発言{denied}）")
            elif any(g.term == f.term and g.negated for s in cited for g in s.findings) and not any(
                g.term == f.term and not g.negated for s in cited for g in s.findings
            ):
                problems.append(f"発言{ids}では「{f.term}」は否定されています")

        grams = content_chars(line, self.vocabulary.stock_pattern)
        if grams:
            have = set().union(*(s.content for s in cited))
            coverage = len(grams & have) / len(grams)
            if coverage < MIN_COVERAGE:
                problems.append(f"内容が発言{ids}に見当たりません（一致 {coverage:.0%}）")
        return problems
