"""Full turns under load: N concurrent widget conversations against `jalerte run`.

Starts `jalerte run` as a real process (SQLite, its supervised parse service), then N
clients, each over its own WebSocket, run scripted conversations from a first message
to a saved alert, again and again, for D seconds: turns per second and turn latency
(frame sent → turn received) percentiles, alerts saved, errors. Also the bot's and the
NLU process's CPU seconds per turn. Issue 10's target: no worse than the one-process
bot (45 turns/s, p99 5.5 s at 32 concurrent).

    .venv/bin/python bench/load.py [--clients 32] [--seconds 20] [--workers N] [--postgres]

`--postgres` runs a throwaway PostgreSQL cluster (as the tests do) instead of SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from dialogue_turns import ANSWERS, FIRST_MESSAGES  # noqa: E402
from nlu_service import MODEL, free_port, start_bot, wait_healthy  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _name(pid: int) -> str:
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"serve" in command:
        return "NLU service"
    worker = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    found = [e for e in worker if e.startswith(b"JALERTE_WORKER=")]
    return f"worker {found[0].split(b'=')[1].decode()}" if found else "bot"


def _postgres() -> list[int]:
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split() if Path(f"/proc/{pid}").exists()]


def next_frame(turn: dict) -> dict:
    """What a scripted person sends after this turn."""
    choices = [c for r in turn["replies"] for c in r.get("choices") or []]
    expecting = turn.get("expecting")
    if expecting == "confirmation":
        return {"type": "choice", "value": "confirm:send"}
    if expecting in ANSWERS:
        return {"type": "message", "text": ANSWERS[expecting]}
    if choices:
        return {"type": "choice", "value": choices[0]["value"]}
    return {"type": "message", "text": "je ne sais pas"}


async def client(
    base: str,
    n: int,
    until: float,
    latencies: list[float],
    stats: dict[str, int],
    verify_tls: bool = True,
    by_kind: dict[str, list[float]] | None = None,
    steady_from: float = 0.0,
) -> None:
    """`verify_tls=False`: nginx's self-signed certificate (bench/hosts.py). Turns sent
    from `steady_from` on (time.monotonic) are also listed under by_kind["steady"]."""
    connector = None if verify_tls else aiohttp.TCPConnector(ssl=False)
    by_kind = {} if by_kind is None else by_kind
    async with aiohttp.ClientSession(connector=connector) as http:
        conversation = 0
        while time.monotonic() < until:
            first = FIRST_MESSAGES[(n + conversation) % len(FIRST_MESSAGES)]
            conversation += 1
            async with http.ws_connect(f"{base.replace('http', 'ws')}/ws?lang=fr") as ws:
                await ws.receive_json()  # the session frame
                frame: dict = {"type": "message", "text": first}
                for _ in range(12):
                    if time.monotonic() >= until:
                        return
                    started = time.perf_counter()
                    steady = time.monotonic() >= steady_from
                    await ws.send_json(frame)
                    turn = await ws.receive_json(timeout=60)
                    took = (time.perf_counter() - started) * 1000
                    latencies.append(took)
                    kind = "first" if frame.get("text") == first else "other"
                    if turn.get("alert_id"):
                        kind = "saving"
                    by_kind.setdefault(kind, []).append(took)
                    if steady:
                        by_kind.setdefault("steady", []).append(took)
                    if turn.get("type") != "turn":
                        stats["errors"] += 1
                        break
                    if turn.get("alert_id"):
                        stats["alerts"] += 1
                        break
                    frame = next_frame(turn)


async def _sessions(database: str) -> int:
    """PostgreSQL's count of sessions ever opened on `database` (pg_stat_database)."""
    import asyncpg

    connection = await asyncpg.connect(database.replace("postgresql+asyncpg", "postgresql"))
    try:
        return await connection.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await connection.close()


