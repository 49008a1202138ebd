"""A glossary of the words a clinic says (medical terms, drug names, the user's own): it steers Whisper through the
prompt, and afterwards maps sound-alike errors back to the glossary's spelling.

File format (UTF-8 TSV, `#` comments, optional header `term	reading	sound_alikes	category`):

    糖尿病	トウニョウビョウ	同量量|同尿病	病名
    ロキソニン		ロキソ人	薬剤

`reading` (katakana) may be empty: Sudachi reads the term. `sound_alikes` are separated by `|` or `、` and are
replaced literally. Beyond them, the correction pass finds sound-alikes the list does not name:
- by reading: a run of up to four words whose reading has the same vowels as a glossary term and close consonants
  (同量量 ドーリョーリョー → 糖尿病 トーニョービョー, ゲネツ材 → 解熱剤, ジャヌビが → ジャヌビア);
- by shape: a compound that is one kanji away from a term of three or more characters (棟尿病 → 糖尿病).
Only runs that look misheard are candidates (see _may_be_misheard): a single dictionary word never is, so 最近 is
not "corrected" to 再診. Terms shorter than four morae are only replaced literally. Tuned on the 44 reference
scripts in data/consultations, where it changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from kogata.errors import InputError, reading
from kogata.ja.glossary import parse_glossary
from kogata.ja.script import is_kanji
from kogata.speech import phonetic

MIN_FUZZY_MORAE = 4
MAX_COST_PER_MORA = 0.27  # 同量量→糖尿病 costs 1.6 over 6 morae; ordinary words in the references stay untouched
MAX_WINDOW_TOKENS = 4
SHAPE_COST = 0.2  # rank of a one-kanji slip among reading matches (cost per mora)
PROMPT_CHARS = 150  # Whisper's prompt holds at most 223 tokens; a longer prompt crowds out the text itself

_KANA_ONLY = re.compile(r"^[\u30a0-\u30ffー]+$")


@dataclass(frozen=True)
class Term:
    term: str
    reading: str = ""  # katakana; empty means "ask Sudachi"
    sound_alikes: tuple[str, ...] = ()
    category: str = ""


@dataclass(frozen=True)
class Correction:
    before: str
    after: str
    span: tuple[int, int]
    how: str  # "listed" (a sound-alike in the glossary) or "reading" (matched by sound)


@dataclass
class Glossary:
    """Terms for the prompt and the sound-alike correction pass. Build with load(), from_terms() or default()."""

    terms: list[Term]
    prompt_terms: list[str] = field(default_factory=list)  # in priority order; the first ones go in the prompt

    # ── building ──────────────────────────────────────────────────────────────────────────────────────────────
    @classmethod
    def load(cls, path: str | Path, *, with_default: bool = False) -> Glossary:
        """Read a TSV glossary file (see the module doc). `with_default` adds the bundled medical glossary after it."""
        path = Path(path)
        with reading(path, "glossary"):
            text = path.read_text(encoding="utf-8-sig")
        terms = parse_tsv(text, str(path))
        if not terms:
            raise InputError(f"glossary file {path} has no terms (expected TSV: term, reading, sound-alikes, category)")
        own = cls.from_terms(terms)
        return own.merged(default()) if with_default else own

    @classmethod
    def empty(cls) -> Glossary:
        """No prompt and no correction: Whisper's own output."""
        return cls([])

    @classmethod
    def from_terms(cls, terms: Iterable[Term | str], *, prompt: bool = True) -> Glossary:
        """A glossary from Term objects or plain strings (a string is a term with no listed sound-alikes)."""
        items = [t if isinstance(t, Term) else Term(str(t)) for t in terms]
        items = [
            Term(_nfkc(t.term), t.reading, tuple(_nfkc(s) for s in t.sound_alikes if s.strip()), t.category)
            for t in items
            if t.term.strip()
        ]
        return cls(items, [t.term for t in items] if prompt else [])

    def merged(self, other: Glossary) -> Glossary:
        """This glossary's terms first (they win on conflicts and in the prompt), then `other`'s."""
        return Glossary(self.terms + other.terms, _unique(self.prompt_terms + other.prompt_terms))

    # ── using ─────────────────────────────────────────────────────────────────────────────────────────────────
    def prompt(self, max_chars: int = PROMPT_CHARS) -> str:
        """Whisper's initial prompt: the highest-priority terms as a Japanese list, as a doctor's notes would read."""
        words: list[str] = []
        used = 0
        for term in self.prompt_terms:
            if used + len(term) + 1 > max_chars:
                break
            words.append(term)
            used += len(term) + 1
        return "、".join(words) + "。" if words else ""

    def correct(self, text: str) -> str:
        return self.corrections(text)[0]

    def corrections(self, text: str) -> tuple[str, list[Correction]]:
        """`text` with listed sound-alikes and sound-alike readings replaced by glossary terms, and what changed."""
        index = self._index()
        text, listed = _replace_listed(text, index.listed)
        text, by_sound = _replace_by_reading(text, index)
        return text, listed + by_sound

    def _index(self) -> _Index:
        cached = getattr(self, "_cached_index", None)
        if cached is None or cached[0] != len(self.terms):
            cached = (len(self.terms), _Index.build(self.terms))
            self._cached_index = cached
        return cached[1]


