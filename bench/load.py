"""`kogata serve` under concurrent load: answered vs refused (503 + Retry-After), latency, and how fast the model
is free again after a streaming client walks away.

Starts the server as a subprocess (as deployed), then, for each concurrency level, fires that many clients at
once, each sending `--requests` short chat completions one after another. Nothing may fail other than a 503
with Retry-After; after each level the server must still answer.

    .venv/bin/python bench/load.py [--model small] [--queue 2] [--levels 1,4,8] [--requests 3] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median, print_table, write_json  # noqa: E402

PROMPT = "発熱と咳が三日続いています。受診の目安を一文で教えてください。"
LONG_PROMPT = "1から300までの数字を、読点で区切って一つずつすべて書いてください。"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: str, queue: int, db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from kogata.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--model",
            model,
            "--queue",
            str(queue),
            "--db",
            str(db),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).json()["status"] == "ok":
                return process, url
        except (httpx.TransportError, ValueError):
            pass
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the model did not load within 300 s")


def client(url: str, model: str, requests: int, max_tokens: int) -> list[dict]:
    results = []
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": max_tokens}
    for _ in range(requests):
        start = time.perf_counter()
        try:
            r = httpx.post(url + "/v1/chat/completions", json=body, timeout=600)
            results.append(
                {
                    "status": r.status_code,
                    "seconds": time.perf_counter() - start,
                    "retry_after": r.headers.get("retry-after"),
                }
            )
        except httpx.HTTPError as e:
            results.append({"status": f"error: {type(e).__name__}", "seconds": time.perf_counter() - start})
    return results


def disconnect_seconds(url: str, model: str) -> float:
    """Seconds from a streaming client closing its connection to the model being free (per /health)."""
    body = {"model": model, "messages": [{"role": "user", "content": LONG_PROMPT}], "max_tokens": 600, "stream": True}
    with httpx.Client(timeout=600) as http, http.stream("POST", url + "/v1/chat/completions", json=body) as response:
        pieces = 0
        for line in response.iter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                pieces += 1
                if pieces == 3:
                    break
    left = time.perf_counter()
    while (q := httpx.get(url + "/health").json()["queue"])["running"] or q["waiting"]:
        time.sleep(0.02)
    return time.perf_counter() - left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="small")
    parser.add_argument("--queue", type=int, default=2, help="the server's --queue (requests that may wait)")
    parser.add_argument("--levels", default="1,4,8", help="concurrent clients, comma-separated")
    parser.add_argument("--requests", type=int, default=3, help="requests per client")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--out", default="bench/out/load.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(args.model, args.queue, Path(tmp) / "visits.sqlite3")
        try:
            rows, levels = [], []
            for level in (int(x) for x in args.levels.split(",")):
                with ThreadPoolExecutor(level) as pool:
                    batches = list(
                        pool.map(lambda _: client(url, args.model, args.requests, args.max_tokens), range(level))
                    )
                results = [r for batch in batches for r in batch]
                ok = [r["seconds"] for r in results if r["status"] == 200]
                refused = [r for r in results if r["status"] == 503]
                failed = [r for r in results if r["status"] not in (200, 503)]
                alive = httpx.get(url + "/health", timeout=10).status_code == 200
                retry_after = ",".join(sorted({str(r["retry_after"]) for r in refused})) or "-"
                rows.append(
                    [
                        level,
                        len(results),
                        len(ok),
                        len(refused),
                        len(failed),
                        median(ok) if ok else 0.0,
                        max(ok) if ok else 0.0,
                        retry_after,
                        "yes" if alive else "NO",
                    ]
                )
                levels.append({"clients": level, "results": results, "alive_after": alive})
            freed = disconnect_seconds(url, args.model)
        finally:
            process.terminate()
            process.wait(30)

    print(
        f"kogata serve --model {args.model} --queue {args.queue}; {args.requests} requests per client, "
        f"max_tokens {args.max_tokens}"
    )
    print_table(["clients", "requests", "answered", "503", "failed", "median s", "max s", "Retry-After", "alive"], rows)
    print(f"\nmodel free {freed:.2f} s after a streaming client disconnected")
    write_json(
        args.out,
        {
            "machine": machine(),
            "model": args.model,
            "queue": args.queue,
            "levels": levels,
            "disconnect_free_seconds": freed,
        },
    )


if __name__ == "__main__":
    main()
