"""Answer quality of `kogata ask` over knowledge packs.

    python bench/ask.py sakura-city [--limit N]      # synthetic municipal questions: answered correctly,
                                                      # cited the right article, refused the unanswerable
    python bench/ask.py lawqa-jp [--limit N]          # 4-choice accuracy, statute supplied vs retrieved
    python bench/ask.py poliinfo [--limit N]          # ROUGE-1 (content words) of answers vs the gold summaries

Samples are seeded (--seed, default 0) so reruns see the same items. Packs come from bench/retrieval.py's
builders (same KOGATA_HOME: bench/out/kogata_home). Speed figures are wall-clock on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import machine, print_table, write_json  # noqa: E402
from retrieval import OUT, SHARED, lawqa, poliinfo, section_matches  # noqa: E402

CHOICE_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"enum": ["a", "b", "c", "d"]}},
    "required": ["answer"],
    "additionalProperties": False,
}
_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "接頭辞", "接尾辞"}


def content_words(text: str) -> list[str]:
    """Content words as PoliInfo's scorer counts them (particles, auxiliaries and symbols removed)."""
    from kogata.ja.normalize import normalize
    from kogata.ja.tokenizer import tokenize

    return [t.normalized_form for t in tokenize(normalize(text)) if t.pos[0] in _CONTENT_POS and t.surface.strip()]


