"""Faults under load (issue 11): a worker killed with -9, PostgreSQL restarted.

`jalerte run --workers 2` on a throwaway PostgreSQL cluster, N scripted people running
conversations to a saved alert over the widget's WebSocket, as the widget does: when
the socket drops they reconnect with their session and send their last frame again;
when told « réessayez » they wait a moment and send it again. One fault in the middle:

    .venv/bin/python bench/faults.py kill      # kill -9 of worker 1
    .venv/bin/python bench/faults.py postgres  # PostgreSQL stopped (immediate), 3 s, started

Prints: alerts acknowledged to people and whether every one is in the database; people
cut off and whether each one went on to save an alert; « réessayez » answers during the
fault; how long after the fault turns succeed again; errors of any other kind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dialogue_turns import FIRST_MESSAGES  # noqa: E402
from load import next_frame  # noqa: E402
from nlu_service import start_bot, wait_healthy  # noqa: E402
from tests.postgres import Cluster, create_database  # noqa: E402

RETRY_WORDS = ("réessayez", "try again")


class Tally:
    def __init__(self) -> None:
        self.acked: set[str] = set()
        self.turns = 0
        self.retry_told = 0
        self.cut_off: set[int] = set()
        self.resumed: set[int] = set()  # cut off, then saved an alert afterwards
        self.other_errors: list[str] = []
        self.last_ok = 0.0
        self.first_ok_after_fault: float | None = None
        self.fault_at: float | None = None
        self.fault_over: float | None = None


async def person(base: str, n: int, until: float, tally: Tally) -> None:
    session = ""
    conversation = 0
    frame: dict = {"type": "message", "text": FIRST_MESSAGES[n % len(FIRST_MESSAGES)]}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < until:
            try:
                url = f"{base.replace('http', 'ws')}/ws?lang=fr" + (
                    f"&session={session}" if session else ""
                )
                async with http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
                    hello = await ws.receive_json(timeout=30)
                    if hello.get("type") != "session":
                        raise ConnectionError(hello.get("code"))
                    session = hello["session"]
                    while time.monotonic() < until:
                        await ws.send_json(frame)
                        turn = await ws.receive_json(timeout=30)
                        tally.turns += 1
                        text = " ".join(r.get("text") or "" for r in turn.get("replies") or [])
                        if turn.get("type") == "error" or any(w in text for w in RETRY_WORDS):
                            if turn.get("type") == "error" and turn.get("code") != "server_error":
                                tally.other_errors.append(turn.get("code"))
                            tally.retry_told += 1
                            await asyncio.sleep(0.5)
                            continue  # the same frame again, as the widget lets one do
                        now = time.monotonic()
                        tally.last_ok = now
                        if (
                            tally.fault_over is not None
                            and tally.first_ok_after_fault is None
                            and now >= tally.fault_over
                        ):
                            tally.first_ok_after_fault = now
                        if turn.get("alert_id"):
                            tally.acked.add(turn["alert_id"])
                            if n in tally.cut_off:
                                tally.resumed.add(n)
                            conversation += 1
                            frame = {
                                "type": "message",
                                "text": FIRST_MESSAGES[(n + conversation) % len(FIRST_MESSAGES)],
                            }
                        else:
                            frame = next_frame(turn)
            except (
                aiohttp.ClientError,
                ConnectionError,
                asyncio.TimeoutError,
                TypeError,
                ValueError,
            ):
                if time.monotonic() < until:
                    tally.cut_off.add(n)
                    await asyncio.sleep(0.3)


def worker_pids(supervisor: int) -> dict[str, int]:
    found = {}
    for pid in subprocess.run(
        ["pgrep", "-P", str(supervisor)], capture_output=True, text=True
    ).stdout.split():
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        for entry in environ:
            if entry.startswith(b"JALERTE_WORKER="):
                found[entry.split(b"=", 1)[1].decode()] = int(pid)
    return found


async def fault(kind: str, after: float, supervisor: int, cluster: Cluster, tally: Tally) -> None:
    await asyncio.sleep(after)
    tally.fault_at = time.monotonic()
    if kind == "kill":
        victim = worker_pids(supervisor)["1"]
        os.kill(victim, signal.SIGKILL)
        print(f"t={after:.0f}s: kill -9 worker 1 (pid {victim})")
        tally.fault_over = time.monotonic()
    else:
        data = str(cluster.dir / "data")
        await asyncio.to_thread(cluster._run, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        print(f"t={after:.0f}s: PostgreSQL stopped (immediate)")
        await asyncio.sleep(3)
        await asyncio.to_thread(
            cluster._run,
            "pg_ctl",
            "-D",
            data,
            "-l",
            str(cluster.dir / "log"),
            "-w",
            "-o",
            f"-p {cluster.port} -k {cluster.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        tally.fault_over = time.monotonic()
        print(f"t={after + 3 + tally.fault_over - tally.fault_at - 3:.0f}s: PostgreSQL started")


async def stored_alerts(database: str) -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(database.replace("postgresql+asyncpg", "postgresql"))
    try:
        return {row["id"] for row in await conn.fetch("SELECT id FROM alerts")}
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("kill", "postgres"))
    parser.add_argument("--people", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=24)
    args = parser.parse_args()
    cluster = Cluster()
    database = asyncio.run(create_database(cluster.start(), "jalerte_faults"))
    proc, port = start_bot(
        Path(tempfile.mkdtemp(prefix="jalerte-faults-")),
        "--workers",
        "2",
        JALERTE_DATABASE_URL=database,
        JALERTE_SECRET_KEY="bench-" + "s" * 40,
        JALERTE_WEB_MESSAGES_PER_MINUTE="100000",
        **{f"JALERTE_WEB_{what}_PER_ADDRESS": "0" for what in ("CONNECTIONS", "SESSIONS", "TURNS")},
    )
    tally = Tally()
    try:
        wait_healthy(port)
        time.sleep(1)

        async def run() -> None:
            until = time.monotonic() + args.seconds
            await asyncio.gather(
                fault(args.kind, args.seconds / 3, proc.pid, cluster, tally),
                *(person(f"http://127.0.0.1:{port}", n, until, tally) for n in range(args.people)),
            )

        asyncio.run(run())
        stored = asyncio.run(stored_alerts(database))
    finally:
        proc.terminate()
        proc.wait(30)
        cluster.stop()
    lost = tally.acked - stored
    print(f"{args.people} people, {args.seconds:.0f} s, {tally.turns} turns")
    print(
        f"alerts acknowledged: {len(tally.acked)}, in the database: "
        f"{len(tally.acked & stored)}, lost: {len(lost)}"
    )
    print(
        f"people cut off: {len(tally.cut_off)}, of whom went on to save an alert: "
        f"{len(tally.resumed)}"
    )
    print(
        f"« réessayez » answers: {tally.retry_told}; other errors: "
        f"{len(tally.other_errors)} {sorted(set(tally.other_errors))}"
    )
    if tally.first_ok_after_fault is not None and tally.fault_over is not None:
        print(
            f"turns succeed again {tally.first_ok_after_fault - tally.fault_over:.2f} s "
            f"after the fault ended"
        )


if __name__ == "__main__":
    main()