def parse_tsv(text: str, name: str = "<glossary>") -> list[Term]:
    """Terms from the one glossary format every part of kogata reads (kogata.ja.glossary), with readings checked
    as kana: the synonyms column holds the sound-alikes."""
    terms: list[Term] = []
    for entry in parse_glossary(text, name=name):
        reading = phonetic.to_katakana(_nfkc(entry.reading))
        if reading and phonetic.morae(reading) is None:
            raise InputError(f"glossary {name}: the reading {entry.reading!r} of {entry.term} must be kana (カタカナ)")
        terms.append(Term(entry.term, reading, entry.synonyms, entry.category))
    return terms


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ── the bundled medical glossary ──────────────────────────────────────────────────────────────────────────────


@lru_cache(maxsize=1)
def default() -> Glossary:
    """Medical terms and diseases (kogata/speech/data/medical_terms.tsv, written for kogata), every drug name in
    kogata's drug lexicon (generic and brand) and every symptom chart term. Only the curated terms go in the prompt."""
    from kogata.ja.drugs import drugs
    from kogata.ja.findings import symptom_lexicon

    curated = parse_tsv(
        files("kogata.speech").joinpath("data/medical_terms.tsv").read_text(encoding="utf-8"), "medical_terms.tsv"
    )
    drug_terms = [Term(name, category="薬剤") for d in drugs() for name in (d.generic, *d.brands)]
    symptom_terms = [Term(s.term, category="症状") for s in symptom_lexicon()]
    glossary = Glossary.from_terms(curated + drug_terms + symptom_terms, prompt=False)
    glossary.prompt_terms = [t.term for t in curated if t.category != "除外"]
    return glossary


# ── correction ────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class _Index:
    listed: dict[str, str]  # sound-alike spelling → term
    terms: set[str]
    by_vowels: dict[str, list[tuple[str, tuple[phonetic.Mora, ...]]]]  # vowel key → (term, morae)
    by_shape: dict[str, list[str]]  # the term with one kanji blanked (糖尿病 → ?尿病, 糖?病, 糖尿?) → terms

    @classmethod
    def build(cls, terms: list[Term]) -> _Index:
        listed: dict[str, str] = {}
        by_vowels: dict[str, list[tuple[str, tuple[phonetic.Mora, ...]]]] = {}
        by_shape: dict[str, list[str]] = {}
        seen: set[str] = set()
        for t in terms:
            for alike in t.sound_alikes:
                listed.setdefault(alike, t.term)
            if t.sound_alikes:  # the term itself matches first, so a sound-alike inside it (糖尿 in 糖尿病) is no hit
                listed.setdefault(t.term, t.term)
            if t.term in seen:
                continue
            seen.add(t.term)
            m = phonetic.morae(t.reading or _reading(t.term) or "")
            if m and len(m) >= MIN_FUZZY_MORAE:
                by_vowels.setdefault(phonetic.vowel_key(m), []).append((t.term, m))
            if len(t.term) >= 3 and t.category != "剤形":  # dosage forms differ by one kanji (外用液, 外用薬)
                for i, ch in enumerate(t.term):
                    if is_kanji(ch):
                        by_shape.setdefault(_blank(t.term, i), []).append(t.term)
        return cls(listed, seen, by_vowels, by_shape)


def _blank(word: str, i: int) -> str:
    return word[:i] + "\0" + word[i + 1 :]


@lru_cache(maxsize=65536)
def _reading(text: str) -> str | None:
    """Katakana reading of text by Sudachi, or None when part of it has no kana reading (Latin, digits)."""
    tokens = _analyse(text)
    if not tokens or any(t.reading is None for t in tokens):
        return None
    return "".join(t.reading for t in tokens)


@dataclass(frozen=True)
class _Morpheme:
    begin: int
    end: int
    surface: str
    reading: str | None  # katakana, or None when the morpheme has no kana reading (Latin letters, digits)
    pos: str
    content: bool  # a noun (not a numeral or pronoun) or a noun suffix/prefix: what a misheard term is made of
    oov: bool  # not in Sudachi's dictionary: a word Whisper made up, the likeliest place of a misheard term


