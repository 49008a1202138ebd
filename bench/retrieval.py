"""Retrieval recall@k of knowledge packs: embedding-only vs BM25-only vs hybrid (reciprocal rank fusion).

    python bench/retrieval.py sakura-city                 # 42 questions on data/packs/sakura-city (synthetic)
    python bench/retrieval.py lawqa-jp [--data DIR]       # 140 questions; pack = the statute excerpts of the set
    python bench/retrieval.py poliinfo [--data DIR] [--date 2020-02-26]

Packs are built under bench/out/kogata_home (re-runs skip unchanged files). Documents made from the shared
data are written to bench/out/ only (never to the repo). A question counts as found at k when one of its
top-k passages is from the right file and its section starts with the right article or FAQ heading.

lawqa-jp: each item's コンテキスト is split into (law, article) blocks; the pack holds every distinct article
(one Markdown file per law). The right article is the first one of the item's context (the one asked about).
Query: the question with its four choices (many questions are only 「次のうち、正しいものを教えてください。」).
poliinfo: the pack holds the answers (知事・局長 … utterances) of one sitting; the right passage is any passage
of the utterance in which the named official answers the named questioner. Query: SubTopic + QuestionSummary.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import unicodedata
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import machine, print_table, write_json  # noqa: E402

OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared" / "data"
KS = (1, 3, 5)


def section_matches(section: str, want: str) -> bool:
    """第7条 matches 第7条 and 第7条第2項 but not 第7条の2 or 第70条; a heading path matches its prefix."""
    if not section.startswith(want):
        return False
    rest = section[len(want) :]
    return not rest or not (rest[0].isdigit() or rest[0] == "の")


# ── data sets: each returns (pack name, document paths, questions [{id, question, gold: [(file, section)]}]) ──


def sakura_city(_: argparse.Namespace):
    folder = ROOT / "data" / "packs" / "sakura-city"
    questions = [
        json.loads(line)
        for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    questions = [q for q in questions if not q.get("unanswerable")]
    return "bench-sakura-city", [folder / "docs"], questions


_LAW = re.compile(r"^## (.+)$", re.M)


def lawqa_articles(context: str) -> list[tuple[str, str, str]]:
    """(law, block heading, block text) of an item's context, in order."""
    out = []
    for law_part in re.split(r"(?m)^(?=## )", context):
        m = _LAW.match(law_part)
        if not m:
            continue
        for block in re.split(r"(?m)^(?=### )", law_part[m.end() :]):
            if block.startswith("### "):
                head, _, body = block.partition("\n")
                out.append((m.group(1).strip(), head[4:].strip(), body.strip()))
    return out


def _file_name(law: str) -> str:
    return re.sub(r"[\\/:*?\"<>|（）() ]", "_", law)[:60] + ".md"


def lawqa(args: argparse.Namespace):
    from kogata.knowledge.chunk import _ARTICLE, article_label

    data = Path(args.data or SHARED / "lawqa-jp")
    items = json.loads((data / "selection.json").read_text(encoding="utf-8"))["samples"]
    laws: dict[str, OrderedDict[str, OrderedDict[str, str]]] = {}
    questions = []
    for item in items:
        blocks = lawqa_articles(item["コンテキスト"])
        for law, head, body in blocks:
            # merge the paragraphs (#### 第N項) that different items quote of the same article
            parts = laws.setdefault(law, OrderedDict()).setdefault(head, OrderedDict())
            for piece in re.split(r"(?m)^(?=#### )", body):
                key = piece.partition("\n")[0] if piece.startswith("#### ") else ""
                if piece.strip() and len(piece) > len(parts.get(key, "")):
                    parts[key] = piece.strip()
        if blocks:
            law, head, _ = blocks[0]
            head = unicodedata.normalize("NFKC", head)  # 第66条の８ → 第66条の8, as the chunker writes it
            m = _ARTICLE.match(head)
            section = article_label(m.group(1), m.group(2)) if m else head
            # the item as asked: many questions are only 「次のうち、正しいものを教えてください。」 and
            # carry their subject in the choices
            questions.append(
                {
                    "id": item["ファイル名"],
                    "question": f"{item['問題文']}\n{item['選択肢']}",
                    "gold": [(_file_name(law), section)],
                }
            )
    docs = OUT / "lawqa_docs"
    docs.mkdir(parents=True, exist_ok=True)
    for law, articles in laws.items():
        text = f"# {law}\n\n" + "\n\n".join(
            f"### {head}\n" + "\n".join(parts.values()) for head, parts in articles.items()
        )
        path = docs / _file_name(law)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return "bench-lawqa-jp", [docs], questions


def _role(speaker: str) -> str:
    return re.split(r"[（(]", speaker, maxsplit=1)[0].strip()


def _name(speaker: str) -> str:
    m = re.search(r"[（(](.+?)(?:君)?[）)]", speaker)
    return m.group(1) if m else speaker


