"""The words BM25 matches on: Sudachi content words in their normalised form, plus whole references.

Sudachi (SplitMode.C) keeps compounds such as 住民票 or 粗大ごみ whole and folds spelling variants
(ゴミ/ごみ) through its normalised form. Function words and symbols are dropped. Article references
(第五条第二項 → 第5条, 第5条第2項) and form numbers (様式第1号) become single terms, so a question that names
one finds exactly the passage that carries it. Kanji compounds of three or more characters also give their
character bigrams (marked ~), so 手数料 meets 交付手数料 without a second dictionary pass.
"""

from __future__ import annotations

import re
import unicodedata

from kogata.ja.articles import article_refs, number
from kogata.ja.tokenizer import tokenize

_KEEP_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞", "代名詞"}
_STOP = {
    "為る",
    "有る",
    "居る",
    "成る",
    "出来る",
    "言う",
    "事",
    "物",
    "為",
    "所",
    "様",
    "又",
    "及び",
    "若しくは",
    "並びに",
    "此れ",
    "其れ",
    "何",
    "場合",
    "等",
    "的",
    "御",
    "お",
    "ご",
    "さん",
    "第",
    "条",
    "項",
    "号",
}
_COMPOUND = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々]{3,}")
_FORM = re.compile(r"(様式|別表|別記|付表)第?([0-9〇一二三四五六七八九十]+)号?")


REFERENCE_WEIGHT = 3  # a question that names 第8条 or 様式第2号 means that one: its term counts three times


def query_terms(text: str) -> list[str]:
    """Terms of a question: as `terms`, with article and form references weighted up."""
    out = terms(text)
    return out + [t for t in out if t.startswith(("第", "様式", "別表", "別記", "付表"))] * (REFERENCE_WEIGHT - 1)


def terms(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for t in tokenize(text):
        if t.pos[0] not in _KEEP_POS or t.pos[1] == "数詞" and not t.surface.isdigit():
            continue
        word = t.normalized_form.lower()
        if word in _STOP or not word.strip():
            continue
        out.append(word)
        if _COMPOUND.fullmatch(t.surface):  # 交付手数料 should also meet a question about 手数料
            out += [f"~{t.surface[i : i + 2]}" for i in range(len(t.surface) - 1)]
    out += article_refs(text)
    for m in _FORM.finditer(text):
        try:
            out.append(f"{m.group(1)}第{number(m.group(2))}号")
        except ValueError:
            continue
    return out