def rouge1(gold: str, predicted: str) -> float:
    g, p = Counter(content_words(gold)), Counter(content_words(predicted))
    overlap = sum((g & p).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def _progress(args, rows: list[dict]) -> None:
    """Write the rows so far, so that a run stopped early still leaves its items."""
    path = Path(args.out or OUT / f"ask_{args.set}.json").with_suffix(".partial.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def _sample(items: list, limit: int | None, seed: int) -> list:
    if not limit or limit >= len(items):
        return items
    return random.Random(seed).sample(items, limit)


def _contains(answer: str, wanted: list[str]) -> bool:
    from kogata.verify.passages import document_clean  # the verifier's reading: 十世帯 → 10世帯, 五百円 → 500円

    text = document_clean(answer).replace(",", "")
    return all(document_clean(w) in text for w in wanted)


def bench_sakura(args, llm) -> dict:
    from kogata.knowledge import store
    from kogata.knowledge.retrieve import Retriever
    from kogata.tasks.ask import ask

    folder = ROOT / "data" / "packs" / "sakura-city"
    questions = [
        json.loads(line)
        for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    store.add("bench-sakura-city", [folder / "docs"], progress=False)
    retriever = Retriever("bench-sakura-city")
    answerable = _sample([q for q in questions if not q.get("unanswerable")], args.limit, args.seed)
    unanswerable = _sample(
        [q for q in questions if q.get("unanswerable")], max(1, args.limit // 6) if args.limit else None, args.seed
    )
    rows = []
    for q in answerable + unanswerable:
        a = ask(retriever, q["question"], model=llm, k=args.k)
        cited = [a.passages[n - 1].chunk for s in a.sentences for n in s.cites]
        rows.append(
            {
                "id": q["id"],
                "question": q["question"],
                "answer": a.text,
                "found": a.found,
                "unanswerable": bool(q.get("unanswerable")),
                "correct": a.found and _contains(a.text, q.get("answer_contains", [])),
                "cites_gold": any(c.source == f and section_matches(c.section, s) for c in cited for f, s in q["gold"]),
                "dropped": len(a.unsupported),
                "seconds": a.seconds,
            }
        )
        print(f"{q['id']} {'OK ' if rows[-1]['correct'] else '   '} {a.text[:70]}", file=sys.stderr)
        _progress(args, rows)
    ans = [r for r in rows if not r["unanswerable"]]
    una = [r for r in rows if r["unanswerable"]]
    summary = {
        "answerable": len(ans),
        "answered": sum(r["found"] for r in ans) / len(ans),
        "correct": sum(r["correct"] for r in ans) / len(ans),
        "cites_gold_article": sum(r["cites_gold"] for r in ans) / len(ans),
        "unanswerable": len(una),
        "refused": sum(not r["found"] for r in una) / len(una) if una else None,
        "dropped_sentences": sum(r["dropped"] for r in rows),
        "median_seconds": sorted(r["seconds"] for r in rows)[len(rows) // 2],
    }
    print_table(
        [
            "answerable",
            "answered",
            "correct (expected words)",
            "cites right article",
            "unanswerable",
            "refused",
            "sentences dropped",
            "median s",
        ],
        [
            [
                summary["answerable"],
                summary["answered"],
                summary["correct"],
                summary["cites_gold_article"],
                summary["unanswerable"],
                summary["refused"] if una else "-",
                summary["dropped_sentences"],
                summary["median_seconds"],
            ]
        ],
    )
    return {"summary": summary, "rows": rows}


def _choice_messages(statute: str, item: dict) -> list[dict]:
    return [
        {
            "role": "system",
            "content": "あなたは日本の法令に詳しいアシスタントです。与えられた法令の条文に基づいて答えます。",
        },
        {
            "role": "user",
            "content": f"法令：\n{statute}\n\n問題：{item['問題文']}\n\n選択肢：\n{item['選択肢']}\n\n"
            "上の法令に基づいて、正しい選択肢を a、b、c、d から1つ選んでください。",
        },
    ]


def bench_lawqa(args, llm) -> dict:
    from kogata.engine import generate_json
    from kogata.knowledge import store
    from kogata.knowledge.retrieve import Retriever

    pack, paths, _ = lawqa(args)
    store.add(pack, paths, progress=False)
    retriever = Retriever(pack)
    items = json.loads((Path(args.data or SHARED / "lawqa-jp") / "selection.json").read_text(encoding="utf-8"))[
        "samples"
    ]
    items = _sample(items, args.limit, args.seed)
    rows = []
    for item in items:
        row = {"id": item["ファイル名"], "gold": item["output"]}
        hits = retriever.search(f"{item['問題文']}\n{item['選択肢']}", args.k)
        retrieved = "\n\n".join(f"{h.chunk.title} {h.chunk.section}\n{h.chunk.text}" for h in hits)
        for label, statute in (("supplied", item["コンテキスト"]), ("retrieved", retrieved)):
            t = time.perf_counter()
            choice = generate_json(llm, _choice_messages(statute, item), CHOICE_SCHEMA, max_tokens=16)["answer"]
            row[label] = {"answer": choice, "correct": choice == item["output"], "seconds": time.perf_counter() - t}
        rows.append(row)
        print(
            f"{row['id']}: gold {row['gold']} supplied {row['supplied']['answer']} "
            f"retrieved {row['retrieved']['answer']}",
            file=sys.stderr,
        )
        _progress(args, rows)
    n = len(rows)
    summary = {
        "items": n,
        "accuracy_supplied": sum(r["supplied"]["correct"] for r in rows) / n,
        "accuracy_retrieved": sum(r["retrieved"]["correct"] for r in rows) / n,
        "chance": 0.25,
    }
    print_table(
        ["items", "statute supplied", f"retrieved (hybrid, k={args.k})", "chance"],
        [[n, summary["accuracy_supplied"], summary["accuracy_retrieved"], 0.25]],
    )
    return {"summary": summary, "rows": rows}


def bench_poliinfo(args, llm) -> dict:
    from kogata.knowledge import store
    from kogata.knowledge.retrieve import Retriever
    from kogata.tasks.ask import ask

    pack, paths, questions = poliinfo(args)
    store.add(pack, paths, progress=False)
    retriever = Retriever(pack)
    rows = []
    for q in _sample(questions, args.limit, args.seed):
        a = ask(retriever, q["question"], model=llm, k=args.k)
        top = a.passages[0].chunk.text.replace("\n", "") if a.passages else ""
        rows.append(
            {
                "id": q["id"],
                "question": q["question"],
                "gold": q["answer"],
                "answer": a.text if a.found else "",
                "rouge1": rouge1(q["answer"], a.text) if a.found else 0.0,
                "baseline_top_passage_40": rouge1(q["answer"], top[:40]),
                "right_utterance_retrieved": any(h.chunk.source == q["gold"][0][0] for h in a.passages),
                "seconds": a.seconds,
            }
        )
        print(f"{q['id']}: {rows[-1]['rouge1']:.2f} {a.text[:60]}", file=sys.stderr)
        _progress(args, rows)
    n = len(rows)
    summary = {
        "items": n,
        "rouge1_answer": sum(r["rouge1"] for r in rows) / n,
        "rouge1_baseline_top_passage_40": sum(r["baseline_top_passage_40"] for r in rows) / n,
        "answered": sum(bool(r["answer"]) for r in rows) / n,
        "right_utterance_in_top_k": sum(r["right_utterance_retrieved"] for r in rows) / n,
    }
    print_table(
        [
            "items",
            "ROUGE-1 kogata ask",
            "ROUGE-1 first 40 chars of top passage",
            "answered",
            f"right utterance in top {args.k}",
        ],
        [
            [
                n,
                summary["rouge1_answer"],
                summary["rouge1_baseline_top_passage_40"],
                summary["answered"],
                summary["right_utterance_in_top_k"],
            ]
        ],
    )
    return {"summary": summary, "rows": rows}


SETS = {"sakura-city": bench_sakura, "lawqa-jp": bench_lawqa, "poliinfo": bench_poliinfo}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("--data", default=None)
    ap.add_argument("--date", default="2020-02-26", help="poliinfo: the sitting whose answers form the pack")
    ap.add_argument("--limit", type=int, default=10, help="seeded sample size (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-k", type=int, default=4, help="passages per question")
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=None, help="model threads (1 is faster on a crowded machine)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    os.environ.setdefault("KOGATA_HOME", str(OUT / "kogata_home"))

    from kogata.engine import load

    llm = load(args.model, threads=args.threads, progress=False)
    started = time.perf_counter()
    result = SETS[args.set](args, llm)
    write_json(
        args.out or OUT / f"ask_{args.set}.json",
        {
            "set": args.set,
            "model": llm.spec.name,
            "limit": args.limit,
            "seed": args.seed,
            "k": args.k,
            "machine": machine(),
            "seconds": time.perf_counter() - started,
            **result,
        },
    )


if __name__ == "__main__":
    main()
