"""`kogata serve` replicas as real processes on one visit store, for the replica tests and bench/load_replicas.py.

replica = Replica(store_url, rules_only=True).start()   # waits until /health answers
replica.url                                             # http://127.0.0.1:PORT
replica.kill(); replica.start()                         # a crash and a restart on the same port
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica:
    def __init__(self, store: str, *, rules_only: bool = True, model: str | None = None, log: Path | None = None):
        self.store, self.rules_only, self.model, self.log = store, rules_only, model, log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> Replica:
        argv = [sys.executable, "-m", "kogata.cli", "serve", "--port", str(self.port), "--store", self.store]
        argv += ["--rules-only"] if self.rules_only else ["--model", self.model] if self.model else []
        argv += ["--log-level", "warning", "--queue", "16"]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 (kept open with the process)
        self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.time() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica on port {self.port} exited with {self.process.returncode}")
            if time.time() > deadline:
                self.kill()
                raise RuntimeError(f"replica on port {self.port} did not answer within {timeout:.0f} s")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what the replica acknowledged must already be in the store."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
