"""Benchmark the two llama.cpp Python bindings kogata could use: xllamacpp vs llama-cpp-python.

What it measures
----------------
Each binding runs in its own child process (so peak RSS is per binding, read from the
child's ``VmHWM`` and from ``os.wait4``). Both get the same request: a Japanese chat with
a ~1,000-token user message (a synthetic doctor-patient consultation, written inline
below) rendered through the model's own chat template by the binding, greedy decoding
(temperature 0) and ``max_tokens=128``. Every run re-processes the whole prompt
(xllamacpp: ``"cache_prompt": False``, checked through ``timings.cache_n == 0``;
llama-cpp-python: ``Llama.reset()`` before each run).

Per run it records, measured the same way for both bindings from the stream:

* ``first_token_s``: wall time from the request to the first chunk with content
  (prompt processing + first sampled token);
* ``prompt_tps``: prompt tokens / ``first_token_s``;
* ``gen_tps``: (generated tokens - 1) / (time from first to last content chunk);

plus the engine's own counters (xllamacpp ``timings``; llama-cpp-python
``llama_perf_context``) as ``engine_prompt_tps`` / ``engine_gen_tps``. Load time is the
time to construct ``xllamacpp.Server`` / ``llama_cpp.Llama``. Medians over all runs.

Both bindings get the same threads, ``n_ctx`` (4096), ``n_ubatch`` (512, both defaults)
and flash-attention setting (``--flash-attn``, default on for both; left alone,
xllamacpp uses "auto" and llama-cpp-python "off"). Everything else is each
binding's default; in particular the xllamacpp wheel is a portable build (no AVX-512)
while llama-cpp-python is compiled for this CPU, which the JSON's ``system_info`` shows.

The cores may be shared with other work. The JSON therefore keeps per-run values, the
1-minute load average at each run and each child's CPU-seconds per wall-second
(``cpu_per_wall``; well below ``--threads`` means the child did not get its cores).
``--rounds N`` runs N child processes per binding, alternating the bindings, and pools
their runs, so that background load falls on both alike.

After the timed runs each child also checks, with a tiny request each, whether
JSON-schema-constrained output and ``logit_bias`` work, and reports what LoRA API exists
(no adapter file is used: only the API surface is reported, and for xllamacpp what the
server does with a per-request ``"lora"`` field when no adapter is loaded).

How to run
----------
llama-cpp-python builds from source, so it lives in its own virtual environment::

    python3 -m venv /tmp/lcp-venv
    /usr/bin/time -f %e /tmp/lcp-venv/bin/pip install llama-cpp-python==0.3.36
    .venv/bin/python bench/bindings.py --model PATH/TO/model.gguf --runs 3 [--rounds 2] \\
        --install-seconds llama-cpp-python=SECONDS --install-seconds xllamacpp=SECONDS

``--install-seconds`` only copies the measured pip times into the table and JSON.
A binding whose Python is missing or cannot import it is skipped with a note.
The table is printed; the full results go to ``--out`` (default bench/out/bindings.json).

This file is self-contained (standard library only in the parent), because the same file
is executed as the child worker by each binding's own interpreter.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

XLLAMACPP = "xllamacpp"
LLAMA_CPP_PYTHON = "llama-cpp-python"
BINDINGS: tuple[str, ...] = (XLLAMACPP, LLAMA_CPP_PYTHON)

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
N_CTX = 4096
MAX_TOKENS = 128

SYSTEM_PROMPT = (
    "あなたは日本の診療所で働く医療記録アシスタントです。"
    "与えられた診察の書き起こしだけを根拠に、簡潔で正確な日本語のカルテを作成してください。"
)

# Synthetic: an invented consultation written for this benchmark. No real patient.
TRANSCRIPT = """\
【合成データ：実在の患者ではありません】内科外来の診察記録（書き起こし）

