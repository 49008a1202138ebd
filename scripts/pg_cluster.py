"""A throw-away PostgreSQL cluster in a temporary folder, for the tests and the replica benchmark.

    python scripts/pg_cluster.py            # starts one, prints its postgresql:// URL, stops it on Ctrl-C

PostgreSQL refuses to run as root, so as root (CI, this machine) initdb and pg_ctl run as the `postgres` user via
runuser, in a folder handed to that user. The cluster listens on 127.0.0.1 at a free port and on a unix socket
in its own folder; authentication is `trust` (nothing outside this machine can reach it, and it is deleted on
stop). `fsync=off` is for tests only (`durable=True` keeps PostgreSQL's defaults, as the benchmark wants).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Unavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


@dataclass
class Cluster:
    folder: Path
    port: int
    as_user: list[str]  # the runuser prefix, or [] when not root

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, _tool("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def _tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise Unavailable(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*, durable: bool = False, max_connections: int = 100) -> Cluster:
    """initdb + pg_ctl start in a new temporary folder; Unavailable (with the reason) if that cannot be done."""
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="kogata-pg-"))
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            raise Unavailable("running as root without runuser: cannot start PostgreSQL as the postgres user")
        try:
            shutil.chown(folder, "postgres", "postgres")
        except (LookupError, PermissionError) as e:
            raise Unavailable(f"no `postgres` user to run PostgreSQL as ({e}); apt-get install postgresql") from None
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    run = subprocess.run(
        [*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"initdb failed: {(run.stderr or run.stdout).strip()[-500:]}")
    port = free_port()
    settings = [
        f"-p {port}",
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={folder}",
        f"-c max_connections={max_connections}",
    ]
    if not durable:
        settings.append("-c fsync=off")  # tests: an OS crash is not what they test
    run = subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", " ".join(settings), "-w", "start"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode:
        log = (folder / "log").read_text(errors="replace")[-500:] if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"pg_ctl start failed: {(run.stderr or run.stdout).strip()[-300:]} {log}")
    return Cluster(folder, port, as_user)


if __name__ == "__main__":
    cluster = start(durable="--durable" in sys.argv)
    print(cluster.url, flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        cluster.stop()
