"""Two hosts behind nginx in steady state: what each process spends per turn, and what
the shared database does (issue 21, item 5).

The deployment of README « Deploying on several hosts », on this machine: one PostgreSQL
(tests/postgres.py), app hosts (`jalerte run --workers W`, data directories of their
own, one JALERTE_SECRET_KEY) behind the shipped nginx site (tests/proxy.py, HTTPS), one
parse service shared by the hosts (the machine has two cores). N widget conversations
(bench/load.py's scripted people) run through nginx for D seconds, once with one host
behind nginx and once with two, on the same machine.

Prints, for each setup: turns/s and turn latency; CPU per turn of each process kind
(each host's workers, the parse service, nginx, PostgreSQL, the load generator) and in
all, against the machine's cores; from PostgreSQL, sampled every 0.1 s: sessions waiting
on a lock (pg_stat_activity.wait_event_type = 'Lock') and ungranted locks (pg_locks),
connections per host (each PostgreSQL client socket traced to its process with `ss`), and
transactions committed per turn. The claim it tests: adding a host adds no cost per turn
and no waiting, so throughput is bounded by cores alone.

    .venv/bin/python bench/hosts.py [--clients 32] [--seconds 20] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import client, cpu_seconds  # noqa: E402
from rolling import LIMITS, MODEL, SECRET, backend  # noqa: E402
from tests import proxy  # noqa: E402


def group(pid: int) -> list[int]:
    """A host's processes: its main process and every process of its group."""
    found = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def family(pid: int) -> list[int]:
    """A process and its children (nginx's master and its workers)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [pid, *(int(p) for p in found.stdout.split())]


def pids_of(name: str) -> list[int]:
    found = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += cpu_seconds(pid)
    return total


def connections_by_pid(pg_port: int) -> Counter:
    """Established TCP connections to PostgreSQL's port, by the client process."""
    shown = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( dport = :{pg_port} )"],
        capture_output=True,
        text=True,
    ).stdout
    return Counter(int(pid) for pid in re.findall(r"pid=(\d+)", shown))


class Database:
    """PostgreSQL sampled while the load runs."""

    def __init__(self, url: str):
        self.url = url.replace("postgresql+asyncpg", "postgresql")
        self.lock_waits: list[int] = []
        self.ungranted: list[int] = []
        self.connections: list[int] = []

    async def commits(self) -> int:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            return await connection.fetchval(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            )
        finally:
            await connection.close()

    async def sample(self, until: float) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            while time.monotonic() < until:
                waiting, ungranted, connected = await connection.fetchrow(
                    """SELECT
                         (SELECT count(*) FROM pg_stat_activity
                           WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()),
                         (SELECT count(*) FROM pg_locks WHERE NOT granted),
                         (SELECT count(*) FROM pg_stat_activity
                           WHERE datname = current_database() AND pid <> pg_backend_pid())"""
                )
                self.lock_waits.append(waiting)
                self.ungranted.append(ungranted)
                self.connections.append(connected)
                await asyncio.sleep(0.1)
        finally:
            await connection.close()


async def measure(
    label: str,
    base: str,
    hosts: dict[str, proxy.Host],
    nlu_pid: int,
    nginx_pid: int,
    database: Database,
    pg_port: int,
    clients: int,
    seconds: float,
) -> None:
    latencies: list[float] = []
    stats = {"alerts": 0, "errors": 0}
    kinds = {
        **{f"host {name}": group(host.process.pid) for name, host in hosts.items()},
        "parse service": [nlu_pid],
        "nginx": family(nginx_pid),
    }
    before = {kind: cpu(pids) for kind, pids in kinds.items()}
    pg_before = {p: cpu_seconds(p) for p in pids_of("postgres")}
    own_before = time.process_time()
    commits_before = await database.commits()
    started = time.monotonic()
    until = started + seconds
    sampling = asyncio.create_task(database.sample(until))
    connected: list[Counter] = []

    async def trace() -> None:
        while time.monotonic() < until:
            connected.append(await asyncio.to_thread(connections_by_pid, pg_port))
            await asyncio.sleep(1)

    tracing = asyncio.create_task(trace())
    await asyncio.gather(
        *(client(base, n, until, latencies, stats, verify_tls=False) for n in range(clients))
    )
    elapsed = time.monotonic() - started
    await sampling
    await tracing
    commits = await database.commits() - commits_before
    spent = {kind: cpu(kinds[kind]) - before[kind] for kind in kinds}
    pg_after = {p: cpu_seconds(p) for p in pids_of("postgres")}
    spent["PostgreSQL"] = sum(c - pg_before.get(p, 0.0) for p, c in pg_after.items())
    spent["load generator"] = time.process_time() - own_before
    latencies.sort()
    turns = len(latencies)

    def pct(q: float) -> float:
        return latencies[min(turns - 1, int(turns * q))]

    print(f"\n## {label}")
    print(
        f"{clients} conversations through nginx for {elapsed:.0f} s: {turns} turns, "
        f"{turns / elapsed:.1f} turns/s, {stats['alerts']} alerts, {stats['errors']} errors"
    )
    print(
        f"turn latency: p50 {statistics.median(latencies):.0f} ms, p95 {pct(0.95):.0f} ms, "
        f"p99 {pct(0.99):.0f} ms, max {latencies[-1]:.0f} ms"
    )
    total = sum(spent.values())
    print(
        "CPU per turn: "
        + ", ".join(f"{kind} {1000 * c / turns:.2f} ms" for kind, c in spent.items())
        + f"; in all {1000 * total / turns:.2f} ms = {total / elapsed:.2f} of "
        f"{os.cpu_count()} cores busy"
    )
    by_host = {
        name: max(
            (
                sum(n for pid, n in seen.items() if pid in kinds[f"host {name}"])
                for seen in connected
            ),
            default=0,
        )
        for name in hosts
    }
    print(
        "PostgreSQL: "
        f"{commits / turns:.2f} transactions committed per turn; "
        f"sessions waiting on a lock: mean {statistics.mean(database.lock_waits):.2f}, "
        f"max {max(database.lock_waits)} ({len(database.lock_waits)} samples); "
        f"ungranted locks: max {max(database.ungranted)}; "
        f"connections: max {max(database.connections)} in all, per host "
        + ", ".join(f"{name} {n}" for name, n in by_host.items())
    )


async def bench(clients: int, seconds: float, workers: int, workdir: Path) -> None:
    async with backend(workdir, "jalerte_hosts") as (cluster, url, supervisor):
        common = dict(
            database_url=url,
            secret_key=SECRET,
            model=MODEL,
            nlu=f"unix:{supervisor.socket}",
            workers=workers,
            **LIMITS,
        )
        with contextlib.ExitStack() as stack:
            a = stack.enter_context(proxy.app_host(workdir / "host-A", **common))
            b = stack.enter_context(proxy.app_host(workdir / "host-B", **common))
            for label, hosts in (
                ("one host behind nginx", {"A": a}),
                ("two hosts", {"A": a, "B": b}),
            ):
                # The shipped site names two upstream hosts: one host is named twice.
                upstream = [h.address for h in hosts.values()]
                with proxy.nginx((upstream * 2)[:2], workdir / f"nginx-{len(hosts)}") as front:
                    await measure(
                        f"{label} ({workers} worker(s) each), one parse service",
                        front.https,
                        hosts,
                        supervisor.process.pid,
                        front.process.pid,
                        Database(url),
                        cluster.port,
                        clients,
                        seconds,
                    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1, help="workers per host")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jalerte-hosts-"))
    try:
        asyncio.run(bench(args.clients, args.seconds, args.workers, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