医師：こんにちは。今日はどうされましたか。
患者：五日ほど前から咳が続いていて、おとといから熱も出てきました。
医師：熱は何度くらいありましたか。
患者：昨日の夜に測ったら三十八度二分でした。今朝は三十七度六分です。
医師：咳はどんな咳ですか。痰は出ますか。
患者：最初は乾いた咳でしたが、昨日から黄色っぽい痰が少し出るようになりました。
医師：痰に血が混じったことはありますか。
患者：いいえ、それはありません。
医師：息苦しさや、胸の痛みはどうですか。
患者：階段を上ると少し息が切れます。深呼吸すると右の胸の下のほうがちくっと痛みます。
医師：喉の痛みや鼻水はありましたか。
患者：最初の二日くらいは喉が痛くて、鼻水も出ていました。今は喉はだいぶ楽です。
医師：周りに同じような症状の方はいますか。
患者：職場で風邪が流行っていて、隣の席の同僚も先週休んでいました。
医師：食欲や睡眠はどうでしょう。
患者：食欲はいつもの半分くらいです。咳で夜中に何度か目が覚めます。
医師：これまでに大きな病気をしたことはありますか。
患者：高血圧で三年前から近くのクリニックに通っています。それ以外は特にありません。
医師：今飲んでいるお薬を教えてください。
患者：アムロジピンを五ミリ、朝に一錠飲んでいます。熱が出てから市販の解熱剤を二回飲みました。
医師：お薬や食べ物のアレルギーはありますか。
患者：ペニシリンで昔、全身に発疹が出たことがあると母から聞いています。
医師：それは大事な情報ですね。カルテに記録しておきます。たばこやお酒はどうですか。
患者：たばこは一日十本くらい、二十年吸っています。お酒は週末にビールを少し飲む程度です。
医師：お仕事は何をされていますか。
患者：倉庫の管理をしています。ほこりっぽい場所で働くことが多いです。
医師：では診察しますね。体温は三十七度八分、血圧は百四十二の八十八、脈拍は一分間に九十八回です。
医師：酸素飽和度は九十五パーセントです。少し深く息を吸ってください。
医師：右の背中の下のほうで、吸うときにぱちぱちという音が聞こえます。左は問題ありません。
医師：喉は少し赤いですが、扁桃の腫れはありません。首のリンパ節も腫れていませんね。
医師：足のむくみもありません。お腹も柔らかくて、押して痛いところはないですね。
医師：念のため胸のレントゲンと血液検査をしましょう。
（検査後）
医師：レントゲンで右の下の肺に白い影が見えます。血液検査では白血球が一万二千八百、CRPが八・四と上がっています。
医師：症状と合わせると、右下葉の市中肺炎と考えられます。
患者：肺炎ですか。入院が必要でしょうか。
医師：今の状態なら、呼吸や血圧は保たれているので、外来で飲み薬の治療ができると判断します。
医師：ペニシリンのアレルギーがあるので、ペニシリン系ではない抗菌薬を選びます。
医師：レボフロキサシンを一日一回五百ミリ、七日間飲んでください。
医師：咳止めと、熱が高いときのためにアセトアミノフェンも出しておきます。
患者：血圧の薬はそのまま続けていいですか。
医師：はい、アムロジピンはいつも通り続けてください。
医師：水分をしっかりとって、仕事は少なくとも三日間は休んでください。
医師：息苦しさが強くなる、唇が紫っぽくなる、三十九度以上の熱が続く、といったときはすぐに受診してください。
医師：三日後にもう一度来てください。そのときに効果を確認します。
医師：それから、肺炎をきっかけに禁煙も考えてみませんか。禁煙外来もご案内できます。
患者：そうですね。前から考えてはいたので、次回相談させてください。
医師：わかりました。お大事にしてください。
"""

USER_PROMPT = (
    TRANSCRIPT + "\n上記の診察記録をもとに、S（主観的情報）、O（客観的情報）、A（評価）、P（計画）の"
    "四項目からなるSOAP形式のカルテを日本語で詳しく作成してください。"
)

MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": SYSTEM_PROMPT},
    {"role": "user", "content": USER_PROMPT},
]

# Small requests for the feature checks.
FEATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "chief_complaint": {"type": "string"},
        "temperature_c": {"type": "number"},
    },
    "required": ["chief_complaint", "temperature_c"],
    "additionalProperties": False,
}
FEATURE_JSON_MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": "JSONだけで答えてください。"},
    {"role": "user", "content": "患者は五日前からの咳を訴え、体温は三十八・二度でした。主訴と体温をJSONで。"},
]
FEATURE_BIAS_MESSAGES: list[dict[str, str]] = [
    {"role": "user", "content": "「はい」か「いいえ」だけで答えてください。空は青いですか。"},
]


# ----------------------------------------------------------------------------- helpers


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _peak_rss_mb() -> float | None:
    """Peak resident set size of this process (VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _check_json(text: str) -> tuple[bool, str]:
    """True when ``text`` is one JSON object satisfying FEATURE_SCHEMA (hand-checked)."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return False, f"not JSON: {exc}"
    if not isinstance(obj, dict):
        return False, "not an object"
    if set(obj) != {"chief_complaint", "temperature_c"}:
        return False, f"keys {sorted(obj)}"
    if not isinstance(obj["chief_complaint"], str) or not isinstance(obj["temperature_c"], (int, float)):
        return False, "wrong value types"
    return True, "ok"


def _summarise_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "prompt_tokens",
        "gen_tokens",
        "first_token_s",
        "prompt_tps",
        "gen_tps",
        "engine_prompt_tps",
        "engine_gen_tps",
        "total_s",
    )
    out: dict[str, Any] = {}
    best: dict[str, Any] = {}
    for key in keys:
        vals = [float(r[key]) for r in runs if r.get(key) is not None]
        out[key] = _median(vals)
        if vals and key.endswith("tps"):
            best[key] = max(vals)
        elif vals and key.endswith("_s"):
            best[key] = min(vals)
    # On shared cores the best run is the least disturbed one: an estimate of the unloaded speed.
    out["best"] = best
    return out


# ----------------------------------------------------------------------------- workers


def _worker_xllamacpp(model: str, threads: int, runs: int, flash_attn: bool) -> dict[str, Any]:
    import xllamacpp  # type: ignore[import-untyped]

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_ctx = N_CTX
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.warmup = False
    fa = xllamacpp.llama_flash_attn_type
    params.flash_attn_type = fa.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attn else fa.LLAMA_FLASH_ATTN_TYPE_DISABLED
    t0 = time.perf_counter()
    server = xllamacpp.Server(params)
    load_s = time.perf_counter() - t0

    def stream(request: dict[str, Any]) -> tuple[list[dict[str, Any]], float, float | None, float]:
        chunks: list[dict[str, Any]] = []
        first: list[float] = []
        last = [0.0]

        def callback(chunk: Any) -> bool:
            now = time.perf_counter()
            if isinstance(chunk, dict):
                chunks.append(chunk)
                for choice in chunk.get("choices") or []:
                    if (choice.get("delta") or {}).get("content"):
                        if not first:
                            first.append(now)
                        last[0] = now
            return False  # True would stop the stream

        start = time.perf_counter()
        server.handle_chat_completions(request, callback)
        end = time.perf_counter()
        return chunks, start, (first[0] if first else None), (last[0] or end)

    per_run: list[dict[str, Any]] = []
    sample_text = ""
    for _ in range(runs):
        request = {
            "messages": MESSAGES,
            "max_tokens": MAX_TOKENS,
            "temperature": 0,
            "stream": True,
            "cache_prompt": False,
        }
        chunks, start, first, last = stream(request)
        timings: dict[str, Any] = {}
        text_parts: list[str] = []
        for chunk in chunks:
            if isinstance(chunk.get("timings"), dict):
                timings = chunk["timings"]
            for choice in chunk.get("choices") or []:
                text_parts.append((choice.get("delta") or {}).get("content") or "")
        errors = [c for c in chunks if "error" in c]
        if errors or first is None:
            raise RuntimeError(f"xllamacpp stream failed: {errors or chunks[-3:]}")
        sample_text = "".join(text_parts)
        prompt_n = int(timings.get("prompt_n", 0))
        gen_n = int(timings.get("predicted_n", 0))
        first_s = first - start
        per_run.append(
            {
                "prompt_tokens": prompt_n,
                "cache_n": timings.get("cache_n"),
                "gen_tokens": gen_n,
                "first_token_s": first_s,
                "prompt_tps": prompt_n / first_s if first_s > 0 else None,
                "gen_tps": (gen_n - 1) / (last - first) if gen_n > 1 and last > first else None,
                "engine_prompt_tps": timings.get("prompt_per_second"),
                "engine_gen_tps": timings.get("predicted_per_second"),
                "total_s": last - start,
                "loadavg_1m": os.getloadavg()[0],
                "timings": timings,
            }
        )
    peak_bench = _peak_rss_mb()

    features: dict[str, Any] = {}

    # JSON schema through the OpenAI-style response_format.
    try:
        res = server.handle_chat_completions(
            {
                "messages": FEATURE_JSON_MESSAGES,
                "max_tokens": 64,
                "temperature": 0,
                "response_format": {"type": "json_schema", "json_schema": {"schema": FEATURE_SCHEMA}},
            }
        )
        text = res["choices"][0]["message"]["content"]
        ok, why = _check_json(text)
        features["json_schema"] = {"works": ok, "detail": why, "output": text}
    except Exception as exc:  # noqa: BLE001 - report, don't crash the benchmark
        features["json_schema"] = {"works": False, "detail": f"{type(exc).__name__}: {exc}"}

    # logit_bias: ban the first token of the greedy answer, expect a different first token.
    try:
        base = server.handle_chat_completions(
            {
                "messages": FEATURE_BIAS_MESSAGES,
                "max_tokens": 4,
                "temperature": 0,
                "logprobs": True,
                "top_logprobs": 1,
            }
        )
        first_tok = base["choices"][0]["logprobs"]["content"][0]
        banned_id = int(first_tok["id"])
        biased = server.handle_chat_completions(
            {
                "messages": FEATURE_BIAS_MESSAGES,
                "max_tokens": 4,
                "temperature": 0,
                "logprobs": True,
                "top_logprobs": 1,
                "logit_bias": [[banned_id, False]],
            }
        )
        new_first = biased["choices"][0]["logprobs"]["content"][0]
        features["logit_bias"] = {
            "works": int(new_first["id"]) != banned_id,
            "detail": f"banned id {banned_id} ({first_tok['token']!r}); first token became "
            f"{int(new_first['id'])} ({new_first['token']!r})",
            "baseline": base["choices"][0]["message"]["content"],
            "biased": biased["choices"][0]["message"]["content"],
        }
    except Exception as exc:  # noqa: BLE001
        features["logit_bias"] = {"works": False, "detail": f"{type(exc).__name__}: {exc}"}

    # LoRA: API surface only (no adapter file). The probe sends a per-request "lora" list
    # with no adapter loaded and records what the server does with it (error or ignore).
    lora: dict[str, Any] = {
        "load_time_api": "CommonParams.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(path, scale)]",
        "has_CommonAdapterLoraInfo": hasattr(xllamacpp, "CommonAdapterLoraInfo"),
        "has_lora_init_without_apply": hasattr(params, "lora_init_without_apply"),
        "per_request_api": 'request field "lora": [{"id": i, "scale": s}] (llama.cpp server)',
    }
    try:
        res = server.handle_chat_completions(
            {
                "messages": FEATURE_BIAS_MESSAGES,
                "max_tokens": 2,
                "temperature": 0,
                "lora": [{"id": 0, "scale": 1.0}],
            }
        )
        if isinstance(res, dict) and "error" in res:
            lora["per_request_probe_without_adapters"] = f"rejected: {res['error']}"
        else:
            lora["per_request_probe_without_adapters"] = "accepted and ignored (no adapter loaded)"
    except Exception as exc:  # noqa: BLE001
        lora["per_request_probe_without_adapters"] = f"{type(exc).__name__}: {exc}"
    lora["works"] = None  # not exercised: no adapter file available
    features["lora"] = lora

    return {
        "version": getattr(xllamacpp, "__version__", None),
        "system_info": xllamacpp.get_system_info(),
        "settings": {
            "n_ctx": N_CTX,
            "n_batch": params.n_batch,
            "n_ubatch": params.n_ubatch,
            "flash_attn_type": str(params.flash_attn_type),
            "fit_params": params.fit_params,
            "threads": threads,
        },
        "load_s": load_s,
        "peak_rss_mb_bench": peak_bench,
        "runs": per_run,
        "sample_output": sample_text,
        "features": features,
    }


def _worker_llama_cpp(model: str, threads: int, runs: int, flash_attn: bool) -> dict[str, Any]:
    import inspect

    import llama_cpp  # type: ignore[import-not-found]
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(
        model_path=model,
        n_ctx=N_CTX,
        n_threads=threads,
        n_threads_batch=threads,
        flash_attn=flash_attn,
        verbose=False,
    )
    load_s = time.perf_counter() - t0

    perf_fn: Callable[[Any], Any] | None = getattr(llama_cpp, "llama_perf_context", None)
    perf_reset: Callable[[Any], Any] | None = getattr(llama_cpp, "llama_perf_context_reset", None)
    ctx = llm._ctx.ctx  # noqa: SLF001 - only to read llama.cpp's own perf counters

    # Count prompt tokens with the same chat template the binding applies.
    prompt_tokens: int | None = None
    try:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # type: ignore[import-not-found]

        template = llm.metadata.get("tokenizer.chat_template")
        if template:
            eos = llm._model.token_get_text(llm.token_eos())  # noqa: SLF001
            bos = llm._model.token_get_text(llm.token_bos())  # noqa: SLF001
            rendered = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)(messages=MESSAGES)
            prompt_tokens = len(llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=True, special=True))
    except Exception:  # noqa: BLE001 - fall back to the perf counter below
        prompt_tokens = None

    per_run: list[dict[str, Any]] = []
    sample_text = ""
    for _ in range(runs):
        llm.reset()
        if perf_reset is not None:
            perf_reset(ctx)
        start = time.perf_counter()
        first: float | None = None
        last = start
        chunks = 0
        parts: list[str] = []
        for chunk in llm.create_chat_completion(messages=MESSAGES, max_tokens=MAX_TOKENS, temperature=0.0, stream=True):
            content = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
            if content:
                now = time.perf_counter()
                if first is None:
                    first = now
                last = now
                chunks += 1
                parts.append(content)
        if first is None:
            raise RuntimeError("llama-cpp-python produced no content")
        sample_text = "".join(parts)
        engine_prompt_tps = engine_gen_tps = None
        n_p_eval = n_eval = None
        if perf_fn is not None:
            perf = perf_fn(ctx)
            n_p_eval, n_eval = int(perf.n_p_eval), int(perf.n_eval)
            if perf.t_p_eval_ms > 0:
                engine_prompt_tps = 1000.0 * n_p_eval / perf.t_p_eval_ms
            if perf.t_eval_ms > 0:
                engine_gen_tps = 1000.0 * n_eval / perf.t_eval_ms
        # Tokens generated: everything llama.cpp holds past the prompt (stream chunks can
        # merge tokens that split a multi-byte character, so they undercount).
        p_n = prompt_tokens if prompt_tokens is not None else n_p_eval
        gen_n = int(llm.n_tokens) - int(p_n) + 1 if p_n is not None else chunks
        gen_n = min(gen_n, MAX_TOKENS)
        first_s = first - start
        per_run.append(
            {
                "prompt_tokens": p_n,
                "perf_n_p_eval": n_p_eval,
                "perf_n_eval": n_eval,
                "content_chunks": chunks,
                "gen_tokens": gen_n,
                "first_token_s": first_s,
                "prompt_tps": p_n / first_s if p_n and first_s > 0 else None,
                "gen_tps": (gen_n - 1) / (last - first) if gen_n > 1 and last > first else None,
                "engine_prompt_tps": engine_prompt_tps,
                "engine_gen_tps": engine_gen_tps,
                "total_s": last - start,
                "loadavg_1m": os.getloadavg()[0],
            }
        )
    peak_bench = _peak_rss_mb()

    features: dict[str, Any] = {}
    try:
        llm.reset()
        res = llm.create_chat_completion(
            messages=FEATURE_JSON_MESSAGES,
            max_tokens=64,
            temperature=0.0,
            response_format={"type": "json_object", "schema": FEATURE_SCHEMA},
        )
        text = res["choices"][0]["message"]["content"]
        ok, why = _check_json(text)
        features["json_schema"] = {"works": ok, "detail": why, "output": text}
    except Exception as exc:  # noqa: BLE001
        features["json_schema"] = {"works": False, "detail": f"{type(exc).__name__}: {exc}"}

    try:
        llm.reset()
        base = llm.create_chat_completion(messages=FEATURE_BIAS_MESSAGES, max_tokens=4, temperature=0.0)
        base_text = base["choices"][0]["message"]["content"]
        banned_id = llm.tokenize(base_text.encode("utf-8"), add_bos=False, special=False)[0]
        llm.reset()
        biased = llm.create_chat_completion(
            messages=FEATURE_BIAS_MESSAGES,
            max_tokens=4,
            temperature=0.0,
            logit_bias={banned_id: -100.0},
        )
        biased_text = biased["choices"][0]["message"]["content"]
        new_first = llm.tokenize(biased_text.encode("utf-8"), add_bos=False, special=False)
        features["logit_bias"] = {
            "works": bool(new_first) and new_first[0] != banned_id,
            "detail": f"banned id {banned_id}; first token became {new_first[0] if new_first else None}",
            "baseline": base_text,
            "biased": biased_text,
        }
    except Exception as exc:  # noqa: BLE001
        features["logit_bias"] = {"works": False, "detail": f"{type(exc).__name__}: {exc}"}

    init_params = inspect.signature(Llama.__init__).parameters
    chat_params = inspect.signature(Llama.create_chat_completion).parameters
    features["lora"] = {
        "load_time_params": [p for p in init_params if "lora" in p],
        "per_request_params": [p for p in chat_params if "lora" in p],
        "high_level_llama_methods": [m for m in dir(Llama) if "lora" in m.lower() or "adapter" in m.lower()],
        "low_level_ctypes_functions": sorted(
            n for n in dir(llama_cpp) if "lora" in n.lower() and n.startswith("llama_")
        ),
        "works": None,  # not exercised: no adapter file available
    }

    system_info = llama_cpp.llama_print_system_info()
    return {
        "version": llama_cpp.__version__,
        "system_info": system_info.decode() if isinstance(system_info, bytes) else str(system_info),
        "chat_format": llm.chat_format,
        "settings": {
            "n_ctx": N_CTX,
            "n_batch": llm.n_batch,
            "n_ubatch": llm.context_params.n_ubatch,
            "flash_attn": flash_attn,
            "threads": threads,
        },
        "load_s": load_s,
        "peak_rss_mb_bench": peak_bench,
        "runs": per_run,
        "sample_output": sample_text,
        "features": features,
    }


WORKERS: dict[str, Callable[[str, int, int, bool], dict[str, Any]]] = {
    XLLAMACPP: _worker_xllamacpp,
    LLAMA_CPP_PYTHON: _worker_llama_cpp,
}


def _worker_main(binding: str, model: str, threads: int, runs: int, flash_attn: bool, result_path: str) -> int:
    result = WORKERS[binding](model, threads, runs, flash_attn)
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


# ----------------------------------------------------------------------------- parent


def _machine() -> dict[str, Any]:
    model_name = platform.processor() or None
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model_name = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu_model": model_name,
        "nproc": os.cpu_count(),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _unavailable(binding: str, python: str) -> str | None:
    """Why ``binding`` cannot run under ``python``, or None when it can."""
    if not Path(python).exists():
        return f"python {python} not found"
    module = "xllamacpp" if binding == XLLAMACPP else "llama_cpp"
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"{python} cannot import {module}: {' '.join(probe.stderr.strip().splitlines()[-1:])}"
    return None


def _run_child(
    binding: str, python: str, model: str, threads: int, runs: int, flash_attn: bool, log_path: Path
) -> dict[str, Any]:
    """Run one binding's worker in a child process; return its result plus process stats."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        result_path = tmp.name
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--worker",
        binding,
        "--model",
        model,
        "--threads",
        str(threads),
        "--runs",
        str(runs),
        "--flash-attn",
        "on" if flash_attn else "off",
        "--worker-result",
        result_path,
    ]
    t0 = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    try:
        if proc.returncode != 0:
            return {"error": f"worker exited {proc.returncode}; see {log_path}"}
        result: dict[str, Any] = json.loads(Path(result_path).read_text())
    finally:
        Path(result_path).unlink(missing_ok=True)
    result["peak_rss_mb_process"] = usage.ru_maxrss / 1024.0  # Linux reports KiB
    # CPU seconds per wall second of the child; well below --threads means the cores were shared.
    result["cpu_per_wall"] = (usage.ru_utime + usage.ru_stime) / wall if wall > 0 else None
    result["log"] = str(log_path)
    return result