def poliinfo(args: argparse.Namespace):
    data = Path(args.data or SHARED / "poliinfo-tokyo-qa")
    gold = json.loads((data / "PoliInfo3_QuestionAnswering_v20211120-Gold.json").read_text(encoding="utf-8"))
    sittings = json.loads((data / "utterances_tokyo_proceeding2020_withURL.json").read_text(encoding="utf-8"))
    y, m, d = (int(x) for x in args.date.split("-"))
    sitting = next(s for s in sittings if s["Date"] == f"{y}/{m}/{d}")
    docs = OUT / f"poliinfo_docs_{args.date}"
    docs.mkdir(parents=True, exist_ok=True)
    answers = []  # (file name, role, index of the questioner's utterance before it)
    questioner = None
    for n, u in enumerate(sitting["Proceeding"]):
        speaker = u["Speaker"] or ""
        if "番" in speaker.split("（")[0]:
            questioner = _name(speaker)
            continue
        if not speaker or speaker.startswith(("議長", "副議長", "null", "議事部長")) or questioner is None:
            continue
        name = f"{args.date}_{n:03d}_{_role(speaker)}.md"
        text = f"# {_role(speaker)} 答弁（{questioner}議員の質問に対して）\n\n{u['Utterance']}"
        path = docs / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        answers.append((name, _role(speaker), questioner))
    questions = []
    for item in gold:
        if item["Date"] != args.date:
            continue
        asker = re.split(r"[（(]", item["QuestionSpeaker"])[0]
        candidates = [a for a in answers if a[2] == asker]
        role = item["AnswerSpeaker"]
        match = [a for a in candidates if a[1].startswith(role)] or sorted(
            candidates, key=lambda a: -len(set(a[1]) & set(role))
        )[:1]
        if not match:
            continue
        questions.append(
            {
                "id": item["ID"],
                "question": f"{item['SubTopic']}：{item['QuestionSummary']}",
                "gold": [(match[0][0], "")],
                "answer": item["AnswerSummary"],
            }
        )
    return f"bench-poliinfo-{args.date}", [docs], questions


SETS = {"sakura-city": sakura_city, "lawqa-jp": lawqa, "poliinfo": poliinfo}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("--data", default=None, help="the shared data folder of the set (default ../shared/data/…)")
    ap.add_argument("--date", default="2020-02-26", help="poliinfo: the sitting whose answers form the pack")
    ap.add_argument("--limit", type=int, default=None, help="a seeded sample of N questions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rrf-k", type=int, nargs="*", default=[60], help="hybrid fusion constants to compare")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    os.environ.setdefault("KOGATA_HOME", str(OUT / "kogata_home"))

    from kogata.knowledge import store
    from kogata.knowledge.retrieve import Retriever

    pack, paths, questions = SETS[args.set](args)
    if args.limit and args.limit < len(questions):
        questions = random.Random(args.seed).sample(questions, args.limit)
    started = time.perf_counter()
    added = store.add(pack, paths)
    build_s = time.perf_counter() - started
    print(
        f"{pack}: {added.passages} passages ({added.new_passages} embedded now, {build_s:.0f} s); "
        f"{len(questions)} questions",
        file=sys.stderr,
    )
    retriever = Retriever(pack)
    modes = [("embedding", "embedding", 60), ("bm25", "bm25", 60)] + [
        (f"hybrid (RRF k={k})" if len(args.rrf_k) > 1 else "hybrid", "hybrid", k) for k in args.rrf_k
    ]
    found = {label: {k: 0 for k in KS} for label, _, _ in modes}
    per_question = []
    query_s = []
    from tqdm import tqdm

    for q in tqdm(questions, desc="questions", unit="q", file=sys.stderr):
        t = time.perf_counter()
        scores = retriever.scores(q["question"])
        query_s.append(time.perf_counter() - t)
        row = {"id": q["id"], "question": q["question"]}
        for label, mode, rrf_k in modes:
            hits = retriever.rank(scores, max(KS), mode=mode, rrf_k=rrf_k)
            first = next(
                (
                    n
                    for n, h in enumerate(hits, 1)
                    if any(h.chunk.source == f and section_matches(h.chunk.section, s) for f, s in q["gold"])
                ),
                None,
            )
            for k in KS:
                found[label][k] += first is not None and first <= k
            row[label] = {"rank": first, "top": [h.chunk.citation for h in hits[:3]]}
        per_question.append(row)
    n = len(questions)
    rows = [[label] + [found[label][k] / n for k in KS] for label, _, _ in modes]
    print(f"\n{args.set}: {n} questions, {added.passages} passages")
    print_table(["retrieval"] + [f"recall@{k}" for k in KS], rows)
    median_query = sorted(query_s)[len(query_s) // 2] if query_s else 0.0
    print(f"median query time {median_query:.2f} s (embedding + BM25, measured under whatever load there is)")
    write_json(
        args.out or OUT / f"retrieval_{args.set}.json",
        {
            "set": args.set,
            "pack": pack,
            "passages": added.passages,
            "questions": n,
            "machine": machine(),
            "recall": {label: {f"@{k}": found[label][k] / n for k in KS} for label, _, _ in modes},
            "median_query_s": median_query,
            "per_question": per_question,
        },
    )


if __name__ == "__main__":
    main()
