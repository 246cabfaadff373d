"""The parse service against the in-process parser, and `jalerte run` with its service.

Runs in the bot's environment. Prints: parse latency in process (measured in the NLU
environment by bench/nlu_inprocess.py) and over the service (Unix socket, from here),
the overhead; the resident memory of the bot and of its NLU process once `jalerte run`
is healthy; the time from `jalerte run` to a healthy server, cold (the child loads the
model) and with the NLU service already up.
Issue 10's targets: overhead p50 ≤ 1 ms, bot ≤ 150 MB, NLU ≤ 800 MB, cold start ≤ 12 s,
start with the NLU up ≤ 2 s.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.process.config import Config  # noqa: E402
from bot.process.nlu_client import RemoteNlu  # noqa: E402

NLU_PYTHON = str(Config.from_env(os.environ).nlu_python)

MODEL = Path(os.environ.get("JALERTE_MODEL_PATH") or ROOT / "models" / "nlu.tar.gz")


def texts() -> list[str]:
    found = []
    for path in sorted((ROOT / "nlu" / "heldout").rglob("*.yml")):
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(rows, dict):
            rows = rows.get("messages") or []
        found += [r["text"] for r in rows if isinstance(r, dict) and "text" in r]
    return found or ["pas de réseau Orange à Quimper"] * 200


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    return f"p50 {statistics.median(values):.2f} ms, p95 {values[int(len(values) * 0.95)]:.2f} ms"


def start_service(sock: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [NLU_PYTHON, "-m", "nlu.cli", "serve", "--model", str(MODEL), "--socket", str(sock)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def latency() -> None:
    import json

    messages = texts()[:400]
    inproc = json.loads(
        subprocess.run(
            [NLU_PYTHON, str(ROOT / "bench" / "nlu_inprocess.py"), str(MODEL)],
            input=json.dumps(messages),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    workdir = Path(tempfile.mkdtemp(prefix="jalerte-nlu-"))
    sock = workdir / "nlu.sock"
    child = start_service(sock)
    remote = RemoteNlu(socket=sock)
    try:
        await remote.wait_healthy(within=120)
        for text in messages[:20]:  # warm up
            await remote.parse(text)
        served, transport = [], []
        for text in messages:
            started = time.perf_counter()
            await remote.parse(text)
            served.append((time.perf_counter() - started) * 1000)
            transport.append(served[-1] - (remote.last_parse_ms or 0.0))
        batch_started = time.perf_counter()
        for start in range(0, len(messages), 100):
            await remote.parse_many(messages[start : start + 100])
        batch = (time.perf_counter() - batch_started) * 1000 / len(messages)
        print(f"parse in process      {percentiles(inproc)} over {len(messages)} messages")
        print(f"parse over the socket {percentiles(served)}")
        print(
            f"overhead p50          {statistics.median(served) - statistics.median(inproc):.2f} ms"
            " (difference of the two medians, measured in two processes: noisy)"
        )
        print(
            f"overhead per request  {percentiles(transport)} (round trip minus the "
            "service's own parse time, Server-Timing)"
        )
        print(f"batches of 100        {batch:.2f} ms per message")
        print(f"NLU service RSS       {rss_mb(child.pid):.0f} MB")
    finally:
        await remote.close()
        child.terminate()
        child.wait()


def wait_healthy(port: int) -> None:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warm_start() -> None:
    """`jalerte run` pointed at a parse service that is already up."""
    workdir = Path(tempfile.mkdtemp(prefix="jalerte-warm-"))
    sock = workdir / "nlu.sock"
    service = start_service(sock)
    try:
        asyncio.run(_healthy(sock))
        started = time.monotonic()
        proc, port = start_bot(workdir / "data", JALERTE_NLU=f"unix:{sock}")
        try:
            wait_healthy(port)
            print(
                f"`jalerte run` start with the NLU already up: {time.monotonic() - started:.2f} s"
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    finally:
        service.terminate()
        service.wait()


async def _healthy(sock: Path) -> None:
    remote = RemoteNlu(socket=sock)
    try:
        await remote.wait_healthy(within=120)
    finally:
        await remote.close()


def start_bot(
    data: Path, *args: str, profile: str | None = None, **env: str
) -> tuple[subprocess.Popen, int]:
    """`jalerte run ARGS` with its data in `data` (SQLite unless JALERTE_DATABASE_URL is
    given), its own parse service unless JALERTE_NLU is, on a free port; under cProfile
    (written to `profile` when it stops) if asked."""
    port = free_port()
    environ = {
        **os.environ,
        "JALERTE_MODEL_PATH": str(MODEL),
        "JALERTE_DATA_DIR": str(data),
        "JALERTE_PORT": str(port),
        **env,
    }
    for name in ("JALERTE_DATABASE_URL", "JALERTE_NLU"):
        if not env.get(name):
            environ.pop(name, None)
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    return subprocess.Popen(
        [sys.executable, *profiler, "-m", "bot.process.cli", "run", *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ), port


def cold_start() -> None:
    started = time.monotonic()
    proc, port = start_bot(Path(tempfile.mkdtemp(prefix="jalerte-run-")))
    try:
        wait_healthy(port)
        print(
            f"`jalerte run` cold start to healthy (bot + NLU): {time.monotonic() - started:.1f} s"
        )
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        print(f"bot worker RSS        {rss_mb(proc.pid):.0f} MB")
        for child in children:
            print(f"its NLU process RSS   {rss_mb(int(child)):.0f} MB")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    asyncio.run(latency())
    cold_start()
    warm_start()
