"""Reading a consultation transcript (labelled lines or JSON) into numbered utterances, the evidence a chart cites.

Text form, one utterance per labelled line; unlabelled lines continue the previous utterance:

    # 2024-05-01 内科外来          ← comment
    医師：今日はどうされましたか。
    患者: 三日前から熱があって、
    咳も出ます。                   ← continuation

JSON form: {"utterances": [{"speaker": "医師", "text": "…", "start": 0.0, "end": 2.5}, …]}; a label the recogniser
guessed also carries "speaker_confidence" (0–1) and "speaker_sure" (as `kogata transcribe --format json` writes).
Utterance ids are always 1, 2, 3 … in order of appearance: ids inside the JSON are ignored.
Utterance text is kept exactly as written (only trimmed); normalisation happens in kogata.ja.
"""

from __future__ import annotations

import codecs
import json
import math
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kogata.errors import TranscriptError, reading
from kogata.ja.script import MIN_JAPANESE_RATIO, is_japanese, is_kana, is_kanji, japanese_ratio

STDIN = "-"
DEFAULT_MAX_CHARS = 60_000
MAX_LABEL_CHARS = 10
_COLONS = ":：﹕︓"  # every character NFKC folds to ":"
EXPECTED_FORMAT = "one line per utterance such as `医師：今日はどうされましたか` / `患者：熱があります`"

# Legacy Japanese encodings tried when the bytes are not UTF-8: (Python codec, name people know it by).
# cp932 is Windows' Shift_JIS and a superset of it, so it is the one to suggest.
_LEGACY = (("cp932", "Shift_JIS"), ("euc_jp", "EUC-JP"))


@dataclass(frozen=True)
class Utterance:
    """One turn of the consultation. `id` is what a chart line cites as evidence."""

    id: int
    speaker: str
    text: str
    start: float | None = None  # seconds from the start of the recording, when the transcript has timings
    end: float | None = None
    # When the speaker was guessed from turns and words (kogata.speech.speakers): how sure, 0–1, and whether the
    # guess is sure enough to show as a plain label; None for labels a person wrote or corrected.
    speaker_confidence: float | None = None
    speaker_sure: bool | None = None


def _record(u: Utterance) -> dict[str, Any]:
    guessed = ("speaker_confidence", "speaker_sure")
    return {k: v for k, v in asdict(u).items() if k not in guessed or v is not None}


