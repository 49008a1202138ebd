"""Seconds to a chart on the default path (rules + learned reader + learned drug status, no language model).

    .venv/bin/python bench/chart_speed.py [--runs 3] [--label "under load"] [--out bench/out/chart_speed.json]

Three figures, for the targets of issue 15 ("a 1,500-character visit charted in ≤ 15 s median", "≤ 5 s after a
live visit ends"):
- karte() in this process on the demo visit (data/consultations/001_naika.txt) and on the 1,500-character visit
  (data/holdout/109, 1,495 characters): the first chart of the process (the lexicons, reader weights and e5
  embedder load) and the median of --runs after it;
- the median seconds per chart over every visit in data/consultations (one chart each, after the first);
- seconds from the end of a live visit to its chart on a real server process (`kogata serve`, its default model
  loaded and idle, as a clinic runs it): each visit is typed into /v1/visits/{id}/live utterance by utterance,
  --pace seconds apart (default 0.5: far faster than speech, which gives the server's warm-up of the visit's
  vectors more time; 0: everything at once, the worst case), then {"type": "end"}; the clock runs from sending
  "end" to receiving the chart (the server's own figure beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import machine, print_table, write_json
from websockets.sync.client import connect

from kogata.tasks.karte import karte
from kogata.transcript import Transcript, read_transcript

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "consultations" / "001_naika.txt"
LONG = ROOT / "data" / "holdout" / "109_kyukyu.txt"


def chars(transcript: Transcript) -> int:
    return sum(len(u.text) for u in transcript.utterances)


def timed(transcript: Transcript) -> tuple[float, str, float]:
    """(wall seconds, what made the chart, this process's CPU seconds: less swayed by other work on the cores)."""
    cpu, start = time.process_time(), time.perf_counter()
    chart = karte(transcript)
    return time.perf_counter() - start, chart.model, time.process_time() - cpu


def in_process(runs: int) -> tuple[list[dict], dict]:
    """karte() on the demo and the long visit (first, then median of `runs`), then over data/consultations."""
    rows = []
    for path in (DEMO, LONG):
        transcript = read_transcript(path)
        first, model, _ = timed(transcript)
        again = [timed(transcript) for _ in range(runs)]
        rows.append(
            {
                "visit": path.stem,
                "characters": chars(transcript),
                "utterances": len(transcript.utterances),
                "first_s": round(first, 2),
                "median_s": round(statistics.median(t[0] for t in again), 2),
                "median_cpu_s": round(statistics.median(t[2] for t in again), 2),
                "runs_s": [round(t[0], 2) for t in again],
                "made_by": model,
            }
        )
    per_visit = []
    for path in sorted((ROOT / "data" / "consultations").glob("*.txt")):
        transcript = read_transcript(path)
        wall, _, cpu = timed(transcript)
        per_visit.append(
            {"visit": path.stem, "characters": chars(transcript), "seconds": round(wall, 3), "cpu_s": round(cpu, 3)}
        )
    seconds = [v["seconds"] for v in per_visit]
    over = {
        "data": "data/consultations",
        "visits": len(per_visit),
        "median_s": round(statistics.median(seconds), 3),
        "median_cpu_s": round(statistics.median(v["cpu_s"] for v in per_visit), 3),
        "max_s": max(seconds),
        "per_visit": per_visit,
    }
    return rows, over


def _serve(port: int, db: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "kogata", "serve", "--port", str(port), "--db", str(db)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def live(runs: int, pace: float) -> list[dict]:
    """End-of-visit seconds on a real `kogata serve` process, the demo and the long visit, after one warm-up visit."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        server = _serve(port, Path(folder) / "v.sqlite3")
        try:
            deadline = time.time() + 600
            while True:  # the port answers at once; wait for the model too, as a clinic's server has it loaded
                try:
                    if httpx.get(url + "/health", timeout=2).json()["status"] != "loading":
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"the server did not start: {server.stderr.read() if server.stderr else ''}")
                time.sleep(0.5)
            one_visit(url, read_transcript(DEMO), server.pid, pace)  # warm-up: the first chart loads the reader
            rows = []
            for path in (DEMO, LONG):
                transcript = read_transcript(path)
                measured = [one_visit(url, transcript, server.pid, pace) for _ in range(runs)]
                rows.append(
                    {
                        "visit": path.stem,
                        "characters": chars(transcript),
                        "median_s": round(statistics.median(m[0] for m in measured), 2),
                        "server_median_s": round(statistics.median(m[1] for m in measured), 2),
                        "server_median_cpu_s": round(statistics.median(m[3] for m in measured), 2),
                        "runs_s": [round(m[0], 2) for m in measured],
                        "made_by": measured[0][2],
                    }
                )
            return rows
        finally:
            server.terminate()
            server.wait(60)


def cpu_seconds(pid: int) -> float:
    """The process's CPU seconds so far (user + system, every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_visit(url: str, transcript: Transcript, pid: int, pace: float) -> tuple[float, float, str, float]:
    """(seconds from "end" to the chart at the client, the server's own figure, what made the chart, the server's
    CPU seconds in between)."""
    visit = httpx.post(url + "/v1/visits", json={}).json()["id"]
    with connect(url.replace("http", "ws") + f"/v1/visits/{visit}/live") as ws:
        json.loads(ws.recv(timeout=60))  # ready
        for u in transcript.utterances:
            ws.send(json.dumps({"type": "utterance", "speaker": u.speaker, "text": u.text}, ensure_ascii=False))
            while json.loads(ws.recv(timeout=60))["type"] != "utterance":
                pass
            time.sleep(pace)
        ended, cpu = time.perf_counter(), cpu_seconds(pid)
        ws.send(json.dumps({"type": "end"}))
        while (message := json.loads(ws.recv(timeout=600)))["type"] != "chart":
            if message["type"] == "error":
                raise SystemExit(message["message"])
        waited, used = time.perf_counter() - ended, cpu_seconds(pid) - cpu
    return waited, message["seconds"], message["version"]["model"], used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between a live visit's utterances")
    parser.add_argument("--label", default="", help="e.g. 'quiet' or 'under load', stored with the figures")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "chart_speed.json"))
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    rows, over = in_process(args.runs)
    ended = live(args.runs, args.pace)
    load.append(os.getloadavg()[0])
    print_table(
        ["karte() on", "chars", "first chart s", f"median of {args.runs} s", "CPU s", "made by"],
        [[r["visit"], r["characters"], r["first_s"], r["median_s"], r["median_cpu_s"], r["made_by"]] for r in rows],
    )
    print(
        f"\n{over['data']}: {over['visits']} visits, median {over['median_s']} s a chart "
        f"({over['median_cpu_s']} CPU s; max {over['max_s']} s)\n"
    )
    print_table(
        ["live visit, kogata serve", "chars", "end → chart s (median)", "server's figure s", "server CPU s", "made by"],
        [
            [r["visit"], r["characters"], r["median_s"], r["server_median_s"], r["server_median_cpu_s"], r["made_by"]]
            for r in ended
        ],
    )
    print(f"load average (1 min) at start and end: {load}")
    write_json(
        args.out,
        {
            "command": "bench/chart_speed.py " + " ".join(sys.argv[1:]),
            "machine": machine(),
            "label": args.label,
            "pace_s": args.pace,
            "load_average_1min": load,
            "date": time.strftime("%Y-%m-%d"),
            "karte": rows,
            "consultations": over,
            "live": ended,
        },
    )


if __name__ == "__main__":
    main()
