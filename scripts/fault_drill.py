"""Fault drill: kill a real `kogata serve` with SIGKILL at random moments while a client appends utterances (one at a
time and in batches) and saves chart edits; restart it and check that every acknowledged write is there and nothing
is half-written.

    .venv/bin/python scripts/fault_drill.py --cycles 200 [--seed 1] [--model small] [--load-model]

The server is `kogata serve` itself (its command line, app, store and uvicorn). By default the drill starts it with
the background model load switched off (`Services.start_loading` patched to do nothing, in the child only): no route
the drill uses needs the model, and loading one holds the GIL in the binding's constructor, so that /health does
not answer for 10 to 20 s per restart on two busy cores. `--load-model` runs the command untouched.

After each kill, with the server down: `PRAGMA integrity_check` on the visit database. After each restart, through
the API: utterance seqs are 1..n with no gap; every acknowledged utterance and batch is there once, with its text;
every batch (acknowledged or cut off by the kill) is there whole or not at all; chart versions are 1..m with no gap,
every acknowledged edit is its version, and each edit version has its edit row. Prints the counts; exit status 1 if
any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kogata.store.visits import MAX_UTTERANCES

ROOT = Path(__file__).resolve().parent.parent
NO_MODEL_SERVE = (
    "import sys; from kogata.serve.services import Services; Services.start_loading = lambda self: None; "
    "from kogata.cli import main; sys.argv[0] = 'kogata'; main()"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def edit_chart(tag: str) -> dict:
    line = {"text": f"経過観察とする（{tag}）。", "evidence": [1], "supported": True}
    return {
        "soap": {"S": [], "O": [], "A": [], "P": [line]},
        **{k: [] for k in ("medications", "allergies", "vitals", "problems", "negatives", "warnings")},
    }


@dataclass
class Ledger:
    """What the server acknowledged, and what was in flight when it died."""

    utterances: dict[str, list[str]] = field(default_factory=dict)  # group tag → texts (a single is a group of 1)
    edits: dict[int, str] = field(default_factory=dict)  # version → tag
    in_flight: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (kind, tag, texts)
    counts: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # a write the live server answered with an error
    stored: int = 0  # utterances in the current visit, as the last check found

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


class Server:
    def __init__(self, db: Path, model: str, log: Path, load_model: bool = False):
        self.db, self.model, self.log, self.load_model = db, model, log, load_model
        self.process: subprocess.Popen | None = None
        self.base = ""

    def start(self, timeout: float = 120) -> float:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        began = time.perf_counter()
        with self.log.open("a") as out:
            argv = ["serve", "--port", str(port), "--db", str(self.db)]
            argv += ["--model", self.model, "--no-registered-adapters", "--log-level", "warning"]
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kogata", *argv]
                if self.load_model
                else [sys.executable, "-c", NO_MODEL_SERVE, *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, "KOGATA_API_KEY": ""},
            )
        while True:
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return time.perf_counter() - began
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.perf_counter() - began > timeout:
                raise SystemExit(f"the server did not start; see {self.log}")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


def write(base: str, visit: str, ledger: Ledger, cycle: int, rng: random.Random, stop: threading.Event) -> None:
    """Append and edit until the server dies (or `stop`); record what it acknowledged."""
    client = httpx.Client(base_url=base, timeout=10)
    k = 0
    while not stop.is_set():
        k += 1
        tag = f"c{cycle}w{k}"
        roll = rng.random()
        if roll < 0.45:
            kind, texts = "single", [f"三日前から熱があります {tag}"]
            body = {"speaker": rng.choice(["医師", "患者"]), "text": texts[0], "start": float(k), "end": k + 0.5}
        elif roll < 0.8:
            kind = "batch"
            texts = [f"咳が出ます {tag}-{i}" for i in range(rng.randint(2, 25))]
            body = {"utterances": [{"speaker": "患者", "text": t} for t in texts]}
        else:
            kind, texts = "edit", [tag]
        try:
            if kind == "edit":
                versions = client.get(f"/v1/visits/{visit}").json()["versions"]
                base_version = versions[-1]["version"] if versions else 0
                ledger.in_flight.append((kind, tag, texts))
                answer = client.put(
                    f"/v1/visits/{visit}/chart",
                    json={"chart": edit_chart(tag), "author": "drill", "base_version": base_version},
                )
                if answer.status_code != 201:
                    ledger.refused.append(f"edit {tag}: {answer.status_code} {answer.text[:200]}")
                    ledger.in_flight.pop()
                    continue
                ledger.edits[answer.json()["version"]] = tag
                ledger.count("edits acknowledged")
            else:
                ledger.in_flight.append((kind, tag, texts))
                answer = client.post(f"/v1/visits/{visit}/utterances", json=body)
                if answer.status_code != 201:
                    ledger.refused.append(f"{kind} {tag}: {answer.status_code} {answer.text[:200]}")
                    ledger.in_flight.pop()
                    continue
                stored = [u["text"] for u in answer.json()["utterances"]]
                assert stored == texts, (stored, texts)
                ledger.utterances[tag] = texts
                ledger.count(f"{kind} appends acknowledged")
                ledger.count("utterances acknowledged", len(texts))
            ledger.in_flight.pop()
        except (httpx.TransportError, json.JSONDecodeError):
            return  # the server died mid-request: that one stays in flight


def integrity(db: Path) -> list[str]:
    problems = []
    with sqlite3.connect(db) as conn:  # the server is down: nobody else has the file open
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            problems.append(f"integrity_check: {result}")
    return problems


def verify(base: str, visit: str, ledger: Ledger) -> list[str]:
    problems = []
    record = httpx.get(f"{base}/v1/visits/{visit}", timeout=30).json()
    utterances = record["utterances"]
    ledger.stored = len(utterances)
    if [u["seq"] for u in utterances] != list(range(1, len(utterances) + 1)):
        problems.append("utterance seqs have a gap")
    texts = [u["text"] for u in utterances]
    position = {}
    for i, text in enumerate(texts):
        if text in position:
            problems.append(f"utterance stored twice: {text}")
        position[text] = i
    for tag, group in ledger.utterances.items():
        missing = [t for t in group if t not in position]
        if missing:
            problems.append(f"acknowledged {tag} lost {len(missing)} of {len(group)} utterances")
        elif [position[t] for t in group] != list(range(position[group[0]], position[group[0]] + len(group))):
            problems.append(f"acknowledged {tag} is not stored in one run")
    for kind, tag, group in ledger.in_flight:
        if kind == "edit":
            continue
        present = sum(t in position for t in group)
        if present not in (0, len(group)):
            problems.append(f"{kind} {tag} cut off by the kill is half-written: {present} of {len(group)}")
        ledger.count(f"in-flight {kind} appends {'stored whole' if present else 'absent'}")
    versions = record["versions"]
    if [v["version"] for v in versions] != list(range(1, len(versions) + 1)):
        problems.append("chart versions have a gap")
    by_version = {v["version"]: v for v in versions}
    for version, tag in ledger.edits.items():
        stored = by_version.get(version)
        if stored is None or tag not in json.dumps(stored["chart"], ensure_ascii=False):
            problems.append(f"acknowledged edit {tag} is not version {version}")
    edit_rows = sorted(e["version"] for e in record["edits"])
    if edit_rows != sorted(v["version"] for v in versions if v["source"] == "edit"):
        problems.append("an edit version has no edit row, or an edit row no version")
    for kind, tag, _ in ledger.in_flight:
        if kind == "edit":
            stored = any(tag in json.dumps(v["chart"], ensure_ascii=False) for v in versions)
            ledger.count(f"in-flight edits {'stored' if stored else 'absent'}")
    ledger.in_flight.clear()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default="small", help="The model the server loads in the background.")
    parser.add_argument("--max-wait", type=float, default=1.0, help="Longest time before a kill, in seconds.")
    parser.add_argument("--load-model", action="store_true", help="Let the server load its model (slow restarts).")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="kogata-drill-"))
    db, log = folder / "visits.sqlite3", folder / "serve.log"
    server = Server(db, args.model, log, load_model=args.load_model)
    ledger = Ledger(counts={"visits": 1})
    problems: list[str] = []
    began = time.perf_counter()
    server.start()
    visit = httpx.post(server.base + "/v1/visits").json()["id"]
    for cycle in range(1, args.cycles + 1):
        if ledger.stored > MAX_UTTERANCES - 2_000:  # a visit holds 10,000: go on in a fresh one
            visit = httpx.post(server.base + "/v1/visits").json()["id"]
            ledger.utterances.clear()
            ledger.edits.clear()
            ledger.stored = 0
            ledger.count("visits")
        stop = threading.Event()
        worker = threading.Thread(target=write, args=(server.base, visit, ledger, cycle, rng, stop), daemon=True)
        worker.start()
        time.sleep(rng.uniform(0.02, args.max_wait))
        server.kill()
        worker.join(timeout=30)
        stop.set()
        ledger.count("kills")
        problems += [f"cycle {cycle}: {p}" for p in integrity(db)]
        server.start()
        problems += [f"cycle {cycle}: {p}" for p in verify(server.base, visit, ledger)]
        problems += [f"cycle {cycle}: refused {r}" for r in ledger.refused]
        ledger.refused.clear()
        if cycle % 20 == 0:
            print(f"{cycle} cycles, {time.perf_counter() - began:.0f} s, {len(problems)} problems", flush=True)
    server.kill()
    report = {"cycles": args.cycles, "seed": args.seed, **dict(sorted(ledger.counts.items())), "problems": problems}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
