"""Cut documents into passages along Japanese document structure, each passage knowing where it came from.

Regulations (条文) are cut by article: 第○条 with its caption （交付の請求）, its paragraphs (2, 3 … at the start
of a line, or `#### 第2項` headings) and items (一 … / `第2号`). An article that fits `max_chars` is one passage
(a citation names the article); a longer one is cut between paragraphs (the citation names them: 第3条第2項),
and a paragraph longer still between sentences (after 。). Other text is cut by headings (`#` lines, 第1章/第1節,
附則), then by blank-line blocks and sentences. A passage never spans two headings or two articles, and
remembers the page it starts on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from kogata.ja.articles import NUMERALS, article_label, number

MAX_CHARS = 400  # e5 reads at most 512 tokens; about 400 Japanese characters keeps one passage to one point

_NUM = NUMERALS
_ARTICLE = re.compile(rf"^第([{_NUM}]+)条((?:の[{_NUM}]+)*)(?=[\s(（]|$)")
_PARAGRAPH_HEADING = re.compile(rf"^第([{_NUM}]+)項$")
_ITEM_HEADING = re.compile(rf"^第([{_NUM}]+)号$")
_PARAGRAPH_LINE = re.compile(r"^([0-9]{1,2})[\s　]+(?=\S)")  # "2 前項の規定により…" (NFKC folds ２　)
_CHAPTER = re.compile(rf"^第[{_NUM}]+(章|節|款)(?:[\s　]|$)")
_SUPPLEMENT = re.compile(r"^附[\s　]*則(?:[\s　(（]|$)")
_CAPTION = re.compile(r"^[(（][^()（）]{1,30}[)）]$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


@dataclass(frozen=True)
class Chunk:
    text: str
    source: str  # file name, as cited
    title: str = ""  # document title (first heading, or the file name)
    section: str = ""  # 第3条第2項, or the heading path of other text: 「ごみの出し方 > 粗大ごみ」
    caption: str = ""  # an article's caption, e.g. 交付の請求
    page: int | None = None  # 1-based page of a PDF

    @property
    def context(self) -> str:
        """The passage with where it sits, as indexed and shown to the model."""
        where = " ".join(p for p in (self.title, self.section, f"（{self.caption}）" if self.caption else "") if p)
        return f"{where}\n{self.text}" if where else self.text

    @property
    def citation(self) -> str:
        """Where to find it: file, article or section, page."""
        parts = [self.source]
        if self.section:
            parts.append(self.section)
        if self.page is not None:
            parts.append(f"{self.page}ページ")
        return " ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Unit:
    """A paragraph (項) of an article, or a block of other text, with the page it starts on."""

    lines: list[str]
    page: int | None
    paragraph: int | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _split_sentences(text: str, max_chars: int) -> list[str]:
    """Pieces of at most max_chars, cut after 。 where possible (and hard-cut only a sentence longer than that)."""
    pieces: list[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        while len(sentence) > max_chars:  # one very long sentence: cut at a line break or comma, else anywhere
            cut = max(sentence.rfind("\n", 0, max_chars), sentence.rfind("、", 0, max_chars)) + 1 or max_chars
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if len(current) + len(sentence) > max_chars and current:
            pieces.append(current)
            current = ""
        current += sentence
    if current.strip():
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


class _Chunker:
    def __init__(self, source: str, title: str, max_chars: int):
        self.source, self.title, self.max_chars = source, title, max_chars
        self.headings: list[tuple[int, str]] = []
        self.article: str | None = None
        self.caption = ""
        self.pending_caption = ""
        self.units: list[_Unit] = []
        self.chunks: list[Chunk] = []

    # ── structure ──
    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.article = None
        self.headings = [(lv, t) for lv, t in self.headings if lv < level] + [(level, text)]
        if not self.title:
            self.title = text

    def start_article(self, label: str, rest: str, page: int | None) -> None:
        self.flush()
        self.article, self.caption, self.pending_caption = label, self.pending_caption, ""
        self.units = [_Unit([rest] if rest else [], page, 1)]

    def start_paragraph(self, n: int, line: str, page: int | None) -> None:
        if self.units and not any(self.units[-1].lines):
            self.units[-1] = _Unit([line] if line else [], page, n)  # a `第1項` heading right after the article
        else:
            self.units.append(_Unit([line] if line else [], page, n))

    def line(self, text: str, page: int | None) -> None:
        if self.pending_caption:  # a parenthesised line not followed by an article was text after all
            text, self.pending_caption = f"{self.pending_caption}\n{text}", ""
        if not self.units:
            self.units.append(_Unit([], page))
        self.units[-1].lines.append(text)

    def blank(self, page: int | None) -> None:
        if self.article is None and self.units and self.units[-1].lines:
            self.units.append(_Unit([], page))  # a block boundary in ordinary text

    # ── output ──
    def _section(self, first: _Unit, last: _Unit) -> str:
        if self.article is None:
            return " > ".join(t for lv, t in self.headings[1:]) if len(self.headings) > 1 else ""
        if first.paragraph is None or (first.paragraph == 1 and last is self.units[-1] and first is self.units[0]):
            return self.article
        if first.paragraph == last.paragraph:
            return f"{self.article}第{first.paragraph}項"
        return f"{self.article}第{first.paragraph}項〜第{last.paragraph}項"

    def _emit(self, text: str, first: _Unit, last: _Unit) -> None:
        if text.strip():
            self.chunks.append(
                Chunk(
                    text.strip(),
                    self.source,
                    self.title,
                    self._section(first, last),
                    self.caption if self.article else "",
                    first.page,
                )
            )

    def flush(self) -> None:
        units = [u for u in self.units if u.text.strip()]
        self.units = units
        group: list[_Unit] = []
        for unit in units:
            if group and sum(len(u.text) + 1 for u in group) + len(unit.text) > self.max_chars:
                self._emit("\n".join(u.text for u in group), group[0], group[-1])
                group = []
            if len(unit.text) > self.max_chars:
                for piece in _split_sentences(unit.text, self.max_chars):
                    self._emit(piece, unit, unit)
                continue
            group.append(unit)
        if group:
            self._emit("\n".join(u.text for u in group), group[0], group[-1])
        self.units = []


def _looks_like_title(line: str) -> bool:
    return (
        len(line) <= 60
        and not line.endswith(("。", "、"))
        and not _HEADING.match(line)
        and not _ARTICLE.match(line)
        and not _CAPTION.match(line)
        and not _CHAPTER.match(line)
    )


def chunk_pages(
    pages: list[tuple[int | None, str]], *, source: str, title: str = "", max_chars: int = MAX_CHARS
) -> list[Chunk]:
    """Passages of a document given as (page number or None, text) pairs; `#` lines are headings."""
    c = _Chunker(source, title, max_chars)
    first = True
    for page, text in pages:
        for raw in text.splitlines():
            line = unicodedata.normalize("NFKC", raw).strip()
            if not line:
                c.blank(page)
                continue
            if first and not title and _looks_like_title(line):  # a plain-text document's first line names it
                first = False
                c.heading(1, line)
                continue
            first = False
            if m := _HEADING.match(line):
                level, heading = len(m.group(1)), m.group(2)
                if a := _ARTICLE.match(heading):
                    c.start_article(article_label(a.group(1), a.group(2)), heading[a.end() :].strip(), page)
                elif (p := _PARAGRAPH_HEADING.match(heading)) and c.article:
                    c.start_paragraph(number(p.group(1)), "", page)
                elif _ITEM_HEADING.match(heading) and c.article:
                    c.line(heading, page)
                else:
                    c.heading(level, heading)
                continue
            if chapter := _CHAPTER.match(line):
                c.heading(2 if chapter.group(1) == "章" else 3, line)
            elif _SUPPLEMENT.match(line):
                c.heading(2, re.sub(r"^附\s*則", "附則", line))
            elif _CAPTION.match(line):
                if c.article is None:
                    c.flush()
                c.pending_caption = line[1:-1]
            elif a := _ARTICLE.match(line):
                try:
                    label = article_label(a.group(1), a.group(2))
                except ValueError:
                    c.line(line, page)
                    continue
                c.start_article(label, line[a.end() :].strip(), page)
            elif (p := _PARAGRAPH_LINE.match(line)) and c.article:
                c.start_paragraph(int(p.group(1)), line, page)
            else:
                c.line(line, page)
    c.flush()
    return c.chunks


def chunk_text(text: str, *, source: str, title: str = "", max_chars: int = MAX_CHARS) -> list[Chunk]:
    return chunk_pages([(None, text)], source=source, title=title, max_chars=max_chars)
