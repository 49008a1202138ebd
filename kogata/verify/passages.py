"""Check a generated sentence against the document passages it cites (answers over a knowledge pack).

The same rules as a chart line against utterances (kogata.verify.evidence), with the words of documents:
- it cites at least one passage, and only ones that exist;
- every number (with its unit), drug and article reference (第5条) appears in the cited passages;
- every name and content noun appears there: proper nouns, katakana terms, Latin/alphanumeric words and
  common nouns (手数料, 犬, 登録) — as written, in Sudachi's normalised form, or as a glossary form of the
  same term. An answer about 犬の登録 citing a passage on 住民票 fails here even when its number matches;
- the rest of its content characters can be found there (a sentence citing the wrong passage fails here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kogata.ja.articles import article_refs  # the same spelling of 第五条 as the pack's citations
from kogata.ja.drugs import find_drugs
from kogata.ja.glossary import Glossary
from kogata.ja.numbers import parse_kanji_number
from kogata.ja.tokenizer import tokenize
from kogata.verify.text import citation_problems, clean, content_chars, fact_problems, glyph_problems, quantities
from kogata.verify.vocabulary import Vocabulary

# Answers paraphrase regulations less than charts rewrite speech, so more of a sentence must be found.
MIN_COVERAGE = 0.6
_OKURIGANA = re.compile(r"[\u3041-\u309f]+$")
_KATAKANA = re.compile(r"^[\u30a0-\u30ffー]{2,}$")
_ALNUM = re.compile(r"^[A-Za-z][A-Za-z0-9\-]+$")
_ARTICLE = re.compile(r"第([0-9〇一二三四五六七八九十百千]+)(条|項|号)((?:の[0-9〇一二三四五六七八九十]+)*)")


@dataclass
class Source:
    """One passage as the verifier sees it."""

    id: int
    text: str  # cleaned: NFKC, numbers as digits
    quantities: set[tuple[str, str]]
    drugs: set[str]
    articles: set[str]
    content: set[str]
    words: set[str]  # Sudachi normalised forms


def document_clean(text: str) -> str:
    """`clean` for documents: counts in kanji as digits, and article numbers kept out of the numbers (第9条
    is checked as an article, not as the number 9)."""

    def count(m: re.Match[str]) -> str:
        try:
            return str(parse_kanji_number(m.group(1)))
        except ValueError:
            return m.group(0)

    return clean(_DOCUMENT_COUNT.sub(count, text))


def _without_articles(text: str) -> str:
    return _ARTICLE.sub(lambda m: "第" + m.group(2), text)


def _articles(text: str) -> set[str]:
    return {ref for ref in article_refs(text) if "項" not in ref}


# Nouns that carry no fact of their own; an answer may use them freely.
_STOCK_NOUNS = {
    "場合",
    "こと",
    "事",
    "もの",
    "物",
    "ため",
    "為",
    "方",
    "ほう",
    "必要",
    "際",
    "ほか",
    "他",
    "とき",
    "時",
    "以上",
    "以下",
    "以内",
    "未満",
    "まで",
    "から",
    "等",
    "など",
    "通り",
    "とおり",
    "内容",
    "対象",
    "方法",
    "件",
    "旨",
    "上",
    "中",
    "後",
    "前",
    "次",
    "各",
    "可能",
    "お",
    "ご",
    "質問",
    "回答",
    "資料",
    "規定",
    "人",
    "者",
    "方々",
    "皆様",
    "あなた",
}
# Regulations write counts in kanji (一通, 二種類, 十世帯) where the general number reader is conservative;
# in documents a kanji numeral before one of these counters is always a count.
_DOCUMENT_COUNT = re.compile(
    r"(?<![\u3400-\u9fff])([〇一二三四五六七八九十百千万]+)(?=通|件|枚|点|種類|世帯|部|冊|台|名|カ所|か所|箇所)"
)


def nouns(text: str) -> list[tuple[str, str]]:
    """(surface, normalised form) of the words a sentence may not change: names and content nouns."""
    out = []
    for t in tokenize(text):
        if t.pos[0] != "名詞" or t.pos[1] == "数詞" or t.surface in _STOCK_NOUNS or not t.surface.strip():
            continue
        if t.pos[1] in ("普通名詞", "固有名詞") or _KATAKANA.match(t.surface) or _ALNUM.match(t.surface):
            out.append((t.surface, t.normalized_form))
    return list(dict.fromkeys(out))


@dataclass
class PassageIndex:
    passages: dict[int, str]  # id → passage text (with its citation header, e.g. title and 第5条)
    glossary: Glossary = field(default_factory=Glossary)
    vocabulary: Vocabulary = field(default_factory=Vocabulary)  # the task's stock words

    def __post_init__(self) -> None:
        self.sources: dict[int, Source] = {}
        for i, raw in self.passages.items():
            text = document_clean(raw)
            self.sources[i] = Source(
                i,
                text,
                quantities(_without_articles(text)),
                {m.value.generic for m in find_drugs(text)},
                _articles(text),
                content_chars(text, self.vocabulary.stock_pattern),
                {t.normalized_form for t in tokenize(text)},
            )

    @property
    def ids(self) -> list[int]:
        return list(self.passages)

    def _known_forms(self, word: str) -> Iterable[str]:
        yield word
        for m in self.glossary.find(word) if len(self.glossary) else ():
            yield from m.value.forms

    def _found(self, surface: str, normal: str, joined: str, words: set[str]) -> bool:
        if normal in words or any(form in joined for form in self._known_forms(surface)):
            return True
        # a noun made from a verb (申込み, 届出) matches the verb the regulation uses (申し込む, 届け出る)
        stem = _OKURIGANA.sub("", normal)
        return len(stem) >= 2 and stem != normal and stem in joined

    def check(self, text: str, cites: Sequence[int]) -> list[str]:
        """Why `text` is not supported by the passages `cites` names (empty when it is)."""
        if problems := citation_problems(cites, self.sources, none="出典の番号がありません", source="資料"):
            return problems
        cited = [self.sources[i] for i in cites]
        ids = "・".join(str(i) for i in cites)
        line = document_clean(text)
        problems = glyph_problems(text)
        problems += fact_problems(line, quantities(_without_articles(line)), cited, f"資料{ids}")
        have_articles = set().union(*(s.articles for s in cited))
        for ref in sorted(_articles(line) - have_articles):
            problems.append(f"「{ref}」が資料{ids}にありません")
        joined = " ".join(s.text for s in cited)
        words = set().union(*(s.words for s in cited))
        missing = [surface for surface, normal in nouns(line) if not self._found(surface, normal, joined, words)]
        if missing:
            problems.append(f"「{'」「'.join(missing)}」が資料{ids}にありません")
        grams = content_chars(line, self.vocabulary.stock_pattern)
        if grams:
            coverage = len(grams & set().union(*(s.content for s in cited))) / len(grams)
            if coverage < MIN_COVERAGE:
                problems.append(f"内容が資料{ids}に見当たりません（一致 {coverage:.0%}）")
        return problems