def _merge_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold the per-round child results of one binding into one result with medians."""
    ok = [r for r in rounds if "runs" in r]
    if not ok:
        return rounds[0]
    merged = dict(ok[0])
    merged["rounds"] = len(ok)
    merged["runs"] = [run for r in ok for run in r["runs"]]
    merged["load_s_per_round"] = [r["load_s"] for r in ok]
    merged["load_s"] = statistics.median(merged["load_s_per_round"])
    merged["cpu_per_wall_per_round"] = [r.get("cpu_per_wall") for r in ok]
    for key in ("peak_rss_mb_bench", "peak_rss_mb_process"):
        vals = [r[key] for r in ok if r.get(key) is not None]
        merged[key] = max(vals) if vals else None
    merged.pop("cpu_per_wall", None)
    merged["errors"] = [r["error"] for r in rounds if "error" in r]
    merged["summary"] = _summarise_runs(merged["runs"])
    return merged


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return str(value)


def _table(results: dict[str, dict[str, Any]], install: dict[str, float]) -> str:
    header = ["binding", "install s", "load s", "prompt tok/s", "gen tok/s", "first-token s", "peak RSS MB"]
    rows: list[list[str]] = []
    notes: list[str] = []
    for binding, res in results.items():
        if "summary" not in res:
            rows.append([binding, _fmt(install.get(binding)), "-", "-", "-", "-", "-"])
            notes.append(f"{binding}: {res.get('skipped') or res.get('error')}")
            continue
        s = res["summary"]
        rows.append(
            [
                binding,
                _fmt(install.get(binding)),
                _fmt(res["load_s"], 2),
                _fmt(s["prompt_tps"]),
                _fmt(s["gen_tps"]),
                _fmt(s["first_token_s"], 2),
                _fmt(res.get("peak_rss_mb_bench"), 0),
            ]
        )
        runs = res["runs"]
        cache = [r["cache_n"] for r in runs if "cache_n" in r]
        feats = res.get("features", {})
        cpu = [c for c in res.get("cpu_per_wall_per_round", []) if c is not None]
        notes.append(
            f"{binding}: {len(runs)} runs, prompt {_fmt(s['prompt_tokens'], 0)} tok, gen {_fmt(s['gen_tokens'], 0)} tok"
            + (f", cache_n {cache}" if cache else "")
            + f"; engine counters: prompt {_fmt(s['engine_prompt_tps'])} tok/s, gen {_fmt(s['engine_gen_tps'])} tok/s"
            + f"; child CPU/wall {', '.join(_fmt(c, 2) for c in cpu)}"
            + f"; loadavg(1m) during runs {', '.join(_fmt(r.get('loadavg_1m'), 1) for r in runs)}"
        )
        best = s.get("best", {})
        notes.append(
            f"{binding} best run: prompt {_fmt(best.get('prompt_tps'))} tok/s, gen {_fmt(best.get('gen_tps'))} tok/s, "
            f"first-token {_fmt(best.get('first_token_s'), 2)} s"
        )
        notes.append(
            f"{binding} features: json_schema={feats.get('json_schema', {}).get('works')}, "
            f"logit_bias={feats.get('logit_bias', {}).get('works')}, lora=API only (see JSON)"
        )
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    out.append("")
    out += notes
    return "\n".join(out)


def _default_model() -> str:
    home = Path(os.environ.get("KOGATA_HOME", Path.home() / ".cache" / "kogata"))
    return str(home / "models" / DEFAULT_MODEL_NAME)


def _parse_install(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in BINDINGS:
            raise argparse.ArgumentTypeError(f"--install-seconds wants BINDING=SECONDS, got {item!r}")
        out[name] = float(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", default=_default_model(), help="GGUF model (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="bench/out/bindings.json")
    parser.add_argument("--python-xllamacpp", default=sys.executable, help="python that has xllamacpp")
    parser.add_argument(
        "--python-lcp", default="/tmp/lcp-venv/bin/python", help="python of a venv with llama-cpp-python"
    )
    parser.add_argument(
        "--install-seconds",
        action="append",
        default=[],
        metavar="BINDING=SECONDS",
        help="measured pip install wall time to report, e.g. llama-cpp-python=372",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="child processes per binding, alternated (runs are pooled)"
    )
    parser.add_argument(
        "--flash-attn",
        choices=("on", "off"),
        default="on",
        help="flash attention for both bindings (their own defaults differ: xllamacpp auto, llama-cpp-python off)",
    )
    parser.add_argument("--only", choices=BINDINGS, action="append", help="run only this binding")
    parser.add_argument("--worker", choices=BINDINGS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        return _worker_main(
            args.worker, args.model, args.threads, args.runs, args.flash_attn == "on", args.worker_result
        )

    if not Path(args.model).is_file():
        parser.error(f"model not found: {args.model}")
    install = _parse_install(args.install_seconds)
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    pythons = {XLLAMACPP: args.python_xllamacpp, LLAMA_CPP_PYTHON: args.python_lcp}

    bindings = args.only or list(BINDINGS)
    results: dict[str, dict[str, Any]] = {}
    per_round: dict[str, list[dict[str, Any]]] = {}
    for binding in bindings:
        why = _unavailable(binding, pythons[binding])
        if why:
            print(f"skipping {binding}: {why}", file=sys.stderr)
            results[binding] = {"skipped": why, "python": pythons[binding]}
        else:
            per_round[binding] = []
    # Alternate the bindings round by round so that background load hits both alike.
    for round_no in range(args.rounds):
        for binding in per_round:
            print(f"round {round_no + 1}/{args.rounds}: {binding} ...", file=sys.stderr, flush=True)
            log_path = out_path.with_name(f"{out_path.stem}-{binding}-r{round_no + 1}.log")
            res = _run_child(
                binding, pythons[binding], args.model, args.threads, args.runs, args.flash_attn == "on", log_path
            )
            res["python"] = pythons[binding]
            per_round[binding].append(res)
    for binding, rounds in per_round.items():
        results[binding] = _merge_rounds(rounds)
    results = {b: results[b] for b in bindings}

    report = {
        "machine": _machine(),
        "model": str(Path(args.model).resolve()),
        "model_bytes": Path(args.model).stat().st_size,
        "threads": args.threads,
        "runs_per_round": args.runs,
        "rounds": args.rounds,
        "flash_attn": args.flash_attn,
        "loadavg_1m_at_end": os.getloadavg()[0],
        "max_tokens": MAX_TOKENS,
        "n_ctx": N_CTX,
        "install_seconds": install,
        "results": results,
    }
    out_path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(_table(results, install))
    print(f"\nwrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