def _analyse(text: str) -> list[_Morpheme]:
    from kogata.ja.tokenizer import _tokenizer  # the process-wide Sudachi instance; its Token drops reading_form

    out = []
    for m in _tokenizer().tokenize(text):
        reading, pos = m.reading_form(), m.part_of_speech()
        ok = bool(reading) and _KANA_ONLY.match(reading) and not any(ch.isascii() for ch in m.surface())
        # Affixes count when written in kanji or katakana (病, 剤, 性), not honorifics in hiragana (さん, お).
        content = (pos[0] == "名詞" and pos[1] != "数詞") or (
            pos[0] in ("接尾辞", "接頭辞") and not any("ぁ" <= ch <= "ゖ" for ch in m.surface())
        )
        out.append(_Morpheme(m.begin(), m.end(), m.surface(), reading if ok else None, pos[0], content, m.is_oov()))
    return out


def _replace_listed(text: str, listed: dict[str, str]) -> tuple[str, list[Correction]]:
    if not listed:
        return text, []
    pattern = re.compile("|".join(re.escape(s) for s in sorted(listed, key=len, reverse=True)))
    fixes = [
        Correction(m.group(), listed[m.group()], m.span(), "listed")
        for m in pattern.finditer(text)
        if listed[m.group()] != m.group()
    ]
    return pattern.sub(lambda m: listed[m.group()], text), fixes


def _may_be_misheard(window: list[_Morpheme]) -> bool:
    """Whether a run of morphemes looks like a term Whisper misheard rather than ordinary words.

    Measured on the correct reference transcripts, where any replacement is a false one: real words that sound
    like a term (最近 サイキン ~ 再診 サイシン, 救急 ~ 吸入, 相談 ~ 黄疸) are in Sudachi's dictionary, so a single
    known word is never replaced. A misheard term is a made-up word (ジャヌビ, ゲネツ), possibly followed by the
    particle Whisper heard in its last sound (ジャヌビが), or a compound of nouns and kanji affixes that is not
    itself a word (同量+量, 空腹+地, 棟+尿+病). Words Whisper wrote in hiragana are left as they are (it knew them).
    """
    if any(t.reading is None for t in window):
        return False
    body = window[:-1] if len(window) > 1 and window[-1].pos == "助詞" else window
    if not all(t.content for t in body):
        return False
    if any(t.oov for t in body):
        return True
    surface = "".join(t.surface for t in body)
    if all("ぁ" <= ch <= "ゖ" for ch in surface):
        return False
    return len(body) > 1 and body is window


def _replace_by_reading(text: str, index: _Index) -> tuple[str, list[Correction]]:
    if not index.by_vowels or not text:
        return text, []
    tokens = _analyse(text)
    candidates: list[tuple[float, int, int, int, str]] = []  # (cost per mora, -length, begin, end, term)
    protected: list[tuple[int, int]] = []
    for i in range(len(tokens)):
        for j in range(i + 1, min(i + MAX_WINDOW_TOKENS, len(tokens)) + 1):
            window = tokens[i:j]
            begin, end = window[0].begin, window[-1].end
            if text[begin:end] in index.terms:
                protected.append((begin, end))
            elif _may_be_misheard(window):
                surface = text[begin:end]
                for at, ch in enumerate(surface):  # one kanji swapped for a homophone: 棟尿病, 毛熱剤
                    if is_kanji(ch) and len(surface) >= 3:
                        candidates += [
                            (SHAPE_COST, -(end - begin), begin, end, term)
                            for term in index.by_shape.get(_blank(surface, at), ())
                        ]
                m = phonetic.morae("".join(t.reading for t in window))
                if not m or len(m) < MIN_FUZZY_MORAE:
                    continue
                for term, tm in index.by_vowels.get(phonetic.vowel_key(m), ()):
                    cost = phonetic.distance(m, tm)
                    if cost <= MAX_COST_PER_MORA * len(m):
                        candidates.append((cost / len(m), -(end - begin), begin, end, term))
    chosen: list[tuple[int, int, str]] = []
    taken = list(protected)
    for _, _, begin, end, term in sorted(candidates):
        if any(begin < e and b < end for b, e in taken):
            continue
        chosen.append((begin, end, term))
        taken.append((begin, end))
    fixes = []
    for begin, end, term in sorted(chosen, reverse=True):
        fixes.append(Correction(text[begin:end], term, (begin, end), "reading"))
        text = text[:begin] + term + text[end:]
    return text, fixes[::-1]
