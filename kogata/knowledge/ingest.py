"""Read an office's documents as text with their structure: txt, md, html, docx, pdf (and glossary TSV).

Every reader returns a `Document`: pages of text (one page unless the format has pages) in which headings
are Markdown `#` lines, so that one chunker (kogata.knowledge.chunk) serves every format.

A document is read within `Limits` (file size, a .docx's unpacked size, entries and compression ratio, a PDF's
pages, characters of text, passages), so that a crafted or mistaken file is refused at once with the limit it
broke instead of filling memory or taking hours. Each limit can be raised with an environment variable
(`KOGATA_DOC_MAX_BYTES`, `…_UNPACKED_BYTES`, `…_ENTRIES`, `…_RATIO`, `…_PAGES`, `…_CHARS`, `…_PASSAGES`).
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, fields
from html.parser import HTMLParser
from pathlib import Path

from kogata.errors import InputError
from kogata.ja.glossary import Entry, parse_glossary
from kogata.ja.script import japanese_ratio
from kogata.knowledge.chunk import MAX_CHARS, Chunk, chunk_pages

DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf")
GLOSSARY_SUFFIXES = (".tsv",)
SUFFIXES = DOCUMENT_SUFFIXES + GLOSSARY_SUFFIXES


@dataclass(frozen=True)
class Limits:
    """What one document may be. The defaults hold a municipality's longest regulations with room to spare."""

    bytes: int = 50_000_000  # the file as stored
    unpacked_bytes: int = 200_000_000  # a .docx (zip) once unpacked
    entries: int = 5_000  # files inside a .docx
    ratio: int = 200  # a .docx's unpacked size over its packed size (a zip bomb packs 1,000 : 1 and more)
    pages: int = 3_000  # of a PDF
    chars: int = 5_000_000  # of text read from the document
    passages: int = 5_000  # cut from one document (each is embedded: about 20 a second on 2 cores)

    @classmethod
    def from_env(cls) -> Limits:
        """Defaults, each replaced by KOGATA_DOC_MAX_<NAME> when it is set to a positive whole number."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"KOGATA_DOC_MAX_{f.name.upper()}")
            if raw is None:
                continue
            if not raw.isdigit() or int(raw) <= 0:
                raise InputError(f"KOGATA_DOC_MAX_{f.name.upper()}={raw!r} is not a positive whole number")
            values[f.name] = int(raw)
        return cls(**values)


def _too_big(path: Path, what: str, found: int, limit: int, name: str) -> InputError:
    return InputError(
        f"{path} is refused: {what} {found:,} is over the limit of {limit:,} (raise it with KOGATA_DOC_MAX_{name})"
    )


@dataclass
class Document:
    source: str  # file name, as cited
    pages: list[tuple[int | None, str]]
    title: str = ""

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.pages)

    def chunks(self, max_chars: int = MAX_CHARS, limits: Limits | None = None) -> list[Chunk]:
        limits = limits or Limits.from_env()
        chunks = chunk_pages(self.pages, source=self.source, title=self.title, max_chars=max_chars)
        if len(chunks) > limits.passages:
            raise _too_big(Path(self.source), "its passage count", len(chunks), limits.passages, "PASSAGES")
        return chunks


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_glossary(path: Path) -> bool:
    return path.suffix.lower() in GLOSSARY_SUFFIXES


def _size(path: Path, limits: Limits) -> int:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    if size > limits.bytes:
        raise _too_big(path, "its size in bytes", size, limits.bytes, "BYTES")
    return size


def _bytes(path: Path, limits: Limits | None = None) -> bytes:
    _size(path, limits or Limits.from_env())
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None


def _check_zip(path: Path, limits: Limits) -> None:
    """Refuse a .docx whose zip would unpack past the limits, before anything is unpacked."""
    packed = _size(path, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{path} is not a readable .docx file (not a zip archive)") from None
    if len(entries) > limits.entries:
        raise _too_big(path, "its number of zip entries", len(entries), limits.entries, "ENTRIES")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > limits.unpacked_bytes:
        raise _too_big(path, "its unpacked size in bytes", unpacked, limits.unpacked_bytes, "UNPACKED_BYTES")
    # The ratio of the whole file and of each large entry: a bomb hides one huge entry among ordinary ones.
    ratios = [(unpacked, packed)] + [(e.file_size, e.compress_size) for e in entries]
    for size, stored in ratios:
        if size > 1_000_000 and size > limits.ratio * max(stored, 1):
            raise _too_big(path, "its compression ratio", size // max(stored, 1), limits.ratio, "RATIO")


def _check_text(path: Path, document: Document, limits: Limits) -> Document:
    chars = sum(len(t) for _, t in document.pages)
    if chars > limits.chars:
        raise _too_big(path, "its text length in characters", chars, limits.chars, "CHARS")
    return document


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM); Shift_JIS (cp932), which Japanese offices still write, when it reads as Japanese."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        raise InputError(f"{path} is neither UTF-8 nor Shift_JIS text") from None
    if japanese_ratio(text) < 0.3:
        raise InputError(f"{path} is not UTF-8 text (and does not read as Japanese in Shift_JIS)")
    return text


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1")


def _markdown(text: str) -> str:
    """Markdown keeps its `#` headings; links, emphasis and code marks give way to their text."""
    out = []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            line = _MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", line))
            if set(line.strip()) <= set("-=*_|: ") and line.strip():  # rules and table separators
                continue
        out.append(line)
    return "\n".join(out)


class _HTMLText(HTMLParser):
    _BLOCK = {"p", "div", "li", "tr", "br", "section", "article", "dt", "dd", "table", "ul", "ol", "blockquote", "pre"}
    _SKIP = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skip:
            self.parts.append(re.sub(r"\s*\n\s*", " ", data) if data.strip() else "")


def read_html(path: Path, limits: Limits | None = None) -> Document:
    parser = _HTMLText()
    parser.feed(_decode(_bytes(path, limits), path))
    text = re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))
    return Document(path.name, [(None, text)], parser.title)


def read_docx(path: Path, limits: Limits | None = None) -> Document:
    try:
        import docx
    except ImportError as e:
        raise InputError("reading .docx needs python-docx: .venv/bin/pip install python-docx==1.2.0") from e
    _check_zip(path, limits or Limits.from_env())
    try:
        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises several types for a file that is not a Word document
        raise InputError(f"{path} is not a readable .docx file ({type(e).__name__})") from None
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = docx.text.paragraph.Paragraph(block, document)
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = re.search(r"(?:Heading|見出し)\s*(\d)", style)
            if style == "Title":
                lines.append(f"# {paragraph.text}")
            elif level:
                lines.append(f"{'#' * min(6, int(level.group(1)) + 1)} {paragraph.text}")
            else:
                lines.append(paragraph.text)
        elif tag == "tbl":
            table = docx.table.Table(block, document)
            for row in table.rows:
                lines.append(" ".join(cell.text.strip() for cell in row.cells))
            lines.append("")
    return Document(path.name, [(None, "\n".join(lines))], document.core_properties.title or "")


def read_pdf(path: Path, limits: Limits | None = None) -> Document:
    limits = limits or Limits.from_env()
    _size(path, limits)
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as e:
        raise InputError("reading .pdf needs pypdf: .venv/bin/pip install pypdf==7.1.0") from e
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise InputError(f"{path} is an encrypted PDF; save an unencrypted copy first")
        if len(reader.pages) > limits.pages:
            raise _too_big(path, "its page count", len(reader.pages), limits.pages, "PAGES")
        pages, chars = [], 0
        for i, page in enumerate(reader.pages, 1):
            text = page.extract_text() or ""
            chars += len(text)
            if chars > limits.chars:  # stop reading as soon as the text is too long, not after
                raise _too_big(path, "its text length in characters", chars, limits.chars, "CHARS")
            pages.append((i, text))
    except (PdfReadError, OSError, ValueError) as e:
        raise InputError(f"{path} is not a readable PDF ({e})") from None
    if not any(text.strip() for _, text in pages):
        raise InputError(f"{path} has no text layer (a scanned PDF?); kogata does not read images (no OCR)")
    title = ""
    try:
        title = (reader.metadata.title or "") if reader.metadata else ""
    except Exception:  # broken metadata must not stop the text
        pass
    return Document(path.name, pages, title)


def read_document(path: str | Path, limits: Limits | None = None) -> Document:
    """The document at `path` (txt, md, html, docx, pdf) as text with its structure; InputError past `limits`."""
    path = Path(path)
    limits = limits or Limits.from_env()
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'}; kogata reads {', '.join(SUFFIXES)}")
    if suffix in (".html", ".htm"):
        document = read_html(path, limits)
    elif suffix == ".docx":
        document = read_docx(path, limits)
    elif suffix == ".pdf":
        document = read_pdf(path, limits)
    else:
        text = _decode(_bytes(path, limits), path)
        document = Document(path.name, [(None, _markdown(text) if suffix in (".md", ".markdown") else text)])
    _check_text(path, document, limits)
    if not document.text.strip():
        raise InputError(f"{path} has no text")
    return document


def read_glossary(path: str | Path) -> list[Entry]:
    path = Path(path)
    return parse_glossary(_decode(_bytes(path), path), name=str(path))