async def load(
    base: str, clients: int, seconds: float, pids: list[int], database: str = ""
) -> None:
    """`database`: PostgreSQL's URL, to count the connections opened during the run."""
    sessions_before = await _sessions(database) if database else 0
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    stats = {"alerts": 0, "errors": 0}
    pg_before = {p: cpu_seconds(p) for p in _postgres()}
    own_before = time.process_time()
    cpu_before = [cpu_seconds(p) for p in pids]
    started = time.monotonic()
    await asyncio.gather(
        *(
            client(
                base,
                n,
                started + seconds,
                latencies,
                stats,
                by_kind=by_kind,
                steady_from=started + 1.0,
            )
            for n in range(clients)
        )
    )
    elapsed = time.monotonic() - started
    cpu = [cpu_seconds(p) - b for p, b in zip(pids, cpu_before)]
    latencies.sort()
    turns = len(latencies)

    def pct(q: float) -> float:
        return latencies[min(turns - 1, int(turns * q))]

    print(
        f"{clients} concurrent conversations for {elapsed:.0f} s: {turns} turns, "
        f"{turns / elapsed:.1f} turns/s, {stats['alerts']} alerts saved, "
        f"{stats['errors']} errors"
    )
    print(
        f"turn latency: p50 {statistics.median(latencies):.0f} ms, p95 {pct(0.95):.0f} ms, "
        f"p99 {pct(0.99):.0f} ms, max {latencies[-1]:.0f} ms"
    )
    kinds = []
    for kind in ("first", "other", "saving"):
        found = sorted(by_kind.get(kind, []))
        if found:
            p99 = found[min(len(found) - 1, int(len(found) * 0.99))]
            kinds.append(
                f"{kind} {len(found)} turns, p50 {statistics.median(found):.0f} ms, p99 {p99:.0f} ms"
            )
    print("by turn: " + "; ".join(kinds))
    steady = sorted(by_kind.get("steady", []))
    if steady:  # without the first second: every person's first message at once
        print(
            f"after the first second: {len(steady)} turns, p99 "
            f"{steady[min(len(steady) - 1, int(len(steady) * 0.99))]:.0f} ms"
        )
    names = {pid: _name(pid) for pid in pids}
    print(
        "CPU per turn: "
        + ", ".join(
            f"{names[pid]} {1000 * c / turns:.1f} ms" for pid, c in zip(pids, cpu) if c > 0.01
        )
    )
    others = [("load generator", time.process_time() - own_before)]
    pg_after = {p: cpu_seconds(p) for p in _postgres()}
    if pg_after:  # connections opened meanwhile count whole
        others.append(("PostgreSQL", sum(c - pg_before.get(p, 0.0) for p, c in pg_after.items())))
    print(
        "and beside the bot: "
        + ", ".join(f"{name} {1000 * c / turns:.1f} ms" for name, c in others)
        + f" (this machine: {os.cpu_count()} cores)"
    )
    if database:  # each one a handshake, a PostgreSQL process and its cold caches
        await asyncio.sleep(1.5)  # backends report their statistics once a second
        print(
            f"PostgreSQL connections opened during the run: {await _sessions(database) - sessions_before - 1}"
        )


async def rasa_parses(port: int, clients: int, seconds: float) -> None:
    """Stock `rasa run --enable-api`: bare /model/parse of the scripts' texts."""
    texts = FIRST_MESSAGES + list(ANSWERS.values())
    latencies: list[float] = []
    errors = 0

    async def one(n: int, until: float, http: aiohttp.ClientSession) -> None:
        nonlocal errors
        i = n
        while time.monotonic() < until:
            started = time.perf_counter()
            async with http.post(
                f"http://127.0.0.1:{port}/model/parse", json={"text": texts[i % len(texts)]}
            ) as response:
                await response.read()
                errors += response.status != 200
            latencies.append((time.perf_counter() - started) * 1000)
            i += 1

    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        await asyncio.gather(*(one(n, started + seconds, http) for n in range(clients)))
        elapsed = time.monotonic() - started
    latencies.sort()
    print(
        f"stock `rasa run`, {clients} concurrent clients: {len(latencies) / elapsed:.1f} "
        f"bare parses/s, p50 {statistics.median(latencies):.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)]:.0f} ms, {errors} errors"
    )


def stock_rasa(clients: int, seconds: float) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv-nlu" / "bin" / "rasa"),
            "run",
            "--enable-api",
            "-m",
            str(MODEL),
            "--port",
            str(port),
            "-i",
            "127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        asyncio.run(rasa_parses(port, clients, seconds))
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--rasa", action="store_true", help="then stock `rasa run` on the same model, same clients"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="run the bot (one process) under cProfile, stats to FILE"
    )
    args = parser.parse_args()
    cluster = None
    database = ""
    if args.postgres:
        sys.path.insert(0, str(ROOT))
        from tests.postgres import Cluster, create_database

        cluster = Cluster()
        database = asyncio.run(create_database(cluster.start(), "jalerte_load"))
    proc, port = start_bot(
        Path(tempfile.mkdtemp(prefix="jalerte-load-")),
        "--workers",
        str(args.workers),
        profile=args.profile,
        JALERTE_DATABASE_URL=database,
        JALERTE_SECRET_KEY="bench-" + "s" * 40,
        JALERTE_WEB_MESSAGES_PER_MINUTE="100000",
        JALERTE_WEB_MAX_CONNECTIONS="1000",
        # every simulated person comes from 127.0.0.1
        **{
            f"JALERTE_WEB_{what}_PER_ADDRESS": "0"
            for what in ("CONNECTIONS", "SESSIONS", "TURNS", "UPLOADS")
        },
    )
    try:
        wait_healthy(port)
        time.sleep(1 if args.workers > 1 else 0)  # every worker up
        children = [
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        print(f"{args.workers} worker(s) on {'PostgreSQL' if args.postgres else 'SQLite'}")
        asyncio.run(
            load(
                f"http://127.0.0.1:{port}",
                args.clients,
                args.seconds,
                [proc.pid, *children],
                database,
            )
        )
    finally:
        proc.terminate()
        proc.wait(30)
        if cluster is not None:
            cluster.stop()
    if args.rasa:
        stock_rasa(args.clients, args.seconds)


if __name__ == "__main__":
    main()