@dataclass
class Transcript:
    """A consultation as numbered utterances (ids 1..N) and where it was read from."""

    utterances: list[Utterance]
    source: str = ""

    def by_id(self, id: int) -> Utterance:
        """The utterance with this id; KeyError when there is none (e.g. a model cited an id that does not exist)."""
        if 1 <= id <= len(self.utterances) and self.utterances[id - 1].id == id:
            return self.utterances[id - 1]
        for u in self.utterances:
            if u.id == id:
                return u
        raise KeyError(f"no utterance {id} in transcript {self.source or ''} ({len(self.utterances)} utterances)")

    def text_of(self, ids: Iterable[int]) -> str:
        """Texts of the given utterances, in the order given, one per line."""
        return "\n".join(self.by_id(i).text for i in ids)

    @property
    def char_count(self) -> int:
        """Characters of utterance text (labels and layout excluded)."""
        return sum(len(u.text) for u in self.utterances)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; read_transcript accepts it back."""
        return {"source": self.source, "utterances": [_record(u) for u in self.utterances]}


def read_transcript(
    source: str | Path | bytes, *, encoding: str | None = None, max_chars: int = DEFAULT_MAX_CHARS
) -> Transcript:
    """Read a transcript from a file path, "-" (stdin) or raw bytes. UTF-8 (BOM allowed) unless `encoding` is given.

    Raises TranscriptError when it is empty, not UTF-8, too long, without utterances, or not Japanese.
    """
    # UTF-8 needs at most 4 bytes a character; reading no more keeps a wrong 2 GB file from filling memory.
    byte_limit = max_chars * 4 + len(codecs.BOM_UTF8)
    data, name = _read_bytes(source, byte_limit)
    if not data:
        raise TranscriptError(f"transcript is empty (文字起こしが空です): {name}")
    if len(data) > byte_limit:
        raise TranscriptError(
            f"transcript is too long (文字数が上限を超えています): {name} is over {byte_limit:,} bytes, "
            f"the limit is {max_chars:,} characters; split the consultation"
        )
    return parse_transcript(_decode(data, encoding, name), source=name, max_chars=max_chars)


def parse_transcript(text: str, *, source: str = "", max_chars: int = DEFAULT_MAX_CHARS) -> Transcript:
    """Parse already-decoded transcript text (labelled lines or JSON); same checks as read_transcript."""
    name = source or "<text>"
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TranscriptError(f"transcript is empty (文字起こしが空です): {name}")
    if len(text) > max_chars:
        raise TranscriptError(
            f"transcript is too long (文字数が上限を超えています): {name} has {len(text):,} characters, "
            f"the limit is {max_chars:,}; split the consultation"
        )
    turns = _parse_json(text, name) if text.lstrip().startswith("{") else _parse_lines(text, name)
    return _numbered(turns, name, source)


def from_records(
    items: Sequence[Any] | Mapping[str, Any], *, source: str = "", max_chars: int = DEFAULT_MAX_CHARS
) -> Transcript:
    """Utterance records already in hand (mappings with "speaker" and "text", optional "start" and "end" in
    seconds), or a JSON transcript's object {"utterances": [...]} already decoded, → a Transcript, with the
    checks a JSON transcript gets: for callers that hold records, so nothing goes through JSON text and back."""
    name = source or "<records>"
    turns = _turns_from_records(_utterances(items, name) if isinstance(items, Mapping) else items, name)
    if (chars := sum(len(t[1]) for t in turns)) > max_chars:
        raise TranscriptError(
            f"transcript is too long (文字数が上限を超えています): {name} has {chars:,} characters, "
            f"the limit is {max_chars:,}; split the consultation"
        )
    return _numbered(turns, name, source)


def _numbered(turns: list[Turn], name: str, source: str) -> Transcript:
    """Ids 1..N for the turns, once they are known to be there and Japanese."""
    if not turns:
        raise TranscriptError(
            f"no utterance found in transcript {name} (発話が見つかりません): expected {EXPECTED_FORMAT}, "
            'or JSON {"utterances": [{"speaker": "医師", "text": "…"}]}'
        )
    _check_japanese("".join(t[1] for t in turns), name)
    return Transcript([Utterance(i, *turn) for i, turn in enumerate(turns, start=1)], source=source)


# ---------------------------------------------------------------------------------------------------------------
# Bytes → text.


def _read_bytes(source: str | Path | bytes, limit: int) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "<bytes>"
    if isinstance(source, str) and source == STDIN:
        stream = getattr(sys.stdin, "buffer", sys.stdin)  # tests and embedders may swap in a text stream
        data = stream.read(limit + 1)
        return (data.encode("utf-8") if isinstance(data, str) else data), "<stdin>"
    path = Path(source)
    with reading(path, "transcript", TranscriptError), path.open("rb") as f:
        return f.read(limit + 1), str(path)


def _decode(data: bytes, encoding: str | None, name: str) -> str:
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise TranscriptError(f"unknown encoding {encoding!r} for transcript {name}") from None
        try:
            return data.decode("utf-8-sig" if codec == "utf-8" else codec)
        except UnicodeDecodeError as e:
            raise TranscriptError(
                f"transcript {name} is not valid {encoding} (bad byte at offset {e.start}); check --encoding"
            ) from None
    hint = _encoding_hint(data)
    if hint is None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise TranscriptError(
                f"transcript {name} is not UTF-8 (invalid byte at offset {e.start}) and not Shift_JIS or EUC-JP "
                f"either (文字コードがUTF-8ではありません); convert it to UTF-8"
            ) from None
        if "\x00" in text:  # valid UTF-8 can hold NULs; text never does: binary, or UTF-16 without a BOM
            raise TranscriptError(
                f"transcript {name} contains NUL bytes: a binary file, or UTF-16 without a BOM "
                f"(pass --encoding utf-16-le)"
            )
        return text
    label, codec = hint
    raise TranscriptError(
        f"transcript {name} is not UTF-8 (looks like {label}) (文字コードがUTF-8ではありません); "
        f"convert it or pass --encoding {codec}"
    )


def _encoding_hint(data: bytes) -> tuple[str, str] | None:
    """(name, codec) of the non-UTF-8 encoding the bytes are in, or None when they are (or may be) UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16", "utf-16"
    # ISO-2022-JP is 7-bit, so it also decodes as UTF-8; its escape sequences give it away.
    if b"\x1b$B" in data or b"\x1b$@" in data:
        return "ISO-2022-JP", "iso2022_jp"
    try:
        data.decode("utf-8-sig")
        return None
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for codec, label in _LEGACY:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        # EUC-JP read as cp932 decodes to half-width katakana soup; the right guess yields hiragana and kanji.
        score = sum(1 for ch in text if is_kanji(ch) or 0x3041 <= ord(ch) <= 0x309F)
        score -= sum(1 for ch in text if 0xFF61 <= ord(ch) <= 0xFF9F)
        if score > 0 and (best is None or score > best[0]):
            best = (score, label, codec)
    return (best[1], best[2]) if best else None


# ---------------------------------------------------------------------------------------------------------------
# Text → utterances. A turn is (speaker, text, start, end), and from records also the speaker guess (confidence, sure).

Turn = (
    tuple[str, str, float | None, float | None] | tuple[str, str, float | None, float | None, float | None, bool | None]
)


