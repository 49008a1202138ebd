"""The Japanese glyph guard: does it keep Chinese-only Han characters out, and what does it cost?

Runs the same Japanese medical prompts through the model with the guard off and on (greedy decoding),
counts the Han characters Japanese does not use (kogata.ja.glyphs) in each answer, and compares
generation speed. With the guard on it also counts the characters that got past the token ban (spelled
out of byte tokens) and were rewritten in their Japanese form on the way out.

    .venv/bin/python bench/glyph_guard.py [--model NAME] [--max-tokens 160] [--out bench/out/glyph_guard.json]

Goal (issue 2): zero such glyphs with the guard on; generation speed drops by less than 5 %.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median, print_table, write_json  # noqa: E402

# Written for this benchmark: everyday questions a clinic might ask the model, in Japanese.
PROMPTS = [
    "薬物アレルギーのある患者に新しい薬を処方するときの注意点を説明してください。",
    "息苦しさを訴える高齢の患者に、まず確認すべきことを教えてください。",
    "軽微な副作用と重い副作用の見分け方を、患者向けにやさしく説明してください。",
    "結核を疑う症状と、受診の目安を教えてください。",
    "糖尿病の患者が風邪をひいたときに気をつけることを説明してください。",
    "小児の発熱で救急を受診すべきサインを挙げてください。",
    "高血圧の薬を飲み忘れたときの対応を説明してください。",
    "花粉症の薬で眠気が出る理由と対策を教えてください。",
    "腰痛が続く患者への生活指導の要点をまとめてください。",
    "不眠を訴える患者に、睡眠薬の前に勧めることを説明してください。",
    "過敏性腸症候群の症状と日常生活の注意点を教えてください。",
    "気管支喘息の吸入薬の正しい使い方を説明してください。",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="bench/out/glyph_guard.json")
    args = ap.parse_args()

    import kogata
    from kogata.ja.glyphs import non_japanese_chars

    rows, detail = [], []
    for guard in (False, True):
        llm = kogata.load(args.model, threads=args.threads, glyph_guard=guard, progress=False)
        speeds, bad_total, bad_answers, rewritten = [], 0, 0, 0
        for prompt in PROMPTS:
            r = kogata.generate(llm, prompt, max_tokens=args.max_tokens)
            bad = [ch for ch in r.text if non_japanese_chars(ch)]
            bad_total += len(bad)
            bad_answers += bool(bad)
            speeds.append(r.stats.generation_tps)
            rewritten += r.stats.rewritten_glyphs
            detail.append(
                {
                    "guard": guard,
                    "prompt": prompt,
                    "answer": r.text,
                    "non_japanese": "".join(bad),
                    "generation_tps": r.stats.generation_tps,
                    "completion_tokens": r.stats.completion_tokens,
                }
            )
        rows.append(
            {
                "guard": "on" if guard else "off",
                "banned_tokens": len(llm.banned_ids),
                "answers": len(PROMPTS),
                "answers_with_non_japanese": bad_answers,
                "non_japanese_chars": bad_total,
                "rewritten_by_guard": rewritten,
                "median_generation_tps": median(speeds),
            }
        )
        del llm
    off, on = rows
    drop = 1 - on["median_generation_tps"] / off["median_generation_tps"]
    print_table(
        [
            "guard",
            "banned tokens",
            "answers",
            "answers with non-Japanese Han",
            "non-Japanese Han chars",
            "rewritten (byte-level leaks)",
            "median gen tok/s",
        ],
        [list(r.values()) for r in rows],
    )
    print(f"\nspeed change with the guard: {-drop * 100:+.1f} %  (goal: drop < 5 %)")
    write_json(
        args.out,
        {
            "machine": machine(),
            "model": args.model or "default",
            "max_tokens": args.max_tokens,
            "summary": rows,
            "speed_drop": drop,
            "answers": detail,
        },
    )


if __name__ == "__main__":
    main()
