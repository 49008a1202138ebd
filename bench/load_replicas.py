"""Two `kogata serve` replicas on one PostgreSQL under load: N simulated visits, each created through one replica,
its utterances appended in batches through both (alternating), its chart drafted through the other; throughput,
p50/p95 chart latency, errors, 5xx, and acknowledged writes lost (every utterance and chart version a replica
answered 201 for is looked for in the database at the end).

    .venv/bin/python bench/load_replicas.py [--visits 60] [--clients 6] [--batch 5] [--restart] [--out F.json]

Starts a throw-away PostgreSQL with its durable defaults (fsync on; scripts/pg_cluster.py) unless --store names
one, and the replicas with --rules-only (the chart is the rules': this measures the service, not the model; the
model's share is bench/chart_cost.py's). With --restart, replica A is killed (SIGKILL) when half the visits are
done and started again; a client whose request dies with it asks the other replica how many utterances the visit
holds and resends only the rest (what a page does when it resumes), so nothing is stored twice.
Also measured: the replicas' CPU seconds per visit, and PostgreSQL's commits and inserted rows per visit.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "scripts"))
from common import machine, print_table, write_json  # noqa: E402
from replicas import Replica  # noqa: E402

from kogata.transcript import read_transcript  # noqa: E402

TIMEOUT = httpx.Timeout(60.0)


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    chart_s: list[float] = field(default_factory=list)
    requests: int = 0
    errors: list[str] = field(default_factory=list)  # non-2xx answers (409s included), and dead connections
    server_errors: int = 0  # 5xx
    failovers: int = 0  # requests that died with a killed replica and were resumed on the other
    acknowledged: dict[str, tuple[list[str], int]] = field(default_factory=dict)  # visit → (utterance texts, charts)

    def answer(self, response: httpx.Response, what: str) -> bool:
        with self.lock:
            self.requests += 1
            if response.status_code >= 500:
                self.server_errors += 1
            if response.status_code >= 300:
                self.errors.append(f"{what}: {response.status_code} {response.text[:120]}")
                return False
        return True


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime, stime in clock ticks (USER_HZ = 100)


def db_counters(url: str) -> tuple[int, int, int]:
    """Committed transactions, inserted rows and bytes of the database (PostgreSQL's statistics)."""
    import psycopg

    with psycopg.connect(url) as db:
        db.execute("SELECT pg_stat_force_next_flush()")  # this session's counts; the replicas' flush within 1 s
        time.sleep(1.5)
        return db.execute(
            "SELECT xact_commit, tup_inserted, pg_database_size(current_database()) FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()


def stored_utterances(replica: Replica, visit: str) -> int:
    return len(httpx.get(f"{replica.url}/v1/visits/{visit}", timeout=TIMEOUT).json()["utterances"])


def run_visit(n: int, lines: list[dict], pair: tuple[Replica, Replica], batch: int, tally: Tally) -> None:
    """One simulated visit; a request that dies with its replica is resumed on the other one."""
    first, other = pair[n % 2], pair[1 - n % 2]

    def either(path: str, body: dict, prefer: Replica) -> tuple[httpx.Response | None, Replica | None]:
        """POST through `prefer`, else (it died) through the other replica; (answer, the replica that died)."""
        died = None
        for replica in (prefer, first if prefer is other else other):
            try:
                return httpx.post(replica.url + path, json=body, timeout=TIMEOUT), died
            except httpx.TransportError:
                with tally.lock:
                    tally.failovers += 1
                died = replica
                if path.endswith("/utterances"):  # resume: resend only what the visit does not hold yet
                    held = stored_utterances(first if replica is other else other, visit) - len(texts)
                    body = {"utterances": body["utterances"][held:]}
                    texts.extend(u["text"] for u in chunk[:held])  # stored before the replica died
                    if not body["utterances"]:
                        return None, died
        with tally.lock:
            tally.errors.append(f"{path}: both replicas unreachable")
        return None, died

    visit, texts, chunk = "", [], []
    created, _ = either("/v1/visits", {"title": f"load {n}"}, first)
    if created is None or not tally.answer(created, "create"):
        return
    visit = created.json()["id"]
    for i in range(0, len(lines), batch):
        chunk = lines[i : i + batch]
        response, _ = either(f"/v1/visits/{visit}/utterances", {"utterances": chunk}, (first, other)[(i // batch) % 2])
        if response is not None and tally.answer(response, "append"):
            texts += [u["text"] for u in response.json()["utterances"]]
    started = time.perf_counter()
    charted, _ = either(f"/v1/visits/{visit}/chart", {}, other)
    charts = 0
    if charted is not None and tally.answer(charted, "chart"):
        charts = 1
        with tally.lock:
            tally.chart_s.append(time.perf_counter() - started)
    with tally.lock:
        tally.acknowledged[visit] = (texts, charts)


def restarter(pair: tuple[Replica, Replica], tally: Tally, at: int) -> None:
    while len(tally.acknowledged) < at:
        time.sleep(0.05)
    pair[0].kill()
    time.sleep(1.0)
    pair[0].start()


def lost_writes(store_url: str, tally: Tally) -> tuple[int, int]:
    """Acknowledged utterances and chart versions not in the database, in their place (read directly, not through
    a replica), and utterances stored more than once (a resend after a failover must not repeat one)."""
    from kogata.store import open_store

    store = open_store(store_url)
    lost = twice = 0
    for visit, (texts, charts) in tally.acknowledged.items():
        stored = [u.text for u in store.utterances(visit)]
        lost += sum(1 for a, b in itertools.zip_longest(texts, stored) if a is not None and a != b)
        twice += max(0, len(stored) - len(texts))
        lost += max(0, charts - len(store.chart_versions(visit)))
    store.close()
    return lost, twice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=60)
    parser.add_argument("--clients", type=int, default=6, help="visits in flight at once")
    parser.add_argument("--batch", type=int, default=5, help="utterances per append request")
    parser.add_argument("--restart", action="store_true", help="kill and restart replica A halfway")
    parser.add_argument("--store", help="an existing postgresql:// database (default: a throw-away cluster)")
    parser.add_argument("--out", default="bench/out/load_replicas.json")
    args = parser.parse_args()

    import pg_cluster

    cluster = None
    store_url = args.store
    if store_url is None:
        import psycopg

        cluster = pg_cluster.start(durable=True)
        with psycopg.connect(cluster.url, autocommit=True) as db:
            db.execute("CREATE DATABASE load")
        store_url = cluster.database_url("load")
    visits = sorted((ROOT / "data" / "consultations").glob("*.txt"))
    scripts = [[{"speaker": u.speaker, "text": u.text} for u in read_transcript(p).utterances] for p in visits]
    pair = (Replica(store_url).start(), Replica(store_url).start())
    try:
        tally = Tally()
        cpu_before = sum(cpu_seconds(r.process.pid) for r in pair)
        before = db_counters(store_url)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            if args.restart:
                threading.Thread(target=restarter, args=(pair, tally, args.visits // 2), daemon=True).start()
            jobs = [
                pool.submit(run_visit, n, scripts[n % len(scripts)], pair, args.batch, tally)
                for n in range(args.visits)
            ]
            for job in jobs:
                job.result()
        wall = time.perf_counter() - started
        cpu = None if args.restart else sum(cpu_seconds(r.process.pid) for r in pair) - cpu_before
        commits, rows, size = (a - b for a, b in zip(db_counters(store_url), before))
        lost, twice = lost_writes(store_url, tally)
        utterances = sum(len(scripts[n % len(scripts)]) for n in range(args.visits))
    finally:
        for replica in pair:
            replica.stop()
        if cluster:
            cluster.stop()

    charts = sorted(tally.chart_s)
    result = {
        "command": "bench/load_replicas.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "replicas": 2,
        "store": "PostgreSQL 15, throw-away cluster, fsync on" if cluster else "given --store",
        "visits": args.visits,
        "clients": args.clients,
        "utterances": utterances,
        "batch": args.batch,
        "restart": args.restart,
        "seconds": round(wall, 2),
        "visits_per_s": round(args.visits / wall, 2),
        "requests": tally.requests,
        "requests_per_s": round(tally.requests / wall, 1),
        "chart_p50_s": round(statistics.median(charts), 3) if charts else None,
        "chart_p95_s": round(statistics.quantiles(charts, n=20)[18], 3) if len(charts) > 1 else None,
        "errors": len(tally.errors),
        "error_examples": tally.errors[:5],
        "server_errors_5xx": tally.server_errors,
        "failovers": tally.failovers,
        "acknowledged_writes_lost": lost,
        "utterances_stored_twice": twice,
        "replica_cpu_s_per_visit": round(cpu / args.visits, 3) if cpu is not None else None,
        "write_requests_per_visit": round(tally.requests / args.visits, 1),  # each one write transaction
        "db_transactions_per_visit": round(commits / args.visits, 1),  # PostgreSQL's xact_commit: reads too
        "db_rows_per_visit": round(rows / args.visits, 1),
        "db_kb_per_visit": round(size / 1024 / args.visits, 1),  # tables, indexes (pages allocated: a rough figure)
    }
    print_table(
        [
            "visits",
            "utterances",
            "s",
            "visits/s",
            "chart p50 s",
            "chart p95 s",
            "errors",
            "5xx",
            "lost",
            "twice",
            "fail-overs",
        ],
        [
            [
                args.visits,
                utterances,
                result["seconds"],
                result["visits_per_s"],
                result["chart_p50_s"],
                result["chart_p95_s"],
                result["errors"],
                result["server_errors_5xx"],
                lost,
                twice,
                tally.failovers,
            ]
        ],
    )
    print(
        f"replica CPU s/visit {result['replica_cpu_s_per_visit']}  write requests/visit "
        f"{result['write_requests_per_visit']}  DB transactions/visit {result['db_transactions_per_visit']} (reads "
        f"too)  rows inserted/visit {result['db_rows_per_visit']}  kB/visit {result['db_kb_per_visit']}"
    )
    write_json(args.out, result)


if __name__ == "__main__":
    main()