def _speaker_label(line: str) -> tuple[str, str] | None:
    """(speaker, rest) when the line starts with a label such as 医師： or Dr:, else None."""
    at = next((i for i, ch in enumerate(line) if ch in _COLONS), -1)
    if at <= 0:
        return None
    label = unicodedata.normalize("NFKC", line[:at]).strip()
    if label.endswith("?"):  # 患者?： is kogata transcribe's unsure guess; the chart reads it as the label
        label = label[:-1].rstrip()
    if not 1 <= len(label) <= MAX_LABEL_CHARS:
        return None
    # Letters, digits and marks only, at least one letter: 医師, 母親, Dr, 話者1 are labels; "10:30" (a time),
    # "Dr. Sato:" and "※補足:" (punctuation) are text that continues the previous utterance.
    if not all(unicodedata.category(ch)[0] in "LNM" for ch in label) or not any(ch.isalpha() for ch in label):
        return None
    return label, line[at + 1 :].strip()


def _join(head: str, tail: str) -> str:
    # A line break inside a Japanese utterance is layout, not a pause: join without a space, except between words
    # of Latin script ("Loxonin" / "60mg").
    if head and tail and head[-1].isascii() and head[-1].isalnum() and tail[0].isascii() and tail[0].isalnum():
        return f"{head} {tail}"
    return head + tail


def _parse_lines(text: str, name: str) -> list[Turn]:
    turns: list[list[Any]] = []
    orphan_line = 0  # first unlabelled line before any label
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or unicodedata.normalize("NFKC", line[0]) == "#":
            continue
        labelled = _speaker_label(line)
        if labelled:
            turns.append([labelled[0], labelled[1]])
        elif turns:
            turns[-1][1] = _join(turns[-1][1], line)
        elif not orphan_line:
            orphan_line = lineno
    if turns and orphan_line:
        raise TranscriptError(
            f"transcript {name} line {orphan_line}: text before the first speaker label; expected {EXPECTED_FORMAT} "
            "(mark a title or note line as a comment with #)"
        )
    return [(speaker, body, None, None) for speaker, body in turns if body]


def _parse_json(text: str, name: str) -> list[Turn]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise TranscriptError(
            f"transcript {name} is broken JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    return _turns_from_records(_utterances(doc, name), name)


def _utterances(doc: Any, name: str) -> list[Any]:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("utterances"), list):
        raise TranscriptError(
            f'transcript {name}: JSON must be an object with an "utterances" list, '
            'e.g. {"utterances": [{"speaker": "医師", "text": "…"}]}'
        )
    return doc["utterances"]


def _turns_from_records(items: Sequence[Any], name: str) -> list[Turn]:
    turns: list[Turn] = []
    for n, item in enumerate(items):
        where = f"transcript {name}: utterances[{n}]"
        if not isinstance(item, dict):
            raise TranscriptError(f'{where} must be an object with "speaker" and "text"')
        missing = [k for k in ("speaker", "text") if k not in item]
        if missing:
            raise TranscriptError(f"{where} is missing {' and '.join(repr(k) for k in missing)}")
        speaker, body = item["speaker"], item["text"]
        if not isinstance(speaker, str) or not isinstance(body, str):
            raise TranscriptError(f'{where}: "speaker" and "text" must be strings')
        speaker = unicodedata.normalize("NFKC", speaker).strip()
        if not speaker:
            raise TranscriptError(f'{where}: "speaker" is empty')
        start, end = _seconds(item.get("start"), f"{where}.start"), _seconds(item.get("end"), f"{where}.end")
        if start is not None and end is not None and end < start:
            raise TranscriptError(f"{where}: end ({end}) is before start ({start})")
        if body.strip():
            turns.append((speaker, body.strip(), start, end, *_guess(item, where)))
    return turns


def is_confidence(value: Any) -> bool:
    """A speaker guess's confidence as stored and read: a finite number from 0 to 1 (a bool is not one)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 1


def _guess(item: Mapping[str, Any], where: str) -> tuple[float | None, bool | None]:
    """A record's speaker guess as given: speaker_confidence (0–1) and speaker_sure (a bool; True alone: a person
    confirmed the label); None where not given, as for a label a person wrote."""
    confidence, sure = item.get("speaker_confidence"), item.get("speaker_sure")
    if confidence is not None and not is_confidence(confidence):
        raise TranscriptError(f"{where}.speaker_confidence must be a number from 0 to 1, not {confidence!r}")
    if sure is not None and not isinstance(sure, bool):
        raise TranscriptError(f"{where}.speaker_sure must be true or false, not {sure!r}")
    return (None if confidence is None else float(confidence)), sure


def _seconds(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise TranscriptError(f"{where} must be a non-negative number of seconds, not {value!r}")
    return float(value)


def _check_japanese(text: str, name: str) -> None:
    if is_japanese(text):
        return
    ratio = japanese_ratio(text)
    if ratio >= MIN_JAPANESE_RATIO and not any(is_kana(ch) for ch in text):
        raise TranscriptError(
            f"transcript {name} does not look like Japanese (日本語ではないようです): it has kanji but no kana, "
            "as Chinese text does; kogata reads Japanese consultations only"
        )
    raise TranscriptError(
        f"transcript {name} does not look like Japanese (日本語ではないようです): {ratio:.0%} of its letters are "
        f"kana or kanji, kogata needs at least {MIN_JAPANESE_RATIO:.0%}"
    )
