"""kogata's generation against the raw binding, on the same model and prompt, in one run.

Each side runs in its own process (so peak RSS is its own): `kogata.stream_generate` (with the glyph guard,
as users get it) and a bare `xllamacpp.Server` request. Every run changes the first token of the system
message, so the prompt is processed in full each time rather than served from the KV cache.

    .venv/bin/python bench/engine.py [--model NAME] [--runs 2] [--rounds 2] [--threads 2] [--out bench/out/engine.json]

Goal (issue 2): kogata ≥ 0.95 × the raw binding on prompt and generation speed; default model peak RSS ≤ 2.2 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median, peak_rss_mb, print_table, write_json  # noqa: E402

# Synthetic consultation (written for kogata; no real patient), about 600 tokens with the instruction.
CONSULTATION = """医師：今日はどうされましたか。
患者：えっと、三日前から熱が出て、咳が止まらないんです。
医師：熱は何度くらいありましたか。
患者：昨日の夜は三十八度五分ありました。今朝は三十七度八分です。
医師：痰は出ますか。
患者：はい、黄色っぽい痰が出ます。
医師：息苦しさや胸の痛みはありますか。
患者：息苦しさはないです。胸も痛くないです。
医師：食欲はどうですか。
患者：あまりないですけど、水分は取れています。
医師：周りに同じような症状の方はいますか。
患者：職場で風邪が流行っていて、同僚が何人か休んでいます。
医師：普段飲んでいるお薬はありますか。
患者：血圧の薬、アムロジピンを五ミリ、一日一回飲んでいます。
医師：お薬のアレルギーはありますか。
患者：ペニシリンで蕁麻疹が出たことがあります。
看護師：体温三十七度九分、血圧百三十八の八十六、脈拍九十二、サチュレーション九十七パーセントです。
医師：喉を見せてください。少し赤いですね。胸の音を聞きます。右の下の方で少し雑音がありますね。
医師：念のため胸のレントゲンと採血をしましょう。
患者：わかりました。
医師：結果が出るまで三十分ほどお待ちください。
患者：今日は雨で待合室が混んでいますね。
医師：そうですね、季節の変わり目ですから。"""

PROMPT = (
    "次の診察の会話を読み、主観的情報・客観的情報・評価・計画に分けて、カルテの下書きを日本語で簡潔に書いてください。\n\n"
    + CONSULTATION
)
SYSTEM = "あなたは日本語で答えるアシスタントです。自然な日本語で、簡潔かつ正確に答えてください。"


def worker(side: str, model: str | None, runs: int, threads: int, max_tokens: int) -> dict:
    import kogata
    from kogata import weights
    from kogata.engine.registry import get_spec

    results = []
    if side == "kogata":
        t0 = time.perf_counter()
        llm = kogata.load(model, threads=threads, progress=False)
        load_s = time.perf_counter() - t0
        for run in range(runs):
            messages = [{"role": "system", "content": f"[{run}] {SYSTEM}"}, {"role": "user", "content": PROMPT}]
            stream = kogata.stream_generate(llm, messages, max_tokens=max_tokens, temperature=0.0)
            text = "".join(stream)
            s = stream.stats
            results.append(
                {
                    "prompt_tokens": s.prompt_tokens,
                    "prompt_tps": s.prompt_tps,
                    "generation_tps": s.generation_tps,
                    "first_token_s": s.first_token_s,
                    "completion_tokens": s.completion_tokens,
                    "total_s": s.total_s,
                    "text": text[:200],
                }
            )
    else:
        import xllamacpp

        path = weights.ensure(get_spec(model), progress=False)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = 4096
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.warmup = False
        params.verbosity = -1
        t0 = time.perf_counter()
        server = xllamacpp.Server(params)
        load_s = time.perf_counter() - t0
        for run in range(runs):
            messages = [{"role": "system", "content": f"[{run}] {SYSTEM}"}, {"role": "user", "content": PROMPT}]
            state: dict = {"first": None, "timings": {}, "text": []}
            start = time.perf_counter()

            def on_chunk(chunk: dict, state: dict = state, start: float = start) -> bool:
                for choice in chunk.get("choices", []):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        if state["first"] is None:
                            state["first"] = time.perf_counter() - start
                        state["text"].append(piece)
                if chunk.get("timings"):
                    state["timings"] = chunk["timings"]
                return False

            server.handle_chat_completions(
                {"messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "stream": True}, on_chunk
            )
            t = state["timings"]
            results.append(
                {
                    "prompt_tokens": t.get("prompt_n", 0) + t.get("cache_n", 0),
                    "prompt_tps": t.get("prompt_per_second", 0.0),
                    "generation_tps": t.get("predicted_per_second", 0.0),
                    "first_token_s": state["first"] or 0.0,
                    "completion_tokens": t.get("predicted_n", 0),
                    "total_s": time.perf_counter() - start,
                    "text": "".join(state["text"])[:200],
                }
            )
    return {"side": side, "load_s": load_s, "runs": results, "peak_rss_mb": peak_rss_mb()}


def summarise(data: dict) -> dict:
    runs = data["runs"]
    return {
        "side": data["side"],
        "load_s": data["load_s"],
        "peak_rss_mb": data["peak_rss_mb"],
        **{
            k: median([r[k] for r in runs])
            for k in ("prompt_tokens", "prompt_tps", "generation_tps", "first_token_s", "completion_tokens")
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model name (default: the default model)")
    ap.add_argument("--runs", type=int, default=2, help="runs per process")
    ap.add_argument("--rounds", type=int, default=2, help="processes per side, alternated")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--out", default="bench/out/engine.json")
    ap.add_argument("--worker", choices=["kogata", "raw"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.runs, args.threads, args.max_tokens), ensure_ascii=False))
        return

    # Alternate the sides (raw, kogata, raw, kogata, …) so that a busy moment on the machine hits both.
    sides: dict[str, dict] = {}
    for _ in range(args.rounds):
        for side in ("raw", "kogata"):
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                side,
                "--runs",
                str(args.runs),
                "--threads",
                str(args.threads),
                "--max-tokens",
                str(args.max_tokens),
            ] + (["--model", args.model] if args.model else [])
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            data = json.loads(out.stdout.strip().splitlines()[-1])
            if side in sides:
                sides[side]["runs"] += data["runs"]
                sides[side]["load_s"] = min(sides[side]["load_s"], data["load_s"])
                sides[side]["peak_rss_mb"] = max(sides[side]["peak_rss_mb"], data["peak_rss_mb"])
            else:
                sides[side] = data
    raw, kog = summarise(sides["raw"]), summarise(sides["kogata"])
    ratio = {k: (kog[k] / raw[k] if raw[k] else 0.0) for k in ("prompt_tps", "generation_tps")}
    ratio["first_token_s"] = raw["first_token_s"] / kog["first_token_s"] if kog["first_token_s"] else 0.0
    print_table(
        ["side", "prompt tokens", "prompt tok/s", "gen tok/s", "first token s", "load s", "peak RSS MB"],
        [
            [
                s["side"],
                int(s["prompt_tokens"]),
                s["prompt_tps"],
                s["generation_tps"],
                s["first_token_s"],
                s["load_s"],
                s["peak_rss_mb"],
            ]
            for s in (raw, kog)
        ],
    )
    print(
        f"\nkogata / raw: prompt {ratio['prompt_tps']:.3f}, generation {ratio['generation_tps']:.3f}, "
        f"first-token speed {ratio['first_token_s']:.3f}  (goal ≥ 0.95)"
    )
    write_json(
        args.out,
        {
            "machine": machine(),
            "model": args.model or "default",
            "threads": args.threads,
            "runs": args.runs,
            "rounds": args.rounds,
            "max_tokens": args.max_tokens,
            "raw": raw,
            "kogata": kog,
            "ratio_kogata_over_raw": ratio,
            "detail": sides,
        },
    )


if __name__ == "__main__":
    main()
