"""Check a generated sentence against the document passages it cites (answers over a knowledge pack).

The same rules as a chart line against utterances (kogata.verify.evidence), with the words of documents:
- it cites at least one passage, and only ones that exist;
- every number (with its unit), drug and article reference (第5条) appears in the cited passages;
- every name appears there: proper nouns, katakana terms and Latin/alphanumeric words (a form number, a
  vaccine, a place) — or a glossary form of the same term;
- the rest of its content characters can be found there (a sentence citing the wrong passage fails here).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kogata.ja.drugs import find_drugs
from kogata.ja.glossary import Glossary
from kogata.ja.glyphs import non_japanese_chars
from kogata.ja.tokenizer import tokenize
from kogata.verify.evidence import _content, _quantities, clean, same_quantity

# Answers paraphrase regulations less than charts rewrite speech, so more of a sentence must be found.
MIN_COVERAGE = 0.6
_KATAKANA = re.compile(r"^[\u30a0-\u30ffー]{2,}$")
_ALNUM = re.compile(r"^[A-Za-z][A-Za-z0-9\-]+$")
_ARTICLE = re.compile(r"第([0-9〇一二三四五六七八九十百千]+)条((?:の[0-9〇一二三四五六七八九十]+)*)")


@dataclass
class Source:
    """One passage as the verifier sees it."""
    id: int
    text: str  # cleaned: NFKC, numbers as digits
    quantities: set[tuple[str, str]]
    drugs: set[str]
    articles: set[str]
    content: set[str]


def _articles(text: str) -> set[str]:
    from kogata.knowledge.chunk import article_refs  # the same spelling of 第五条 as the pack's citations

    return {ref for ref in article_refs(text) if "項" not in ref}


def names(text: str) -> list[str]:
    """Words a sentence may not change: proper nouns, katakana terms, Latin/alphanumeric words."""
    out = []
    for t in tokenize(text):
        if t.pos[0] != "名詞":
            continue
        if t.pos[1] == "固有名詞" or _KATAKANA.match(t.surface) or _ALNUM.match(t.surface):
            out.append(t.surface)
    return list(dict.fromkeys(out))


@dataclass
class PassageIndex:
    passages: dict[int, str]  # id → passage text (with its citation header, e.g. title and 第5条)
    glossary: Glossary = field(default_factory=Glossary)

    def __post_init__(self) -> None:
        self.sources: dict[int, Source] = {}
        for i, raw in self.passages.items():
            text = clean(raw)
            self.sources[i] = Source(i, text, _quantities(text), {m.value.generic for m in find_drugs(text)},
                                     _articles(text), _content(text))

    def _known_forms(self, word: str) -> Iterable[str]:
        yield word
        for m in self.glossary.find(word) if len(self.glossary) else ():
            yield from m.value.forms

    def check(self, text: str, cites: Sequence[int]) -> list[str]:
        """Why `text` is not supported by the passages `cites` names (empty when it is)."""
        if not cites:
            return ["出典の番号がありません"]
        unknown = [i for i in cites if i not in self.sources]
        if unknown:
            return [f"資料{', '.join(map(str, unknown))}は存在しません"]
        cited = [self.sources[i] for i in cites]
        ids = "・".join(str(i) for i in cites)
        line = clean(text)
        problems: list[str] = []
        if foreign := non_japanese_chars(text):
            problems.append(f"日本語で使わない漢字「{''.join(foreign)}」があります")
        have_quantities = set().union(*(s.quantities for s in cited))
        for value, unit in sorted(_quantities(line)):
            if not any(same_quantity((value, unit), q) for q in have_quantities):
                problems.append(f"数値「{value}{unit}」が資料{ids}にありません")
        have_drugs = set().union(*(s.drugs for s in cited))
        for m in find_drugs(line):
            if m.value.generic not in have_drugs:
                problems.append(f"薬剤「{m.surface}」が資料{ids}にありません")
        have_articles = set().union(*(s.articles for s in cited))
        for ref in sorted(_articles(line) - have_articles):
            problems.append(f"「{ref}」が資料{ids}にありません")
        joined = " ".join(s.text for s in cited)
        for word in names(line):
            if not any(form in joined for form in self._known_forms(word)):
                problems.append(f"「{word}」が資料{ids}にありません")
        grams = _content(line)
        if grams:
            coverage = len(grams & set().union(*(s.content for s in cited))) / len(grams)
            if coverage < MIN_COVERAGE:
                problems.append(f"内容が資料{ids}に見当たりません（一致 {coverage:.0%}）")
        return problems
